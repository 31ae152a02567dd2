"""The consent ledger: append-only grants and revokes, and the current state derived from them.

Every change of consent is a new :class:`~app.consent.models.ConsentEvent`; no code path
updates or deletes one (the database refuses it too). The current state per (member, scope,
channel) is kept in ``consent_states`` in the same transaction, so the gate reads one row.

Events belong to a per-member subject row, created with the first event. Deleting the member
clears the subject's member link and salt (:func:`pseudonymise`): the events remain, unlinkable.

Functions flush into the current session; the caller commits. Every grant emits
:class:`ConsentGranted` and every revoke :class:`ConsentRevoked` in the same transaction, so the
notifier can hold back what it queued and the event webhooks queue what they tell.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app import events
from app.accounts.members import get_member
from app.consent.errors import ChannelNotOffered, NotEarned, WordingChanged
from app.consent.models import ConsentEvent, ConsentState, ConsentSubject
from app.consent.scopes import Scope, wording_hash
from app.extensions import db
from app.rewards.entitlements import holds
from app.rewards.models import Entitlement

GRANT, REVOKE = "grant", "revoke"
STATE_KEY = ("member_id", "scope", "channel")
MAX_SOURCE, MAX_PAGE = 64, 300


@dataclass(frozen=True)
class ConsentGranted(events.Event):
    """The member said yes to ``scope`` on ``channel``: a grant was appended to the ledger
    (``receipt`` is its receipt id). Handlers run in the grant's transaction."""

    name = "consent-granted"
    member_id: int
    scope: str
    channel: str
    source: str
    receipt: str
    at: datetime


@dataclass(frozen=True)
class ConsentRevoked(events.Event):
    """The member said no to ``scope`` on ``channel`` (any source). Handlers run in the
    revoke's transaction."""

    name = "consent-revoked"
    member_id: int
    scope: str
    channel: str
    source: str
    at: datetime


@dataclass(frozen=True)
class Client:
    """The browser an event came from; only a salted hash of it is stored."""

    ip: str
    user_agent: str


@dataclass(frozen=True)
class Origin:
    """Where the wording was shown: ``source`` (``form:<id>``, ``preferences``,
    ``unsubscribe-link``, ``why-page``, ``inbox``, ``admin``, ``expiry``, ``deletion`` …),
    the page's path, and the browser. ``typed`` is what the member typed when the event came
    from a keyword they texted (``STOP``, ``start`` …), exactly as it arrived."""

    source: str
    page: str | None = None
    client: Client | None = None
    typed: str | None = None


# --- subjects -------------------------------------------------------------------------------


def _insert(model: type[ConsentSubject]) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(model) if db.dialect == "postgresql" else sqlite.insert(model)


def subject_for(member_id: int, now: datetime) -> ConsentSubject:
    """The member's subject row, created on first use, and locked for this transaction on
    PostgreSQL so that one member's events are appended one at a time."""
    db.session.execute(
        _insert(ConsentSubject)
        .values(member_id=member_id, salt=secrets.token_hex(16), created_at=now)
        .on_conflict_do_nothing(index_elements=["member_id"])
    )
    subject = db.session.scalars(
        select(ConsentSubject)
        .where(ConsentSubject.member_id == member_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return subject


def client_hash(subject: ConsentSubject, client: Client | None) -> str | None:
    if client is None or subject.salt is None:
        return None
    message = f"{client.ip}\n{client.user_agent}".encode()
    return hmac.new(subject.salt.encode(), message, hashlib.sha256).hexdigest()


# --- appending ------------------------------------------------------------------------------


def _state(member_id: int, scope: str, channel: str) -> ConsentState | None:
    return db.session.get(ConsentState, (member_id, scope, channel), populate_existing=True)


def _append(
    member_id: int,
    scope: str,
    channel: str,
    action: str,
    wording: str,
    version: int,
    origin: Origin,
    now: datetime,
) -> ConsentEvent:
    subject = subject_for(member_id, now)
    event = ConsentEvent(
        receipt=secrets.token_urlsafe(12),
        subject_id=subject.id,
        scope=scope,
        channel=channel,
        action=action,
        at=now,
        source=origin.source[:MAX_SOURCE],
        page=origin.page[:MAX_PAGE] if origin.page else None,
        wording=wording,
        wording_version=version,
        wording_hash=wording_hash(wording),
        client_hash=client_hash(subject, origin.client),
        typed=origin.typed,
    )
    db.session.add(event)
    db.session.flush()
    values = {
        "member_id": member_id,
        "scope": scope,
        "channel": channel,
        "granted": action == GRANT,
        "wording_version": version,
        "wording_hash": event.wording_hash,
        "granted_at": now if action == GRANT else None,
        "changed_at": now,
        "event_id": event.id,
    }
    insert = (
        postgresql.insert(ConsentState)
        if db.dialect == "postgresql"
        else sqlite.insert(ConsentState)
    )
    statement = insert.values(**values)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["member_id", "scope", "channel"],
            set_={
                k: statement.excluded[k]
                for k in values
                if k not in ("member_id", "scope", "channel")
            },
            where=ConsentState.event_id < statement.excluded.event_id,
        )
    )
    cached = db.session.identity_map.get(
        db.session.identity_key(ConsentState, (member_id, scope, channel))
    )
    if cached is not None:
        db.session.expire(cached)
    if action == GRANT:
        events.emit(
            ConsentGranted(
                member_id=member_id,
                scope=scope,
                channel=channel,
                source=event.source,
                receipt=event.receipt,
                at=now,
            )
        )
    return event


