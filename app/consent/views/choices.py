"""The one control per scope: the consent sentence once, a switch per channel, one save.

The form is drawn by :mod:`app.consent.blocks` (on the rewards page and under each scope on the
permissions page) with the template ``consent/choices.html``; saving records a grant or a revoke
per channel that changed, each with its own words (:mod:`app.consent.ledger.choices`), and the
source of the page it was on (``form:rewards``, or ``preferences`` on the permissions page).
"""

from __future__ import annotations

from flask import flash, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app import clock, signing
from app.consent import texts
from app.consent.errors import ConsentError, NotEarned
from app.consent.ledger import choices
from app.consent.ledger.consents import Origin
from app.consent.scopes import channel_label, find_scope
from app.consent.terms import Channel, ConsentSource
from app.consent.views.forms import ChoicesForm
from app.consent.views.permissions_page import ORIGINS, back, client, current_member
from app.consent.words import channel_words, switch_off_words
from app.extensions import db
from app.web.errors import render_error
from app.web.urls import safe_next


def _origin(form: ChoicesForm) -> Origin:
    source = ORIGINS.get(form.origin.data or "preferences", "preferences")
    page = safe_next(form.next.data) or url_for("consent.permissions_page")
    return Origin(source, page.split("?", 1)[0], client())


def _shown_at(channel: Channel, origin: Origin) -> Origin:
    """A browser notification yes on the permissions page is the yes that lets the page ask the
    browser (source ``push``, as its per-channel yes recorded); elsewhere the page's source."""
    if channel == Channel.PUSH and origin.source == ConsentSource.PREFERENCES:
        return Origin(ConsentSource.PUSH, origin.page, origin.client)
    return origin


def _words(channels: tuple[Channel, ...]) -> str:
    phrases = [channel_words(c) for c in channels]
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]


@login_required
def save_choices(scope: str) -> Response | tuple[str, int]:
    """Save the switches of one scope. Only a member who holds the scope may save them; a
    page out of date changes nothing and says so."""
    member, form = current_member(), ChoicesForm()
    found = find_scope(scope)
    if found is None or not form.validate_on_submit():
        return render_error(400, "This request was incomplete. Go back and try again.")
    anchor = f"scope-{found.slug}"
    try:
        offered = choices.check_choices(form.token.data, member.id, found)
        saved = choices.save_choices(
            member.id,
            found,
            offered,
            request.form.getlist("channel"),
            _origin(form),
            clock.now(),
            off_words=lambda c: switch_off_words(channel_label(c)),
            origin_for=_shown_at,
        )
        confirmation = (
            texts.queue_confirmation(member.id, found, clock.now())
            if Channel.SMS in saved.granted
            else None
        )
    except signing.TokenError:
        db.session.rollback()
        return render_error(400, "This form was not made for you. Nothing changed.")
    except NotEarned as exc:
        db.session.rollback()
        return render_error(403, str(exc))
    except ConsentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return back(anchor)
    db.session.commit()
    if saved.granted:
        flash(f"Thank you. {found.title} may now reach you {_words(saved.granted)}.", "success")
    if saved.revoked:
        flash(
            f"Stopped. {found.title} will not reach you {_words(saved.revoked)} any more.",
            "success",
        )
    if not saved.granted and not saved.revoked:
        flash("Nothing changed: your choices were already saved.", "info")
    if confirmation is not None:
        texts.send_now(confirmation)
    return back(anchor)
