"""Telling a member that the team answered their reply: a short system message.

When a marketer answers a member's reply (*Admin → Conversations*), :func:`queue_notice` writes
one :class:`~app.notify.models.AnswerNotice` in the answer's own transaction, so an answer is
never saved without its notice, and never gets two (``reply_id`` is unique).

Where it goes: where the member wrote from. A member who replied from Telegram or by text gets
the answer itself there (:mod:`app.telegram.answers`, :mod:`app.sms.answers`), and the notice
is only marked ``forwarded``; everyone else gets an email, "The team answered your reply about
…", with a link to the conversation in their inbox. The mail does not carry the answer's text:
a system message is content-neutral (DESIGN.md), and a marketer's free text must not reach an
address without the gate. Like every system message it needs only an active account and a
confirmed address; without them the notice is ``skipped`` (the answer still waits in the inbox).

Sending: :func:`send_notice` tries at once after the answer is committed, and the worker's
housekeeping (:func:`send_due`) sends whatever is due, so an SMTP outage only delays it; each
failure waits twice as long as the one before, and after ``NOTIFY_MAX_ATTEMPTS`` the notice is
``dead``. A notice is sent with the same Message-ID on every attempt.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr
from enum import StrEnum

from flask import current_app, render_template
from sqlalchemy import select

from app import clock
from app.accounts.models import Member
from app.consent import phones, texts
from app.consent.telegram import chat_of
from app.consent.terms import Channel
from app.extensions import db
from app.mail.message import MailError, Message
from app.mail.sending import open_transport, send_message
from app.mail.transport import Transport
from app.notify.models import AnswerNotice, Campaign, Delivery, Reply
from app.web.urls import external_url

log = logging.getLogger("pullfirst.notify")

MAX_WAIT = timedelta(hours=6)
BATCH = 50


class NoticeState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FORWARDED = "forwarded"  # the answer itself went to the chat or phone the member wrote from
    SKIPPED = "skipped"  # no active account or confirmed address: the inbox is enough
    DEAD = "dead"


def _where(answer: Reply, wrote_from: Channel | None) -> Channel:
    """The channel the notice takes: Telegram or text when the member wrote from there and can
    still be reached there, else email."""
    if wrote_from == Channel.TELEGRAM and current_app.config.get("TELEGRAM_BOT_TOKEN"):
        chat = chat_of(answer.member_id)
        if chat is not None and chat.blocked_at is None:
            return Channel.TELEGRAM
    if wrote_from == Channel.SMS and texts.configured():
        number = phones.number_of(answer.member_id)
        if number is not None and not phones.is_failed(number.number):
            return Channel.SMS
    return Channel.EMAIL


def _message_id() -> str:
    """The notice's Message-ID, made once so every attempt sends the same one."""
    address = parseaddr(current_app.config["MAIL_FROM"])[1]
    return make_msgid(domain=address.rsplit("@", 1)[-1] or None)


def queue_notice(answer: Reply, wrote_from: Channel | None, now: datetime) -> AnswerNotice:
    """Write the notice of ``answer`` (a marketer's) to a member whose latest reply came
    ``wrote_from`` that channel, in the caller's transaction."""
    channel = _where(answer, wrote_from)
    notice = AnswerNotice(
        reply_id=answer.id,
        member_id=answer.member_id,
        channel=channel,
        state=NoticeState.QUEUED if channel == Channel.EMAIL else NoticeState.FORWARDED,
        attempts=0,
        due_at=now,
        created_at=now,
        message_id=_message_id(),
    )
    db.session.add(notice)
    db.session.flush()
    return notice


def notice_of(answer_id: int) -> AnswerNotice | None:
    notice: AnswerNotice | None = db.session.scalar(
        select(AnswerNotice).where(AnswerNotice.reply_id == answer_id)
    )
    return notice


def by_email_instead(answer_id: int, now: datetime) -> None:
    """The chat or phone did not take the answer: tell the member by email instead. The caller
    commits."""
    notice = notice_of(answer_id)
    if notice is not None and notice.state == NoticeState.FORWARDED:
        notice.channel, notice.state, notice.due_at = Channel.EMAIL, NoticeState.QUEUED, now


