"""The full cold build (render every article and build the search index) beside hugo building
the same files into HTML, in the same run.

    .venv/bin/python bench/build.py /tmp/corpus [--jobs N] [--profile]

Pullfirst starts from an empty instance folder: ``flask content index --rebuild`` renders every
file on every core into the render cache, then builds the Whoosh index on every core. hugo gets
the same ``posts/*.md`` (front matter included) with minimal layouts (article with table of
contents, paginated lists, tag pages); it renders but builds no search index. hugo runs before
and after Pullfirst (the host is shared, its load moves): the faster of its two runs is the
baseline. Needs hugo (``apt-get install hugo``).

Budgets: rendering alone at most 3x hugo's time, render and index at most 6x. Each figure is
printed with the baseline, the ratio, the budget and MET or MISSED, with processor time beside
wall time (on a shared host the processor time says what the work costs). When a budget is
missed (or with ``--profile``), the work of one worker is profiled with pyinstrument (rendering
and indexing a sample of the files in one process) and the heaviest frames are printed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PYTHON, REPO, app_env, load

RENDER_BUDGET = 3.0
BUILD_BUDGET = 6.0
PROFILE_FILES = 400

LAYOUTS = {
    "_default/baseof.html": '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    "<title>{{ .Title }}</title></head><body>"
    '{{ block "main" . }}{{ end }}</body></html>',
    "_default/single.html": '{{ define "main" }}<article><h1>{{ .Title }}</h1>'
    "<p>{{ .Description }}</p>{{ .TableOfContents }}{{ .Content }}"
    "</article>{{ end }}",
    "_default/list.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>'
    '{{ range .Paginator.Pages }}<li><a href="{{ .RelPermalink }}">'
    "{{ .Title }}</a></li>{{ end }}</ul>{{ end }}",
}


def timed(command: list[str], **options: object) -> tuple[float, float, str]:
    """Run ``command``; (wall seconds, processor seconds of it and its children, stdout)."""
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,  # type: ignore[call-overload]
        **options,
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command} failed:\n{output}")
    return seconds, usage.ru_utime + usage.ru_stime, output


def hugo_site(content: Path, folder: Path) -> Path:
    site = folder / "hugo"
    (site / "content").mkdir(parents=True)
    (site / "content" / "posts").symlink_to(content / "posts")
    (site / "config.toml").write_text(
        'baseURL = "http://127.0.0.1/"\ntitle = "Benchmark Journal"\n'
        "disableKinds = ['RSS']\n[markup.goldmark.renderer]\nunsafe = false\n"
        "[markup.highlight]\nnoClasses = false\n"
    )
    for name, text in LAYOUTS.items():
        path = site / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return site


def hugo(site: Path, output: Path) -> tuple[float, float]:
    shutil.rmtree(output, ignore_errors=True)
    wall, cpu, _ = timed(["hugo", "--quiet", "-s", str(site), "-d", str(output)])
    return wall, cpu


def pullfirst(content: Path, instance: Path, jobs: int | None) -> tuple[float, float, str]:
    command = [PYTHON, "-m", "flask", "--app", "app", "content", "index", "--rebuild"]
    if jobs:
        command += ["--jobs", str(jobs)]
    wall, cpu, output = timed(
        command, cwd=REPO, env=app_env(content, instance), stderr=subprocess.DEVNULL
    )
    return wall, cpu, output.strip().splitlines()[-1]


def verdict(ratio: float, budget: float) -> str:
    return "MET" if ratio <= budget else "MISSED"


PROFILED = """
import sys, time
from pathlib import Path
from pyinstrument import Profiler
from app.site import build
from app.site.searchindex import Document, schema
from app.site.segments import write_segments
from whoosh import index
files = sorted(Path(sys.argv[1], "posts").glob("*.md"))[:int(sys.argv[2])]
build._init_worker(str(Path(sys.argv[1], "images")), 2.0)
profiler = Profiler()
profiler.start()
results = [build._render_one(str(path)) for path in files]
profiler.stop()
print(profiler.output_text(show_all=False, color=False, unicode=True, time="percent_of_total"))
documents = [Document(str(n), digest, "post", "", str((entry.meta or {}).get("title", "")),
                      "", rendered.text if rendered else "") for n, (digest, entry, rendered)
             in enumerate(r for r in results if r is not None)]
folder = Path(sys.argv[3])
ix = index.create_in(str(folder), schema())
profiler = Profiler()
profiler.start()
write_segments(ix, folder, documents, 1)
profiler.stop()
print(profiler.output_text(show_all=False, color=False, unicode=True, time="percent_of_total"))
"""


def profile(content: Path, folder: Path) -> None:
    """Print where one worker's time goes: rendering, then indexing, of the first files."""
    target = folder / "profiled-index"
    target.mkdir()
    print(
        f"\nprofile of one process rendering, then indexing, {PROFILE_FILES} of the files "
        "(what each worker does; frames under 1% hidden):"
    )
    result = subprocess.run(
        [PYTHON, "-c", PROFILED, str(content), str(PROFILE_FILES), str(target)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stdout.splitlines():
        percent = re.match(r"\D*([\d.]+)%", line)
        if line.strip() and (percent is None or float(percent.group(1)) >= 1.0):
            print("  " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes for Pullfirst (default: one per core)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print the profile even when every budget is met"
    )
    options = parser.parse_args()
    if shutil.which("hugo") is None:
        raise SystemExit("hugo is not installed: apt-get install hugo")
    count = len(list((options.content / "posts").glob("*.md")))
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        site = hugo_site(options.content, folder)
        before = hugo(site, folder / "public")
        started_load = load()
        ours, ours_cpu, line = pullfirst(options.content, folder / "instance", options.jobs)
        after = hugo(site, folder / "public")
        theirs, theirs_cpu = min(before, after)
        phases = re.search(
            r"rendered (\d+) in ([\d.]+) s, indexed (\d+) documents in "
            r"([\d.]+) s",
            line,
        )
        if phases is None:
            raise SystemExit(f"unexpected output: {line}")
        render, indexing = float(phases.group(2)), float(phases.group(4))
        render_ratio, build_ratio = render / theirs, ours / theirs
        print(
            f"cold build of {count:,} articles on {cores} cores "
            f"(load before {started_load}, after {load()})"
        )
        print(
            f"  hugo, render only:       {before[0]:6.1f} s and {after[0]:6.1f} s "
            f"(processor {before[1]:.1f} s, {after[1]:.1f} s); baseline the faster: "
            f"{theirs:.1f} s"
        )
        print(
            f"  Pullfirst, whole command: {ours:6.1f} s (processor {ours_cpu:.1f} s, "
            f"{ours_cpu / theirs_cpu:.1f}x hugo's); {line}"
        )
        print(
            f"  rendering:                {render:6.1f} s = {render_ratio:4.1f}x hugo   "
            f"budget <= {RENDER_BUDGET:.0f}x  {verdict(render_ratio, RENDER_BUDGET)}"
        )
        print(
            f"  render and index:         {ours:6.1f} s = {build_ratio:4.1f}x hugo   "
            f"budget <= {BUILD_BUDGET:.0f}x  {verdict(build_ratio, BUILD_BUDGET)}  "
            f"(indexing {indexing:.1f} s, start-up and reading {ours - render - indexing:.1f}"
            " s)"
        )
        if options.profile or render_ratio > RENDER_BUDGET or build_ratio > BUILD_BUDGET:
            profile(options.content, folder)


if __name__ == "__main__":
    main()
