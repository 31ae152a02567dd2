"""Who a filter of :mod:`app.notify.targeting` keeps, and why, read from the tables.

- :func:`members` keeps, among a set of candidates, those the filter matches: one query per
  clause over the candidates in chunks (never one per member), combined as sets;
- :func:`matches` says whether one member matches (the worker asks before each send, so an
  answer corrected after the outbox was filled is honoured);
- :func:`explain` counts, per clause, how many candidates it keeps and why the others are
  out, for the campaign's preview;
- :func:`because` writes the sentences of the member's "why did I get this?" page: which
  answer, reading or engagement put them in.

Survey clauses read the stored answers (the corrected ones when the member corrected them),
whatever the survey's file says today, so a clause never fails at send time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from app.consent.models import Contact
from app.consent.words import channel_words
from app.engage.dates import members_day
from app.engage.models import Action, SurveyResponse
from app.engage.responses import shelf
from app.extensions import db
from app.notify.models import Click, Delivery
from app.notify.targeting import (
    ActivityClause,
    And,
    AnswerClause,
    Clause,
    EngagedClause,
    Filter,
    Not,
    Or,
    TargetingError,
    clauses,
    parsed,
    posts_tagged,
)

CHUNK = 900  # candidate ids per query (SQLite allows 32766 parameters, older builds 999)
WHOLE_SURVEY = 5 * CHUNK  # more candidates than this: read the survey's responses once

NEVER_ANSWERED = "never answered the survey"
LEFT_BLANK = "left the question blank"
ANSWERED_OTHERWISE = "answered otherwise"


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


# --- the facts of one clause --------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    answers: dict[str, Any]
    at: datetime  # when the member last told us: corrected, else submitted


def _responses(survey: str, candidates: set[int]) -> dict[int, Answered]:
    columns = select(
        SurveyResponse.member_id,
        SurveyResponse.answers,
        SurveyResponse.submitted_at,
        SurveyResponse.corrected_at,
    ).where(SurveyResponse.survey == survey)
    if len(candidates) > WHOLE_SURVEY:
        batches: Iterable[Any] = [db.session.execute(columns)]
    else:
        batches = (
            db.session.execute(columns.where(SurveyResponse.member_id.in_(chunk)))
            for chunk in _chunks(candidates)
        )
    found: dict[int, Answered] = {}
    for rows in batches:
        for member_id, answers, submitted_at, corrected_at in rows:
            if member_id in candidates:
                found[member_id] = Answered(
                    answers if isinstance(answers, dict) else {}, corrected_at or submitted_at
                )
    return found


def _blank(value: object) -> bool:
    return value is None or value == "" or value == []


def answer_holds(clause: AnswerClause, answers: dict[str, Any]) -> bool:
    """Whether stored ``answers`` satisfy the clause (a comparison needs an answer)."""
    value = answers.get(clause.question)
    if _blank(value):
        return False
    if clause.op == "answered":
        return True
    wanted = (clause.value or "").casefold()
    if clause.op == "has":
        return isinstance(value, list) and any(str(v).casefold() == wanted for v in value)
    if clause.op == "contains":
        return isinstance(value, str) and wanted in value.casefold()
    if isinstance(value, bool | list):
        return False
    if isinstance(value, int):
        try:
            number = int(wanted)
        except ValueError:
            return False
        return {
            "=": value == number,
            "!=": value != number,
            "<": value < number,
            "<=": value <= number,
            ">": value > number,
            ">=": value >= number,
        }[clause.op]
    if clause.op == "=":
        return str(value).casefold() == wanted
    if clause.op == "!=":
        return str(value).casefold() != wanted
    return False


def _post_path(url: str, paths: dict[str, str]) -> str | None:
    """The slug of the post a clicked URL opens on this site, or None."""
    parts = urlsplit(url)
    base = urlsplit(current_app.config["BASE_URL"])
    if parts.netloc and parts.netloc.lower() != base.netloc.lower():
        return None
    path = parts.path
    prefix = base.path.rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    if not path.endswith("/"):
        path += "/"
    return paths.get(path)


def _activity(clause: ActivityClause, candidates: set[int], now: datetime) -> dict[int, set[str]]:
    """Per candidate, the posts carrying the clause's tag they read (or reached through a
    link of ours) within the clause's window."""
    posts = posts_tagged(clause.tag)
    bound = now - timedelta(days=clause.days)
    found: dict[int, set[str]] = {}
    if not posts:
        return found
    if clause.verb == "read":
        actions = {f"read:{slug}": slug for slug in posts}
        for chunk in _chunks(candidates):
            rows = db.session.execute(
                select(Action.member_id, Action.action).where(
                    Action.member_id.in_(chunk),
                    Action.action.in_(sorted(actions)),
                    Action.at > bound,
                    Action.at <= now,
                )
            )
            for member_id, action in rows:
                found.setdefault(member_id, set()).add(actions[action])
        return found
    paths = {url: slug for slug, url in posts.items()}
    for chunk in _chunks(candidates):
        rows = db.session.execute(
            select(Delivery.member_id, Click.url)
            .join(Delivery, Delivery.id == Click.delivery_id)
            .where(
                Delivery.member_id.in_(chunk),
                Click.at > bound,
                Click.at <= now,
                Click.url.contains("/posts/"),
            )
        )
        for member_id, url in rows:
            slug = _post_path(url, paths)
            if slug is not None:
                found.setdefault(member_id, set()).add(slug)
    return found


