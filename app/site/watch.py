"""Knowing cheaply whether the content folders may have changed.

On Linux the kernel tells us (inotify, read without blocking): a check costs one system call, and
the folder is stat-scanned only after something happened in it. Elsewhere, or when inotify is not
available, every check answers "maybe", and the library stat-scans each time. Either way a full
scan also runs every :data:`SAFETY_SECONDS`, so nothing is missed for long (a lost event, a folder
created after start-up). A watch belongs to one process: after a fork it starts again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os
import select
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger("pullfirst.site")

SAFETY_SECONDS = 60.0
# IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
# | IN_DELETE_SELF | IN_MOVE_SELF
_MASK = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1  # noqa: B018 - probe
    except (OSError, AttributeError):
        return None
    return libc


class FolderWatch:
    """``changed()`` is False only when nothing in ``folders`` can have changed since the last
    call that returned True."""

    def __init__(
        self, folders: Iterable[Path], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.folders = [str(f) for f in folders]
        self.clock = clock
        self._pid = -1
        self._fd: int | None = None
        self._last_full = float("-inf")

    def _start(self) -> None:
        self._close()
        self._pid = os.getpid()
        libc = _libc()
        if libc is None:
            return
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return
        watched = 0
        for folder in self.folders:
            if libc.inotify_add_watch(fd, os.fsencode(folder), _MASK) >= 0:
                watched += 1
        if watched == 0:
            os.close(fd)
            return
        self._fd = fd

    def _close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None

    def _drain(self) -> bool:
        """Read every pending event; True when there was at least one."""
        assert self._fd is not None
        seen = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return seen
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                log.warning("content watch stopped (%s); falling back to stat scans", exc)
                self._close()
                return True
            if not data:
                return seen
            seen = True

    def changed(self) -> bool:
        if self._pid != os.getpid():
            self._start()
            self._last_full = self.clock()
            return True
        now = self.clock()
        if self._fd is None or now - self._last_full >= SAFETY_SECONDS:
            self._last_full = now
            if self._fd is not None:
                self._drain()
            return True
        return self._drain()

    def pending(self) -> bool:
        """Whether the kernel has reported something that :meth:`changed` has not read yet
        (one ``poll``, nothing read). Always False without a native watch."""
        fd = self._fd
        if fd is None or self._pid != os.getpid():
            return False
        try:
            return bool(select.select([fd], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    @property
    def native(self) -> bool:
        """Whether the kernel is watching (False: every check is a stat scan)."""
        return self._fd is not None