def grant_consent(
    member_id: int, scope: Scope, channel: str, wording: str, origin: Origin, now: datetime
) -> ConsentEvent | None:
    """Record that the member said yes to ``scope`` on ``channel`` after being shown
    ``wording`` (:attr:`Scope.wording`: the consent text and the cadence terms). Returns the
    new event, or None when a grant to the current words already stands (nothing is written).

    Raises :class:`ChannelNotOffered`, :class:`NotEarned` (the member does not hold
    ``scope:<slug>``, or is not an active member) or :class:`WordingChanged` (``wording`` is
    not the scope's current consent text); the ledger is unchanged when it raises.
    """
    if channel not in scope.channels:
        raise ChannelNotOffered(f"{scope.title} is not offered by {channel}.")
    member = get_member(member_id)
    if member is None or not member.is_active or not holds(member_id, scope.reward):
        raise NotEarned(f"{scope.title} is offered to members who earned it.")
    if wording != scope.wording_for(channel):
        raise WordingChanged(
            "The wording of this permission changed. Read it again, then "
            "say yes if you still want it."
        )
    state = _state(member_id, scope.slug, channel)
    if (
        state is not None
        and state.granted
        and state.wording_version == scope.consent_version
        and state.wording_hash == scope.wording_hash_for(channel)
    ):
        return None
    return _append(
        member_id, scope.slug, channel, GRANT, wording, scope.consent_version, origin, now
    )


@dataclass(frozen=True)
class ImportedGrant:
    """Evidence that a member said yes in another tool: the exact words they agreed to, when,
    and where (a page, a form, an IP)."""

    member_id: int
    wording: str
    agreed_at: datetime
    where: str


def import_consents(
    grants: Sequence[ImportedGrant], scope: Scope, channel: str, source: str, now: datetime
) -> int:
    """Append a grant of ``scope`` on ``channel`` for each of ``grants`` (the importer's bulk
    path: a few statements for a whole batch), and emit :class:`ConsentGranted` for each.
    Each event keeps the evidence's exact wording, its time (``at``) and place (``page``);
    ``source`` names the import (``import:<run>``). A grant to other words than the scope's
    current ones is stale, and the gate asks the member again, as for any grant to old words.
    Returns how many events were appended.

    Raises :class:`ChannelNotOffered`, :class:`NotEarned` (a member does not hold
    ``scope:<slug>``) or :class:`ValueError` (blank wording or place, or evidence dated after
    ``now``); nothing is written when it raises.
    """
    if not grants:
        return 0
    if channel not in scope.channels:
        raise ChannelNotOffered(f"{scope.title} is not offered by {channel}.")
    for grant in grants:
        if not grant.wording.strip() or not grant.where.strip():
            raise ValueError("imported consent needs the wording and where it was given")
        if grant.agreed_at > now:
            raise ValueError("imported consent cannot have been given in the future")
    ids = {grant.member_id for grant in grants}
    earned = set(
        db.session.scalars(
            select(Entitlement.member_id).where(
                Entitlement.reward == scope.reward, Entitlement.member_id.in_(ids)
            )
        )
    )
    if earned != ids:
        raise NotEarned(f"{scope.title} is offered to members who earned it.")
    db.session.execute(
        _insert(ConsentSubject).on_conflict_do_nothing(index_elements=["member_id"]),
        [{"member_id": m, "salt": secrets.token_hex(16), "created_at": now} for m in ids],
    )
    subjects = dict(
        db.session.execute(
            select(ConsentSubject.member_id, ConsentSubject.id)
            .where(ConsentSubject.member_id.in_(ids))
            .with_for_update()
        ).all()
    )
    receipts = [secrets.token_urlsafe(12) for _ in grants]
    hashes = [wording_hash(grant.wording) for grant in grants]
    shown_source = source[:MAX_SOURCE]
    rows = [
        {
            "receipt": receipt,
            "subject_id": subjects[grant.member_id],
            "scope": scope.slug,
            "channel": channel,
            "action": GRANT,
            "at": grant.agreed_at,
            "source": shown_source,
            "page": grant.where[:MAX_PAGE],
            "wording": grant.wording,
            "wording_version": scope.consent_version,
            "wording_hash": hashed,
        }
        for grant, receipt, hashed in zip(grants, receipts, hashes, strict=True)
    ]
    event_ids: dict[str, int] = dict(
        db.session.execute(
            insert(ConsentEvent).returning(ConsentEvent.receipt, ConsentEvent.id), rows
        ).all()
    )
    states = [
        {
            "member_id": grant.member_id,
            "scope": scope.slug,
            "channel": channel,
            "granted": True,
            "wording_version": scope.consent_version,
            "wording_hash": hashed,
            "granted_at": grant.agreed_at,
            "changed_at": grant.agreed_at,
            "event_id": event_ids[receipt],
        }
        for grant, receipt, hashed in zip(grants, receipts, hashes, strict=True)
    ]
    statement = (
        postgresql.insert(ConsentState)
        if db.dialect == "postgresql"
        else sqlite.insert(ConsentState)
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["member_id", "scope", "channel"],
            set_={k: statement.excluded[k] for k in states[0] if k not in STATE_KEY},
            where=ConsentState.event_id < statement.excluded.event_id,
        ),
        states,
    )
    for grant, receipt in zip(grants, receipts, strict=True):
        cached = db.session.identity_map.get(
            db.session.identity_key(ConsentState, (grant.member_id, scope.slug, channel))
        )
        if cached is not None:
            db.session.expire(cached)
        events.emit(
            ConsentGranted(
                member_id=grant.member_id,
                scope=scope.slug,
                channel=channel,
                source=shown_source,
                receipt=receipt,
                at=grant.agreed_at,
            )
        )
    return len(rows)


