"""Path traversal on every route that takes a path or a slug.

Every URL argument of every such route gets each payload of :func:`traversal_payloads` (``../``
plain, percent-encoded, double-encoded, overlong UTF-8, with backslashes, NUL bytes, absolute
paths, and very long names), aimed at sentinel files put just outside the content folder, the
sticker folder and inside the instance folder, at the repository's own files and at
``/etc/passwd``. A signed-in administrator who holds every pack asks (so no role or entitlement
check stands in the way). No answer is a 500, and no answer carries a sentinel or a file from
outside its folder. The file-serving routes are also asked over a real HTTP connection, where
the request line is decoded by the server, not by the test client.
"""

from __future__ import annotations

import http.client
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.rewards.entitlements import grant
from app.stickers.build import build_packs
from app.stickers.pool import worker_pool
from tests.browser import LiveServer
from tests.conftest import PASSWORD, REPO, Clock
from tests.helpers import csrf_token, sign_in
from tests.security.harness import make_member
from tests.stickers.conftest import options

SENTINEL = "pullfirst-traversal-sentinel-7f3a"
# Text that shows a file from outside the folder a route serves.
SIGNATURES = (
    SENTINEL,
    "root:x:0:0",
    "[build-system]",
    "Every setting, declared once",
    "SECRET_KEY =",
    "[tool.pytest",
)

# Each argument of each route and what the route serves; every route whose URL takes an
# argument is listed here or in NO_PATH with the reason.
FILE_ROUTES = {"static", "site.image", "stickers.preview", "stickers.download"}
NO_PATH = {
    "admin.member": "an integer id",
    "admin.member_stop": "an integer id, scope and channel "
    "checked against the scope list (swept anyway below)",
    "consent.verify_webhook": "an integer id",
    "consent.remove_webhook": "an integer id",
    "hooks.endpoint": "an integer id",
    "hooks.change": "an integer id",
    "hooks.rotate": "an integer id",
    "hooks.disable": "an integer id",
    "hooks.enable": "an integer id",
    "hooks.delete": "an integer id",
    "hooks.test": "an integer id",
    "hooks.replay": "two integer ids",
    "transfer_import.import_run": "an integer id",
    "transfer_import.import_report": "an integer id",
    "transfer_import.import_mapping": "an integer id",
    "transfer_import.import_apply": "an integer id",
    "transfer_import.import_discard": "an integer id",
    "api_keys.key_revoke": "an integer id",
}

BASES = [
    "../",
    "..\\",
    "%2e%2e%2f",
    "..%2f",
    "%2e%2e%5c",
    "%252e%252e%252f",
    "%c0%ae%c0%ae%c0%af",
    "%e0%80%ae%e0%80%ae/",
    "....//",
    "..;/",
    ".%2e/",
    "%uff0e%uff0e%u2215",
]
# (depth, target): the sentinels sit one and two folders above the served ones.
TARGETS = [
    (1, "SENTINEL.txt"),
    (2, "SENTINEL.txt"),
    (3, "instance/SENTINEL.txt"),
    (2, "pyproject.toml"),
    (1, "config.py"),
    (12, "etc/passwd"),
]
OTHERS = [
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "//etc/passwd",
    "\\etc\\passwd",
    "C:\\Windows\\win.ini",
    "file:///etc/passwd",
    "consent-ledger%00.md",
    "consent-ledger%00",
    "%00../../etc/passwd",
    "SENTINEL.txt%00.png",
    ".",
    "..",
    "%2e",
    "%2e%2e",
    "~",
    "~root",
    "%7e",
    "a" * 5000,
    "../" * 400 + "etc/passwd",
    "%2e%2e%2f" * 200 + "etc%2fpasswd",
    "con",
    "aux.md",
    ".git/config",
    ".env",
]


def traversal_payloads() -> list[str]:
    found = [base * depth + target for base in BASES for depth, target in TARGETS]
    found += OTHERS
    return list(dict.fromkeys(found))


