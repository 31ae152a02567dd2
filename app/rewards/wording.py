"""Actions in plain words, for the rewards page: what to do to earn a reward ("Answer the reader
survey"), and what a member did to earn one ("for answering the reader survey").

A way that cannot be taken now (a survey that is closed or gone) is marked unavailable, so the
page never points at a door that does not open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for

from app.engage.responses import shelf


@dataclass(frozen=True)
class ActionWords:
    todo: str  # "Answer “Reader survey 2026”"
    done: str  # "for answering “Reader survey 2026”"
    url: str | None = None
    available: bool = True


def _survey(ref: str, now: datetime) -> ActionWords:
    if "*" in ref:
        return ActionWords("Answer a survey", "for answering a survey", url_for("engage.surveys"))
    survey = shelf().surveys.get(ref)
    if survey is None:
        # A survey that is gone has no title to show, and its slug means nothing to a member.
        return ActionWords("Answer a survey", "for answering a survey", available=False)
    return ActionWords(
        f"Answer “{survey.title}”",
        f"for answering “{survey.title}”",
        url_for("engage.survey", slug=ref),
        survey.state(now) == "open",
    )


def _code(ref: str) -> ActionWords:
    url = url_for("engage.redeem_code")
    if "*" in ref:
        return ActionWords(
            "Redeem a code from a shop receipt", "for redeeming an in-store code", url
        )
    return ActionWords(
        f"Redeem a {ref} code from a shop receipt", f"for redeeming a {ref} code", url
    )


def _titled(ref: str, titles: dict[str, str], noun: str) -> str:
    if "*" in ref:
        return f"a {noun}"
    return f"“{titles[ref]}”" if ref in titles else f"the {ref} {noun}"


def describe_action(
    pattern: str, now: datetime, scope_titles: dict[str, str] | None = None
) -> ActionWords:
    """Plain words for an action or action pattern (``code:*``)."""
    kind, _, ref = pattern.partition(":")
    if kind == "account":
        return ActionWords("Confirm your email address", "for confirming your email address")
    if kind == "referral":
        return ActionWords(
            "Bring a friend with your invitation link", "for bringing a friend", "#invite"
        )
    if kind == "survey":
        return _survey(ref, now)
    if kind == "code":
        return _code(ref)
    if kind == "subscribe":
        scope = _titled(ref, scope_titles or {}, "topic")
        return ActionWords(f"Subscribe to {scope}", f"for subscribing to {scope}")
    if kind == "read":
        article = "an article" if "*" in ref else f"the article “{ref}”"
        return ActionWords(f"Read {article}", f"for reading {article}")
    return ActionWords(pattern, f"for {pattern}", available=False)
