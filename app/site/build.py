"""The cold build: render every file the cache does not hold yet, on every core.

Rendering is the slow part of a first start (a few milliseconds per file). ``content index
--rebuild`` calls :func:`prerender` before reading the folder, so the library then finds every
file in the cache and the index can be built at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from app.site.cache import FileStamp, RenderCache, SourceEntry, content_hash
from app.site.frontmatter import MAX_FILE_BYTES
from app.site.images import ImageCatalog
from app.site.library import read_and_render, scan
from app.site.rendering import Rendered

_catalog: ImageCatalog | None = None


def _init_worker(images_dir: str) -> None:
    global _catalog
    _catalog = ImageCatalog(Path(images_dir))


def _render_one(path: str) -> tuple[str, str, SourceEntry, Rendered | None] | None:
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None
    entry, rendered = read_and_render(Path(path), raw, _catalog)
    return path, content_hash(raw), entry, rendered


def prerender(content_dir: Path, cache: RenderCache, processes: int | None = None,
              progress: Callable[[int], None] | None = None) -> int:
    """Render, with ``processes`` worker processes, every file whose bytes the cache does not
    hold. Returns how many were rendered. ``progress(n)`` is called as files finish."""
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
    known = cache.sources(hashes.values())
    todo = sorted(unknown + [p for p, h in hashes.items() if h not in known])
    if progress is not None and len(todo) < len(found):
        progress(len(found) - len(todo))
    if not todo:
        return 0
    workers = max(1, processes or os.cpu_count() or 1)
    rendered = 0
    with ProcessPoolExecutor(workers, initializer=_init_worker,
                             initargs=(str(content_dir / "images"),)) as pool:
        for result in pool.map(_render_one, todo, chunksize=16):
            if result is not None:
                name, digest, entry, body = result
                cache.store(digest, entry, body)
                mtime, size, _ = found[name]
                cache.remember_files({name: FileStamp(mtime, size, digest)})
                rendered += 1
            if progress is not None:
                progress(1)
    return rendered
