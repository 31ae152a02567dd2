"""An article page under gunicorn (2 workers) beside a bare Flask app returning the same bytes.

    .venv/bin/python bench/article.py /tmp/corpus /tmp/bench-instance

Both run under the same gunicorn settings and are measured with the same wrk command. Also
prints the resident memory of each Pullfirst worker after the run. Needs gunicorn
(``pip install -e '.[deploy]'``) and wrk.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PYTHON, REPO, app_env, free_port, load, wait_for, wrk


def gunicorn(target: str, port: int, env: dict[str, str], workers: int = 2
             ) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", target],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker_memory_mb(master: int) -> list[tuple[float, float]]:
    """(resident, private) megabytes of each worker: resident counts the index pages mapped
    from the page cache, which every process shares; private is the worker's own."""
    children = Path(f"/proc/{master}/task/{master}/children")
    sizes = []
    for pid in children.read_text().split():
        fields = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0]) / 1024
        sizes.append((fields["Rss"], fields["Private_Clean"] + fields["Private_Dirty"]))
    return sizes


def search_queries(content: Path, count: int) -> list[str]:
    """Titles' words as queries: many different terms, so the caches fill up."""
    words: list[str] = []
    for path in sorted((content / "posts").glob("*.md"))[:count]:
        title = path.read_text(encoding="utf-8").split("title:", 1)[1].split("\n", 1)[0]
        words.extend(w for w in title.strip(' "').lower().split() if len(w) > 3)
    return [" ".join(words[i:i + 2]) for i in range(0, min(len(words), 2 * count), 2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument("instance", type=Path)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    options = parser.parse_args()
    posts = sorted((options.content / "posts").glob("*.md"))
    path = f"/posts/{posts[len(posts) // 2].stem}/"

    port = free_port()
    app = gunicorn("app:create_app()", port, app_env(options.content, options.instance))
    try:
        started = wait_for(f"http://127.0.0.1:{port}{path}", process=app)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
            body = response.read()
        ours = wrk(f"http://127.0.0.1:{port}{path}", options.seconds, options.connections)
        for query in search_queries(options.content, 300):  # warm the search caches too
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/search?q={urllib.parse.quote(query)}").close()
        memory = worker_memory_mb(app.pid)
    finally:
        stop(app)
    time.sleep(1)

    with tempfile.NamedTemporaryFile(suffix=".html") as copy:
        copy.write(body)
        copy.flush()
        port = free_port()
        env = app_env(options.content, options.instance, PULLFIRST_BENCH_BODY=copy.name,
                      PULLFIRST_BENCH_PATH=path)
        bare = gunicorn("bench.bare_app:app", port, env)
        try:
            wait_for(f"http://127.0.0.1:{port}{path}", process=bare)
            baseline = wrk(f"http://127.0.0.1:{port}{path}", options.seconds,
                           options.connections)
        finally:
            stop(bare)

    print(f"article page {path} ({len(body):,} bytes), gunicorn 2 workers, wrk "
          f"-c{options.connections} -d{options.seconds}s (load {load()})")
    print(f"  Pullfirst:              {ours:8.0f} requests/s")
    print(f"  bare Flask, same bytes: {baseline:8.0f} requests/s")
    print(f"  ratio: {ours / baseline:.0%} of the bare app (budget: at least 70%)")
    print(f"  first article served {started:.2f} s after gunicorn started")
    print("  worker memory after the run and 300 searches: "
          + ", ".join(f"{rss:.0f} MB resident ({own:.0f} MB private)" for rss, own in memory)
          + " (budget: under 300 MB each)")


if __name__ == "__main__":
    main()
