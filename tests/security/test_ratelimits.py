"""Rate limits hold across gunicorn workers that share Redis.

Gunicorn runs with ``deploy/gunicorn.conf.py`` (1 worker, then 4) on a free loopback port, in
front of a temporary instance on SQLite, with ``RATELIMIT_STORAGE_URI`` pointing at one Redis
database of its own. Each request comes on a new connection, so the workers share them out
(the access log shows which worker answered). Past each limit, the number of requests that got
through is the limit, not the limit times the workers:

- sign-in per IP address (``RATELIMIT_AUTH_IP``), a different account each time, each request
  claiming another origin in ``X-Forwarded-For`` (ignored: no proxy is configured);
- sign-in per account (``RATELIMIT_AUTH_ACCOUNT``), the same address each time;
- code redemption per member (``RATELIMIT_REDEEM_MEMBER``), signed in.

Requests come from different loopback addresses (127.0.0.2 …) so the phases do not share the
per-IP counters. Uses the Redis at 127.0.0.1:6379 (database 8, or ``PULLFIRST_SWEEP_REDIS_URL``),
flushing only that database; starts a ``redis-server`` of its own when none answers there.
Skips with the reason when gunicorn or Redis is missing.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, REPO, XDIST_WORKER
from tests.helpers import csrf_token, free_port

GUNICORN = Path(sys.executable).parent / "gunicorn"
# Under xdist each worker flushes and counts in a database of its own (gw0: 8, gw1: 9…).
SHARED_REDIS = os.environ.get(
    "PULLFIRST_SWEEP_REDIS_URL",
    f"redis://127.0.0.1:6379/{8 + int(XDIST_WORKER.removeprefix('gw') or 0) % 8}",
)
LIMITS = {
    "RATELIMIT_AUTH_IP": "12 per hour",
    "RATELIMIT_AUTH_ACCOUNT": "7 per hour",
    "RATELIMIT_REDEEM_IP": "1000 per hour",
    "RATELIMIT_REDEEM_MEMBER": "6 per hour",
}
ATTEMPTS = 16
MEMBER, REDEEMER = "limits@example.com", "redeemer@example.com"

pytestmark = [pytest.mark.redis, pytest.mark.slow]  # gunicorn and Redis processes


def _redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis database for the limiter's counters, empty at the start."""
    import redis

    if _redis_answers(SHARED_REDIS):
        url = SHARED_REDIS
        process = None
    else:
        server = shutil.which("redis-server")
        if server is None:
            pytest.skip(
                f"no Redis: none answers at {SHARED_REDIS} and redis-server is not installed"
            )
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
                str(tmp_path_factory.mktemp("redis")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while not _redis_answers(url):
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    client = redis.Redis.from_url(url)
    client.flushdb()  # this database only
    yield url
    client.flushdb()
    client.close()
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A temporary instance on SQLite, migrated, with two verified members."""
    if not GUNICORN.exists():
        pytest.skip(f"gunicorn is not installed ({GUNICORN}); pip install -e '.[deploy]'")
    folder = tmp_path_factory.mktemp("limits-instance")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PULLFIRST_") and k != "DATABASE_URL"
    }
    env.update(
        {
            "PULLFIRST_INSTANCE_PATH": str(folder / "instance"),
            "PULLFIRST_DATABASE_URL": f"sqlite:///{folder / 'pullfirst.db'}",
            "PULLFIRST_SECRET_KEY": "limits-secret-key-0123456789abcdef0123456789abcdef",
            "PULLFIRST_CONTENT_DIR": str(REPO / "content"),
            "PULLFIRST_STICKERS_DIR": str(REPO / "stickers"),
            "PULLFIRST_LOG_LEVEL": "WARNING",
            **{f"PULLFIRST_{name}": value for name, value in LIMITS.items()},
        }
    )
    script = (
        "from app import create_app\n"
        "from app.database import migrate\n"
        "from app.database.core import make_engine\n"
        "from app.accounts import members\n"
        "from app.extensions import db\n"
        "from app.clock import now\n"
        "import os, sys\n"
        "migrate.upgrade(make_engine(os.environ['PULLFIRST_DATABASE_URL']))\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    for email in sys.argv[2:]:\n"
        "        members.create_member(email, sys.argv[1], now=now(), verified=True)\n"
        "    db.session.commit()\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, PASSWORD, MEMBER, REDEEMER],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return env


@dataclass
class Gunicorn:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    workers: int

    def workers_that_answered(self, path: str) -> set[str]:
        """The worker pids that answered a POST to ``path``, from the access log."""
        pids = set()
        for line in self.log.read_text(errors="replace").splitlines():
            found = re.match(r"^pid=<?(\d+)>? \"POST (\S+) ", line)
            if found and found.group(2).split("?")[0] == path:
                pids.add(found.group(1))
        return pids


@pytest.fixture(params=[1, 4], ids=["1-worker", "4-workers"])
def gunicorn(
    request: pytest.FixtureRequest, instance: dict[str, str], redis_url: str, tmp_path: Path
) -> Iterator[Gunicorn]:
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # fresh counters for each run
    port = free_port()
    env = dict(
        instance,
        PULLFIRST_BIND=f"127.0.0.1:{port}",
        PULLFIRST_WORKERS=str(request.param),
        PULLFIRST_RATELIMIT_STORAGE_URI=redis_url,
        PULLFIRST_BASE_URL=f"http://127.0.0.1:{port}",
    )
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(GUNICORN),
                "-c",
                str(REPO / "deploy" / "gunicorn.conf.py"),
                "--access-logformat",
                'pid=%(p)s "%(r)s" %(s)s',
                "app:create_app()",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(process, port, log, request.param)
    deadline = time.monotonic() + 60
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/signin")
            if connection.getresponse().status == 200:
                connection.close()
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("gunicorn did not start:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.2)
    yield server
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    redis.Redis.from_url(redis_url).flushdb()


@dataclass
class Browser:
    """A browser on one loopback address: cookies, and one new connection per request."""

    port: int
    source: str
    cookies: dict[str, str] = field(default_factory=dict)
    forwarded_for: str | None = None  # a spoofed X-Forwarded-For header

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str]:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(self.source, 0)
        )
        headers = {"Connection": "close"}
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def post_form(self, path: str, form: dict[str, str], page: str | None = None) -> int:
        status, html = self.request("GET", page or path)
        assert status == 200, (page or path, status)
        return self.request("POST", path, {**form, "csrf_token": csrf_token(html)})[0]


def _limit(name: str) -> int:
    return int(LIMITS[name].split()[0])


def _got_through(statuses: list[int]) -> int:
    return sum(1 for status in statuses if status != 429)


def test_limits_hold_across_workers(gunicorn: Gunicorn) -> None:
    port = gunicorn.port
    # Sign-in per IP address: every attempt names another account, and claims to come from
    # another address (no proxy is configured, so the header must not count).
    one_ip = Browser(port, "127.0.0.2")
    statuses = []
    for n in range(ATTEMPTS):
        one_ip.forwarded_for = f"198.51.100.{n}"
        statuses.append(
            one_ip.post_form(
                "/signin", {"email": f"guess{n}@example.com", "password": "wrong password 123"}
            )
        )
    assert _got_through(statuses) == _limit("RATELIMIT_AUTH_IP"), statuses
    assert all(s in (200, 429) for s in statuses), statuses
    # Sign-in per account: the same address from another IP address.
    one_account = Browser(port, "127.0.0.3")
    statuses = [
        one_account.post_form("/signin", {"email": MEMBER, "password": "wrong password 1"})
        for _ in range(ATTEMPTS)
    ]
    assert _got_through(statuses) == _limit("RATELIMIT_AUTH_ACCOUNT"), statuses
    # The account's counter is shared by every spelling of the address.
    other_ip = Browser(port, "127.0.0.4")
    assert (
        other_ip.post_form("/signin", {"email": " Limits@Example.COM ", "password": PASSWORD})
        == 429
    )
    _spread(gunicorn, "/signin")
    # Redemption per member: signed in from another address, wrong codes.
    member = Browser(port, "127.0.0.5")
    assert member.post_form("/signin", {"email": REDEEMER, "password": PASSWORD}) == 302
    assert member.request("GET", "/me/account")[0] == 200
    statuses = [
        member.post_form("/redeem", {"code": f"AAAA-BBBB-CC{n:02d}-X"}) for n in range(ATTEMPTS)
    ]
    assert _got_through(statuses) == _limit("RATELIMIT_REDEEM_MEMBER"), statuses
    assert all(s in (400, 429) for s in statuses), statuses
    _spread(gunicorn, "/redeem")


def _spread(gunicorn: Gunicorn, path: str) -> None:
    """With several workers, the requests did reach more than one of them."""
    answered = gunicorn.workers_that_answered(path)
    assert answered, gunicorn.log.read_text(errors="replace")[-2000:]
    if gunicorn.workers > 1:
        assert len(answered) > 1, answered
