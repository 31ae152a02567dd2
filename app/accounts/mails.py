"""The messages the accounts area sends. All are system messages: the member asked for them.
Dates in them read in the member's own zone (``reader_zone``)."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template

from app.accounts.links import LIFETIMES, VERIFY_SIGN_IN_WINDOW, make_link
from app.accounts.models import Member
from app.mail.message import Message
from app.mail.sending import send_message
from app.web.urls import external_url


def _send(member: Member, to: str, template: str, subject: str, **context: object) -> str:
    context.update(member=member, subject=subject, reader_zone=member.time_zone)
    return send_message(
        Message(
            to=to,
            to_name=member.display_name,
            subject=subject,
            text=render_template(f"mail/accounts/{template}.txt", **context),
            html=render_template(f"mail/accounts/{template}.html", **context),
            headers={"Auto-Submitted": "auto-generated"},
        )
    )


def _hours(purpose: str) -> str:
    return _duration(LIFETIMES[purpose])


def _duration(lifetime: timedelta) -> str:
    minutes = int(lifetime.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


def send_verification(member: Member, next_path: str | None = None) -> str:
    url = external_url("accounts.verify", token=make_link("verify", member), next=next_path)
    return _send(
        member,
        member.email,
        "verify",
        "Confirm your email address",
        url=url,
        lifetime=_hours("verify"),
        sign_in_lifetime=_duration(VERIFY_SIGN_IN_WINDOW),
    )


def send_password_reset(member: Member) -> str:
    url = external_url("accounts.reset_password", token=make_link("reset", member))
    return _send(
        member, member.email, "reset", "Reset your password", url=url, lifetime=_hours("reset")
    )


def send_sign_in_link(member: Member, next_path: str | None = None) -> str:
    url = external_url("accounts.magic_link", token=make_link("signin", member), next=next_path)
    return _send(
        member, member.email, "signin", "Your sign-in link", url=url, lifetime=_hours("signin")
    )


def send_email_change(member: Member, new_address: str) -> str:
    url = external_url(
        "accounts.confirm_email_change", token=make_link("email", member, new_address)
    )
    return _send(
        member,
        new_address,
        "email_change",
        "Confirm your new email address",
        url=url,
        new_address=new_address,
        lifetime=_hours("email"),
    )


def send_password_changed(member: Member) -> str:
    url = external_url("accounts.request_reset")
    return _send(member, member.email, "password_changed", "Your password was changed", url=url)
