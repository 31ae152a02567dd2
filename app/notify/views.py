"""The notifier's pages for members and for links in messages: the inbox, unsubscribe links,
the click tracker and the (optional) open pixel."""

from __future__ import annotations

import base64

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import clock, signing
from app.consent.ledger.consents import Client, Origin
from app.consent.scopes import find_scope, wording_hash
from app.consent.terms import ConsentSource
from app.consent.words import inbox_stop_words, link_words_unknown, unsubscribe_page_words
from app.database.core import writes
from app.extensions import csrf, db
from app.notify import conversation, inbox, notices, shortlinks, test_sends, tracking
from app.notify.asking import ASKED, ask_body, ask_title
from app.notify.digest import issue_body
from app.notify.errors import ConversationError
from app.notify.forms import ActionForm, ReplyForm
from app.notify.models import Campaign, Delivery
from app.notify.render import delivery_body
from app.notify.tokens import (
    TrackedLink,
    Unsubscribe,
    read_click,
    read_open,
    read_unsubscribe,
)
from app.web.errors import render_bad_link, render_error

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _client() -> Client:
    return Client(request.remote_addr or "", request.user_agent.string[:300])


def _own(delivery_id: int) -> Delivery:
    delivery = inbox.own_delivery(current_user.id, delivery_id)
    if delivery is None:
        abort(404)
    return delivery


@login_required
def inbox_page() -> str:
    return render_template(
        "notify/inbox.html",
        items=inbox.inbox_of(current_user.id),
        notices=notices.notices_for(current_user.id, clock.now()),
        tests=test_sends.tests_of(current_user.id),
    )


@login_required
@writes
def test_message(test_id: int) -> str:
    """A test of a campaign its marketer sent themselves, marked TEST (only they see it)."""
    found = test_sends.own_test(current_user.id, test_id)
    if found is None:
        abort(404)
    test_sends.open_test(found, clock.now())
    db.session.commit()
    return render_template("notify/test_message.html", test=found)


@writes
def notice(slug: str) -> str:
    """A notice for every member: anyone may read it; opening it marks it read."""
    found = notices.find_notice(slug, clock.now())
    if found is None:
        abort(404)
    if current_user.is_authenticated:
        notices.mark_read(current_user.id, found.slug, clock.now())
        db.session.commit()
    return render_template("notify/notice.html", notice=found)


@login_required
@writes
def message(delivery_id: int) -> str:
    """One message: reading it on the site counts as engagement."""
    delivery = _own(delivery_id)
    inbox.open_message(delivery, clock.now())
    db.session.commit()
    campaign = db.session.get(Campaign, delivery.campaign_id)
    assert campaign is not None
    issue = issue_body(campaign, delivery.member_id) if campaign.digest else None
    scope = find_scope(campaign.scope)
    title = campaign.title
    if delivery.reason == ASKED and scope is not None:
        title, issue = ask_title(scope.title), ask_body(scope, scope.pause_after_ignored)
    body = (
        issue.fill(delivery.id)
        if issue is not None
        else delivery_body(campaign.body, delivery.id, campaign.updated_at)
    )
    return render_template(
        "notify/message.html",
        delivery=delivery,
        campaign=campaign,
        title=title,
        scope_title=inbox.scope_title(campaign),
        body=body,
        thread=conversation.thread(campaign.id, current_user.id),
        form=ActionForm(),
        reply_form=ReplyForm(),
    )


@login_required
def useful(delivery_id: int) -> Response | tuple[str, int]:
    delivery = _own(delivery_id)
    if not ActionForm().validate_on_submit():
        return render_error(400)
    inbox.mark_useful(delivery, clock.now())
    db.session.commit()
    flash("Thank you: we will keep these coming.", "success")
    return redirect(url_for("notify.message", delivery_id=delivery.id))


@login_required
def not_for_me(delivery_id: int) -> Response | tuple[str, int]:
    delivery = _own(delivery_id)
    if not ActionForm().validate_on_submit():
        return render_error(400)
    inbox.mark_not_for_me(delivery, clock.now())
    db.session.commit()
    flash(
        "Understood: we paused these for you. Stop them for good below, or resume them "
        "on your permissions page.",
        "success",
    )
    return redirect(url_for("notify.message", delivery_id=delivery.id, _anchor="stop"))


