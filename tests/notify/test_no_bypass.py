"""No composed message skips the gate: the kinds a marketer can choose, forged kinds through the
form and the command line, campaigns of the former transactional kind, and a campaign whose
scope's promise changed after it was written."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.helpers import SMTPSink, post_form, sign_in
from tests.notify.conftest import Audience

FIELDS = {
    "title": "Winter sale: 40% off everything",
    "body": "Everything must go.",
    "scope": "offers",
    "channels": ["email", "inbox"],
}


def _campaign_count(app: Flask) -> int:
    from app.extensions import db
    from app.notify.models import Campaign

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Campaign)) or 0


def test_the_composer_offers_only_gated_kinds(app: Flask, marketer: str) -> None:
    client = app.test_client()
    sign_in(client, marketer, PASSWORD)
    page = client.get("/admin/campaigns/new").text
    assert 'value="editorial"' in page and 'value="promotional"' in page
    assert "ransactional" not in page


@pytest.mark.parametrize("kind", ["transactional", "system", "", "EDITORIAL", "x" * 500])
def test_a_forged_kind_is_a_400_and_saves_nothing(app: Flask, marketer: str, kind: str) -> None:
    client = app.test_client()
    sign_in(client, marketer, PASSWORD)
    response = post_form(
        client, "/admin/campaigns/new", {**FIELDS, "kind": kind}, page="/admin/campaigns/new"
    )
    assert response.status_code == 400
    assert "every campaign passes the whole gate" in response.text
    assert _campaign_count(app) == 0


def test_a_forged_kind_on_edit_is_a_400_and_changes_nothing(
    app: Flask, marketer: str, campaign: Callable[..., int]
) -> None:
    from app.extensions import db
    from app.notify.models import Campaign

    campaign_id = campaign(send=False)
    client = app.test_client()
    sign_in(client, marketer, PASSWORD)
    url = f"/admin/campaigns/{campaign_id}/edit"
    response = post_form(
        client, url, {**FIELDS, "scope": "newsletter", "kind": "transactional"}, page=url
    )
    assert response.status_code == 400
    with app.app_context():
        row = db.session.get(Campaign, campaign_id)
        assert row is not None and (row.kind, row.title) == (
            "editorial",
            "Three articles for the weekend",
        )


def test_the_domain_and_the_command_line_refuse_another_kind(
    app: Flask, clock: Clock, runner: Any
) -> None:
    from app.extensions import db
    from app.notify.campaigns import Draft, create_campaign
    from app.notify.errors import CampaignError
    from app.notify.models import Campaign

    with app.app_context():
        with pytest.raises(CampaignError, match="editorial or promotional"):
            create_campaign(
                Draft("Sale", "Buy.", "offers", "transactional", ("email",)), None, clock()
            )
        db.session.rollback()
        # A row of the former kind that was never sent (as an old database may hold one,
        # had the upgrade not turned it into a draft) cannot be sent by any path.
        db.session.add(
            Campaign(
                title="Sale",
                body="Buy.",
                scope="offers",
                kind="transactional",
                channels="email",
                state="draft",
                created_at=clock(),
                updated_at=clock(),
            )
        )
        db.session.commit()
        campaign_id = db.session.scalar(select(Campaign.id))
    result = runner.invoke(args=["notify", "send", str(campaign_id)])
    assert result.exit_code == 1
    assert "editorial or promotional, not 'transactional'" in result.output
    with app.app_context():
        row = db.session.get(Campaign, campaign_id)
        assert row is not None and row.state == "draft"
        assert db.session.scalar(text("SELECT count(*) FROM deliveries")) == 0


def test_a_sale_reaches_only_members_the_gate_lets_through(
    app: Flask,
    clock: Clock,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
) -> None:
    """The story of the issue: a promotional message to the offers scope."""
    from app.consent.gate.contacts import not_for_me
    from app.extensions import db

    [welcome] = audience.add(1, scope="offers")
    at = clock() - timedelta(days=7)
    with app.app_context():
        never_earned = world.add_member(70, at)  # an address, but no scope
        cooling = world.add_member(71, at)  # said yes yesterday: 72 hours of cooldown
        world.earn(cooling.id, "offers", at)
        world.consent(
            cooling.id, "offers", "email", granted=True, version=1, at=clock() - timedelta(days=1)
        )
        world.consent(
            cooling.id, "offers", "inbox", granted=True, version=1, at=clock() - timedelta(days=1)
        )
        tired = world.add_member(72, at)  # said "not for me"
        world.earn(tired.id, "offers", at)
        for channel in ("email", "inbox"):
            world.consent(tired.id, "offers", channel, granted=True, version=1, at=at)
        not_for_me(tired.id, "offers", clock() - timedelta(hours=2))
        db.session.commit()
        excluded = {never_earned.id, cooling.id, tired.id}
    campaign(
        title="Winter sale: 40% off everything",
        scope="offers",
        kind="promotional",
        channels=("email", "inbox"),
    )
    assert work()["sent"] == 2
    [mail] = smtp.wait_for(1)
    assert (
        "List-Unsubscribe" in mail
        and "You get this because you said yes to Member offers"
        in mail.get_body(("plain",)).get_content()
    )
    from app.notify.models import Delivery

    with app.app_context():
        reached = set(db.session.scalars(select(Delivery.member_id)))
    assert reached == {welcome} and not reached & excluded


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    content = tmp_path / "content"
    shutil.copytree(app_config["CONTENT_DIR"], content)
    app_config["CONTENT_DIR"] = str(content)
    return app_config


def test_a_campaign_is_not_sent_under_a_promise_its_author_did_not_see(
    app: Flask, marketer: str, audience: Audience, campaign: Callable[..., int], runner: Any
) -> None:
    from app.extensions import db
    from app.notify.models import Campaign

    audience.add(2)
    campaign_id = campaign(send=False)
    scopes = Path(app.config["CONTENT_DIR"]) / "scopes.toml"
    scopes.write_text(scopes.read_text().replace('days = ["fri"]', 'days = ["mon", "fri"]'))
    result = runner.invoke(args=["notify", "send", str(campaign_id)])
    assert result.exit_code == 1
    assert "The promise of The weekly letter changed since this campaign was saved" in result.output
    assert "on Mondays and Fridays" in result.output
    with app.app_context():
        row = db.session.get(Campaign, campaign_id)
        assert row is not None and row.state == "draft"
        assert db.session.scalar(text("SELECT count(*) FROM deliveries")) == 0
    client = app.test_client()
    sign_in(client, marketer, PASSWORD)
    url = f"/admin/campaigns/{campaign_id}"
    assert "changed since this campaign was saved" in client.get(url).text
    # Saving it again under the new promise is the marketer's yes to it.
    edit = post_form(
        client,
        f"{url}/edit",
        {
            "title": "Three articles for the weekend",
            "body": "Hello.",
            "scope": "newsletter",
            "kind": "editorial",
            "channels": ["email"],
        },
        page=f"{url}/edit",
    )
    assert edit.status_code == 302
    assert runner.invoke(args=["notify", "send", str(campaign_id)]).exit_code == 0
