"""Signing a member in on the browser of the current request.

Used by the accounts views (password, sign-in link, password change) and by the one other link
that may sign someone in: the confirmation link of a subscription. Sign-in always renews the
session, so a session id planted before sign-in is worthless after it.
"""

from __future__ import annotations

from flask import request, session
from flask_login import login_user

from app import clock
from app.accounts import sessions
from app.accounts.models import Member

# Session keys that start with this prefix survive the renewal of the session at sign-in
# (for example answers a visitor typed before signing up).
CARRY_PREFIX = "carry."
# Where a visit keeps what it arrived through (a referral link, say), handed to the areas above
# in ``MemberCreated`` when the visitor signs up.
ARRIVED_VIA_KEY = CARRY_PREFIX + "arrived_via"


def sign_in(member: Member, remember: bool) -> None:
    """Renew the session and sign ``member`` in on this browser; the caller commits."""
    carried = {k: v for k, v in session.items() if k.startswith(CARRY_PREFIX)}
    session.clear()
    session.update(carried)
    sessions.start_sign_in(member, request.user_agent.string, clock.now())
    login_user(member, remember=remember)