@login_required
def stop(delivery_id: int) -> Response | tuple[str, int]:
    delivery = _own(delivery_id)
    if not ActionForm().validate_on_submit():
        return render_error(400)
    # The stop block's sentence and button, as message.html rendered them.
    words = inbox_stop_words(inbox.scope_title(delivery.campaign))
    stopped = inbox.stop_scope(
        delivery, Origin(ConsentSource.INBOX, request.path, _client()), clock.now(), words
    )
    db.session.commit()
    flash(
        "Stopped on every channel." if stopped else "Nothing to stop: it was already off.",
        "success",
    )
    return redirect(url_for("notify.message", delivery_id=delivery.id))


@login_required
def reply(delivery_id: int) -> Response | tuple[str, int]:
    delivery = _own(delivery_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            return render_error(400)
        flash("Write your reply (at most 4,000 characters).", "error")
        return redirect(url_for("notify.message", delivery_id=delivery.id, _anchor="reply"))
    try:
        conversation.reply(delivery, form.body.data or "", clock.now())
    except ConversationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("notify.message", delivery_id=delivery.id, _anchor="reply"))
    db.session.commit()
    flash("Sent. The team reads every reply; an answer will appear here.", "success")
    return redirect(url_for("notify.message", delivery_id=delivery.id, _anchor="conversation"))


# --- links in messages: no sign-in, authorised by their token alone --------------------------


def _unsubscribe_link(token: str) -> tuple[str, int] | Unsubscribe:
    try:
        return read_unsubscribe(token)
    except signing.TokenError as exc:
        return render_bad_link(expired=exc.kind == "expired")


def unsubscribe_page(token: str) -> tuple[str, int] | str:
    """A GET only shows what the link would stop and a button: it changes nothing (mail
    scanners fetch links)."""
    link = _unsubscribe_link(token)
    if isinstance(link, tuple):
        return link
    about = tracking.describe(link)
    if about is None:
        return render_error(404, "This message was for an account that no longer exists.")
    shown = wording_hash(unsubscribe_page_words(about.scope_title, about.channel))
    return render_template(
        "notify/unsubscribe.html", about=about, token=token, done=False, wording_hash=shown
    )


@csrf.exempt
def unsubscribe_one_click(token: str) -> tuple[str, int] | str:
    """The button of the page above, and the RFC 8058 one-click POST that mail programs send
    without cookies (``List-Unsubscribe=One-Click``): authorised by the token alone. Answers
    200, without a redirect.

    The ledger records what was shown with the control used. The page's form carries the
    SHA-256 of the page's words: its question and its button's label, recorded as the page
    rendered them (or, should they have changed since the page was shown, a sentence saying
    the words shown are not on file). Any other POST is a program's one-click from the mail's
    header: see :func:`app.notify.tracking.mail_words`."""
    link = _unsubscribe_link(token)
    if isinstance(link, tuple):
        return link
    about = tracking.describe(link)
    if about is None:
        return render_error(404, "This message was for an account that no longer exists.")
    shown = request.form.get("wording_hash")
    if shown is None:
        words = tracking.mail_words(link)
    else:
        words = unsubscribe_page_words(about.scope_title, about.channel)
        if shown != wording_hash(words):
            words = link_words_unknown(about.scope_title, about.channel)
    outcome = tracking.unsubscribe(
        link, Origin(ConsentSource.UNSUBSCRIBE_LINK, "/u", _client()), clock.now(), words
    )
    db.session.commit()
    if outcome is None:
        return render_error(404, "This message was for an account that no longer exists.")
    return render_template("notify/unsubscribe.html", about=outcome, token=token, done=True)


@writes
def click(token: str) -> Response | tuple[str, int]:
    """Record the click and redirect to the one URL the token was signed for."""
    try:
        link = read_click(token)
    except signing.TokenError:
        return render_bad_link()
    tracking.record_click(link, clock.now())
    db.session.commit()
    # Only URLs that Werkzeug sends unchanged are ever signed (see ``trackable``).
    return _followed(link.url)


def _followed(url: str) -> Response:
    """The redirect of a followed link: not kept, and telling the target nothing of us."""
    return Response(
        "",
        302,
        headers={"Location": url, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@writes
def short_link(code: str) -> Response | tuple[str, int]:
    """A short link from a text: record the click, then redirect like :func:`click`."""
    found = shortlinks.resolve(code)
    if found is None:
        return render_bad_link()
    tracking.record_click(TrackedLink(found.delivery_id, found.url), clock.now())
    db.session.commit()
    return _followed(found.url)


@writes
def opened(token: str) -> Response:
    try:
        delivery_id = read_open(token)
    except signing.TokenError:
        delivery_id = None
    if delivery_id is not None:
        tracking.record_open(delivery_id, clock.now())
        db.session.commit()
    return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store"})
