"""Helpers for tests: a real SMTP sink, CSRF-aware form posts, links from received mail."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import socket
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening_socket() -> socket.socket:
    """A socket listening on a free loopback port. A server handed it (werkzeug's ``fd``) serves on
    a port nobody could take in between, as a port from :func:`free_port` can be by a process
    started before the server binds it (Kannel's boxes, an outbound connection's own port)."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class _Collector:
    def __init__(self, sink: SMTPSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append(message)  # type: ignore[arg-type]
            self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SMTPSink:
    """A real aiosmtpd server on a free loopback port that keeps every message it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()
        self.controller = Controller(_Collector(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")

    def last_to(self, address: str) -> EmailMessage:
        for message in reversed(self.messages):
            if address.lower() in str(message["To"]).lower():
                return message
        raise AssertionError(f"no message to {address}")


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def link_in(message: EmailMessage, path_prefix: str) -> str:
    """The path (and query) of the first link in the text part that starts with ``path_prefix``,
    with the scheme and host removed so the test client can open it."""
    for url in re.findall(r"https?://\S+", text_body(message)):
        path = re.sub(r"^https?://[^/]+", "", url)
        if path.startswith(path_prefix):
            return path
    raise AssertionError(f"no link starting {path_prefix} in:\n{text_body(message)}")


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def post_form(
    client: FlaskClient, url: str, data: dict[str, Any], page: str | None = None, **kwargs: Any
) -> TestResponse:
    """GET ``page`` (default ``url``), take its CSRF token, and POST ``data`` to ``url``."""
    form_page = client.get(page or url)
    token = csrf_token(form_page.get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def sign_in(
    client: FlaskClient, email_address: str, password: str, remember: bool = False
) -> TestResponse:
    data = {"email": email_address, "password": password}
    if remember:
        data["remember"] = "y"
    response = post_form(client, "/signin", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def copy_pack(stickers: Path, slug: str, title: str, unlocked_by: list[str]) -> Path:
    """A valid sticker pack ``stickers/<slug>`` (the demo art of ``spring-birds``) with its own
    title and rule, for tests that need packs the sticker area accepts."""
    source = Path(__file__).resolve().parent.parent / "stickers" / "spring-birds"
    target = stickers / slug
    shutil.copytree(source, target)
    spec = (target / "pack.toml").read_text(encoding="utf-8")
    rules = ", ".join(f'"{rule}"' for rule in unlocked_by)
    spec = re.sub(r'(?m)^title = ".*"$', f'title = "{title}"', spec, count=1)
    spec = re.sub(r"(?m)^unlocked_by = \[.*\]$", f"unlocked_by = [{rules}]", spec, count=1)
    (target / "pack.toml").write_text(spec, encoding="utf-8")
    return target
