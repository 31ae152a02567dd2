"""The permissions page: per scope, a table of channels with a one-click stop for each yes and,
under it, the one control that says yes (the sentence once, a switch per channel, saved by
:mod:`app.consent.views.choices`); pause, quiet hours. ``say_yes`` is the per-channel yes of the
call to action under articles.

The other pages of the area are their own modules beside this one: ``webhooks`` (endpoints),
``privacy`` (history, export, deletion), ``receipts`` (signed receipts, by mail too, and the
published keys), ``subscribe`` (double opt-in) and ``why`` ("why did I get this?"). Every route
is listed in :mod:`app.consent.views.routes`.
"""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import clock, signing
from app.accounts import members
from app.accounts.models import Member
from app.consent import permissions, phones, push, telegram, texts, webhooks
from app.consent.blocks import choices_control
from app.consent.errors import ConsentError, StaleRequest
from app.consent.gate import contacts
from app.consent.ledger import consents, preferences, toggles
from app.consent.ledger.consents import Client, Origin
from app.consent.scopes import channel_label, find_scope
from app.consent.terms import Channel, ConsentSource
from app.consent.views.forms import (
    ButtonForm,
    PauseForm,
    PhoneCodeForm,
    PhoneForm,
    QuietHoursForm,
    ToggleForm,
    WebhookForm,
)
from app.consent.words import action_words, channel_words, stop_sentence
from app.extensions import db
from app.web.errors import render_error
from app.web.times import day
from app.web.urls import safe_next


def current_member() -> Member:
    member: Member = current_user._get_current_object()
    return member


def client() -> Client:
    """The browser of this request, for the ledger's salted hash."""
    return Client(request.remote_addr or "", request.user_agent.string[:300])


def back(anchor: str | None = None) -> Response:
    target = safe_next(request.form.get("next"))
    return redirect(target or url_for("consent.permissions_page", _anchor=anchor))


def page_context(member: Member, **forms: object) -> dict[str, object]:
    """Everything the permissions page shows; ``forms`` replaces a form that failed."""
    rows = permissions.permissions_of(member.id)
    # Under each offered scope's table, the one control the rewards page shows too (the
    # sentence once, a switch per channel); the rows keep only the one-click stop.
    controls = {
        row.slug: choices_control(row.scope, member.id, "preferences", None)
        for row in rows
        if row.scope is not None
    }
    stop_tokens = {
        (row.slug, c.channel): toggles.stop_token(member.id, row.slug, c.channel)
        for row in rows
        for c in row.channels
    }
    prefs = preferences.preferences_of(member.id)
    quiet = forms.get("quiet_form")
    if not isinstance(quiet, QuietHoursForm):
        quiet = QuietHoursForm(
            prefix="quiet",
            time_zone=member.time_zone,
            start=prefs.quiet_start_time,
            end=prefs.quiet_end_time,
        )
    quiet.time_zone.choices = sorted(available_timezones())
    context: dict[str, object] = {
        "rows": rows,
        "controls": controls,
        "stop_tokens": stop_tokens,
        "prefs": prefs,
        "now": clock.now(),
        "pause_form": PauseForm(prefix="pause", days=7),
        "webhook_form": WebhookForm(prefix="webhook"),
        "endpoints": webhooks.endpoints_of(member.id),
        "telegram_chat": telegram.chat_of(member.id),
        "phone": phones.number_of(member.id),
        "phone_shown": phones.shown,
        "phone_proof": phones.pending_proof(member.id, clock.now()),
        "sms_on": texts.configured(),
        "phone_form": PhoneForm(prefix="phone"),
        "code_form": PhoneCodeForm(prefix="code"),
        "browsers": push.subscriptions_of(member.id),
        "telegram_bot": current_app.config["TELEGRAM_BOT_USERNAME"]
        if current_app.config["TELEGRAM_BOT_TOKEN"]
        else None,
        "plain": ButtonForm(),
        "action_words": action_words,
        "channel_words": channel_words,
        "channel_label": channel_label,
    }
    context.update(forms)
    context["quiet_form"] = quiet
    return context


@login_required
def permissions_page() -> str:
    return render_template("consent/permissions.html", **page_context(current_member()))


