"""The marketer's campaign screens (issue 19): the test sent to oneself, the confirmation of
Send and Cancel with the audience in people and channels, the funnel in people beside
deliveries with rates and a readable chart, the preview's words, and the draft from a post
that carries the article."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.helpers import SMTPSink, csrf_token, post_form, sign_in
from tests.notify.conftest import Audience


def team(app: Flask, email: str):
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client


def compose(client, **fields: object) -> str:
    data = {
        "title": "Spring letter",
        "body": "Birds are back. [Read](/posts/pull-before-push/)",
        "scope": "newsletter",
        "kind": "editorial",
        "channels": ["email", "inbox"],
    }
    data.update(fields)
    response = post_form(client, "/admin/campaigns/new", data)
    assert response.status_code == 302
    return response.headers["Location"]


def text_of(response) -> str:
    """The page's words: tags dropped, entities read, white space folded."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(words)).replace(" :", ":").replace(" .", ".")


def deliveries(app: Flask) -> int:
    from app.extensions import db
    from app.notify.models import Delivery

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Delivery)) or 0


# --- the test sent to oneself ------------------------------------------------------------------


def test_a_test_goes_to_the_marketer_marked_test_and_counts_nowhere(
    app: Flask, marketer: str, audience: Audience, smtp: SMTPSink, work: Callable
) -> None:
    audience.add(3)
    client = team(app, marketer)
    url = compose(client)
    response = post_form(client, f"{url}/test", {}, page=url, follow_redirects=True)
    assert "Test sent to marketer@example.com and to your inbox" in text_of(response)
    (mail,) = smtp.wait_for(1)
    assert mail["To"].endswith("<marketer@example.com>") or mail["To"] == "marketer@example.com"
    assert mail["Subject"] == "[TEST] Spring letter"
    body = mail.get_body(("html",)).get_content()
    assert "TEST" in body and "only you got this" in body and "Birds are back." in body
    assert "TEST: only you got this" in mail.get_body(("plain",)).get_content()
    # outside the audience, the outbox and the funnel
    assert deliveries(app) == 0
    assert sum(work().values()) == 0
    assert len(smtp.messages) == 1
    data = client.get(f"{url}.json").get_json()
    assert data["funnel"]["sent"] == 0 and data["people"]["reached"] == 0
    metrics = client.get("/metrics")
    if metrics.status_code == 200:
        assert 'pullfirst_deliveries{channel="email"' not in metrics.get_data(as_text=True)
    # and in the marketer's inbox, with the banner
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Tests you sent yourself" in inbox and "Spring letter" in inbox
    link = re.search(r'href="(/inbox/tests/\d+)"', inbox)
    assert link is not None
    page = text_of(client.get(link.group(1)))
    assert "TEST — only you got this" in page and "Birds are back." in page


def test_another_member_cannot_open_the_marketers_test(
    app: Flask, marketer: str, member: object
) -> None:
    client = team(app, marketer)
    url = compose(client)
    post_form(client, f"{url}/test", {}, page=url)
    inbox = client.get("/inbox").get_data(as_text=True)
    link = re.search(r'href="(/inbox/tests/\d+)"', inbox)
    assert link is not None
    other = team(app, "reader@example.com")
    assert other.get(link.group(1)).status_code == 404
    assert "Tests you sent yourself" not in other.get("/inbox").get_data(as_text=True)


def test_a_test_is_refused_without_a_verified_address(
    app: Flask, marketer: str, smtp: SMTPSink
) -> None:
    from app.accounts.models import Member
    from app.extensions import db

    client = team(app, marketer)
    url = compose(client)
    with app.app_context():  # say the address changed and the new one is not proven yet
        found = db.session.scalar(select(Member).where(Member.email == marketer))
        assert found is not None
        found.email_verified_at = None
        db.session.commit()
    response = post_form(client, f"{url}/test", {}, page=url, follow_redirects=True)
    assert "is not verified yet, so no test was sent" in text_of(response)
    assert smtp.messages == []


def test_tests_are_rate_limited_per_marketer(app: Flask, marketer: str, smtp: SMTPSink) -> None:
    from app.admin.campaign_screens import TEST_SEND_LIMIT

    allowed = int(TEST_SEND_LIMIT.split()[0])
    client = team(app, marketer)
    url = compose(client)
    token = csrf_token(client.get(url).get_data(as_text=True))
    codes = [
        client.post(f"{url}/test", data={"csrf_token": token}).status_code
        for _ in range(allowed + 1)
    ]
    assert codes[:allowed] == [302] * allowed
    assert codes[allowed] == 429
    assert len(smtp.wait_for(allowed)) == allowed


