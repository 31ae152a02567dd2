"""Fixtures for tests in a real browser: the app served by a real HTTP server on a free loopback
port (with the real aiosmtpd server of the ``smtp`` fixture for mail), and Debian's Chromium
driven by Playwright. The browser journeys (``tests/e2e``) and the security sweep
(``tests/security``) import them in their ``conftest.py``.

Every page is watched: a console error, an uncaught exception, a dialog or a
Content-Security-Policy violation fails the test. Each test ends with a full-page screenshot in
``test-artifacts/<folder>/``.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.helpers import listening_socket

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

try:
    from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

# Records every CSP violation and dialog in the page itself, so a test can read them back even
# when nothing reaches the console. Added by the browser (CDP), so the page's CSP does not apply.
WATCH_SCRIPT = """
window.__pullfirst = {violations: [], dialogs: 0};
document.addEventListener('securitypolicyviolation', function (e) {
  window.__pullfirst.violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


def _skip_reason() -> str | None:
    if sync_playwright is None:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no browser: {CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with sync_playwright() as playwright:  # type: ignore[misc]
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def live_socket() -> Iterator[socket.socket]:
    """The live server's listening socket, held from the moment its port is chosen: the app's
    config and Kannel's inbound URL name the port before the server starts."""
    sock = listening_socket()
    yield sock
    sock.close()


@pytest.fixture
def live_port(live_socket: socket.socket) -> int:
    return int(live_socket.getsockname()[1])


@pytest.fixture
def app_config(app_config: dict[str, Any], live_port: int) -> dict[str, Any]:
    app_config["BASE_URL"] = f"http://127.0.0.1:{live_port}"
    return app_config


class LiveServer:
    """The app behind a threaded WSGI server on loopback, serving on ``listener`` (a listening
    socket, see :func:`tests.helpers.listening_socket`), which stays the caller's to close."""

    def __init__(self, app: Flask, listener: socket.socket) -> None:
        port = int(listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{port}"
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, app, threaded=True, fd=listener.fileno()
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


@pytest.fixture
def live_server(app: Flask, live_socket: socket.socket) -> Iterator[LiveServer]:
    server = LiveServer(app, live_socket)
    server.start()
    yield server
    server.stop()


class PageProblems:
    """What went wrong in the browser while a test ran."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def page_error(self, error: Any) -> None:
        self.errors.append(f"uncaught: {error}")

    def dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


def csp_violations(page: Page) -> list[str]:
    """The CSP violations the current document has reported so far."""
    found = page.evaluate("window.__pullfirst ? window.__pullfirst.violations : []")
    return [str(v) for v in found]


def _artifact_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:120]


@pytest.fixture
def page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh browser context on the live server; fails the test on any console error, uncaught
    exception, dialog or CSP violation, and keeps a screenshot of the last page."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_SCRIPT)
    problems = PageProblems()
    opened = context.new_page()
    opened.on("console", problems.console)
    opened.on("pageerror", problems.page_error)
    opened.on("dialog", problems.dialog)
    opened.set_default_timeout(10_000)
    yield opened
    folder = ARTIFACTS / Path(str(request.node.fspath)).parent.name
    folder.mkdir(parents=True, exist_ok=True)
    try:
        opened.screenshot(path=str(folder / f"{_artifact_name(request)}.png"), full_page=True)
    finally:
        context.close()
    assert not problems.dialogs, "\n".join(problems.dialogs)
    assert not problems.errors, "\n".join(problems.errors)
