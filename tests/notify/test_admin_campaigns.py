"""The marketers' screens: compose, channel previews, the audience preview with the gate's
reasons, send, the funnel with its chart and JSON, cancel, schedule, drafts from posts, the
per-scope history, and the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.helpers import SMTPSink, csrf_token, post_form, sign_in
from tests.notify.conftest import Audience


def team(app: Flask, marketer: str):
    client = app.test_client()
    sign_in(client, marketer, PASSWORD)
    return client


def compose(client, **fields: object):
    data = {
        "title": "Spring letter",
        "body": "Birds are back. [Read](/posts/pull-before-push/)",
        "scope": "newsletter",
        "kind": "editorial",
        "channels": ["email", "inbox"],
    }
    data.update(fields)
    return post_form(client, "/admin/campaigns/new", data)


def test_members_without_the_role_are_refused(app: Flask, member: object) -> None:
    client = app.test_client()
    sign_in(client, "reader@example.com", PASSWORD)
    for url in ("/admin/campaigns/", "/admin/campaigns/new", "/admin/conversations/"):
        assert client.get(url).status_code == 403


def test_compose_preview_send_and_follow(
    app: Flask, marketer: str, audience: Audience, clock: Clock, smtp: SMTPSink, work: Callable
) -> None:
    from app.extensions import db

    reached = audience.add(3)
    at = clock() - timedelta(days=7)
    with app.app_context():
        unverified = world.add_member(90, at, verified=False)
        world.earn(unverified.id, "newsletter", at)
        world.consent(unverified.id, "newsletter", "email", granted=True, version=1, at=at)
        fresh = world.add_member(91, at)
        world.earn(fresh.id, "newsletter", at)
        world.consent(fresh.id, "newsletter", "email", granted=True, version=1, at=clock())
        db.session.commit()
    client = team(app, marketer)
    response = compose(client)
    assert response.status_code == 302
    url = response.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    # previews: the mail's HTML and text, and the inbox
    assert "Plain-text part" in page and "http://localhost/posts/pull-before-push/" in page
    # the audience preview, with a count per reason
    email_row = re.search(r'<th scope="row">Email</th>\s*<td>(\d+)</td>.*?</tr>', page, re.S)
    assert email_row is not None and email_row.group(1) == "3"
    assert "no proven address on this channel</span>: 1" in email_row.group(0)
    assert "said yes too recently (cooling down)</span>: 1" in email_row.group(0)
    # the marketer never said yes
    assert "no yes on this channel</span>: 1" in email_row.group(0)
    sent = post_form(client, f"{url}/send", {}, page=url)
    assert sent.status_code == 302
    assert work()["sent"] == 6  # three members, email and inbox
    assert len(smtp.wait_for(3)) == 3
    results = client.get(url).get_data(as_text=True)
    assert '<th scope="row">Sent</th><td>6</td>' in results
    assert "<strong>3 people reached</strong> with 6 messages" in results
    assert '<svg class="chart small-multiple"' in results
    data = json.loads(client.get(f"{url}.json").get_data(as_text=True))
    assert data["funnel"]["sent"] == 6 and data["funnel"]["audience"] == 6
    assert data["people"]["reached"] == 3
    assert data["funnel"]["excluded"]["address"] == 1
    assert data["funnel"]["excluded"]["cooldown"] == 1
    assert sorted(reached) and data["state"] in ("sending", "sent")
    # sending again is refused
    again = post_form(client, f"{url}/send", {}, page=url, follow_redirects=True)
    assert "cannot be sent again" in again.get_data(as_text=True)


def test_bad_drafts_are_refused_with_a_message(app: Flask, marketer: str) -> None:
    from app.extensions import db
    from app.notify.models import Campaign

    client = team(app, marketer)
    cases = {
        "The title must be one line": {"title": "Hello\rBcc: x@example.com"},
        "not offered by webhook": {"channels": ["webhook"]},
        "Choose at least one channel": {"channels": []},
    }
    for message, fields in cases.items():
        response = compose(client, **fields)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Campaign)) is None


def test_schedule_then_the_worker_starts_it(
    app: Flask, marketer: str, audience: Audience, clock: Clock, work: Callable, smtp: SMTPSink
) -> None:
    audience.add(2)
    client = team(app, marketer)
    url = compose(client, channels=["email"]).headers["Location"]
    when = (clock() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    post_form(client, f"{url}/schedule", {"send_at": when}, page=url)
    assert "scheduled</strong> for" in client.get(url).get_data(as_text=True)
    assert sum(work().values()) == 0
    clock.advance(hours=2, minutes=1)
    from app.notify.worker import Worker

    with app.app_context():
        worker = Worker(name="w")
        worker.tick(force=True)
        assert worker.run(once=True)["sent"] == 2
    assert len(smtp.wait_for(2)) == 2


def test_cancel_during_sending(
    app: Flask, marketer: str, audience: Audience, work: Callable, smtp: SMTPSink
) -> None:
    audience.add(4)
    client = team(app, marketer)
    url = compose(client, channels=["email"]).headers["Location"]
    post_form(client, f"{url}/send", {}, page=url)
    response = post_form(client, f"{url}/cancel", {}, page=url, follow_redirects=True)
    assert "4 queued deliveries will not be sent" in response.get_data(as_text=True)
    assert sum(work().values()) == 0 and smtp.messages == []


def test_a_post_with_notify_becomes_one_draft(app: Flask, marketer: str, clock: Clock) -> None:
    from app.extensions import db
    from app.notify.drafts import draft_from_posts
    from app.notify.models import Campaign

    with app.app_context():
        created = draft_from_posts(clock())
        assert len(created) == 1
        assert draft_from_posts(clock()) == []
        campaign = db.session.scalar(select(Campaign))
        assert campaign is not None
        assert (campaign.state, campaign.scope, campaign.source_post) == (
            "draft",
            "newsletter",
            "measure-replies-not-opens",
        )
        assert "http://localhost/posts/measure-replies-not-opens/" in campaign.body
    listing = team(app, marketer).get("/admin/campaigns/").get_data(as_text=True)
    assert "from the post measure-replies-not-opens" in listing


def test_scope_history_shows_growth_and_unsubscribes(
    app: Flask, marketer: str, audience: Audience, clock: Clock
) -> None:
    from app.consent.ledger import consents
    from app.extensions import db

    first, _ = audience.add(2)
    with app.app_context():
        consents.revoke_consent(
            first,
            "newsletter",
            "email",
            consents.Origin("preferences"),
            clock(),
            wording="Stop The weekly letter by email",
        )
        db.session.commit()
    page = team(app, marketer).get("/admin/scopes/newsletter").get_data(as_text=True)
    assert page.count('<svg class="chart small-multiple"') == 2  # audience, unsubscribes
    assert re.search(r"<td>1</td><td>\d+</td><td>\d+\.\d%</td>", page)


def test_cli_send_and_worker(
    app: Flask, audience: Audience, campaign: Callable[..., int], smtp: SMTPSink
) -> None:
    audience.add(3)
    campaign_id = campaign(send=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notify", "send", str(campaign_id)])
    assert result.exit_code == 0, result.output
    assert "email: 3 deliveries queued" in result.output
    result = runner.invoke(args=["notify", "worker", "--once", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "3 sent" in result.output
    assert len(smtp.wait_for(3)) == 3
    missing = runner.invoke(args=["notify", "send", "999"])
    assert missing.exit_code != 0 and "there is no campaign 999" in missing.output
    again = runner.invoke(args=["notify", "send", str(campaign_id)])
    assert again.exit_code != 0 and "cannot be sent again" in again.output
    status = runner.invoke(args=["notify", "status"])
    assert "sent: 3" in status.output


def test_csrf_is_required(app: Flask, marketer: str, audience: Audience) -> None:
    client = team(app, marketer)
    url = compose(client).headers["Location"]
    assert client.post(f"{url}/send").status_code == 400
    token = csrf_token(client.get(url).get_data(as_text=True))
    assert token