def test_a_test_needs_the_role_and_a_csrf_token(
    app: Flask, marketer: str, member: object, smtp: SMTPSink
) -> None:
    client = team(app, marketer)
    url = compose(client)
    assert client.post(f"{url}/test").status_code == 400
    other = team(app, "reader@example.com")
    token = csrf_token(other.get("/me/permissions").get_data(as_text=True))
    assert other.post(f"{url}/test", data={"csrf_token": token}).status_code == 403
    assert smtp.messages == []


# --- Send and Cancel ask first -----------------------------------------------------------------


def test_send_asks_first_with_people_and_channels(
    app: Flask, marketer: str, audience: Audience, smtp: SMTPSink, work: Callable
) -> None:
    audience.add(3)  # email and inbox
    audience.add(2, channels=("email",))
    client = team(app, marketer)
    url = compose(client)
    campaign_page = client.get(url).get_data(as_text=True)
    # the campaign page links to the step; the send itself is only on the step
    assert f'href="{url}/send"' in campaign_page
    assert f'action="{url}/send"' not in campaign_page
    step = client.get(f"{url}/send")
    assert step.status_code == 200
    words = text_of(step)
    assert "Send to 5 people: 5 by email, 3 in the inbox (8 messages)." in words
    assert "Yes, send to 5 people" in words
    assert deliveries(app) == 0  # looking sends nothing
    sent = post_form(client, f"{url}/send", {}, page=f"{url}/send")
    assert sent.status_code == 302
    assert work()["sent"] == 8
    assert len(smtp.wait_for(5)) == 5


def test_the_send_step_counts_what_the_filter_keeps(
    app: Flask, marketer: str, audience: Audience
) -> None:
    audience.add(2)
    client = team(app, marketer)
    url = compose(client, audience_filter="read tag:consent within 30 days")
    words = text_of(client.get(f"{url}/send"))
    assert "Send to 0 people: 0 by email, 0 in the inbox (0 messages)." in words
    assert "Nobody would get it now" in words


def test_cancel_asks_first_and_counts_what_is_still_waiting(
    app: Flask, marketer: str, audience: Audience, smtp: SMTPSink, work: Callable
) -> None:
    audience.add(4, channels=("email",))
    client = team(app, marketer)
    url = compose(client, channels=["email"])
    before = text_of(client.get(f"{url}/cancel"))
    assert "Nothing has been sent yet. Sending now would reach 4 people: 4 by email" in before
    post_form(client, f"{url}/send", {}, page=f"{url}/send")
    campaign_page = client.get(url).get_data(as_text=True)
    assert 'class="danger-zone"' in campaign_page
    assert f'action="{url}/cancel"' not in campaign_page
    step = client.get(f"{url}/cancel")
    words = text_of(step)
    assert "Stop the messages still waiting: 4 people: 4 by email (4 messages)." in words
    assert 'class="button button-danger">Yes, cancel the campaign' in step.get_data(as_text=True)
    assert deliveries(app) == 4  # looking cancels nothing
    done = post_form(client, f"{url}/cancel", {}, page=f"{url}/cancel", follow_redirects=True)
    assert "4 queued deliveries will not be sent" in text_of(done)
    assert sum(work().values()) == 0 and smtp.messages == []


def test_the_steps_need_the_role(app: Flask, marketer: str, member: object) -> None:
    url = compose(team(app, marketer))
    other = team(app, "reader@example.com")
    assert other.get(f"{url}/send").status_code == 403
    assert other.get(f"{url}/cancel").status_code == 403


# --- the funnel in people --------------------------------------------------------------------