PAYLOADS = traversal_payloads()
# Routes whose argument reaches the file system (or may, one day): every payload. The others
# look their argument up in a list (a slug among the pages, a scope among the scopes): one
# payload of each family.
FILE_SYSTEM = {
    "static",
    "site.image",
    "stickers.preview",
    "stickers.download",
    "site.alias",
    "site.page",
    "site.article",
    "site.og_card",
    "admin.content_edit",
    "admin.content_upload",
    "admin.content_history",
    "admin.content_diff",
    "admin.content_restore",
    "admin.survey_edit",
    "engage.survey",
    "stickers.pack",
}
# Routes that need a signed-in member (or a staff role) before they look at their argument.
NEEDS_SESSION = {
    "stickers.download",
    "admin.survey_edit",
    "admin.content_edit",
    "admin.content_upload",
    "admin.content_history",
    "admin.content_diff",
    "admin.member",
    "admin.member_stop",
    "admin.survey_results_page",
    "admin.survey_export",
    "consent.receipt_page",
    "consent.receipt_json",
    "consent.verify_webhook",
    "consent.remove_webhook",
    "consent.say_yes",
    "consent.stop",
    "consent.resume",
    "consent.save_choices",
    "engage.survey_thanks",
    "engage.correct_answers",
    "engage.code_redeemed",
    "admin.scope_stats",
    "hooks.endpoint",
    "transfer_import.import_run",
    "transfer_import.import_report",
    "api_keys.key_revoke",
}
CORE = list(
    dict.fromkeys(
        [base * 3 + "instance/SENTINEL.txt" for base in BASES]
        + [base * 12 + "etc/passwd" for base in BASES[:4]]
        + OTHERS
    )
)


