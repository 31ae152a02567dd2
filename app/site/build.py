"""The cold build: render every file the cache does not hold yet, on every core.

Rendering is the slow part of a first start (a few milliseconds per file). ``content index
--rebuild`` calls :func:`prerender` before reading the folder, so the library then finds every
file in the cache and the index can be built at once; ``content check`` calls it too, so that no
file is rendered in the checking process itself.

Each file has a hard deadline of twice the render budget plus a second of wall time (time to
render it, and when it was too slow, to find its slowest paragraph): a worker still busy then is
killed and replaced (:mod:`app.site.deadline`), and the file is recorded as over the budget
until a later check renders it in time.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click

from app.site.budget import DEFAULT_SECONDS, slowest_paragraph
from app.site.cache import FileStamp, RenderCache, SourceEntry, content_hash
from app.site.deadline import DeadlinePool, Overrun
from app.site.frontmatter import MAX_FILE_BYTES, SourceError, parse_source
from app.site.images import ImageCatalog
from app.site.library import read_and_render, scan
from app.site.rendering import Rendered, render_markdown

_catalog: ImageCatalog | None = None
_seconds = DEFAULT_SECONDS


def _init_worker(images_dir: str, seconds: float) -> None:
    global _catalog, _seconds
    _catalog, _seconds = ImageCatalog(Path(images_dir)), seconds


def _locate(body: str) -> int:
    return slowest_paragraph(body, lambda part: render_markdown(part, _catalog, math.inf))


def _render_one(path: str) -> tuple[str, SourceEntry, Rendered | None] | None:
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None
    entry, rendered = read_and_render(Path(path), raw, _catalog, _seconds, _locate)
    return content_hash(raw), entry, rendered


def cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def progress_report(
    label: str, total: int, stream: TextIO | None = None, every_seconds: float = 5.0
) -> Iterator[Callable[[int], None]]:
    """``progress(n)`` for ``total`` items: on a terminal a bar (``label [####    ] 4000/10000
    40%``); elsewhere (a log, CI) a plain line ``label: 4,000/10,000`` at most every
    ``every_seconds`` and at the end."""
    out = stream or sys.stderr
    if out.isatty():
        with click.progressbar(length=total, label=label, file=out, show_pos=True) as bar:
            yield bar.update
        return
    state = {"done": 0, "said": time.monotonic()}

    def progress(count: int) -> None:
        state["done"] += count
        now = time.monotonic()
        if now - state["said"] >= every_seconds:
            state["said"] = now
            print(f"{label}: {int(state['done']):,}/{total:,}", file=out, flush=True)

    yield progress
    print(f"{label}: {int(state['done']):,}/{total:,}", file=out, flush=True)


def deadline_for(seconds: float) -> float:
    """The hard deadline of one file under a render budget of ``seconds``."""
    return 2 * seconds + 1


def _overrun(path: str, seconds: float) -> tuple[str, SourceEntry, None] | None:
    """What the cache keeps for a file whose worker was killed at its deadline."""
    try:
        raw = Path(path).read_bytes()
        body_line = parse_source(Path(path), raw).body_line
    except (OSError, SourceError):
        return None
    message = (
        f"over the render budget: rendering did not finish in "
        f"{deadline_for(seconds):g} s (the budget is {seconds:g} s). Split the text or "
        "simplify its Markdown."
    )
    return content_hash(raw), SourceEntry(None, body_line, 0, (body_line, message), seconds), None


def prerender(
    content_dir: Path,
    cache: RenderCache,
    processes: int | None = None,
    progress: Callable[[int], None] | None = None,
    seconds: float = DEFAULT_SECONDS,
) -> int:
    """Render, with ``processes`` worker processes, every file whose bytes the cache does not
    hold, or holds as too slow to render. Returns how many were rendered. ``progress(n)`` is
    called as files finish."""
    found = scan(content_dir)
    stamps = cache.stamps()
    unknown: list[str] = []
    hashes: dict[str, str] = {}
    for path, (mtime, size, _) in found.items():
        stamp = stamps.get(path)
        if size > MAX_FILE_BYTES:
            continue
        if stamp is not None and (stamp.mtime_ns, stamp.size) == (mtime, size):
            hashes[str(path)] = stamp.hash
        else:
            unknown.append(path)
    # A file found too slow before is tried again here, where it is safe to: a busy host may
    # have been the cause, and the web processes never render it again by themselves.
    known = {
        digest: entry
        for digest, entry in cache.sources(hashes.values()).items()
        if entry.slow_under is None
    }
    todo = sorted(unknown + [p for p, h in hashes.items() if h not in known])
    if progress is not None and len(todo) < len(found):
        progress(len(found) - len(todo))
    if not todo:
        return 0
    workers = min(len(todo), max(1, processes or cores()))
    pool = DeadlinePool(
        _render_one,
        workers,
        deadline_for(seconds),
        _init_worker,
        (str(content_dir / "images"), seconds),
    )
    rendered = 0
    for name, outcome in pool.map(todo):
        result = _overrun(name, seconds) if isinstance(outcome, Overrun) else outcome
        if result is not None:
            digest, entry, body = result
            cache.store(digest, entry, body)
            mtime, size, _ = found[name]
            cache.remember_files({name: FileStamp(mtime, size, digest)})
            rendered += 1
        if progress is not None:
            progress(1)
    return rendered