def test_the_funnel_counts_people_and_deliveries_apart(
    app: Flask, marketer: str, audience: Audience, clock: Clock, work: Callable, smtp: SMTPSink
) -> None:
    from app.extensions import db
    from app.notify.models import Delivery

    ids = audience.add(3)
    client = team(app, marketer)
    url = compose(client)
    post_form(client, f"{url}/send", {}, page=f"{url}/send")
    assert work()["sent"] == 6
    clock.advance(hours=3)
    with app.app_context():
        row = db.session.scalar(
            select(Delivery).where(Delivery.member_id == ids[0], Delivery.channel == "inbox")
        )
        assert row is not None
        row.read_at = clock()
        db.session.commit()
    page = client.get(url)
    words = text_of(page)
    assert "3 people reached with 6 messages" in words
    assert "reached (at least one message sent) 3 100%" in words
    assert "opened or read it 1 33%" in words
    assert "clicked a link 0 0%" in words
    assert "unsubscribed 0 0%" in words
    assert "Email 3 3 100%" in words and "Inbox on this site 3 3 100%" in words
    body = page.get_data(as_text=True)
    # one small chart per series, with date ticks in the viewer's zone, a legend and a table
    assert body.count('<svg class="chart small-multiple"') == 2
    assert "messages sent: 6" in words and "read in the inbox: 1" in words
    assert 'class="chart-label chart-tick"' in body
    assert "times in UTC" in words
    table = re.search(r"<table>\s*<caption>(.*?)</table>", body, re.S)
    assert table is not None and '<th scope="col">messages sent</th>' in table.group(1)
    data = client.get(f"{url}.json").get_json()
    assert data["people"]["reached"] == 3
    assert data["people"]["steps"]["opened or read it"] == {"people": 1, "rate": 1 / 3}
    assert data["people"]["messages"]["email"] == {"queued": 3, "sent": 3}


def test_chart_ticks_are_in_the_viewers_zone(app: Flask, clock: Clock) -> None:
    from app.notify.results import Series
    from app.notify.small_multiples import small_multiples

    start = clock().replace(hour=22, minute=0, second=0, microsecond=0)
    points = [(start + timedelta(hours=h), h) for h in range(5)]
    chart = small_multiples("t", [Series("sent", points)], "Asia/Tokyo")
    assert chart.zone == "Asia/Tokyo"
    labels = [t.label for t in chart.ticks]
    assert len(labels) == 5
    local = (start + timedelta(hours=9)).day
    assert labels[0].startswith(f"{local} ") and labels[0].endswith("07:00")
    assert chart.table[0][0].endswith(", 07:00") and chart.table[0][1] == [0]
    assert chart.panels[0].last == 4 and chart.panels[0].top == 4


# --- the preview's words -----------------------------------------------------------------------


def test_every_reason_left_out_has_words() -> None:
    from app.consent.terms import GateReason
    from app.notify.preview import LEFT_OUT, left_out_label

    for reason in GateReason:
        assert reason in LEFT_OUT and LEFT_OUT[reason] != str(reason)
    assert left_out_label("consented") == "no yes on this channel"
    assert left_out_label("earned") == "has not earned the scope"
    assert left_out_label("resting") == "resting after silence"


def test_the_preview_says_what_each_number_is(
    app: Flask, marketer: str, audience: Audience, clock: Clock
) -> None:
    from app.extensions import db

    audience.add(2)
    with app.app_context():  # a member who never earned the scope
        world.add_member(500, clock() - timedelta(days=7))
        db.session.commit()
    client = team(app, marketer)
    url = compose(client)
    words = text_of(client.get(url))
    assert "People who would get it" in words
    assert "Email 2 0 has not earned the scope: 1 no yes on this channel: 2" in words
    assert "<code>consented</code>" not in client.get(url).get_data(as_text=True)


# --- a post's campaign carries the article -------------------------------------------------------


def test_the_draft_from_a_post_carries_the_article(app: Flask, clock: Clock) -> None:
    from app.extensions import db
    from app.notify.drafts import draft_from_posts
    from app.notify.models import Campaign
    from app.notify.render import campaign_html

    with app.app_context():
        (campaign_id,) = draft_from_posts(clock())
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign is not None
        body = campaign.body
        assert body.startswith("# Measure replies, not opens")
        assert "*Open rates are noisy and easy to game." in body
        # the article itself, not a teaser: its sections and its table
        assert "## The signals we use" in body and "## Ratios, not totals" in body
        assert "| Reply | The reader had something to say to you | Very low |" in body
        assert "[Read “Measure replies, not opens” on the site]" in body
        rendered = campaign_html(body)
        assert "<table>" in rendered and "<h2" in rendered
        assert 'href="http://localhost/posts/measure-replies-not-opens/"' in rendered


def test_a_long_article_is_cut_at_a_paragraph(app: Flask) -> None:
    from app.notify.drafts import _fitted

    article = "\n\n".join(f"Paragraph {n}. " + "word " * 40 for n in range(50))
    fitted = _fitted(article, 2_000, "http://localhost/posts/x/")
    assert len(fitted) <= 2_000
    assert fitted.endswith("[read the rest on the site](http://localhost/posts/x/).*")
    assert "Paragraph 0." in fitted and "Paragraph 49." not in fitted
    assert _fitted("short", 2_000, "u") == "short"
