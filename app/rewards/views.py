"""The member's rewards page: what they earned, what they may opt in to, what they could earn;
and the welcome page a new member lands on from their confirmation link."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user, login_required

from app import clock
from app.database.core import writes
from app.engage import referrals, responses
from app.extensions import db
from app.rewards.page import rewards_page
from app.web.urls import external_url, safe_next


@writes
def _create_referral_link(member_id: int) -> None:
    referrals.ensure_link(member_id, clock.now())
    db.session.commit()


@login_required
def page() -> str:
    member_id: int = current_user.id
    if referrals.link_code(member_id) is None:
        _create_referral_link(member_id)
    invite = referrals.summary(member_id)
    return render_template(
        "rewards/page.html",
        page=rewards_page(member_id, clock.now()),
        invite=invite,
        invite_url=external_url("engage.referral_landing", code=invite.code),
        answered=responses.answers_of(member_id),
    )


@login_required
def welcome() -> str:
    """What the member has earned so far (sticker packs) and the topics we may now offer
    them, each off until they say yes; then where they were going before they signed up."""
    return render_template(
        "rewards/welcome.html",
        page=rewards_page(current_user.id, clock.now()),
        next=safe_next(request.args.get("next")),
    )
