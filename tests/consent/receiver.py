"""A real HTTP server on loopback that plays a member's webhook endpoint."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Records every POST. ``mode``: ``echo`` answers the challenge, ``wrong`` answers
    something else, ``redirect`` answers 302, ``error`` answers 500, ``slow`` sleeps."""

    def __init__(self, mode: str = "echo") -> None:
        self.mode = mode
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                receiver.answer(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/pullfirst"

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        if self.mode == "slow":
            time.sleep(2)
        if self.mode == "redirect":
            handler.send_response(302)
            handler.send_header("Location", "http://169.254.169.254/latest/meta-data")
            handler.end_headers()
            return
        status = 500 if self.mode == "error" else 200
        try:
            challenge = json.loads(body)["data"]["challenge"]
        except (ValueError, KeyError, TypeError):
            challenge = ""
        reply = challenge if self.mode in ("echo", "slow") else "hello"
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain")
        handler.end_headers()
        handler.wfile.write(reply.encode())

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
