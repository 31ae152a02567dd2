"""Start-up on the generated corpus with nothing changed, and how long an edit takes to show.

    .venv/bin/python bench/startup.py /tmp/corpus /tmp/bench-instance

1. Start-up: gunicorn (2 workers, the settings of deploy/gunicorn.conf.py) is started on an
   instance whose render cache and index are current; the figure is the time from launching it
   until an article answers 200 (six times, so both workers serve), beside the same for a bare
   Flask app (median of three runs). Budget: 3 s.
2. Edit: one article gets a new sentence with a word no other article has; the figures are the
   times until its page and /search show it, with no restart. Budgets: 1 s and 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PYTHON, REPO, app_env, free_port, load, wait_for
from bench.article import stop

LOG = Path(tempfile.gettempdir()) / "pullfirst-bench-startup.log"
START_BUDGET, PAGE_BUDGET, SEARCH_BUDGET = 3.0, 1.0, 2.0  # seconds


def start(target: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "-c",
            str(REPO / "deploy" / "gunicorn.conf.py"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            target,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=LOG.open("ab"),
    )


def timed_start(target: str, path: str, env: dict[str, str]) -> float:
    port = free_port()
    started = time.monotonic()
    process = start(target, port, env)
    try:
        wait_for(f"http://127.0.0.1:{port}{path}", timeout=120, process=process)
        # both workers must answer: ask a few times
        for _ in range(6):
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").close()
        return time.monotonic() - started
    finally:
        stop(process)


def _shows(url: str, word: str) -> bool:
    with urllib.request.urlopen(url) as response:  # noqa: S310 - loopback
        return word in response.read().decode()


def _until_shown(base: str, path: str, word: str) -> tuple[float, float]:
    started = time.monotonic()
    page = search = float("inf")
    while time.monotonic() - started < 30 and float("inf") in (page, search):
        if page == float("inf") and _shows(base + path, word):
            page = time.monotonic() - started
        if search == float("inf") and _shows(f"{base}/search?q={urllib.parse.quote(word)}", path):
            search = time.monotonic() - started
        time.sleep(0.01)
    return page, search


def edit_latency(content: Path, instance: Path, path: str, file: Path) -> list[tuple[float, float]]:
    """Three edits, each at a different moment of the content check's one-second cycle."""
    port = free_port()
    process = start("app:create_app()", port, app_env(content, instance))
    base = f"http://127.0.0.1:{port}"
    original = file.read_text()
    found = []
    try:
        wait_for(base + path, timeout=120, process=process)
        urllib.request.urlopen(f"{base}/search?q=permission").close()  # noqa: S310
        for number, pause in enumerate((0.2, 0.55, 0.9)):
            time.sleep(pause)
            word = f"quokkazebra{number}x{int(time.time())}"
            file.write_text(original.replace("\n\n", f"\n\nA {word} appears here.\n\n", 1))
            found.append(_until_shown(base, path, word))
    finally:
        stop(process)
        file.write_text(original)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument("instance", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    posts = sorted((options.content / "posts").glob("*.md"))
    file = posts[len(posts) // 4]
    path = f"/posts/{file.stem}/"
    env = app_env(options.content, options.instance)
    ours = [timed_start("app:create_app()", path, env) for _ in range(options.runs)]
    with tempfile.NamedTemporaryFile(suffix=".html") as body:
        body.write(b"<!doctype html><title>x</title>")
        body.flush()
        bare_env = {**env, "PULLFIRST_BENCH_BODY": body.name, "PULLFIRST_BENCH_PATH": path}
        bare = [timed_start("bench.bare_app:app", path, bare_env) for _ in range(options.runs)]
    edits = edit_latency(options.content, options.instance, path, file)
    started, baseline = statistics.median(ours), statistics.median(bare)
    print(
        f"start-up on {len(posts):,} articles, nothing changed, gunicorn -c "
        f"deploy/gunicorn.conf.py --workers 2 (load {load()})"
    )
    print(
        f"  Pullfirst serving its articles after: {started:.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in ours)})"
    )
    print(
        f"  baseline, a bare Flask app under the same gunicorn: {baseline:.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in bare)}); ratio {started / baseline:.1f}x"
    )
    print(
        f"  budget: at most {START_BUDGET:.0f} s: {'MET' if started <= START_BUDGET else 'MISSED'}"
    )
    for page, search in edits:
        print(
            f"  an edited article shows on its page after {page:.2f} s (budget "
            f"{PAGE_BUDGET:.0f} s: {'MET' if page <= PAGE_BUDGET else 'MISSED'}) and in "
            f"search after {search:.2f} s (budget {SEARCH_BUDGET:.0f} s: "
            f"{'MET' if search <= SEARCH_BUDGET else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
