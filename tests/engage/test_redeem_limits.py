"""Code guessing hits the rate limits: per IP address, per member, and across processes when the
counters live in Redis."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.accounts import members
from app.database import migrate
from app.database.core import make_engine
from app.extensions import db
from tests.conftest import PASSWORD, REPO
from tests.engage.conftest import SignedIn
from tests.helpers import csrf_token, free_port
from tests.test_serve import Browser

GUESS = "7KQ2-M4XD-9RTB-T"  # well formed, never issued


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(RATELIMIT_REDEEM_IP="3 per minute", RATELIMIT_REDEEM_MEMBER="5 per minute")
    return app_config


def _guess(client: FlaskClient, token: str, ip: str) -> int:
    response = client.post(
        "/redeem", data={"csrf_token": token, "code": GUESS}, environ_base={"REMOTE_ADDR": ip}
    )
    return response.status_code


def test_guesses_from_one_ip_address_trip_the_limit(signed_in: SignedIn) -> None:
    first, second = signed_in("one@example.com"), signed_in("two@example.com")
    token_one = csrf_token(first.get("/redeem").text)
    token_two = csrf_token(second.get("/redeem").text)
    codes = [
        _guess(first, token_one, "198.51.100.7"),
        _guess(second, token_two, "198.51.100.7"),
        _guess(first, token_one, "198.51.100.7"),
    ]
    assert codes == [400, 400, 400]  # "We do not know this code"
    tripped = second.post(
        "/redeem",
        data={"csrf_token": token_two, "code": GUESS},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert tripped.status_code == 429
    assert "Too many attempts" in tripped.text and "site-header" in tripped.text
    assert _guess(second, token_two, "203.0.113.5") == 400  # another address is not held back


def test_guesses_by_one_member_trip_the_limit_from_any_address(signed_in: SignedIn) -> None:
    guesser, other = signed_in("guesser@example.com"), signed_in("other@example.com")
    token = csrf_token(guesser.get("/redeem").text)
    codes = [_guess(guesser, token, f"192.0.2.{i}") for i in range(6)]
    assert codes == [400] * 5 + [429]
    assert _guess(other, csrf_token(other.get("/redeem").text), "192.0.2.99") == 400


def test_reading_the_form_is_not_limited(client: FlaskClient) -> None:
    assert all(client.get("/redeem").status_code == 200 for _ in range(10))


def test_visitors_who_are_not_signed_in_cannot_test_codes(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client.get("/redeem").text)
    response = client.post("/redeem", data={"csrf_token": token, "code": GUESS})
    assert response.status_code == 302  # kept for after sign-in; nothing looked up
    assert "We do not know this code" not in client.get("/redeem").text


# --- shared counters across processes ---------------------------------------------------------


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    client.close()
    yield f"redis://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def _serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "app",
                "run",
                "--port",
                str(port),
                "--no-reload",
                "--no-debugger",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/redeem", timeout=2).close()
            return process, base
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(log.read_text()) from None
            time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.redis
def test_two_processes_share_the_counters_in_redis(
    tmp_path: Path, redis_url: str, clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(database)
    migrate.upgrade(engine)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULLFIRST_")}
    env.pop("DATABASE_URL", None)
    env.update(
        PULLFIRST_INSTANCE_PATH=str(tmp_path / "instance"),
        PULLFIRST_DATABASE_URL=database,
        PULLFIRST_SECRET_KEY="shared-secret-key-0123456789abcdef0123456789",
        PULLFIRST_RATELIMIT_STORAGE_URI=redis_url,
        PULLFIRST_RATELIMIT_REDEEM_IP="4 per minute",
        PULLFIRST_RATELIMIT_REDEEM_MEMBER="100 per minute",
    )
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path / "instance"))
    setup = create_app({"DATABASE_URL": database, "SECRET_KEY": env["PULLFIRST_SECRET_KEY"]})
    with setup.app_context():
        members.create_member("shared@example.com", PASSWORD, now=datetime.now(UTC), verified=True)
        db.session.commit()
        db.engine.dispose()
    first, base_one = _serve(env, tmp_path / "one.log")
    second, base_two = _serve(env, tmp_path / "two.log")
    try:
        browser = Browser(base_one)
        status, _ = browser.post("/signin", {"email": "shared@example.com", "password": PASSWORD})
        assert status == 200
        statuses = []
        for attempt in range(5):
            browser.base = base_one if attempt % 2 == 0 else base_two  # same cookies, both hosts
            statuses.append(browser.post("/redeem", {"code": GUESS})[0])
        assert statuses == [400, 400, 400, 400, 429]
    finally:
        for process in (first, second):
            process.terminate()
            process.wait(timeout=20)