def revoke_consent(
    member_id: int,
    scope: str,
    channel: str,
    origin: Origin,
    now: datetime,
    *,
    wording: str,
    version: int | None = None,
) -> ConsentEvent | None:
    """Record that the member said no. Always allowed, whatever the scope or entitlement;
    returns None (and writes nothing) when no grant stands for (member, scope, channel).

    ``wording`` is exactly what the control the member used showed, as the view rendered it
    with :mod:`app.consent.words` (or, for a revoke nobody made, the sentence saying so); the
    ledger never makes words up. Raises :class:`ValueError` for blank words."""
    if not wording.strip():
        raise ValueError("a revoke records the words of the control that made it")
    state = _state(member_id, scope, channel)
    if state is None or not state.granted:
        return None
    event = _append(
        member_id,
        scope,
        channel,
        REVOKE,
        wording,
        version if version is not None else state.wording_version,
        origin,
        now,
    )
    events.emit(
        ConsentRevoked(
            member_id=member_id, scope=scope, channel=channel, source=event.source, at=now
        )
    )
    return event


# --- reading --------------------------------------------------------------------------------


def states_of(member_id: int) -> dict[tuple[str, str], ConsentState]:
    """The current state of each (scope, channel) the member ever answered."""
    rows = db.session.scalars(select(ConsentState).where(ConsentState.member_id == member_id))
    return {(row.scope, row.channel): row for row in rows}


def history(member_id: int) -> list[ConsentEvent]:
    """Every event about the member, newest first."""
    return list(
        db.session.scalars(
            select(ConsentEvent)
            .join(ConsentSubject, ConsentSubject.id == ConsentEvent.subject_id)
            .where(ConsentSubject.member_id == member_id)
            .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc())
        )
    )


def find_receipt(member_id: int, receipt: str) -> ConsentEvent | None:
    """The member's event with this receipt id; None for another member's or an unknown one."""
    if not receipt or len(receipt) > 32:
        return None
    return db.session.scalar(
        select(ConsentEvent)
        .join(ConsentSubject, ConsentSubject.id == ConsentEvent.subject_id)
        .where(ConsentSubject.member_id == member_id, ConsentEvent.receipt == receipt)
    )


def event_in_force(member_id: int, scope: str, channel: str, at: datetime) -> ConsentEvent | None:
    """The latest event for (member, scope, channel) at or before ``at``."""
    return db.session.scalar(
        select(ConsentEvent)
        .join(ConsentSubject, ConsentSubject.id == ConsentEvent.subject_id)
        .where(
            ConsentSubject.member_id == member_id,
            ConsentEvent.scope == scope,
            ConsentEvent.channel == channel,
            ConsentEvent.at <= at,
        )
        .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc())
        .limit(1)
    )


def pseudonymise(member_id: int, now: datetime) -> None:
    """Cut the ledger's link to a member who is being deleted: the subject loses its member
    and its salt. No event row is touched."""
    db.session.execute(
        update(ConsentSubject)
        .where(ConsentSubject.member_id == member_id)
        .values(member_id=None, salt=None, pseudonymised_at=now)
    )
