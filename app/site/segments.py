"""Writing a new Whoosh index on every core, with the same documents in the same order.

Whoosh's own multiprocessing writer (``procs=``) analyses the documents in parallel, then merges
every posting into one segment in the parent process, in Python: on 10,000 articles the merge
took longer than the analysis it parallelised. Here the documents are cut into ``procs``
consecutive runs of about the same amount of text; each worker process writes its run as one
finished segment, and the parent lists the segments, in order, in the index's table of contents.
Nothing is merged, so the work is split evenly, and the documents keep the numbers a single
writer would have given them (segment by segment): ranking, ties and statistics (document
frequencies, average length) come out exactly as from one writer.

Each segment writer reads a document's field length once per field instead of once per posting
(:class:`_Writer`); the bytes written are the same.

A process with one thread (a command) forks its workers; one with threads (a web process
building its first index) starts them from a fork server, as :mod:`app.site.deadline` does.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, Protocol

from whoosh import index
from whoosh.writing import SegmentWriter

from app.site.deadline import process_context

LIMIT_MB = 1024  # per writer: postings kept in memory before Whoosh spills them to disk
MIN_PER_PROCESS = 400  # fewer documents than this per process: one process is quicker
REPORT_EVERY = 50
PRELOAD = ["app.site.segments", "app.site.searchindex"]


class Indexable(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def hash(self) -> str: ...

    def fields(self) -> dict[str, Any]: ...


class _Lengths:
    """Every document's length of a field, read from the segment once and kept in a list."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.count = int(reader.doc_count_all())
        self.by_field: dict[str, list[int]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        lengths = self.by_field.get(fieldname)
        if lengths is None:
            read = self.reader.doc_field_length
            lengths = self.by_field[fieldname] = [
                read(d, fieldname, default) for d in range(self.count)
            ]
        return lengths[docnum]


class _Writer(SegmentWriter):
    """Whoosh's segment writer, but each posting's document length comes from a list (Whoosh
    seeks and reads it from the column file once per posting: a third of the time of a commit)."""

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        try:
            lengths = _Lengths(reader) if reader is not None else None
            self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
            self.fieldwriter.close()
        finally:
            if reader is not None:
                reader.close()


_done: Any = None  # in a worker: the shared count of documents written


def _start_worker(done: Any) -> None:
    global _done
    _done = done


def _report(count: int) -> None:
    if _done is not None and count:
        with _done.get_lock():
            _done.value += count


def _write_run(folder: str, run: list[dict[str, Any]]) -> Any:
    """In a worker: write ``run`` as one finished segment of the index in ``folder`` (not yet
    listed in its table of contents); return the segment."""
    ix = index.open_dir(folder)
    writer = _Writer(ix, _lk=False, limitmb=LIMIT_MB)
    for number, fields in enumerate(run, start=1):
        writer.add_document(**fields)
        if number % REPORT_EVERY == 0:
            _report(REPORT_EVERY)
    _report(len(run) % REPORT_EVERY)
    return writer._finalize_segment()


def _runs(sizes: Sequence[int], count: int) -> list[tuple[int, int]]:
    """At most ``count`` consecutive (start, stop) runs of about the same total size."""
    total = sum(sizes)
    runs: list[tuple[int, int]] = []
    start, reached = 0, 0
    for stop, size in enumerate(sizes, start=1):
        reached += size
        if len(runs) < count - 1 and reached >= total * (len(runs) + 1) / count:
            runs.append((start, stop))
            start = stop
    if start < len(sizes):
        runs.append((start, len(sizes)))
    return runs


def _context() -> BaseContext:
    return process_context(PRELOAD)


def write_segments(
    ix: Any,
    folder: Path,
    documents: Iterable[Indexable],
    procs: int,
    progress: Callable[[int], None] | None = None,
) -> dict[str, str]:
    """Add ``documents`` to the new, empty index ``ix`` in ``folder`` and commit it, on up to
    ``procs`` processes. Returns the stamps (document key → content hash). Raises what a
    worker raised; the caller removes the folder."""
    stamps: dict[str, str] = {}
    if procs <= 1:
        return _write_here(ix, documents, stamps, progress)
    chosen = list(documents)
    procs = min(procs, len(chosen) // MIN_PER_PROCESS)
    if procs <= 1:
        return _write_here(ix, chosen, stamps, progress)
    for document in chosen:
        stamps[document.key] = document.hash
    fields = [document.fields() for document in chosen]
    del chosen
    runs = _runs([len(f["content"]) for f in fields], procs)
    context = _context()
    done = context.Value("q", 0)
    with ProcessPoolExecutor(
        len(runs), mp_context=context, initializer=_start_worker, initargs=(done,)
    ) as pool:
        futures = [pool.submit(_write_run, str(folder), fields[a:b]) for a, b in runs]
        del fields
        reported, pending = 0, set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
            if progress is not None and done.value > reported:
                progress(done.value - reported)
                reported = done.value
            if any(f.done() and f.exception() is not None for f in futures):
                for future in futures:
                    future.cancel()
                break
        segments = [future.result() for future in futures]  # raises what a worker raised
    _commit(ix, segments)
    shutil.rmtree(folder / f"{ix.indexname}.tmp", ignore_errors=True)
    return stamps


def _write_here(
    ix: Any,
    documents: Iterable[Indexable],
    stamps: dict[str, str],
    progress: Callable[[int], None] | None,
) -> dict[str, str]:
    writer = _Writer(ix, limitmb=LIMIT_MB)
    try:
        for document in documents:
            writer.add_document(**document.fields())
            stamps[document.key] = document.hash
            if progress is not None:
                progress(1)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    return stamps


def _commit(ix: Any, segments: list[Any]) -> None:
    """List ``segments`` in a new generation of the index's table of contents, as a writer's
    commit does (without merging them)."""
    toc = ix._read_toc()
    generation = toc.generation + 1
    index.TOC(toc.schema, segments, generation).write(ix.storage, ix.indexname)
    index.clean_files(ix.storage, ix.indexname, generation, segments)
