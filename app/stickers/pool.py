"""The worker processes a build runs on: one per core by default."""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext

from app.stickers.worker import start_worker

PRELOAD = [
    "app.stickers.worker",
    "PIL.PngImagePlugin",
    "PIL.JpegImagePlugin",
    "PIL.WebPImagePlugin",
]


def worker_pool(workers: int, clean: bool = False) -> ProcessPoolExecutor:
    """A pool of ``workers`` worker processes.

    A process with one thread (a command) forks them directly, which costs nothing. A process
    with threads (the web server) must not fork: its workers come from a fork server, a clean
    process started once with the pipeline imported, which is safe and cheap to reuse. With
    ``clean`` they always come from the fork server, so their memory is their own and not a
    copy of a large parent's.
    """
    context: BaseContext
    if threading.active_count() == 1 and not clean:
        context = multiprocessing.get_context("fork")
    else:
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload(PRELOAD)
        context = server
    return ProcessPoolExecutor(
        max_workers=workers, initializer=start_worker, initargs=(os.getpid(),), mp_context=context
    )
