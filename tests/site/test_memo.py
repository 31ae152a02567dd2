"""Cookie-less visitors are served finished pages from memory until the content changes."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import Markup

from app.site.cta import CTA_KINDS, CtaKind
from app.site.memo import PageMemo
from tests.conftest import PASSWORD
from tests.helpers import sign_in


def _memo(app: Flask) -> PageMemo:
    memo = app.wsgi_app
    assert isinstance(memo, PageMemo)
    return memo


def test_a_second_visit_is_replayed_until_the_content_changes(
    app: Flask, client: FlaskClient, content_dir: Path
) -> None:
    drawn: list[str] = []

    def render(ref: str, placement: str) -> Markup:
        drawn.append(ref)
        return Markup("<aside>take the survey</aside>")

    CTA_KINDS.replace(app, "survey", CtaKind("survey", lambda ref: True, render))
    first = client.get("/posts/why-pull-wins/")
    second = client.get("/posts/why-pull-wins/")
    assert first.data == second.data and len(drawn) == 1  # rendered once
    assert second.headers["ETag"] == first.headers["ETag"]
    assert "Content-Security-Policy" in second.headers  # the full response, headers included
    path = content_dir / "posts" / "why-pull-wins.md"
    path.write_text(path.read_text().replace("Because people choose.", "Because they can."))
    third = client.get("/posts/why-pull-wins/")
    assert "Because they can." in third.text and len(drawn) == 2


def test_replays_answer_conditional_and_head_requests(client: FlaskClient) -> None:
    etag = client.get("/posts/ledger/").headers["ETag"]
    client.get("/posts/ledger/")
    again = client.get("/posts/ledger/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    head = client.head("/posts/ledger/")
    assert head.status_code == 200 and head.data == b""


def test_members_and_sessions_are_never_replayed(
    app: Flask, client: FlaskClient, member: object
) -> None:
    client.get("/")
    assert len(_memo(app)._kept) >= 1
    sign_in(client, "reader@example.com", PASSWORD)
    page = client.get("/").text
    assert "Robin Reader" in page  # rendered for the member, not the anonymous copy


def test_entries_expire(app: Flask, client: FlaskClient) -> None:
    memo = _memo(app)
    ticks = [0.0]
    memo.clock = lambda: ticks[0]
    client.get("/tags/")
    assert memo._get(next(iter(memo._kept))) is not None
    ticks[0] = memo.seconds + 1
    assert memo._get(next(iter(memo._kept))) is None
