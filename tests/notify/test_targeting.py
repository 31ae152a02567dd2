"""The targeting language: how a filter reads, what it refuses against today's surveys and
posts, who it keeps (set-based and one member at a time agree), and what it says to the
marketer's preview and to the member's "why did I get this?" page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.consent.models import Contact
from app.consent.terms import CampaignKind, Channel
from app.engage.models import Action, SurveyResponse
from app.extensions import db
from app.notify.models import Campaign, Click, Delivery
from app.notify.states import DeliveryState
from app.notify.targeting import (
    MAX_DEPTH,
    ActivityClause,
    And,
    AnswerClause,
    EngagedClause,
    Filter,
    Not,
    Or,
    TargetingError,
    check,
    checked,
    parse,
)
from app.notify.targeting_eval import because, explain, matches, members
from tests.conftest import Clock
from tests.consent import world

SURVEY = "survey:reader-2026"


# --- reading ---------------------------------------------------------------------------------


def _texts(node: Filter) -> object:
    """The tree with each clause replaced by its text, to compare shapes."""
    if isinstance(node, And):
        return ("and", *(_texts(i) for i in node.items))
    if isinstance(node, Or):
        return ("or", *(_texts(i) for i in node.items))
    if isinstance(node, Not):
        return ("not", _texts(node.item))
    return node.text


def test_and_binds_tighter_than_or_and_not_tightest() -> None:
    text = (
        f"{SURVEY} role answered or read tag:consent within 3 days and "
        "not engaged email within 5 days"
    )
    assert _texts(parse(text)) == (
        "or",
        f"{SURVEY} role answered",
        ("and", "read tag:consent within 3 days", ("not", "engaged email within 5 days")),
    )


def test_parentheses_group() -> None:
    text = (
        f"({SURVEY} role answered or read tag:consent within 3 days) and engaged sms within 1 day"
    )
    assert _texts(parse(text)) == (
        "and",
        ("or", f"{SURVEY} role answered", "read tag:consent within 3 days"),
        "engaged sms within 1 day",
    )


def test_clauses_read_their_parts_and_keywords_in_any_case() -> None:
    assert parse(f'{SURVEY} role != "Something else"') == AnswerClause(
        "reader-2026", "role", "!=", "Something else", f'{SURVEY} role != "Something else"', 1
    )
    assert parse(f"{SURVEY} topics HAS Email").op == "has"  # type: ignore[union-attr]
    assert parse(f'{SURVEY} next-article contains "say \\"hi\\""').value == 'say "hi"'  # type: ignore[union-attr]
    clicked = parse('Clicked tag:"Permission marketing" WITHIN 14 Days')
    assert isinstance(clicked, ActivityClause)
    assert (clicked.verb, clicked.tag, clicked.days) == ("clicked", "Permission marketing", 14)
    engaged = parse("engaged EMAIL within 60 days")
    assert isinstance(engaged, EngagedClause) and engaged.channel == Channel.EMAIL


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        (f"{SURVEY} role", 24, "expected =, !="),
        (f"{SURVEY} role =", 26, "expected a value"),
        (f"{SURVEY} role = and", 27, "quote a value that is a keyword"),
        (f'{SURVEY} role = "Marketing', 27, "never closed"),
        ("survey: role = x", 1, "name the survey"),
        ("read consent within 3 days", 6, "expected tag:<tag>"),
        ("read tag:consent in 3 days", 18, "expected “within”"),
        ("read tag:consent within three days", 25, "number of days"),
        ("read tag:consent within 0 days", 25, "1 to 3650, not 0"),
        ("read tag:consent within 3651 days", 25, "1 to 3650, not 3651"),
        ("read tag:consent within 3 weeks", 27, "expected “days”"),
        ("engaged pigeon within 3 days", 9, "expected a channel"),
        ("bought tag:x within 3 days", 1, "expected a clause"),
        ("(engaged sms within 3 days", 27, "expected “)” to close the “(” at character 1"),
        ("engaged sms within 3 days)", 26, "a “)” without its “(”"),
        ("engaged sms within 3 days engaged sms within 3 days", 27, "expected “and”, “or”"),
        ("engaged sms within 3 days and", 30, "expected a clause"),
        ("engaged [sms] within 3 days", 9, "“[” has no meaning here"),
        (f"{SURVEY} role ! x", 25, "“!” has no meaning here"),
    ],
)
def test_a_filter_that_does_not_read_says_where(text: str, where: int, says: str) -> None:
    with pytest.raises(TargetingError) as raised:
        parse(text)
    assert f"at character {where}:" in str(raised.value)
    assert says in str(raised.value)


@pytest.mark.parametrize("char", ["(", "["])
def test_100_kb_of_brackets_is_refused_at_once(char: str) -> None:
    with pytest.raises(TargetingError, match="102,400 characters long; keep it under 2,000"):
        parse(char * 102_400)


def test_nesting_is_capped_without_exhausting_the_stack() -> None:
    clause = "engaged sms within 3 days"
    fits = "(" * MAX_DEPTH + clause + ")" * MAX_DEPTH
    assert _texts(parse(fits)) == clause
    with pytest.raises(TargetingError, match=f"nested more than {MAX_DEPTH} levels"):
        parse("(" * 1000)
    with pytest.raises(TargetingError, match=f"nested more than {MAX_DEPTH} levels"):
        parse("not " * 400 + clause)


def test_a_blank_filter_means_everyone() -> None:
    assert checked(None) is None and checked("  \n ") is None
    with pytest.raises(TargetingError, match="leave it blank"):
        parse("   ")


# --- checking against the surveys and posts of today -----------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("survey:reader-2025 role answered", "there is no survey “reader-2025”; the surveys are"),
        (
            f"{SURVEY} job = Marketing",
            "has no question “job” (any more); its questions are “role”, “topics”",
        ),
        (
            f"{SURVEY} role = Marketing",
            "“Marketing” is not an answer to “What best describes your work?”; its answers "
            "are “Marketing or growth”, “Editorial or content”",
        ),
        (f"{SURVEY} topics has Stickers", "“Stickers” is not an answer to “Which topics"),
        (f"{SURVEY} topics = Email", "a multiple-choice question: use has or answered"),
        (f"{SURVEY} role has Email", "a single-choice question: use =, != or answered"),
        (f"{SURVEY} role > 3", "a single-choice question"),
        (f"{SURVEY} next-article = x", "a text question: use contains or answered"),
        (f"{SURVEY} usefulness contains 4", "a rating question: use =, !=, <, <=, >, >="),
        (f"{SURVEY} usefulness >= 6", "answered with a number from 1 to 5, not “6”"),
        (f"{SURVEY} recommend = 11", "number from 0 to 10, not “11”"),
        (f"{SURVEY} recommend = nine", "number from 0 to 10, not “nine”"),
        ("read tag:stickers within 3 days", "no article is tagged “stickers”; the tags are"),
    ],
)
def test_a_filter_that_does_not_fit_the_surveys_and_posts_is_refused(
    app: Flask, text: str, says: str
) -> None:
    with app.app_context(), pytest.raises(TargetingError) as raised:
        check(parse(text))
    assert says in str(raised.value)
    assert text in str(raised.value)  # the clause is named


def test_every_misfit_clause_is_listed_at_once(app: Flask) -> None:
    with app.app_context(), pytest.raises(TargetingError) as raised:
        checked(f"{SURVEY} job = x or {SURVEY} role = x and read tag:consent within 3 days")
    assert "no question “job”" in str(raised.value)
    assert "“x” is not an answer" in str(raised.value)


def test_option_values_and_tags_compare_without_case(app: Flask) -> None:
    with app.app_context():
        assert checked(f'{SURVEY} role = "marketing OR growth"') is not None
        assert checked("read tag:CONSENT within 3 days") is not None
        assert checked("read tag:permission-marketing within 3 days") is not None


# --- who a filter keeps ----------------------------------------------------------------------


@dataclass
class World:
    now: datetime
    ids: dict[str, int]

    def names(self, kept: set[int] | frozenset[int]) -> set[str]:
        return {name for name, member_id in self.ids.items() if member_id in kept}


def _answer(member_id: int, at: datetime, **answers: object) -> None:
    db.session.add(
        SurveyResponse(
            member_id=member_id, survey="reader-2026", version="v", answers=answers, submitted_at=at
        )
    )


def _delivery(member_id: int, at: datetime) -> int:
    campaign = Campaign(
        title="t",
        body="b",
        scope="newsletter",
        kind=CampaignKind.EDITORIAL,
        channels="email",
        created_at=at,
        updated_at=at,
    )
    db.session.add(campaign)
    db.session.flush()
    delivery = Delivery(
        campaign_id=campaign.id,
        member_id=member_id,
        channel=Channel.EMAIL,
        state=DeliveryState.SENT,
        due_at=at,
        created_at=at,
        sent_at=at,
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery.id


def _engaged(member_id: int, channel: Channel, at: datetime) -> None:
    db.session.add(
        Contact(
            member_id=member_id,
            scope="newsletter",
            channel=channel,
            campaign=f"campaign-{member_id}",
            kind=CampaignKind.EDITORIAL,
            ref=f"delivery-{member_id}-{channel}",
            sent_at=at - timedelta(days=1),
            engaged_at=at,
            last_engaged_at=at,
            engaged_how="click",
        )
    )


@pytest.fixture
def people(app: Flask, clock: Clock) -> Iterator[World]:
    """Ann (marketing, keen, read and clicked consent lately, engaged by email), Ben
    (editorial, lukewarm, read about consent long ago), Cy (answered the required questions
    only), Dee (never answered, engaged by text)."""
    now = clock()
    with app.app_context():
        ids = {
            name: world.add_member(n, now - timedelta(days=90)).id
            for n, name in enumerate(["ann", "ben", "cy", "dee"])
        }
        _answer(
            ids["ann"],
            now - timedelta(days=3),
            role="Marketing or growth",
            topics=["Consent, privacy and the law", "Email deliverability"],
            usefulness=5,
            recommend=9,
            **{"next-article": "More about Stickers, please"},
        )
        _answer(
            ids["ben"],
            now - timedelta(days=20),
            role="Editorial or content",
            topics=["Case studies from real teams"],
            usefulness=2,
            recommend=3,
            **{"next-article": "Quiet hours in practice"},
        )
        _answer(
            ids["cy"],
            now - timedelta(days=5),
            role="Something else",
            topics=None,
            usefulness=3,
            recommend=7,
            **{"next-article": None},
        )
        db.session.add_all(
            [
                Action(
                    member_id=ids["ann"],
                    action="read:consent-ledger",
                    kind="read",
                    at=now - timedelta(days=2),
                ),
                Action(
                    member_id=ids["ann"],
                    action="read:quiet-hours",
                    kind="read",
                    at=now - timedelta(days=9),
                ),
                Action(
                    member_id=ids["ann"],
                    action="read:pull-before-push",
                    kind="read",
                    at=now - timedelta(days=1),
                ),
                Action(
                    member_id=ids["ben"],
                    action="read:silence-means-stop",
                    kind="read",
                    at=now - timedelta(days=45),
                ),
            ]
        )
        ann_delivery = _delivery(ids["ann"], now - timedelta(days=4))
        ben_delivery = _delivery(ids["ben"], now - timedelta(days=4))
        db.session.add_all(
            [
                Click(
                    delivery_id=ann_delivery,
                    url="http://localhost/posts/quiet-hours/?utm=1",
                    at=now - timedelta(days=4),
                ),
                # A page of the same path on another site is not our article.
                Click(
                    delivery_id=ben_delivery,
                    url="https://example.org/posts/quiet-hours/",
                    at=now - timedelta(days=4),
                ),
                Click(
                    delivery_id=ben_delivery,
                    url="http://localhost/posts/pull-before-push",
                    at=now - timedelta(days=4),
                ),
            ]
        )
        _engaged(ids["ann"], Channel.EMAIL, now - timedelta(days=10))
        _engaged(ids["dee"], Channel.SMS, now - timedelta(days=2))
        _engaged(ids["ben"], Channel.EMAIL, now - timedelta(days=70))
        db.session.commit()
        yield World(now, ids)


KEEPS = [
    (f'{SURVEY} role = "Marketing or growth"', {"ann"}),
    (f'{SURVEY} role != "Marketing or growth"', {"ben", "cy"}),
    (f'not {SURVEY} role = "Marketing or growth"', {"ben", "cy", "dee"}),
    (f'{SURVEY} topics has "email deliverability"', {"ann"}),
    (f"{SURVEY} topics answered", {"ann", "ben"}),
    (f"{SURVEY} usefulness = 3", {"cy"}),
    (f"{SURVEY} usefulness != 3", {"ann", "ben"}),
    (f"{SURVEY} usefulness < 3", {"ben"}),
    (f"{SURVEY} usefulness <= 3", {"ben", "cy"}),
    (f"{SURVEY} usefulness > 3", {"ann"}),
    (f"{SURVEY} recommend >= 7", {"ann", "cy"}),
    (f"{SURVEY} next-article contains stickers", {"ann"}),
    (f"{SURVEY} next-article contains HOURS", {"ben"}),
    (f"{SURVEY} next-article answered", {"ann", "ben"}),
    (f"{SURVEY} role answered", {"ann", "ben", "cy"}),
    ("read tag:consent within 30 days", {"ann"}),
    ("read tag:consent within 60 days", {"ann", "ben"}),
    ("read tag:strategy within 30 days", {"ann"}),
    ("clicked tag:consent within 30 days", {"ann"}),
    ("clicked tag:consent within 3 days", set()),
    ("clicked tag:strategy within 30 days", {"ben"}),
    ("engaged email within 60 days", {"ann"}),
    ("engaged email within 90 days", {"ann", "ben"}),
    ("engaged sms within 7 days", {"dee"}),
    (
        f"{SURVEY} role answered and not (read tag:consent within 60 days or "
        "engaged sms within 7 days)",
        {"cy"},
    ),
]


@pytest.mark.parametrize(("text", "kept"), KEEPS)
def test_who_a_filter_keeps(app: Flask, people: World, text: str, kept: set[str]) -> None:
    with app.app_context():
        node = parse(text)
        check(node)
        everyone = set(people.ids.values())
        assert people.names(members(node, everyone, people.now)) == kept
        one_by_one = {m for m in everyone if matches(node, m, people.now)}
        assert people.names(one_by_one) == kept


def test_only_candidates_are_kept(app: Flask, people: World) -> None:
    with app.app_context():
        node = parse(f"{SURVEY} role answered")
        assert members(node, {people.ids["ben"], people.ids["dee"]}, people.now) == {
            people.ids["ben"]
        }


LEAVES = [text for text, _ in KEEPS[:24]]


def _trees() -> st.SearchStrategy[str]:
    leaf = st.sampled_from(LEAVES)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda t: f"not {t}"),
        ),
        max_leaves=6,
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_trees())
def test_the_set_and_the_one_member_answers_agree(app: Flask, people: World, text: str) -> None:
    with app.app_context():
        node = parse(text)
        everyone = set(people.ids.values())
        assert members(node, everyone, people.now) == {
            m for m in everyone if matches(node, m, people.now)
        }
        db.session.rollback()


# --- what the preview and the member read ----------------------------------------------------


def test_explain_counts_each_clause_and_why_the_others_are_out(app: Flask, people: World) -> None:
    with app.app_context():
        node = parse(
            f'{SURVEY} topics has "Email deliverability" and read tag:consent within 30 days'
        )
        shown = explain(node, set(people.ids.values()), people.now)
    assert shown.candidates == 4 and people.names(shown.kept) == {"ann"} and not shown.nobody
    survey, reading = shown.clauses
    assert survey.kept == 1
    assert dict(survey.out) == {
        "answered otherwise": 1,
        "left the question blank": 1,
        "never answered the survey": 1,
    }
    assert reading.kept == 1
    assert dict(reading.out) == {"read no article tagged consent in the last 30 days": 3}


def test_explain_says_when_nobody_matches(app: Flask, people: World) -> None:
    with app.app_context():
        shown = explain(
            parse("clicked tag:consent within 1 day"), set(people.ids.values()), people.now
        )
        empty = explain(parse("engaged sms within 1 day"), set(), people.now)
    assert shown.nobody and shown.clauses[0].kept == 0
    assert empty.nobody and empty.candidates == 0


def test_because_names_the_answer_with_its_date_and_the_reading(app: Flask, people: World) -> None:
    text = (
        f'{SURVEY} role = "Marketing or growth" and {SURVEY} topics has "Email deliverability" '
        "and read tag:consent within 30 days and engaged email within 60 days"
    )
    with app.app_context():
        said = because(parse(text), people.ids["ann"], people.now)
        day = people.now - timedelta(days=3)
    on = f"{day.day} {day:%B %Y}"
    assert said == [
        f"You told us on {on} that your answer to “What best describes your work?” is "
        "Marketing or growth.",
        f"You told us on {on} that your answers to “Which topics do you want more of?” are "
        "Consent, privacy and the law and Email deliverability.",
        "You read 2 articles tagged consent in the last 30 days.",
        "You took part in a message we sent you by email in the last 60 days.",
    ]


def test_because_explains_a_not_and_the_first_branch_that_holds(app: Flask, people: World) -> None:
    text = (
        "clicked tag:consent within 1 day or (not read tag:consent within 30 days and "
        f"{SURVEY} next-article contains hours)"
    )
    with app.app_context():
        said = because(parse(text), people.ids["ben"], people.now)
        nothing = because(parse(text), people.ids["dee"], people.now)
    assert said == [
        "You read no article tagged consent in the last 30 days.",
        f"You told us on {_long(people.now - timedelta(days=20))} that your answer to "
        "“What should we write about next?” mentions “hours”.",
    ]
    assert nothing == []


def _long(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"
