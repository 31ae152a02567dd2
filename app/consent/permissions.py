"""What the permissions page shows: each scope the member earned (or once said yes to), per
channel its state, date of consent and last message; and the scopes that wait for a new yes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.consent.gate import contacts
from app.consent.ledger import consents
from app.consent.models import ConsentState, ScopePause
from app.consent.scopes import Scope, all_scopes, channel_label, in_channel_order
from app.extensions import db
from app.rewards.models import Entitlement


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    label: str
    state: ConsentState | None
    last_message: datetime | None
    stale: bool  # granted on an older wording: the member is asked again

    @property
    def granted(self) -> bool:
        return self.state is not None and self.state.granted

    @property
    def event_id(self) -> int:
        return self.state.event_id if self.state is not None else 0


@dataclass(frozen=True)
class ScopeRow:
    slug: str
    scope: Scope | None  # None: a scope no longer offered, kept so the member can say no
    title: str
    earned_by: str | None
    earned_at: datetime | None
    channels: tuple[ChannelRow, ...]
    pause: ScopePause | None

    @property
    def stale(self) -> bool:
        return any(row.stale for row in self.channels)

    @property
    def not_for_me(self) -> bool:
        return self.pause is not None and self.pause.not_for_me_at is not None


def permissions_of(member_id: int) -> list[ScopeRow]:
    """Earned scopes in file order, then scopes the member still allows but no longer holds
    (or that are no longer offered)."""
    scopes = all_scopes()
    earned = {
        e.reward.removeprefix("scope:"): e
        for e in db.session.scalars(
            select(Entitlement).where(
                Entitlement.member_id == member_id, Entitlement.reward.like("scope:%")
            )
        )
    }
    states = consents.states_of(member_id)
    last = contacts.last_messages(member_id)
    pauses = contacts.pauses_of(member_id)
    granted_elsewhere = {
        s for (s, _), st in states.items() if st.granted and (s not in earned or s not in scopes)
    }
    rows = []
    for slug in [*(s for s in scopes if s in earned), *sorted(granted_elsewhere)]:
        scope = scopes.get(slug)
        granted = tuple(c for (s, c), st in sorted(states.items()) if s == slug and st.granted)
        offered = (
            granted
            if scope is None or slug not in earned
            else (*scope.channels, *(c for c in granted if c not in scope.channels))
        )
        channel_rows = tuple(
            ChannelRow(
                c,
                channel_label(c),
                states.get((slug, c)),
                last.get((slug, c)),
                _stale(states.get((slug, c)), scope),
            )
            for c in in_channel_order(offered)  # the one order members see channels in
        )
        entitlement = earned.get(slug)
        rows.append(
            ScopeRow(
                slug,
                scope if slug in earned else None,
                scope.title if scope else slug,
                entitlement.earned_by if entitlement else None,
                entitlement.earned_at if entitlement else None,
                channel_rows,
                pauses.get(slug),
            )
        )
    return rows


def _stale(state: ConsentState | None, scope: Scope | None) -> bool:
    return bool(
        state is not None
        and state.granted
        and scope is not None
        and state.wording_version != scope.consent_version
    )


def stale_count(member_id: int) -> int | None:
    """How many permissions wait for a new yes on changed wording (the header badge)."""
    scopes = all_scopes()
    count = sum(
        1
        for state in db.session.scalars(
            select(ConsentState).where(
                ConsentState.member_id == member_id, ConsentState.granted.is_(True)
            )
        )
        if state.scope in scopes and state.wording_version != scopes[state.scope].consent_version
    )
    return count or None
