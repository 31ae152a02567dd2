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
from pathlib import Path

import pytest

from tests.conftest import REPO, is_postgres
from tests.helpers import csrf_token, free_port, link_in


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


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    port = free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULLFIRST_")}
    env.pop("DATABASE_URL", None)
    env["PULLFIRST_INSTANCE_PATH"] = str(instance)
    env["PULLFIRST_BASE_URL"] = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
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


@pytest.mark.skipif(is_postgres(), reason="flask serve runs on its embedded SQLite default")
def test_serve_on_a_fresh_instance_gives_a_working_site_and_sign_up(
    served: tuple[str, Path, str]
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

    status, _ = browser.post("/signup", {"email": "first.reader@example.com",
                                         "password": "a long enough password"})
    assert status == 200  # followed to "check your inbox"
    [mail_file] = list((instance / "mail").glob("*.eml"))
    message = email.message_from_bytes(mail_file.read_bytes(), policy=email.policy.default)
    status, page = browser.get(link_in(message, "/verify/"))  # type: ignore[arg-type]
    assert status == 200 and "Your address is confirmed" in page
    status, page = browser.post("/signin", {"email": "first.reader@example.com",
                                            "password": "a long enough password"})
    assert status == 200 and "first.reader" in page

    admin = Browser(base)
    status, page = admin.post("/signin", {"email": "admin@example.com",
                                          "password": admin_password.group(1)})
    assert status == 200 and "Demo admin" in page
