"""One date format, in the reader's zone: a member in Paris reads Paris times on the inbox, the
consent history, a receipt and the "why did I get this?" page (even opened without signing
in); a marketer in New York reads the same moments on New York's clock."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.accounts import members
from app.consent.gate import why
from app.consent.ledger import consents
from app.consent.ledger.consents import Origin
from app.consent.scopes import get_scope
from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.helpers import sign_in

# A Friday afternoon in winter: 16:05 in Paris (CET), 10:05 in New York (EST).
SENT = datetime(2026, 12, 4, 15, 5, tzinfo=UTC)
PARIS = "4 December 2026, 16:05 CET"
NEW_YORK = "4 December 2026, 10:05 EST"


def _zone(app: Flask, email: str, zone: str) -> int:
    from app.extensions import db

    with app.app_context():
        found = members.find_by_email(email)
        assert found is not None
        members.update_profile(found, found.display_name, zone)
        db.session.commit()
        return found.id


def _client(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client


def _visible(html: str) -> str:
    """The page without its machine-readable times."""
    return re.sub(r'(datetime|content)="[^"]*"', "", html)


def test_a_member_in_paris_reads_paris_times_everywhere(
    app: Flask,
    member: Any,
    marketer: str,
    clock: Clock,
    campaign: Callable[..., int],
    work: Callable,
) -> None:
    from app.extensions import db

    reader = _zone(app, "reader@example.com", "Europe/Paris")
    _zone(app, marketer, "America/New_York")
    with app.app_context():
        world.consent(
            reader, "newsletter", "inbox", granted=True, version=1, at=SENT - timedelta(7)
        )
        db.session.commit()
    clock.set(SENT)
    campaign(channels=("inbox",), title="Letter one")
    assert work()["sent"] == 1
    with app.app_context():
        scope = get_scope("newsletter")
        consents.grant_consent(reader, scope, "email", scope.wording, Origin("preferences"), SENT)
        db.session.commit()
        why_link = why.why_url(reader, "newsletter", "email", SENT, "editorial")

    client = _client(app, "reader@example.com")
    inbox = _visible(client.get("/inbox").text)
    assert PARIS in inbox and "UTC" not in inbox
    history = client.get("/me/permissions/history").text
    assert PARIS in _visible(history)
    receipt = re.search(r'href="(/me/permissions/receipts/[^".]+)"', history)
    assert receipt is not None
    assert PARIS in _visible(client.get(receipt.group(1)).text)
    # The "why" link opens without signing in, and still reads in the member's zone.
    page = app.test_client().get(why_link.removeprefix("http://localhost")).text
    assert f'We sent this message on <time datetime="{SENT.isoformat()}">{PARIS}' in page
    assert "UTC" not in _visible(page)

    team = _client(app, marketer)
    admin = _visible(team.get(f"/admin/members/{reader}").text)
    assert NEW_YORK in admin and PARIS not in admin
    conversations = _visible(team.get("/admin/conversations/").text)
    assert "UTC" not in conversations


def test_a_marketer_schedules_on_their_own_clock(
    app: Flask, marketer: str, clock: Clock, smtp: Any
) -> None:
    from app.extensions import db
    from app.notify.models import Campaign
    from tests.helpers import post_form
    from tests.notify.test_admin_campaigns import compose

    _zone(app, marketer, "Europe/Paris")
    clock.set(SENT - timedelta(days=1))
    team = _client(app, marketer)
    url = compose(team, channels=["email"]).headers["Location"]
    assert "Or send at (your time)" in team.get(url).text
    scheduled = post_form(
        team, f"{url}/schedule", {"send_at": "2026-12-04T16:05"}, page=url, follow_redirects=True
    )
    assert f"Scheduled for {PARIS}." in scheduled.text
    with app.app_context():
        campaign = db.session.query(Campaign).one()
        assert campaign.send_at == SENT  # 16:05 in Paris is 15:05 UTC
