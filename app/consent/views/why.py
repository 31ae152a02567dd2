""" "Why did I get this?": the page every message links to, and its one-click stop."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app import clock, signing
from app.accounts.members import get_member
from app.consent.gate import why
from app.consent.gate.learned import learned_words
from app.consent.ledger import consents
from app.consent.ledger.consents import Origin
from app.consent.terms import Channel, ConsentSource
from app.consent.views.forms import StopForm
from app.consent.views.permissions_page import client
from app.consent.words import action_words, channel_words, source_words, stop_sentence
from app.extensions import db
from app.web.errors import render_bad_link, render_error


def _read(token: str) -> why.Why | tuple[str, int]:
    try:
        link = why.read_why(token)
    except signing.TokenError as exc:
        return render_bad_link(expired=exc.kind == "expired")
    explanation = why.why_explanation(link)
    if explanation is None:
        return render_error(404, "This message was for an account that no longer exists.")
    return explanation


def _learned(explanation: why.Why) -> list[str]:
    link = explanation.link
    if explanation.scope is None or not explanation.still_allowed:
        return []
    return learned_words(link.member_id, explanation.scope, Channel(link.channel), clock.now())


def why_page(token: str) -> str | tuple[str, int]:
    explanation = _read(token)
    if isinstance(explanation, tuple):
        return explanation
    return render_template(
        "consent/why.html",
        why=explanation,
        chosen_because=why.added_reasons(explanation.link),
        picked=why.picked_for(explanation.link),
        learned=_learned(explanation),
        form=StopForm(),
        action_words=action_words,
        channel_words=channel_words,
        source_words=source_words,
        reader_zone=_zone_of(explanation.link.member_id),
    )


def _zone_of(member_id: int) -> str | None:
    """The zone of the member the link was sent to: the page opens without signing in, and
    reads in their time, not the site's."""
    member = get_member(member_id)
    return member.time_zone if member is not None else None


def why_stop(token: str) -> Response | tuple[str, int]:
    """Stop this scope on this channel, authorised by the link (one click, no sign-in)."""
    explanation = _read(token)
    if isinstance(explanation, tuple):
        return explanation
    if not StopForm().validate_on_submit():
        return render_error(400)
    link = explanation.link
    title = explanation.scope.title if explanation.scope else link.scope
    # The page's button, as why.html rendered it.
    event = consents.revoke_consent(
        link.member_id,
        link.scope,
        link.channel,
        Origin(ConsentSource.WHY_PAGE, "/why", client()),
        clock.now(),
        wording=stop_sentence(title, link.channel),
    )
    db.session.commit()
    if event is not None:
        flash(
            f"Stopped. {title} will not reach you {channel_words(link.channel)} any more.",
            "success",
        )
    return redirect(url_for("consent.why_page", token=token))