def _engaged(clause: EngagedClause, candidates: set[int], now: datetime) -> set[int]:
    bound = now - timedelta(days=clause.days)
    found: set[int] = set()
    for chunk in _chunks(candidates):
        found.update(
            db.session.scalars(
                select(Contact.member_id)
                .where(
                    Contact.member_id.in_(chunk),
                    Contact.channel == clause.channel,
                    Contact.last_engaged_at > bound,
                    Contact.engaged_at <= now,
                )
                .distinct()
            )
        )
    return found


def _clause(clause: Clause, candidates: set[int], now: datetime) -> tuple[set[int], Counter[str]]:
    """Who among ``candidates`` the clause keeps, and the others counted by why they are out."""
    out: Counter[str] = Counter()
    if isinstance(clause, AnswerClause):
        responses = _responses(clause.survey, candidates)
        kept = set()
        for member_id, answered in responses.items():
            if answer_holds(clause, answered.answers):
                kept.add(member_id)
            elif _blank(answered.answers.get(clause.question)):
                out[LEFT_BLANK] += 1
            else:
                out[ANSWERED_OTHERWISE] += 1
        if len(candidates) > len(responses):
            out[NEVER_ANSWERED] += len(candidates) - len(responses)
        return kept, out
    if isinstance(clause, ActivityClause):
        kept = set(_activity(clause, candidates, now))
        done = "read" if clause.verb == "read" else "clicked through to"
        reason = f"{done} no article tagged {clause.tag} in the last {clause.days} days"
    else:
        kept = _engaged(clause, candidates, now)
        reason = f"did not engage {channel_words(clause.channel)} in the last {clause.days} days"
    if len(candidates) > len(kept):
        out[reason] = len(candidates) - len(kept)
    return kept, out


# --- sets ------------------------------------------------------------------------------------


def _members(node: Filter, candidates: set[int], now: datetime) -> set[int]:
    if isinstance(node, And):
        kept = set(candidates)
        for item in node.items:
            kept = _members(item, kept, now)  # each clause reads only who is still in
        return kept
    if isinstance(node, Or):
        kept = set()
        for item in node.items:
            kept |= _members(item, candidates - kept, now)
        return kept
    if isinstance(node, Not):
        return candidates - _members(node.item, candidates, now)
    if not candidates:
        return set()
    return _clause(node, candidates, now)[0]


def members(node: Filter, candidates: Iterable[int], now: datetime) -> set[int]:
    """The candidates ``node`` keeps at ``now``."""
    return _members(node, set(candidates), now)


def matches(node: Filter, member_id: int, now: datetime) -> bool:
    """Whether ``node`` keeps the member at ``now``, clause by clause for this one member."""
    if isinstance(node, And):
        return all(matches(item, member_id, now) for item in node.items)
    if isinstance(node, Or):
        return any(matches(item, member_id, now) for item in node.items)
    if isinstance(node, Not):
        return not matches(node.item, member_id, now)
    return member_id in _clause(node, {member_id}, now)[0]


def still_targeted(text: str, member_id: int, now: datetime) -> bool:
    """Whether the campaign filter ``text`` keeps the member at send time. The text is
    parsed once per campaign version (remembered by :func:`app.notify.targeting.parsed`);
    a filter that no longer parses keeps nobody: never a send to everyone."""
    try:
        node = parsed(text)
    except TargetingError:
        return False
    return matches(node, member_id, now)


# --- the preview -------------------------------------------------------------------------


@dataclass(frozen=True)
class ClauseCount:
    """One clause over the whole audience: how many it keeps, and the others by reason."""

    text: str
    kept: int
    out: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Explanation:
    candidates: int
    kept: frozenset[int]
    clauses: tuple[ClauseCount, ...] = field(default_factory=tuple)

    @property
    def nobody(self) -> bool:
        return not self.kept