def _thread_url(answer: Reply) -> str:
    """The member's copy of the message their conversation is about, where the answer shows;
    the inbox when that copy is gone."""
    delivery_id = db.session.scalar(
        select(Reply.delivery_id)
        .where(
            Reply.campaign_id == answer.campaign_id,
            Reply.member_id == answer.member_id,
            Reply.author == "member",
            Reply.delivery_id.is_not(None),
        )
        .order_by(Reply.at.desc(), Reply.id.desc())
        .limit(1)
    )
    if delivery_id is not None and db.session.get(Delivery, delivery_id) is not None:
        return external_url("notify.message", delivery_id=delivery_id)
    return external_url("notify.inbox_page")


def _mail(notice: AnswerNotice, member: Member, answer: Reply) -> Message:
    campaign = db.session.get_one(Campaign, answer.campaign_id)
    subject = f"The team answered your reply about “{campaign.title}”"
    context = {
        "subject": subject,
        "member": member,
        "campaign": campaign,
        "answer": answer,
        "url": _thread_url(answer),
        "reader_zone": member.time_zone,
    }
    return Message(
        to=member.email,
        to_name=member.display_name,
        subject=subject,
        text=render_template("mail/notify/answer.txt", **context),
        html=render_template("mail/notify/answer.html", **context),
        headers={"Auto-Submitted": "auto-generated"},
        message_id=notice.message_id,
    )


def _backoff(attempts: int) -> timedelta:
    first = float(current_app.config["NOTIFY_RETRY_SECONDS"])
    return min(timedelta(seconds=first * 2 ** max(0, attempts - 1)), MAX_WAIT)


def send_notice(notice: AnswerNotice, now: datetime, transport: Transport | None = None) -> str:
    """Send one queued notice and record the outcome (the caller commits). Returns its new
    state. A failure to send is recorded for a later attempt, never raised."""
    if notice.state != NoticeState.QUEUED:
        return notice.state
    member = db.session.get(Member, notice.member_id)
    answer = db.session.get(Reply, notice.reply_id)
    if member is None or answer is None or not member.is_active or not member.is_verified:
        notice.state = NoticeState.SKIPPED
        return notice.state
    try:
        send_message(_mail(notice, member, answer), transport)
    except MailError as exc:
        notice.attempts += 1
        notice.last_error = str(exc)[:300]
        if notice.attempts >= int(current_app.config["NOTIFY_MAX_ATTEMPTS"]):
            notice.state = NoticeState.DEAD
            log.error("gave up telling member %s about answer %s", member.id, answer.id)
        else:
            notice.due_at = now + _backoff(notice.attempts)
        return notice.state
    notice.state, notice.sent_at, notice.last_error = NoticeState.SENT, now, None
    return notice.state


def send_answer_notice(answer_id: int) -> str | None:
    """Try the answer's notice now (the admin screen, right after the answer is committed);
    commits. Returns its state, or None when the answer has none."""
    notice = notice_of(answer_id)
    if notice is None:
        return None
    state = send_notice(notice, clock.now())
    db.session.commit()
    return state


def send_due(now: datetime, limit: int = BATCH) -> int:
    """Send the notices that are due (the worker's housekeeping); commits after each, so a
    notice is never sent twice for one answer. Returns how many were sent."""
    ids = list(
        db.session.scalars(
            select(AnswerNotice.id)
            .where(AnswerNotice.state == NoticeState.QUEUED, AnswerNotice.due_at <= now)
            .order_by(AnswerNotice.due_at, AnswerNotice.id)
            .limit(limit)
        )
    )
    db.session.commit()
    if not ids:
        return 0
    sent = 0
    try:
        with open_transport() as transport:
            for notice_id in ids:
                notice = db.session.get(AnswerNotice, notice_id)
                if notice is None or notice.state != NoticeState.QUEUED or notice.due_at > now:
                    db.session.rollback()
                    continue
                sent += send_notice(notice, now, transport) == NoticeState.SENT
                db.session.commit()
    except MailError:  # the transport itself failed: what is left stays due for next time
        db.session.rollback()
        log.exception("could not send the answer notices that are due")
    return sent
