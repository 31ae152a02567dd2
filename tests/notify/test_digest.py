"""The digest: one letter per member of the new articles picked for them, ranked by what they
read, without what they read already, with a line saying why; one campaign, gated as one."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from tests.conftest import CONTENT, PASSWORD, Clock
from tests.helpers import SMTPSink, link_in, sign_in, text_body
from tests.notify.conftest import Audience
from tests.notify.rows import delivery_rows, states, work_once

# The new articles of the test's content folder: (slug, tags, days before the test's Friday).
NEW = (
    ("consent-by-design", ["Consent"], 2),
    ("a-plan-for-the-year", ["Strategy"], 3),
    ("counting-what-counts", ["Measurement"], 1),
    ("consent-and-strategy", ["Consent", "Strategy"], 5),
)
LATER = ("next-week-on-consent", ["Consent"], -3)  # published three days after the Friday
# Old articles of the fixture folder (March 2026) that members read: tagged Consent.
CONSENT_READS = ("consent-ledger", "quiet-hours", "silence-means-stop")


def _write_post(folder: Path, slug: str, tags: list[str], at: datetime) -> None:
    title = slug.replace("-", " ").capitalize()
    (folder / "posts" / f"{slug}.md").write_text(
        f"---\ntitle: {title}\ndescription: The description of {slug}, never sent.\n"
        f"date: {at:%Y-%m-%d %H:%M}\ntags: [{', '.join(tags)}]\n---\n"
        f"The lead of {slug}, as written.\n\nIts second paragraph.\n\n## Further on\n\n"
        f"The body of {slug}, past the lead.\n",
        encoding="utf-8",
    )


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path, clock: Clock) -> dict[str, Any]:
    """The test content folder with four new articles and one due next week."""
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    for slug, tags, days in (*NEW, LATER):
        _write_post(folder, slug, tags, clock() - timedelta(days=days))
    app_config["CONTENT_DIR"] = str(folder)
    return app_config


def _read(app: Flask, member_id: int, slugs: tuple[str, ...], at: datetime) -> None:
    from app.engage.models import Action
    from app.extensions import db

    with app.app_context():
        for slug in slugs:
            db.session.add(Action(member_id=member_id, action=f"read:{slug}", kind="read", at=at))
        db.session.commit()


def _build(app: Flask, now: datetime, scope: str = "newsletter") -> int | None:
    from app.extensions import db
    from app.notify.digest import build_digest, digest_scope

    with app.app_context():
        campaign = build_digest(digest_scope(scope), now)
        db.session.commit()
        return campaign.id if campaign is not None else None


def _picks(app: Flask, campaign_id: int) -> dict[int, list[tuple[str, str]]]:
    from app.extensions import db
    from app.notify.models import DigestPick

    with app.app_context():
        rows = db.session.scalars(
            select(DigestPick)
            .where(DigestPick.campaign_id == campaign_id)
            .order_by(DigestPick.member_id, DigestPick.position)
        )
        found: dict[int, list[tuple[str, str]]] = {}
        for row in rows:
            found.setdefault(row.member_id, []).append((row.post, row.reason))
        return found


def _digests(app: Flask) -> int:
    from app.extensions import db
    from app.notify.models import Campaign

    with app.app_context():
        return db.session.scalar(select(func.count()).where(Campaign.digest)) or 0


def test_affinity_counts_reads_clicks_and_useful_halving_every_thirty_days(
    app: Flask, audience: Audience, clock: Clock
) -> None:
    from app.extensions import db
    from app.notify.campaigns import Draft, create_campaign
    from app.notify.digest import affinity
    from app.notify.models import Click, Delivery

    [member] = audience.add(1)
    _read(app, member, ("consent-ledger",), clock())  # Consent, Permission marketing
    _read(app, member, ("pull-before-push",), clock() - timedelta(days=30))  # Strategy, ...
    with app.app_context():
        draft = Draft("A post", "Read it.", "newsletter", "editorial", ("email",))
        made = create_campaign(draft, None, clock(), source_post="measure-replies-not-opens")
        delivery = Delivery(
            campaign_id=made.id,
            member_id=member,
            channel="email",
            state="sent",
            due_at=clock(),
            created_at=clock(),
            useful_at=clock() - timedelta(days=60),  # Measurement, Conversational messaging
        )
        db.session.add(delivery)
        db.session.flush()
        for url in ("http://localhost/posts/a-plan-for-the-year/", "https://example.org/x"):
            db.session.add(Click(delivery_id=delivery.id, url=url, at=clock()))  # Strategy
        db.session.commit()
        weights = affinity([member], clock())
    assert weights[member] == pytest.approx(
        {
            "consent": 1.0,
            "permission-marketing": 1.0,
            "pull-first-content": 0.5,
            "strategy": 1.5,
            "measurement": 0.25,
            "conversational-messaging": 0.25,
        }
    )


def test_each_member_gets_the_new_articles_they_did_not_read_ranked_with_why(
    app: Flask, audience: Audience, clock: Clock
) -> None:
    reader, newcomer = audience.add(2)
    _read(app, reader, CONSENT_READS, clock() - timedelta(days=4))
    _read(app, reader, ("a-plan-for-the-year",), clock() - timedelta(hours=2))
    campaign_id = _build(app, clock())
    assert campaign_id is not None
    picks = _picks(app, campaign_id)
    assert picks[reader] == [
        ("consent-and-strategy", "You read 3 articles tagged consent lately."),
        ("consent-by-design", "You read 3 articles tagged consent lately."),
        ("counting-what-counts", "New this month."),
    ]
    # Nothing read: the newest first. An article due next week is not in anybody's letter.
    assert [slug for slug, _ in picks[newcomer]] == [
        "counting-what-counts",
        "consent-by-design",
        "a-plan-for-the-year",
    ]
    assert {why for _, why in picks[newcomer]} == {"New this month."}


def test_one_campaign_delivers_each_member_their_own_issue_by_mail_and_inbox(
    app: Flask, audience: Audience, clock: Clock, smtp: SMTPSink, member: Any
) -> None:
    from app.extensions import db
    from tests.consent import world

    audience.add(1)  # somebody who read nothing
    with app.app_context():
        for channel in ("email", "inbox"):
            world.consent(
                member.id,
                "newsletter",
                channel,
                granted=True,
                version=1,
                at=clock() - timedelta(days=7),
            )
        db.session.commit()
    _read(app, member.id, CONSENT_READS, clock() - timedelta(days=1))
    _read(app, member.id, ("counting-what-counts",), clock() - timedelta(hours=1))
    campaign_id = _build(app, clock())
    assert campaign_id is not None and _digests(app) == 1
    with app.app_context():
        from app.notify.campaigns import get_campaign

        made = get_campaign(campaign_id)
        assert made is not None and made.digest and made.kind == "editorial"
        assert made.channel_list == ["email", "inbox"]  # Telegram needs a bot token
    assert work_once(app)["sent"] == 4  # two members, email and inbox each
    mail = smtp.last_to("reader@example.com")
    month = "January|February|March|April|May|June|July|August|September|October|November|December"
    assert re.match(rf"The weekly letter — \d+ ({month}) \d{{4}}$", str(mail["Subject"]))
    text = text_body(mail)
    assert "The lead of consent-and-strategy, as written." in text
    assert "Its second paragraph." in text and "past the lead" not in text
    assert "never sent" not in text  # the lead, not the description
    assert "You read 3 articles tagged consent lately." in text
    assert "The lead of counting-what-counts" not in text  # read already
    html = mail.get_body(("html",)).get_content()
    assert "<em>You read 3 articles tagged consent lately.</em>" in html
    assert 'href="http://localhost/t/' in html  # the article links are tracked
    others = text_body(next(m for m in smtp.messages if "reader@" not in str(m["To"])))
    assert "The lead of counting-what-counts, as written." in others
    assert "You read" not in others
    # The inbox shows the member their own issue, and "why" lists each pick and its reason.
    client = app.test_client()
    sign_in(client, "reader@example.com", PASSWORD)
    inbox = next(
        r
        for r in delivery_rows(app, campaign_id)
        if r.member_id == member.id and r.channel == "inbox"
    )
    page = client.get(f"/inbox/{inbox.id}").get_data(as_text=True)
    assert "The lead of consent-by-design, as written." in page
    assert "The lead of counting-what-counts" not in page
    why = client.get(link_in(mail, "/why/")).get_data(as_text=True)
    assert "What we picked for you" in why
    assert "Consent and strategy" in why and "You read 3 articles tagged consent lately." in why
    assert states(app, campaign_id) == {"sent": 4}


def test_members_with_nothing_new_get_nothing_and_the_next_letter_starts_after_the_last(
    app: Flask, audience: Audience, clock: Clock, smtp: SMTPSink
) -> None:
    caught_up, behind = audience.add(2)
    _read(app, caught_up, tuple(slug for slug, _, _ in NEW), clock() - timedelta(hours=3))
    first = _build(app, clock())
    assert first is not None
    assert {r.member_id for r in delivery_rows(app, first)} == {behind}
    assert work_once(app)["sent"] == 2
    # Two weeks on (an ignored letter rests the next one), only the article published since
    # the letter is new to the member who had it; the other reads it too.
    clock.advance(days=14)
    second = _build(app, clock())
    assert second is not None
    picks = _picks(app, second)
    assert picks[behind] == [("next-week-on-consent", "New since your last letter.")]
    assert [slug for slug, _ in picks[caught_up]] == ["next-week-on-consent"]


def test_no_new_article_at_all_makes_no_campaign_and_says_so(
    app: Flask, audience: Audience, clock: Clock, runner: FlaskCliRunner
) -> None:
    audience.add(2)
    clock.advance(days=60)
    result = runner.invoke(args=["notify", "digest", "newsletter"])
    assert result.exit_code == 0, result.output
    assert "No digest of The weekly letter: no article was published" in result.output
    assert "Nothing was sent." in result.output
    assert _digests(app) == 0


def test_the_command_counts_who_gets_an_issue_and_who_had_nothing_new(
    app: Flask, audience: Audience, clock: Clock, runner: FlaskCliRunner
) -> None:
    members = audience.add(3)
    caught_up = members[0]
    _read(app, caught_up, tuple(slug for slug, _, _ in NEW), clock())
    result = runner.invoke(args=["notify", "digest", "newsletter"])
    assert result.exit_code == 0, result.output
    assert "2 members get an issue, 1 had nothing new" in result.output
    assert "email: 2 deliveries queued" in result.output
    with app.app_context():  # the campaign's figures say so too
        from app.notify.campaigns import audience_counts, campaigns

        [made] = campaigns()
        assert audience_counts(made)["email"]["excluded"] == {"nothing-new": 1}
    # Everybody read everything: no campaign, never a send to the whole scope.
    for member in members:
        _read(app, member, tuple(slug for slug, _, _ in NEW if member != caught_up), clock())
    clock.advance(days=2)  # before the next article
    result = runner.invoke(args=["notify", "digest", "newsletter"])
    assert "none of the 3 members it reaches has anything new" in result.output
    assert _digests(app) == 1


@pytest.mark.parametrize(
    ("scope", "words"),
    [("nope", "There is no scope 'nope'"), ("offers", "The scope 'offers' is not a digest")],
)
def test_the_command_refuses_a_scope_that_is_no_digest(
    runner: FlaskCliRunner, scope: str, words: str
) -> None:
    result = runner.invoke(args=["notify", "digest", scope])
    assert result.exit_code == 2
    assert words in result.output and "content/scopes.toml" in result.output


def test_a_consent_revoked_after_the_letter_was_made_is_honoured_at_send_time(
    app: Flask, audience: Audience, clock: Clock, smtp: SMTPSink
) -> None:
    from app.extensions import db
    from tests.consent import world

    stays, leaves = audience.add(2, channels=("email",))
    campaign_id = _build(app, clock())
    assert campaign_id is not None
    with app.app_context():  # the state only, as a revoke the outbox did not hear about
        world.consent(leaves, "newsletter", "email", granted=False, version=1, at=clock())
        db.session.commit()
    assert work_once(app)["sent"] == 1
    rows = {r.member_id: r for r in delivery_rows(app, campaign_id)}
    assert rows[stays].state == "sent"
    assert (rows[leaves].state, rows[leaves].reason) == ("suppressed", "consented")
    assert len(smtp.messages) == 1


def test_a_delivery_without_picks_is_suppressed(
    app: Flask, audience: Audience, clock: Clock
) -> None:
    from sqlalchemy import delete

    from app.extensions import db
    from app.notify.models import DigestPick

    [member] = audience.add(1, channels=("email",))
    campaign_id = _build(app, clock())
    assert campaign_id is not None
    with app.app_context():
        db.session.execute(delete(DigestPick).where(DigestPick.member_id == member))
        db.session.commit()
    work_once(app)
    row = delivery_rows(app, campaign_id)[0]
    assert (row.state, row.reason) == ("suppressed", "no-picks")


@pytest.fixture
def plain(app_config: dict[str, Any]) -> None:
    app_config["NOTIFY_LEARNING"] = False


def test_without_learning_everyone_gets_the_newest_articles(
    plain: None, app: Flask, audience: Audience, clock: Clock
) -> None:
    reader, newcomer = audience.add(2)
    _read(app, reader, ("counting-what-counts", *CONSENT_READS), clock())
    campaign_id = _build(app, clock())
    assert campaign_id is not None
    picks = _picks(app, campaign_id)
    assert picks[reader] == picks[newcomer]
    assert [slug for slug, _ in picks[reader]] == [
        "counting-what-counts",
        "consent-by-design",
        "a-plan-for-the-year",
    ]


def test_the_worker_makes_the_letter_once_a_week_on_its_day(
    app: Flask, audience: Audience, clock: Clock, smtp: SMTPSink, work: Callable[..., Any]
) -> None:
    from app.notify.worker import Worker

    audience.add(2, channels=("email",))

    def tick() -> None:
        with app.app_context():
            Worker(name="ticker").tick(force=True)

    clock.advance(days=-1)  # Thursday: not the letter's day
    tick()
    assert _digests(app) == 0
    clock.advance(days=1)
    tick()
    tick()
    assert _digests(app) == 1
    assert work()["sent"] == 2
    clock.advance(days=13, hours=12)  # Thursday night (an ignored letter rests the next one)
    tick()
    assert _digests(app) == 1
    clock.advance(hours=14)  # Friday again
    tick()
    assert _digests(app) == 2
    work()
    assert len(smtp.wait_for(4)) == 4


@pytest.mark.parametrize(("value", "problem"), [("0", "between 1 and 10"), ('"3"', "whole")])
def test_the_digest_setting_is_checked_with_its_line(
    tmp_path: Path, value: str, problem: str
) -> None:
    from app.consent.scopes import parse_scopes

    path = tmp_path / "scopes.toml"
    text = (CONTENT / "scopes.toml").read_text(encoding="utf-8")
    path.write_text(text.replace("digest = 3", f"digest = {value}"), encoding="utf-8")
    scopes, [error] = parse_scopes(path)
    assert "newsletter" not in scopes
    line = text.splitlines().index("digest = 3") + 1
    assert str(error) == f"{path}:{line}: [newsletter] digest must be {problem}" or (
        str(error).startswith(f"{path}:{line}: [newsletter] digest") and problem in str(error)
    )


@pytest.mark.parametrize(
    ("body", "lead"),
    [
        ("One.\nStill one.\n\nTwo.\n\nThree.", "One.\nStill one.\n\nTwo."),
        ("First.\n\n## A heading\n\nAfter.", "First."),
        ("## Opens with a heading\n\n![a picture](/x.png)\n\nThe lead.", "The lead."),
        ("First.\n\n- a list\n\nLater.", "First."),
        ("```\ncode\n\nmore\n```\n\nThe lead [ref][r].\n\n[r]: https://x.example", None),
        ("## Only headings", ""),
    ],
)
def test_the_lead_is_the_opening_paragraphs_as_written(body: str, lead: str | None) -> None:
    from app.site.leads import lead_of

    if lead is None:
        assert lead_of(body) == "The lead [ref][r].\n\n[r]: https://x.example"
    else:
        assert lead_of(body) == lead


def test_a_letter_made_earlier_in_the_day_than_last_week_waits_for_the_week_to_end(
    app: Flask, audience: Audience, clock: Clock, smtp: SMTPSink
) -> None:
    from app.consent.gate import contacts
    from app.extensions import db
    from app.notify.models import Delivery

    [member] = audience.add(1, channels=("email",))
    first = _build(app, clock())
    assert first is not None
    assert work_once(app)["sent"] == 1
    [sent] = delivery_rows(app, first)
    with app.app_context():  # the member read it: no rest
        assert contacts.record_engagement(f"delivery-{sent.id}", clock(), "click")
        db.session.commit()
    _write_post(Path(app.config["CONTENT_DIR"]), "a-week-later", ["consent"], clock())
    clock.advance(days=7, hours=-2)  # next Friday, two hours earlier than last week's send
    second = _build(app, clock())
    assert second is not None
    [row] = delivery_rows(app, second)
    assert row.member_id == member
    assert row.due_at == sent.sent_at + timedelta(days=7, seconds=1)  # the week is over
    assert work_once(app)["sent"] == 0
    clock.set(row.due_at)
    assert work_once(app)["sent"] == 1
    with app.app_context():
        times = sorted(
            db.session.scalars(select(Delivery.sent_at).where(Delivery.member_id == member))
        )
    assert times[1] - times[0] > timedelta(days=7)  # never two in one week
    assert len(smtp.wait_for(2)) == 2