def explain(node: Filter, candidates: Iterable[int], now: datetime) -> Explanation:
    """Per clause, how many of ``candidates`` it keeps on its own and why the others are out
    (for a survey clause: answered otherwise, left the question blank, never answered the
    survey), and who the whole filter keeps."""
    audience = set(candidates)
    counts = []
    for clause in clauses(node):
        kept, out = _clause(clause, audience, now) if audience else (set(), Counter())
        counts.append(ClauseCount(clause.text, len(kept), tuple(out.most_common())))
    return Explanation(len(audience), frozenset(members(node, audience, now)), tuple(counts))


# --- the member's "why did I get this?" ----------------------------------------------------


def _answer_words(value: object) -> str:
    if isinstance(value, list):
        items = [str(v) for v in value]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return str(value)


def _plural(count: int, one: str) -> str:
    return f"{count} {one}" if count == 1 else f"{count} {one}s"


class _Sentences:
    """The facts of one member, clause by clause, as sentences."""

    def __init__(self, member_id: int, now: datetime) -> None:
        self.member_id, self.now = member_id, now

    def holds(self, clause: Clause) -> bool:
        return self.member_id in _clause(clause, {self.member_id}, self.now)[0]

    def answer(self, clause: AnswerClause) -> str:
        survey = shelf().surveys.get(clause.survey)
        title = survey.title if survey is not None else clause.survey
        question = survey.question(clause.question) if survey is not None else None
        label = question.label if question is not None else clause.question
        answered = _responses(clause.survey, {self.member_id}).get(self.member_id)
        if answered is None:
            return f"You have not answered the survey “{title}”."
        value = answered.answers.get(clause.question)
        on = members_day(answered.at, self.member_id)
        if _blank(value):
            return f"You left “{label}” unanswered in the survey “{title}”."
        if clause.op == "contains":
            mentions = "mentions" if answer_holds(clause, answered.answers) else "does not mention"
            return f"You told us on {on} that your answer to “{label}” {mentions} “{clause.value}”."
        if isinstance(value, str) and (question is None or question.type == "text"):
            return f"You answered “{label}” on {on}."
        several = isinstance(value, list) and len(value) > 1
        answer = "answers" if several else "answer"
        verb = "are" if several else "is"
        return f"You told us on {on} that your {answer} to “{label}” {verb} {_answer_words(value)}."

    def activity(self, clause: ActivityClause) -> str:
        count = len(_activity(clause, {self.member_id}, self.now).get(self.member_id, ()))
        window = f"in the last {clause.days} days"
        if clause.verb == "read":
            if count == 0:
                return f"You read no article tagged {clause.tag} {window}."
            return f"You read {_plural(count, 'article')} tagged {clause.tag} {window}."
        if count == 0:
            return f"You followed no link of ours to an article tagged {clause.tag} {window}."
        return (
            f"You followed our links to {_plural(count, 'article')} tagged {clause.tag} {window}."
        )

    def engaged(self, clause: EngagedClause) -> str:
        how = channel_words(clause.channel)
        if self.holds(clause):
            return f"You took part in a message we sent you {how} in the last {clause.days} days."
        return f"You did not take part in our messages {how} in the last {clause.days} days."

    def of(self, clause: Clause) -> str:
        if isinstance(clause, AnswerClause):
            return self.answer(clause)
        if isinstance(clause, ActivityClause):
            return self.activity(clause)
        return self.engaged(clause)


def _why(node: Filter, facts: _Sentences) -> tuple[bool, list[str]]:
    if isinstance(node, And):
        found = [_why(item, facts) for item in node.items]
        if all(holds for holds, _ in found):
            return True, [s for _, sentences in found for s in sentences]
        return False, []
    if isinstance(node, Or):
        for item in node.items:
            holds, sentences = _why(item, facts)
            if holds:
                return True, sentences
        return False, []
    if isinstance(node, Not):
        holds, _ = _why(node.item, facts)
        return (not holds), [facts.of(c) for c in clauses(node.item)] if not holds else []
    if facts.holds(node):
        return True, [facts.of(node)]
    return False, []


def because(node: Filter, member_id: int, now: datetime) -> list[str]:
    """The sentences that say what put the member in at ``now`` (their answers with the date
    they gave or corrected them, what they read or clicked, how they engaged); empty when the
    filter does not keep them (for example after they corrected an answer)."""
    holds, sentences = _why(node, _Sentences(member_id, now))
    return list(dict.fromkeys(sentences)) if holds else []
