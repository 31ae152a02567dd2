"""Work spread over worker processes, where every call has a hard deadline.

Used where every content file is rendered at once (``flask content check``, ``content index
--rebuild``): a file that runs past its deadline, for whatever reason, costs that deadline and
no more. Its worker is killed (SIGKILL: nothing in it can refuse) and replaced, the caller gets
:class:`Overrun` for that item, and the other items go on.

A process with one thread (a command) forks its workers directly, which costs nothing. A
process with threads must not fork (a lock held by another thread would stay held in the child,
forever): its workers come from a fork server, a clean process started once with the renderer
imported. The workers never touch the caller's database: they get an item, return a value.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

PRELOAD = ["app.site.rendering"]


@dataclass(frozen=True)
class Overrun:
    """The call did not return within ``seconds``; its worker was killed."""

    seconds: float


@dataclass(frozen=True)
class _Failed:
    message: str


def _serve(
    connection: Connection,
    work: Callable[[Any], Any],
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
) -> None:
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            item = connection.recv()
        except EOFError:
            return
        try:
            result: Any = work(item)
        except Exception as exc:  # reported to the caller, which raises it there
            result = _Failed(f"{type(exc).__name__}: {exc}")
        connection.send(result)


def process_context(preload: list[str]) -> BaseContext:
    """How to start worker processes: fork a process with one thread (a command); start them
    from a fork server, with ``preload`` imported once, in one with threads (a web process),
    where a fork could copy a lock another thread holds."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    server = multiprocessing.get_context("forkserver")
    server.set_forkserver_preload(preload)
    return server


def _context() -> BaseContext:
    return process_context(PRELOAD)


@dataclass
class _Worker:
    """A worker process and the items sent to it, oldest first: it works on ``items[0]``,
    since ``started``; the next one waits in its pipe so that it never idles."""

    process: BaseProcess
    connection: Connection
    items: deque[Any] = field(default_factory=deque)
    started: float = 0.0


class DeadlinePool(Generic[T, R]):
    """``work(item)`` for many items on ``processes`` workers, each call within ``deadline``
    seconds. ``work`` must be a module-level function (it is sent to the workers by name);
    ``initializer(*initargs)`` runs once in each worker before its first item."""

    def __init__(
        self,
        work: Callable[[T], R],
        processes: int,
        deadline: float,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self.work, self.processes, self.deadline = work, max(1, processes), deadline
        self.initializer, self.initargs = initializer, initargs
        self.killed = 0
        self._context = _context()

    def _start(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(  # type: ignore[attr-defined]
            target=_serve,
            args=(theirs, self.work, self.initializer, self.initargs),
            daemon=True,
            name="pullfirst-render",
        )
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def map(self, items: Iterable[T]) -> Iterator[tuple[T, R | Overrun]]:
        """Each item with its result, or :class:`Overrun`, in the order they finish. Raises
        ``RuntimeError`` when ``work`` raised in a worker."""
        pending = deque(items)
        workers: list[_Worker] = []
        try:
            while pending or any(w.items for w in workers):
                self._feed(workers, pending)
                busy = {w.connection: w for w in workers if w.items}
                first = min(w.started for w in busy.values()) + self.deadline
                for ready in wait(list(busy), max(0.0, first - time.monotonic())):
                    assert isinstance(ready, Connection)
                    worker = busy[ready]
                    item = worker.items.popleft()
                    try:
                        result = ready.recv()
                    except EOFError:  # the worker died (out of memory, a signal)
                        result = Overrun(time.monotonic() - worker.started)
                        self._replace(workers, worker, pending)
                    if isinstance(result, _Failed):
                        raise RuntimeError(f"{item!r}: {result.message}")
                    worker.started = time.monotonic()
                    yield item, result
                now = time.monotonic()
                for worker in list(busy.values()):
                    if worker.items and now - worker.started >= self.deadline:
                        item = worker.items.popleft()
                        self._replace(workers, worker, pending)
                        self.killed += 1
                        yield item, Overrun(self.deadline)
        finally:
            for worker in workers:
                self._stop(worker)

    def _feed(self, workers: list[_Worker], pending: deque[T]) -> None:
        """Start workers up to ``processes`` and keep two items in each one's pipe."""
        while pending and len(workers) < self.processes:
            workers.append(self._start())
        for worker in workers:
            while pending and len(worker.items) < 2:
                if not worker.items:
                    worker.started = time.monotonic()
                worker.items.append(pending.popleft())
                worker.connection.send(worker.items[-1])

    def _replace(self, workers: list[_Worker], worker: _Worker, pending: deque[T]) -> None:
        """Kill ``worker``; the items it had not started go back to the front of the queue,
        for a new worker."""
        self._stop(worker)
        pending.extendleft(reversed(worker.items))
        worker.items.clear()
        workers.remove(worker)

    @staticmethod
    def _stop(worker: _Worker) -> None:
        worker.connection.close()
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join()
