"""Fixtures of the SMS tests: a real Kannel (bearerbox, smsbox, fakesmsc as the phones; see
:mod:`tests.kannel`) and the app behind a live server on loopback, so that Kannel's
``sms-service`` and delivery reports reach the app as they would in production.

- ``app_config`` (overridden here): the app sends through the test's Kannel, and Kannel's
  inbound URL and delivery reports carry :data:`SECRET`.
- ``texter``: a member who earned ``offers`` (which the fixture scopes offer by text) and
  proved the number :data:`NUMBER`; ``grant_sms`` gives them a standing yes by text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from tests.browser import LiveServer, live_port, live_server, live_socket  # noqa: F401 - fixtures
from tests.conftest import Clock
from tests.consent import world
from tests.kannel import KannelGateway, inbound_recorder, kannel  # noqa: F401 - fixtures

SECRET = "k" * 40
NUMBER = "+447911123456"


@pytest.fixture
def sms_inbound_url(live_port: int) -> str:  # noqa: F811 - replaces the recorder's URL
    return f"http://127.0.0.1:{live_port}/sms/inbound?secret={SECRET}"


@pytest.fixture
def app_config(
    app_config: dict[str, Any],
    live_port: int,  # noqa: F811
    kannel: KannelGateway,  # noqa: F811
) -> dict[str, Any]:
    return {
        **app_config,
        "BASE_URL": f"http://127.0.0.1:{live_port}",
        "SMS_SENDSMS_URL": kannel.sendsms_url,
        "SMS_USERNAME": kannel.username,
        "SMS_PASSWORD": kannel.password,
        "SMS_SENDER": kannel.sender,
        "SMS_INBOUND_SECRET": SECRET,
        "SMS_PROGRAM": "Corner Shop",
    }


@dataclass
class Texter:
    member_id: int
    email: str
    number: str


@pytest.fixture
def texter(app: Flask, clock: Clock, live_server: LiveServer) -> Texter:  # noqa: F811
    from app.consent.models import PhoneNumber
    from app.extensions import db

    with app.app_context():
        member = world.add_member(1, clock() - timedelta(days=30))
        world.earn(member.id, "offers", clock() - timedelta(days=30))
        db.session.add(
            PhoneNumber(member_id=member.id, number=NUMBER, verified_at=clock() - timedelta(days=9))
        )
        db.session.commit()
        return Texter(member.id, member.email, NUMBER)


def grant_sms(app: Flask, member_id: int, at: datetime, scope: str = "offers") -> None:
    """A standing yes by text to ``scope``, to its SMS words, given at ``at``."""
    from app.consent.ledger.consents import Origin, grant_consent
    from app.consent.scopes import get_scope
    from app.extensions import db

    with app.app_context():
        found = get_scope(scope)
        grant_consent(member_id, found, "sms", found.wording_for("sms"), Origin("demo"), at)
        db.session.commit()