@login_required
def say_yes(scope: str, channel: Channel) -> Response | tuple[str, int]:
    """Grant: the box must be ticked, the page current, the wording the one shown."""
    member, form = current_member(), ToggleForm()
    found = find_scope(scope)
    confirmation = None
    if found is None or not form.validate_on_submit():
        return render_error(400, "This request was incomplete. Go back and try again.")
    try:
        toggles.check_toggle(form.token.data, member.id, found, channel, toggles.YES)
        if form.wording_hash.data != found.wording_hash_for(channel):
            raise StaleRequest(toggles.OUT_OF_DATE)
        if not form.agree.data:
            flash(f"Tick the box to say yes to {found.title}. Nothing changed.", "error")
            return back(f"scope-{scope}")
        origin = _origin(form)
        if channel == Channel.PUSH:  # the yes that lets the page ask the browser
            origin = Origin(ConsentSource.PUSH, origin.page, origin.client)
        event = consents.grant_consent(
            member.id, found, channel, found.wording_for(channel), origin, clock.now()
        )
        if event is not None and channel == Channel.SMS:
            confirmation = texts.queue_confirmation(member.id, found, clock.now())
    except signing.TokenError:
        db.session.rollback()
        return render_error(400, "This button was not made for you. Nothing changed.")
    except ConsentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return back(f"scope-{scope}")
    db.session.commit()
    if event is not None:
        flash(f"Thank you. {found.title} may now reach you {channel_words(channel)}.", "success")
    if confirmation is not None:
        texts.send_now(confirmation)
    return back(f"scope-{scope}")


# Where a yes or stop button stands: the ledger's ``source`` for each hidden ``origin``.
ORIGINS = {"preferences": "preferences", "rewards": "form:rewards", "cta": "form:cta"}


def _origin(form: ToggleForm) -> Origin:
    source = ORIGINS.get(form.origin.data or "preferences", "preferences")
    page = safe_next(form.next.data) or url_for("consent.permissions_page")
    return Origin(source, page.split("?", 1)[0], client())


@login_required
def stop(scope: str, channel: Channel) -> Response | tuple[str, int]:
    """Revoke in one click; always allowed for the member's own permissions."""
    member, form = current_member(), ToggleForm()
    if not form.validate_on_submit():
        return render_error(400, "This request was incomplete. Go back and try again.")
    try:
        toggles.check_toggle(form.token.data, member.id, scope, channel, toggles.STOP)
    except signing.TokenError:
        return render_error(400, "This button was not made for you. Nothing changed.")
    found = find_scope(scope)
    title = found.title if found else scope
    # The button's whole text, as the page's ``stop`` macro rendered it.
    event = consents.revoke_consent(
        member.id, scope, channel, _origin(form), clock.now(), wording=stop_sentence(title, channel)
    )
    db.session.commit()
    if event is not None:
        flash(f"Stopped. {title} will not reach you {channel_words(channel)} any more.", "success")
    return back(f"scope-{scope}")


@login_required
def resume(scope: str) -> Response:
    """Hear about a scope again after "not for me" or a run of ignored messages."""
    if ButtonForm().validate_on_submit():
        contacts.resume_scope(current_member().id, scope[:64], clock.now())
        db.session.commit()
        found = find_scope(scope)
        flash(f"{found.title if found else scope} is no longer paused.", "success")
    return back(f"scope-{scope}")


@login_required
def pause() -> Response | tuple[str, int]:
    member = current_member()
    form = PauseForm(prefix="pause")
    if not form.validate_on_submit():
        return render_template(
            "consent/permissions.html", **page_context(member, pause_form=form)
        ), 400
    until = preferences.pause_everything(member.id, form.days.data, clock.now())
    db.session.commit()
    flash(
        f"Everything is paused until {day(until, member.time_zone)}. Messages about your "
        "account, such as sign-in links, still arrive.",
        "success",
    )
    return back("pause")


@login_required
def unpause() -> Response:
    if ButtonForm().validate_on_submit():
        preferences.resume_everything(current_member().id, clock.now())
        db.session.commit()
        flash("The pause is over.", "success")
    return back("pause")


@login_required
def quiet_hours() -> Response | tuple[str, int]:
    member = current_member()
    form = QuietHoursForm(prefix="quiet")
    form.time_zone.choices = sorted(available_timezones())
    if form.validate_on_submit():
        try:
            preferences.set_quiet_hours(member.id, form.start.data, form.end.data, clock.now())
            members.update_profile(member, member.display_name, form.time_zone.data)
        except ConsentError as exc:
            db.session.rollback()
            form.end.errors.append(str(exc))
        else:
            db.session.commit()
            flash(
                "Your quiet hours are saved."
                if form.start.data
                else "You have no quiet hours now.",
                "success",
            )
            return back("quiet")
    return render_template("consent/permissions.html", **page_context(member, quiet_form=form)), 400
