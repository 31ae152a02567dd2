"""Marketers' campaign screens: compose, preview per channel, the audience preview with the
gate's reasons, send now or schedule, cancel, the results (funnel, chart, JSON), the
conversations, and each scope's audience over time."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as Redirect
from wtforms.fields.choices import SelectChoice

from app import clock
from app.accounts.roles import role_required
from app.consent import texts
from app.consent.scopes import all_scopes, channel_label
from app.extensions import db, limiter
from app.notify import answer_notices, conversation, results
from app.notify import campaigns as domain
from app.notify.drafts import draft_from_posts
from app.notify.errors import CampaignError, ConversationError
from app.notify.forms import ActionForm, AnswerForm, CampaignForm
from app.notify.funnel_people import people_funnel
from app.notify.models import Campaign, Reply
from app.notify.preview import left_out_label, preview_audience, preview_targeting
from app.notify.push import notification_text
from app.notify.reach import send_reach, waiting_reach
from app.notify.render import campaign_html, plain_text, prepared_body
from app.notify.small_multiples import small_multiples
from app.notify.sms import preview_text
from app.notify.states import CampaignState
from app.notify.targeting import TargetingError
from app.notify.telegram import telegram_html
from app.notify.test_sends import send_test
from app.outbound.botapi import BotApiError
from app.outbound.kannel import segments
from app.sms import answers as sms_answers
from app.telegram.answers import forward_answer
from app.telegram.bot import bot
from app.web.errors import render_error
from app.web.nav import AdminSection, register_admin_section
from app.web.times import from_wall_clock, local_time, reader_zone, wall_clock

SAMPLE_ID = 0
TEST_SEND_LIMIT = "6 per hour"  # per marketer: a test is for looking, not for mailing oneself


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = domain.get_campaign(campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _form(campaign: Campaign | None = None) -> CampaignForm:
    form = CampaignForm(obj=None)
    form.scope.choices = [SelectChoice(s.slug, s.title) for s in all_scopes().values()]
    if campaign is not None and request.method == "GET":
        form.title.data, form.body.data = campaign.title, campaign.body
        form.scope.data, form.kind.data = campaign.scope, campaign.kind
        form.channels.data = campaign.channel_list
        form.audience_filter.data = campaign.audience_filter or ""
        if campaign.send_at and campaign.state == CampaignState.SCHEDULED:
            form.send_at.data = wall_clock(campaign.send_at, reader_zone())
    return form


def _forged_kind(form: CampaignForm) -> bool:
    """A POST whose kind is none the form offers: no browser sends one, so it is refused
    whole with a 400 rather than shown as a form error."""
    return request.method == "POST" and form.kind.data not in domain.KINDS


def _draft(form: CampaignForm) -> domain.Draft:
    return domain.Draft(
        form.title.data or "",
        form.body.data or "",
        form.scope.data or "",
        form.kind.data or "",
        tuple(form.channels.data or ()),
        form.audience_filter.data or None,
    )


def _refused(form: CampaignForm, exc: CampaignError) -> None:
    """Show why the campaign was not saved: a filter's problem under "Who is it for?"."""
    db.session.rollback()
    if isinstance(exc, TargetingError):
        form.audience_filter.errors = [*form.audience_filter.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


@role_required("marketer")
def campaigns() -> str:
    return render_template(
        "admin/campaigns.html", campaigns=domain.campaigns(), scopes=all_scopes(), form=ActionForm()
    )


@role_required("marketer")
def campaigns_from_posts() -> Redirect | tuple[str, int]:
    if not ActionForm().validate_on_submit():
        return render_error(400)
    created = draft_from_posts(clock.now())
    flash(
        f"{len(created)} new drafts from posts." if created else "No new post asks for a campaign.",
        "success",
    )
    return redirect(url_for("admin.campaigns"))


@role_required("marketer")
def campaign_new() -> Redirect | str | tuple[str, int]:
    form = _form()
    if request.method == "GET":
        form.kind.data = "editorial"
        form.channels.data = ["inbox", "email"]
    if _forged_kind(form):
        return render_error(
            400,
            "A campaign is editorial or promotional: every campaign "
            "passes the whole gate. Nothing was saved.",
        )
    if form.validate_on_submit():
        try:
            campaign = domain.create_campaign(_draft(form), current_user.id, clock.now())
        except CampaignError as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            flash("Draft saved. Check the previews and the audience, then send it.", "success")
            return redirect(url_for("admin.campaign", campaign_id=campaign.id))
    return render_template("admin/campaign_form.html", form=form, campaign=None)


@role_required("marketer")
def campaign_edit(campaign_id: int) -> Redirect | str | tuple[str, int]:
    campaign = _campaign_or_404(campaign_id)
    form = _form(campaign)
    if _forged_kind(form):
        return render_error(
            400,
            "A campaign is editorial or promotional: every campaign "
            "passes the whole gate. Nothing was saved.",
        )
    if form.validate_on_submit():
        try:
            domain.update_campaign(campaign, _draft(form), clock.now())
        except CampaignError as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            flash("Saved.", "success")
            return redirect(url_for("admin.campaign", campaign_id=campaign.id))
    return render_template("admin/campaign_form.html", form=form, campaign=campaign)


def _previews(campaign: Campaign) -> dict[str, Any]:
    """How each channel shows the campaign (links shown untracked)."""
    html = campaign_html(campaign.body, campaign.updated_at)
    text = plain_text(html)
    webhook = {
        "delivery": SAMPLE_ID,
        "campaign": campaign.id,
        "kind": campaign.kind,
        "scope": campaign.scope,
        "title": campaign.title,
        "text": text,
        "html": html,
    }
    prepared = prepared_body(campaign.body, campaign.updated_at)
    sms = preview_text(texts.program(), campaign.title, prepared)
    return {
        "html": html,
        "text": text,
        "webhook": json.dumps(webhook, indent=2),
        "telegram": telegram_html(html),  # built from the sanitized HTML, text escaped
        "sms": sms,
        "sms_segments": segments(sms),
        "push": notification_text(prepared),
    }


@role_required("marketer")
def campaign(campaign_id: int) -> str:
    campaign = _campaign_or_404(campaign_id)
    now = clock.now()
    scope = all_scopes().get(campaign.scope)
    preview = targeted = None
    if campaign.state in domain.EDITABLE and scope is not None:
        preview = preview_audience(scope, campaign.channel_list, now, campaign.ref)
        targeted = preview_targeting(campaign.audience_filter, preview, now)
    return render_template(
        "admin/campaign.html",
        campaign=campaign,
        scope=scope,
        preview=preview,
        targeted=targeted,
        previews=_previews(campaign),
        funnel=results.funnel(campaign),
        suppressed=results.suppressed_reasons(campaign),
        people=people_funnel(campaign),
        multiples=small_multiples(
            "Messages and what people did with them (running totals)",
            results.timeline_series(campaign),
            reader_zone(),
        ),
        threads=conversation.threads(campaign.id),
        form=ActionForm(),
        channel_label=channel_label,
        left_out_label=left_out_label,
        now=now,
        promise_changed=scope is not None
        and campaign.state in domain.EDITABLE
        and campaign.promise_hash not in (None, domain.promise_hash(scope)),
    )


def _people_json(campaign: Campaign) -> dict[str, Any]:
    """The funnel in people (``reached`` and each step with its rate) for the JSON."""
    people = people_funnel(campaign)
    return {
        "queued": people.people_queued,
        "reached": people.people_reached,
        "steps": {step.label: {"people": step.people, "rate": step.rate} for step in people.steps},
        "messages": {d.channel: {"queued": d.created, "sent": d.sent} for d in people.deliveries},
    }


@role_required("marketer")
def campaign_json(campaign_id: int) -> Response:
    campaign = _campaign_or_404(campaign_id)
    chart = results.timeline(campaign)
    data = {
        "id": campaign.id,
        "title": campaign.title,
        "scope": campaign.scope,
        "kind": campaign.kind,
        "channels": campaign.channel_list,
        "state": campaign.state,
        "funnel": results.funnel(campaign),
        "people": _people_json(campaign),
        "suppressed_reasons": results.suppressed_reasons(campaign),
        "timeline": {
            "start": chart.start.isoformat() if chart.start else None,
            "end": chart.end.isoformat() if chart.end else None,
        },
    }
    return Response(
        json.dumps(data, indent=2, sort_keys=True),
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _act(campaign_id: int, action: Callable[[Campaign], str]) -> Redirect | tuple[str, int]:
    """Run ``action`` on the campaign for a button of its page: a CSRF-checked POST whose
    outcome (what ``action`` returns, or the :class:`CampaignError` it raises) is flashed."""
    campaign = _campaign_or_404(campaign_id)
    if not ActionForm().validate_on_submit():
        return render_error(400)
    try:
        done = action(campaign)
    except CampaignError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for("admin.campaign", campaign_id=campaign_id))


def _confirm(campaign: Campaign, action: str) -> str:
    """The confirmation step of *Send now* or *Cancel campaign* (a GET, so it works without
    script): what the button is about to do, in people and channels, and the final
    CSRF-checked POST."""
    scope = all_scopes().get(campaign.scope)
    now = clock.now()
    if action == "send" or campaign.state in domain.EDITABLE:
        reach = send_reach(campaign, scope, now) if scope is not None else None
    else:
        reach = waiting_reach(campaign)
    return render_template(
        "admin/campaign_confirm.html",
        campaign=campaign,
        scope=scope,
        action=action,
        reach=reach,
        form=ActionForm(),
        can_send=campaign.state in domain.EDITABLE,
        can_cancel=campaign.state in (*domain.EDITABLE, CampaignState.SENDING),
    )


@role_required("marketer")
def campaign_send(campaign_id: int) -> Redirect | str | tuple[str, int]:
    if request.method == "GET":
        return _confirm(_campaign_or_404(campaign_id), "send")

    def send(campaign: Campaign) -> str:
        sizes = domain.send_now(campaign, clock.now())
        return f"Queued {sum(sizes.values())} deliveries; the worker is sending them."

    return _act(campaign_id, send)


def _test_send_key() -> str:
    return f"test-send:{current_user.id}"


@role_required("marketer")
@limiter.limit(TEST_SEND_LIMIT, key_func=_test_send_key, methods=["POST"])
def campaign_test(campaign_id: int) -> Redirect | tuple[str, int]:
    """Send the campaign as a test to the signed-in marketer (email and inbox, marked TEST),
    outside the audience and the results."""

    def test(campaign: Campaign) -> str:
        sent = send_test(campaign, current_user, clock.now())
        return (
            f"Test sent to {sent.email} and to your inbox, marked TEST. "
            "It is not counted in the results."
        )

    return _act(campaign_id, test)


@role_required("marketer")
def campaign_schedule(campaign_id: int) -> Redirect | tuple[str, int]:
    def schedule(campaign: Campaign) -> str:
        try:
            at = datetime.strptime(request.form.get("send_at", ""), "%Y-%m-%dT%H:%M")
        except ValueError:
            raise CampaignError("Give the date and time to send at.") from None
        at = from_wall_clock(at, reader_zone())  # typed on the marketer's own clock
        domain.schedule(campaign, at, clock.now())
        return f"Scheduled for {local_time(at, reader_zone())}."

    return _act(campaign_id, schedule)


@role_required("marketer")
def campaign_cancel(campaign_id: int) -> Redirect | str | tuple[str, int]:
    if request.method == "GET":
        return _confirm(_campaign_or_404(campaign_id), "cancel")

    def cancel(campaign: Campaign) -> str:
        cancelled = domain.cancel(campaign, clock.now())
        return f"Cancelled; {cancelled} queued deliveries will not be sent."

    return _act(campaign_id, cancel)


@role_required("marketer")
def conversations() -> str:
    return render_template("admin/conversations.html", threads=conversation.threads())


def _answer_sent(answer: Reply) -> str:
    """Where the answer went: the inbox always, and the member's Telegram chat or phone when
    they wrote from there, else an email that tells them (after the answer is saved: a chat,
    a gateway or a mail server that refuses it loses nothing; the worker retries the mail)."""
    texted = sms_answers.forward_answer(answer)
    if texted is not None:
        state = texts.send_now(texted)
        if state == texts.SENT:
            return "Answer sent to the member's inbox and by text to their phone."
        return "Answer sent to the member's inbox; the text to their phone waits for Kannel."
    if not current_app.config["TELEGRAM_BOT_TOKEN"]:
        return _mailed(answer)
    try:
        with bot() as api:
            sent = forward_answer(api, answer)
    except BotApiError as exc:
        return f"Telegram did not take the answer ({exc.description}). {_mailed(answer)}"
    if sent:
        return "Answer sent to the member's inbox and to their Telegram chat."
    return _mailed(answer)


def _mailed(answer: Reply) -> str:
    """Send the email that tells the member about ``answer`` now (the worker retries it)."""
    answer_notices.by_email_instead(answer.id, clock.now())
    state = answer_notices.send_answer_notice(answer.id)
    if state == answer_notices.NoticeState.SENT:
        return "Answer sent to the member's inbox, and an email tells them."
    if state == answer_notices.NoticeState.QUEUED:
        return (
            "Answer sent to the member's inbox; the email that tells them goes out as soon "
            "as the mail server answers."
        )
    return "Answer sent to the member's inbox."


@role_required("marketer")
def conversation_page(campaign_id: int, member_id: int) -> Redirect | str:
    campaign = _campaign_or_404(campaign_id)
    messages = conversation.thread(campaign_id, member_id)
    if not messages:
        abort(404)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            answer = conversation.answer(
                campaign_id, member_id, current_user.id, form.body.data or "", clock.now()
            )
        except ConversationError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_answer_sent(answer), "success")
            return redirect(
                url_for("admin.conversation_page", campaign_id=campaign_id, member_id=member_id)
            )
    return render_template(
        "admin/conversation.html",
        campaign=campaign,
        messages=messages,
        written_on=conversation.written_on(messages),
        member_id=member_id,
        form=form,
    )


@role_required("marketer")
def scope_stats(slug: str) -> str:
    scope = all_scopes().get(slug)
    if scope is None:
        abort(404)
    history = results.scope_history(slug, clock.now())
    return render_template(
        "admin/scope_stats.html",
        scope=scope,
        history=history,
        multiples=small_multiples(
            f"{scope.title}: audience and unsubscribes by week", history["series"], reader_zone()
        ),
    )


def register(app: Flask) -> None:
    register_admin_section(
        app,
        AdminSection(
            "Campaigns",
            "admin.campaigns",
            "marketer",
            "Compose, preview, send and follow campaigns; see who the gate lets them reach.",
            order=20,
        ),
    )
    register_admin_section(
        app,
        AdminSection(
            "Conversations",
            "admin.conversations",
            "marketer",
            "Members' replies to campaigns, and your answers.",
            order=25,
        ),
    )
