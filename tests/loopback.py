"""A real HTTP server on loopback that plays someone's webhook endpoint: a member's, a CRM's.

Subclasses say how to answer each POST (:meth:`LoopbackEndpoint.answer`); the base runs the
server on a free port in a thread, keeps the requests' shared lock, and on leaving releases a
request held with ``hang`` before it shuts the server down."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackEndpoint:
    """Use as a context manager: the server runs inside the ``with`` block."""

    path = "/hooks/pullfirst"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hung = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                endpoint.answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    @staticmethod
    def read(handler: BaseHTTPRequestHandler) -> tuple[dict[str, str], bytes]:
        """The request's headers (lower-case names) and body."""
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        return {k.lower(): v for k, v in handler.headers.items()}, body

    def hang(self) -> None:
        """Give no answer until the test ends (the sender gives up long before)."""
        self.hung.wait(30)

    @staticmethod
    def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"") -> None:
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.hung.set()
        self.server.shutdown()
        self.server.server_close()
