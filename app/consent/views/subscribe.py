"""Subscribing by address: the form on ``/subscribe/<scope>``, the check-your-inbox page, and
the confirmation link that signs the person in.

Calls to action on cached pages send visitors here with a plain GET (``?email=…&from=…``):
this page is the one that shows the promise and the exact wording, and records them.
"""

from __future__ import annotations

import logging
import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app import clock, signing
from app.accounts.browser import sign_in
from app.accounts.members import InvalidEmail
from app.accounts.ratelimits import auth_limits
from app.consent.errors import ConsentError, NotSubscribable
from app.consent.ledger import consents, subscriptions
from app.consent.ledger.consents import Origin
from app.consent.mails import send_confirmation
from app.consent.scopes import Scope
from app.consent.terms import ConsentSource
from app.consent.views.forms import ConfirmSubscriptionForm, MemberSubscribeForm, SubscribeForm
from app.consent.views.permissions_page import client, current_member
from app.extensions import db
from app.mail.message import MailError
from app.rewards.catalog import describe
from app.rewards.entitlements import entitlements_of
from app.web.errors import render_error

log = logging.getLogger("pullfirst.consent")
FROM = re.compile(r"^[a-z0-9][a-z0-9:._-]{0,99}$")


def _scope(slug: str) -> Scope:
    try:
        return subscriptions.subscribable_scope(slug)
    except NotSubscribable:
        abort(404)


def _page(slug: str, origin: str | None) -> str:
    path = url_for("consent.subscribe", scope=slug)
    return f"{path}?from={origin}" if origin and FROM.match(origin) else path


def _already_subscribed(scope: Scope) -> bool:
    state = consents.states_of(current_member().id).get((scope.slug, subscriptions.CHANNEL))
    return bool(state and state.granted and state.wording_version == scope.consent_version)


@auth_limits
def subscribe(scope: str) -> Response | str | tuple[str, int]:
    found = _scope(scope)
    if current_user.is_authenticated and current_user.is_verified:
        return _member_subscribe(found)
    origin = request.values.get("from", "")
    form = SubscribeForm(
        email=request.args.get("email", "")[:254],
        origin=origin if FROM.match(origin) else "",
        wording_hash=found.wording_hash,
    )
    if form.validate_on_submit():
        if form.wording_hash.data != found.wording_hash:
            form.form_errors.append(
                "The wording changed since the page was shown. Read it again below."
            )
            form.wording_hash.data = found.wording_hash
        else:
            try:
                return _request(found, form)
            except (InvalidEmail, ConsentError) as exc:
                db.session.rollback()
                form.email.errors.append(str(exc))
    status = 400 if form.is_submitted() else 200
    return render_template("consent/subscribe.html", scope=found, form=form), status


def _request(scope: Scope, form: SubscribeForm) -> Response:
    """Store the request; mail the link unless one went to the address in the last ten
    minutes. The answer is the same page either way, account or not."""
    now = clock.now()
    page = _page(scope.slug, form.origin.data)
    pending = subscriptions.request_subscription(
        form.email.data, scope, scope.wording, Origin(ConsentSource.SUBSCRIBE_FORM, page), now
    )
    may_mail = subscriptions.claim_mail_slot(pending.email_key, now)
    db.session.commit()
    if may_mail:
        try:
            send_confirmation(pending, scope)
        except MailError:
            log.exception("could not send a subscription confirmation")
    return redirect(url_for("consent.subscription_sent", scope=scope.slug))


def _member_subscribe(scope: Scope) -> Response | str | tuple[str, int]:
    """A signed-in member with a confirmed address needs no mail: one ticked box."""
    form = MemberSubscribeForm(
        wording_hash=scope.wording_hash, origin=request.values.get("from", "")
    )
    already = _already_subscribed(scope)
    if not already and form.validate_on_submit():
        if form.wording_hash.data != scope.wording_hash:
            form.form_errors.append(
                "The wording changed since the page was shown. Read it again below."
            )
            form.wording_hash.data = scope.wording_hash
        else:
            origin = Origin(
                ConsentSource.SUBSCRIBE_FORM, _page(scope.slug, form.origin.data), client()
            )
            try:
                subscriptions.subscribe(current_member(), scope, scope.wording, origin, clock.now())
            except ConsentError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                db.session.commit()
                flash(f"You are subscribed to {scope.title} by email.", "success")
                return redirect(url_for("consent.permissions_page", _anchor=f"scope-{scope.slug}"))
    status = 400 if form.is_submitted() and not already else 200
    return render_template(
        "consent/subscribe.html", scope=scope, member_form=form, already=already
    ), status


def subscription_sent(scope: str) -> str:
    return render_template("consent/subscription_sent.html", scope=_scope(scope))


def _link_problem(error: signing.TokenError) -> tuple[str, int]:
    return render_template("consent/link_problem.html", kind=error.kind), 400


def confirm_subscription(token: str) -> Response | str | tuple[str, int]:
    """The link in the confirmation mail. A GET shows a button (mail scanners open links);
    the POST confirms, records the consent and the action, and signs the person in."""
    now = clock.now()
    try:
        pending = subscriptions.check_confirmation(token, now)
    except signing.TokenError as exc:
        return _link_problem(exc)
    form = ConfirmSubscriptionForm()
    changed = form.is_submitted() and form.wording_hash.data != pending.scope.wording_hash
    if not form.validate_on_submit() or changed:
        form.wording_hash.data = pending.scope.wording_hash
        return render_template(
            "consent/confirm_subscription.html", pending=pending, form=form, changed=changed
        ), 400 if changed else 200
    try:
        done = subscriptions.confirm_subscription(
            token, pending.scope.wording, Origin(ConsentSource.SUBSCRIBE_FORM, client=client()), now
        )
    except signing.TokenError as exc:
        db.session.rollback()
        return _link_problem(exc)
    except ConsentError as exc:
        db.session.rollback()
        return render_error(400, str(exc))
    sign_in(done.member, remember=False)
    db.session.commit()
    flash(f"You are subscribed to {done.scope.title}, and signed in.", "success")
    return redirect(url_for("consent.subscribed", scope=done.scope.slug))


def subscribed(scope: str) -> Response | str:
    found = _scope(scope)
    if not current_user.is_authenticated:
        return redirect(url_for("consent.subscribe", scope=scope))
    rewards = [
        d
        for e in entitlements_of(current_member().id)
        if (d := describe(e.reward, None)) is not None and e.reward != found.reward
    ]
    return render_template(
        "consent/subscribed.html",
        scope=found,
        rewards=rewards,
        has_password=current_member().has_password,
    )
