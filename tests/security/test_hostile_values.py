"""Values no form would send: a NUL, a line break in a name, numbers past any page, bytes that
are not UTF-8. No answer is a 500 (PostgreSQL refuses a NUL in any text, and an offset past a
64-bit integer; an id in a path past any row is a 404), a name stays one line (it goes into
mail headers), and even a failure of the database still gets the site's error page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from app.accounts.members import get_member
from app.accounts.models import Member
from app.extensions import db
from app.web.converters import MAX_ID, IdConverter
from tests.conftest import PASSWORD, Clock
from tests.helpers import SMTPSink, csrf_token, post_form, sign_in
from tests.security.harness import make_member

VALUES = [
    "a\x00b",
    "\x00",
    "99999999999999999999",
    "-99999999999999999999",
    "0",
    "-1",
    "1e9",
    "%ff%fe",
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
    "x" * 10_000,
    "\r\nSet-Cookie: a=b",
    "../../etc/passwd",
]
PARAMETERS = ("q", "email", "next", "page", "from", "code", "tag", "why", "name")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(RATELIMIT_ENABLED=False, PROPAGATE_EXCEPTIONS=False)
    return app_config


@pytest.mark.slow
def test_query_values_never_end_as_a_500(app: Flask, clock: Clock) -> None:
    make_member(app, clock, "admin@example.com", role="admin")
    admin, visitor = app.test_client(), app.test_client()
    sign_in(admin, "admin@example.com", PASSWORD)
    routes = [
        r.rule
        for r in app.url_map.iter_rules()
        if "GET" in (r.methods or set()) and not r.arguments
    ]
    tried = 0
    for client in (visitor, admin):
        for route in routes:
            for value in VALUES:
                response = client.get(route, query_string={p: value for p in PARAMETERS})
                response.close()
                # /readyz says 503 when it is not ready (here: no worker has beaten yet).
                allowed = 503 if route == "/readyz" else None
                assert response.status_code < 500 or response.status_code == allowed, (
                    route,
                    value[:40],
                )
                tried += 1
    assert admin.get("/admin/").status_code == 200
    assert tried == 2 * len(routes) * len(VALUES)


PAST_ANY_ROW = [
    "99999999999999999999",
    str(2**63),
    str(2**63 - 1),
    str(MAX_ID + 1),
    "0",
    "-1",
    "-99999999999999999999",
    "0042",
]
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _path(rule: Rule, value: str) -> str:
    """``rule`` with ``value`` for every id and a plain word for any other part."""
    return _ARGUMENT.sub(lambda m: value if m.group(1) == "id" else "newsletter", rule.rule)


@pytest.mark.slow
def test_ids_past_any_row_are_a_404_on_every_route_that_takes_one(app: Flask, clock: Clock) -> None:
    make_member(app, clock, "admin@example.com", role="admin")
    make_member(app, clock, "reader@example.com")
    id_rules = [
        r
        for r in app.url_map.iter_rules()
        if any(isinstance(c, IdConverter) for c in r._converters.values())
    ]
    assert len(id_rules) >= 12 and not [r for r in app.url_map.iter_rules() if "<int:" in r.rule]
    tried = 0
    for email, page in (
        ("admin@example.com", "/admin/campaigns/new"),
        ("reader@example.com", "/me/permissions"),
    ):
        client = app.test_client()
        sign_in(client, email, PASSWORD)
        token = csrf_token(client.get(page).get_data(as_text=True))
        for rule in id_rules:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                for value in [*PAST_ANY_ROW, str(MAX_ID)]:
                    path = _path(rule, value)
                    response = client.open(
                        path,
                        method=method,
                        data={"csrf_token": token} if method == "POST" else None,
                    )
                    response.close()
                    if value == str(MAX_ID):  # in range: no such row, or not this member's
                        assert response.status_code < 500, (email, method, path)
                    else:  # no id route matches (another may, for another method: 405)
                        assert response.status_code in (404, 405), (email, method, path)
                    tried += 1
    assert tried >= 2 * 12 * len(PAST_ANY_ROW)


def test_a_nul_in_a_path_is_refused(app: Flask, clock: Clock) -> None:
    make_member(app, clock, "admin@example.com", role="admin")
    client = app.test_client()
    sign_in(client, "admin@example.com", PASSWORD)
    for path in (
        "/me/permissions/receipts/a%00b",
        "/me/permissions/receipts/%00.json",
        "/r/a%00b",
        "/posts/a%00b/",
        "/stickers/a%00b/",
        "/tags/%00/",
    ):
        response = client.get(path)
        assert response.status_code in (400, 404), path


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("Robin\r\nBcc: everyone@example.com", "Robin Bcc: everyone@example.com"),
        ("Robin\x00Reader", "Robin Reader"),
        ("Robin\u2028Reader", "Robin Reader"),
        ("  Robin \t Reader  ", "Robin Reader"),
    ],
)
def test_a_display_name_stays_one_line_and_mail_still_reaches_the_member(
    app: Flask, member: Member, smtp: SMTPSink, name: str, kept: str
) -> None:
    client = app.test_client()
    sign_in(client, "reader@example.com", PASSWORD)
    response = post_form(
        client,
        "/me/account/profile",
        {"profile-display_name": name, "profile-time_zone": "UTC"},
        page="/me/account",
    )
    assert response.status_code == 302
    with app.app_context():
        found = get_member(member.id)
        assert found is not None
        stored = found.display_name
    assert stored == kept, stored
    # A mail to the member (a sign-in link) carries the name in its To header.
    visitor = app.test_client()
    post_form(visitor, "/signin/link", {"email": "reader@example.com"})
    message = smtp.wait_for(1)[-1]
    assert kept in str(message["To"]).replace("\n", "")
    assert "Bcc" not in message


def test_sign_up_keeps_the_name_to_one_line(app: Flask, smtp: SMTPSink) -> None:
    client = app.test_client()
    response = post_form(
        client,
        "/signup",
        {
            "email": "nova@example.com",
            "password": PASSWORD,
            "display_name": "Nova\x00\r\nBcc: everyone@example.com",
        },
    )
    assert response.status_code == 302
    message = smtp.wait_for(1)[-1]  # the confirmation link went out
    assert "Bcc" not in message
    with app.app_context():
        found = db.session.query(Member).filter_by(email_key="nova@example.com").one()
        assert found.display_name == "Nova Bcc: everyone@example.com"


def test_a_failure_of_the_database_still_gets_the_error_page(app: Flask, member: Member) -> None:
    def broken() -> str:
        db.session.add(Member(email=None))  # refused by the database at the flush
        db.session.flush()
        return "unreachable"

    app.add_url_rule("/_broken", "broken", broken)
    client = app.test_client()
    sign_in(client, "reader@example.com", PASSWORD)  # the layout asks who is signed in
    response = client.get("/_broken")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
