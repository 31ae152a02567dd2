"""The full cold build (render every article and build the search index) beside hugo building
the same files into HTML.

    .venv/bin/python bench/build.py /tmp/corpus

Pullfirst starts from an empty instance folder: ``flask content index --rebuild`` renders every
file on every core into the render cache, then builds the Whoosh index on every core. hugo gets
the same ``posts/*.md`` (front matter included) with minimal layouts (article with table of
contents, paginated lists, tag pages); it renders but builds no search index. Needs hugo
(``apt-get install hugo``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PYTHON, REPO, app_env, load

LAYOUTS = {
    "_default/baseof.html": '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                            "<title>{{ .Title }}</title></head><body>"
                            '{{ block "main" . }}{{ end }}</body></html>',
    "_default/single.html": '{{ define "main" }}<article><h1>{{ .Title }}</h1>'
                            "<p>{{ .Description }}</p>{{ .TableOfContents }}{{ .Content }}"
                            "</article>{{ end }}",
    "_default/list.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>'
                          "{{ range .Paginator.Pages }}<li><a href=\"{{ .RelPermalink }}\">"
                          "{{ .Title }}</a></li>{{ end }}</ul>{{ end }}",
}


def hugo(content: Path, folder: Path) -> float:
    site = folder / "hugo"
    (site / "content").mkdir(parents=True)
    (site / "content" / "posts").symlink_to(content / "posts")
    (site / "config.toml").write_text(
        'baseURL = "http://127.0.0.1/"\ntitle = "Benchmark Journal"\n'
        "disableKinds = ['RSS']\n[markup.goldmark.renderer]\nunsafe = false\n"
        "[markup.highlight]\nnoClasses = false\n")
    for name, text in LAYOUTS.items():
        path = site / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    started = time.monotonic()
    subprocess.run(["hugo", "--quiet", "-s", str(site), "-d", str(folder / "public")],
                   check=True)
    return time.monotonic() - started


def pullfirst(content: Path, folder: Path) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(
        [PYTHON, "-m", "flask", "--app", "app", "content", "index", "--rebuild"],
        cwd=REPO, env=app_env(content, folder / "instance"), check=True, capture_output=True,
        text=True)
    return time.monotonic() - started, result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    options = parser.parse_args()
    if shutil.which("hugo") is None:
        raise SystemExit("hugo is not installed: apt-get install hugo")
    count = len(list((options.content / "posts").glob("*.md")))
    with tempfile.TemporaryDirectory() as folder:
        ours, line = pullfirst(options.content, Path(folder))
        theirs = hugo(options.content, Path(folder))
    phases = re.search(r"rendered (\d+) in ([\d.]+) s, indexed (\d+) documents in ([\d.]+) s",
                       line)
    print(f"cold build of {count:,} articles (load {load()})")
    print(f"  Pullfirst, render and index on every core: {ours:7.1f} s ({line})")
    if phases:
        render = float(phases.group(2))
        print(f"    of which rendering {render:.1f} s, indexing {float(phases.group(4)):.1f} s")
    print(f"  hugo, render only:                         {theirs:7.1f} s")
    print(f"  ratio: Pullfirst takes {ours / theirs:.0f}x hugo's time"
          + (f" ({render / theirs:.0f}x for rendering alone)" if phases else ""))


if __name__ == "__main__":
    main()