@pytest.fixture(scope="module")
def built_packs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo packs, built once for this module."""
    output = tmp_path_factory.mktemp("traversal-builds")
    executor = worker_pool(2)
    try:
        report = build_packs(options(REPO / "stickers", output), executor=executor)
    finally:
        executor.shutdown()
    assert not report.failed, report.failed
    yield output


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    site = tmp_path / "site"
    shutil.copytree(REPO / "content", site / "content")
    shutil.copytree(REPO / "stickers", site / "stickers")
    (site / "content" / "images").mkdir()
    (site / "content" / "images" / "inside.txt").write_text("inside\n")
    for folder in (tmp_path, site, site / "content", tmp_path / "instance"):
        folder.mkdir(exist_ok=True)
        (folder / "SENTINEL.txt").write_text(SENTINEL + "\n")
    app_config.update(
        CONTENT_DIR=str(site / "content"),
        STICKERS_DIR=str(site / "stickers"),
        RATELIMIT_ENABLED=False,
    )
    return app_config


@pytest.fixture
def traversal_app(app: Flask, built_packs: Path) -> Flask:
    target = Path(app.instance_path) / "stickers"
    shutil.copytree(built_packs, target)
    (Path(app.instance_path) / "SENTINEL.txt").write_text(SENTINEL + "\n")
    (target / "SENTINEL.txt").write_text(SENTINEL + "\n")
    return app


def _admin(app: Flask, clock: Clock) -> FlaskClient:
    member_id = make_member(app, clock, "admin@example.com", role="admin")
    with app.app_context():
        from app.extensions import db

        for pack in ("spring-birds", "paper-planes"):
            grant(member_id, f"pack:{pack}", "code:test", clock())
        db.session.commit()
    client = app.test_client()
    sign_in(client, "admin@example.com", PASSWORD)
    return client


def _with(rule: str, argument: str, payload: str, defaults: dict[str, str]) -> str:
    url = rule.replace(f"<path:{argument}>", payload).replace(f"<int:{argument}>", payload)
    url = url.replace(f"<id:{argument}>", payload)
    url = url.replace(f"<{argument}>", payload)
    for name, value in defaults.items():
        for form in (f"<{name}>", f"<path:{name}>", f"<int:{name}>", f"<id:{name}>"):
            url = url.replace(form, value)
    return url


DEFAULTS = {
    "slug": "consent-ledger",
    "tag": "consent",
    "filename": "inside.txt",
    "path": "old",
    "part": "1",
    "kind": "post",
    "name": "consent-ledger",
    "platform": "telegram",
    "receipt": "abc",
    "scope": "newsletter",
    "channel": "email",
    "batch": "spring-store",
    "code": "abc",
    "token": "abc",
    "endpoint_id": "1",
    "member_id": "1",
    "commit": "abcdef1",
    "hook_id": "1",
    "hook_delivery_id": "1",
    "run_id": "1",
    "key_id": "1",
}


def _check(url: str, status: int, body: bytes) -> None:
    assert status != 500, url
    text = body.decode("utf-8", "replace")
    leaked = [s for s in SIGNATURES if s in text]
    assert not leaked, (url[:200], status, leaked)


@pytest.mark.slow
def test_every_route_with_an_argument_is_swept(traversal_app: Flask, clock: Clock) -> None:
    app = traversal_app
    client = _admin(app, clock)
    rules = [r for r in app.url_map.iter_rules() if r.arguments]
    assert len(rules) >= 30
    token = csrf_token(client.get("/me/account").get_data(as_text=True))
    visitor = app.test_client()
    for rule in rules:  # NEEDS_SESSION is right: a visitor is sent to sign in exactly there
        if "GET" in (rule.methods or set()):
            answer = visitor.get(_with(rule.rule, "", "", DEFAULTS))
            answer.close()
            sent_away = answer.status_code == 302 and "/signin" in answer.location
            # A download answers a visitor 404, so that it reveals nothing about a pack.
            sent_away |= rule.endpoint == "stickers.download" and answer.status_code == 404
            assert sent_away == (rule.endpoint in NEEDS_SESSION), rule.endpoint
    tried = 0
    for rule in sorted(rules, key=lambda r: r.rule):
        payloads = PAYLOADS if rule.endpoint in FILE_SYSTEM else CORE
        # Public pages are asked by a visitor (cheaper pages), the others by the admin.
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        asker = client
        if "GET" in methods and rule.endpoint not in NEEDS_SESSION:
            asker = visitor
        for argument in sorted(rule.arguments):
            for payload in payloads:
                url = _with(rule.rule, argument, payload, DEFAULTS)
                for method in sorted(methods):
                    # With the session's CSRF token, so a POST reaches the view.
                    data = {"csrf_token": token} if method != "GET" else None
                    response = (client if method != "GET" else asker).open(
                        url, method=method, data=data
                    )
                    _check(url, response.status_code, response.get_data())
                    response.close()
                    tried += 1
    assert client.get("/me/account").status_code == 200  # still signed in: the sweep was real
    print(f"path traversal: {len(PAYLOADS)} payloads, {tried} requests")


@pytest.mark.slow
def test_file_routes_serve_their_own_files(traversal_app: Flask, clock: Clock) -> None:
    """The controls: each file route does serve a file from its folder."""
    client = _admin(traversal_app, clock)
    for path, expected in (
        ("/static/pullfirst.css", None),
        ("/images/inside.txt", b"inside\n"),
        ("/stickers/paper-planes/previews/01_plane.webp", None),
        ("/stickers/paper-planes/download/telegram.zip", None),
    ):
        response = client.get(path)
        body = response.get_data()
        response.close()
        assert response.status_code == 200, path
        assert expected is None or body == expected, path


@pytest.mark.slow
def test_file_routes_over_real_http(
    traversal_app: Flask, live_server: LiveServer, live_port: int
) -> None:
    prefixes = [
        "/static/",
        "/images/",
        "/stickers/paper-planes/previews/",
        "/stickers/paper-planes/download/",
    ]
    tried = 0
    for prefix in prefixes:
        for payload in PAYLOADS:
            if any(ord(c) < 0x21 for c in payload):
                continue  # not a request line a client can send
            connection = http.client.HTTPConnection("127.0.0.1", live_port, timeout=10)
            try:
                connection.putrequest("GET", prefix + payload, skip_accept_encoding=True)
                connection.endheaders()
                response = connection.getresponse()
                _check(prefix + payload, response.status, response.read())
            finally:
                connection.close()
            tried += 1
    assert tried > 3 * len(PAYLOADS)
