"""Finished public pages kept in each process's memory, served to cookie-less visitors without
running the app again while nothing changed.

This is a WSGI middleware. A GET or HEAD without a ``Cookie`` header cannot depend on who asks,
so when the app answered such a request with a ``200`` marked ``Cache-Control: public`` (see
:mod:`app.site.httpcache`) and without ``Set-Cookie``, the exact status, headers and body are
kept and replayed, conditional requests included. The key holds the host, the path, the query
and the content version (snapshot generation, public view, site settings), so an edit shows at
the next content check; anything else a page shows (a call to action drawn by another area) is
at most :data:`SECONDS` old. A shared cache such as nginx does the same across processes; this
memo makes each process fast on its own.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.http import is_resource_modified

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

SECONDS = 5.0
ENTRIES = 512
NOT_MODIFIED_DROPS = {"content-length", "content-type"}


@dataclass(frozen=True)
class Kept:
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    etag: str | None
    last_modified: str | None
    at: float

    def replay(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not is_resource_modified(environ, self.etag, last_modified=self.last_modified):
            headers = [(k, v) for k, v in self.headers if k.lower() not in NOT_MODIFIED_DROPS]
            start_response("304 NOT MODIFIED", headers)
            return []
        start_response(self.status, list(self.headers))
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [self.body]


def _cacheable(status: str, headers: list[tuple[str, str]]) -> bool:
    if not status.startswith("200"):
        return False
    names = {k.lower(): v for k, v in headers}
    control = names.get("cache-control", "")
    return "set-cookie" not in names and "public" in control and "private" not in control


class PageMemo:
    """The middleware. ``version()`` returns something hashable that changes with content."""

    def __init__(
        self,
        app: WSGIApplication,
        version: Callable[[], Hashable],
        seconds: float = SECONDS,
        entries: int = ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app, self.version = app, version
        self.seconds, self.entries, self.clock = seconds, entries, clock
        self._kept: OrderedDict[Hashable, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, key: Hashable) -> Kept | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and self.clock() - kept.at < self.seconds:
                self._kept.move_to_end(key)
                return kept
            self._kept.pop(key, None)
            return None

    def _keep(self, key: Hashable, kept: Kept) -> None:
        with self._lock:
            self._kept[key] = kept
            while len(self._kept) > self.entries:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if (
            method not in ("GET", "HEAD")
            or "HTTP_COOKIE" in environ
            or "HTTP_AUTHORIZATION" in environ
        ):
            return self.app(environ, start_response)
        key = (
            environ.get("HTTP_HOST", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            self.version(),
        )
        kept = self._get(key)
        if kept is not None:
            return kept.replay(environ, start_response)
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = self.app(environ, capture)
        if method != "GET" or not _cacheable(seen.get("status", ""), seen.get("headers", [])):
            return body
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        headers = tuple(seen["headers"])
        names = {k.lower(): v for k, v in headers}
        self._keep(
            key,
            Kept(
                seen["status"],
                headers,
                data,
                names.get("etag"),
                names.get("last-modified"),
                self.clock(),
            ),
        )
        return [data]
