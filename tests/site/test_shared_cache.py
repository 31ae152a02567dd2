"""The shipped nginx configuration (deploy/nginx/) in front of the app: anonymous pages come
from the cache, a signed-in member's pages never do."""

from __future__ import annotations

import http.cookiejar
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from bench._nginx import Nginx, config
from tests.browser import LiveServer
from tests.conftest import PASSWORD
from tests.helpers import csrf_token, free_port, listening_socket

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx-light)"
)


class Visitor:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[str, str | None]:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.read().decode(), response.headers.get("X-Cache-Status")

    def sign_in(self, email: str, password: str) -> None:
        page, _ = self.get("/signin")
        data = urllib.parse.urlencode(
            {"email": email, "password": password, "csrf_token": csrf_token(page)}
        ).encode()
        with self.opener.open(self.base + "/signin", data=data, timeout=10) as response:
            assert response.status == 200


@pytest.fixture
def proxied(app: Flask) -> Iterator[str]:
    listener = listening_socket()
    server = LiveServer(app, listener)
    server.start()
    port = free_port()
    # nginx's workers drop privileges: their folder must be reachable by any user.
    folder = tempfile.TemporaryDirectory(prefix="pullfirst-nginx-")
    prefix = Path(folder.name)
    try:
        with Nginx(prefix, config(prefix, port, server.url.removeprefix("http://"))):
            yield f"http://127.0.0.1:{port}"
    finally:
        folder.cleanup()
        server.stop()
        listener.close()


def test_anonymous_pages_come_from_the_cache_and_members_never_do(
    proxied: str, member: object
) -> None:
    visitor = Visitor(proxied)
    first, status = visitor.get("/posts/ledger/")
    assert status == "MISS"
    again, status = visitor.get("/posts/ledger/")
    assert status == "HIT" and again == first
    assert not visitor.jar, "an anonymous visit must not set a cookie"

    reader = Visitor(proxied)
    reader.sign_in("reader@example.com", PASSWORD)
    for _ in range(3):
        page, status = reader.get("/posts/ledger/")
        assert status != "HIT", status
        assert "Robin Reader" in page
    page, status = reader.get("/")
    assert status != "HIT" and "Robin Reader" in page

    anonymous, status = Visitor(proxied).get("/posts/ledger/")
    assert status == "HIT" and "Robin Reader" not in anonymous
    home, _ = Visitor(proxied).get("/")
    assert "Robin Reader" not in home
