"""A real HTTP server on loopback that plays a member's webhook endpoint."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

from tests.loopback import LoopbackEndpoint


class Receiver(LoopbackEndpoint):
    """Records every POST. ``mode``: ``echo`` answers the challenge, ``wrong`` answers
    something else, ``redirect`` answers 302, ``error`` answers 500, ``slow`` sleeps."""

    def __init__(self, mode: str = "echo") -> None:
        super().__init__()
        self.mode = mode
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        headers, body = self.read(handler)
        self.requests.append((handler.path, headers, body))
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
