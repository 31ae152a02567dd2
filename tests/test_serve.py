"""``flask serve`` from a clean instance folder: migrate, demo admin, serve, sign-up by mail."""

from __future__ import annotations

import email
import email.policy
import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.cli import base_url_for
from tests.conftest import REPO, is_postgres
from tests.helpers import csrf_token, free_port, link_in, text_body


class Browser:
    """Just enough of a browser: cookies, forms with CSRF, no redirects followed silently."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, path: str, data: dict[str, str], page: str | None = None) -> tuple[int, str]:
        _, html = self.get(page or path)
        body = urllib.parse.urlencode({**data, "csrf_token": csrf_token(html)}).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


@contextmanager
def serving(tmp_path: Path, base_url: str | None) -> Iterator[tuple[str, Path, str]]:
    """``flask serve --port <free port>`` on a fresh instance, with ``PULLFIRST_BASE_URL`` set
    to ``base_url`` (``{port}`` is replaced) or unset; yields its address, instance folder and
    console."""
    port = free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULLFIRST_")}
    env.pop("DATABASE_URL", None)
    env["PULLFIRST_INSTANCE_PATH"] = str(instance)
    if base_url is not None:
        env["PULLFIRST_BASE_URL"] = base_url.format(port=port)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=2).close()
            break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                raise AssertionError(log.read_text()) from None
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError("flask serve did not answer:\n" + log.read_text())
    try:
        yield base, instance, log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    with serving(tmp_path, "http://127.0.0.1:{port}") as running:
        yield running


@pytest.mark.slow
@pytest.mark.skipif(is_postgres(), reason="flask serve runs on its embedded SQLite default")
def test_serve_on_a_fresh_instance_gives_a_working_site_and_sign_up(
    served: tuple[str, Path, str],
) -> None:
    base, instance, console = served
    assert "database: " in console and "(head)" in console
    credentials = (instance / "demo-admin.txt").read_text()
    assert "admin@example.com" in console and "admin@example.com" in credentials
    admin_password = re.search(r"password: (\S+)", credentials)
    assert admin_password is not None

    browser = Browser(base)
    status, home = browser.get("/")
    assert status == 200 and "<h1>" in home

    status, _ = browser.post(
        "/signup", {"email": "first.reader@example.com", "password": "a long enough password"}
    )
    assert status == 200  # followed to "check your inbox"
    [mail_file] = list((instance / "mail").glob("*.eml"))
    message = email.message_from_bytes(mail_file.read_bytes(), policy=email.policy.default)
    status, page = browser.get(link_in(message, "/verify/"))  # type: ignore[arg-type]
    assert status == 200 and "Your address is confirmed" in page
    status, page = browser.post(
        "/signin", {"email": "first.reader@example.com", "password": "a long enough password"}
    )
    assert status == 200 and "first.reader" in page

    admin = Browser(base)
    status, page = admin.post(
        "/signin", {"email": "admin@example.com", "password": admin_password.group(1)}
    )
    assert status == 200 and "Demo admin" in page


@pytest.mark.slow
@pytest.mark.skipif(is_postgres(), reason="flask serve runs on its embedded SQLite default")
def test_serve_on_another_port_links_to_that_port(tmp_path: Path) -> None:
    with serving(tmp_path, None) as (base, instance, console):
        assert f"at {base}/redeem" in console  # the demo codes' "redeem at" line
        status, feed = Browser(base).get("/feed.xml")
        assert status == 200 and f'href="{base}/posts/' in feed
        browser = Browser(base)
        status, _ = browser.post(
            "/signup", {"email": "port.reader@example.com", "password": "a long enough password"}
        )
        assert status == 200
        [mail_file] = list((instance / "mail").glob("*.eml"))
        message = email.message_from_bytes(mail_file.read_bytes(), policy=email.policy.default)
        assert f"{base}/verify/" in text_body(message)  # type: ignore[arg-type]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The test settings without a BASE_URL: as ``flask serve`` runs on a fresh checkout."""
    return {k: v for k, v in app_config.items() if k != "BASE_URL"}


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:5300"),
        ("0.0.0.0", "http://127.0.0.1:5300"),  # noqa: S104
        ("localhost", "http://localhost:5300"),
        ("::", "http://[::1]:5300"),
        ("::1", "http://[::1]:5300"),
    ],
)
def test_without_a_configured_base_url_serve_names_its_own_address(
    app: Flask, host: str, expected: str
) -> None:
    assert base_url_for(app, host, 5300) == expected


def test_a_configured_base_url_wins_over_the_port(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["BASE_URL"] = "https://journal.example.com"
    assert base_url_for(app, "127.0.0.1", 5300) == "https://journal.example.com"
    app.config["BASE_URL"] = "http://127.0.0.1:5000"  # the default, but set on purpose:
    monkeypatch.setenv("PULLFIRST_BASE_URL", "http://127.0.0.1:5000")
    assert base_url_for(app, "127.0.0.1", 5300) == "http://127.0.0.1:5000"
    monkeypatch.delenv("PULLFIRST_BASE_URL")
    (Path(app.instance_path) / "config.py").write_text('BASE_URL = "http://127.0.0.1:5000"\n')
    assert base_url_for(app, "127.0.0.1", 5300) == "http://127.0.0.1:5000"
