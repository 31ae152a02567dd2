"""What every client of an outside HTTP service here shares: one keep-alive connection pool
(``httpx``, no redirects followed), closed with :meth:`KeepAlive.close` or at the end of a
``with`` block."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx


class KeepAlive:
    def __init__(self, timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()
