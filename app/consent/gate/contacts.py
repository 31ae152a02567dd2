"""The contact history: what was sent to whom, and how they responded. The gate's ``cap``,
``paused``, ``expired`` and ``suppressed`` checks read it.

The notifier calls these functions; they flush into its session and it commits:

- :func:`record_contact` when a campaign's message was delivered to a member;
- :func:`record_engagement` when the member clicked a tracked link, read the message in the
  inbox, replied, or pressed "useful";
- :func:`not_for_me` when the member pressed "not for me" (pauses that scope for them until
  they engage again or resume it on their permissions page);
- :func:`record_suppression` after a hard bounce or complaint (email) or a permanently failing
  webhook endpoint.

A campaign counts once per member whatever the number of channels it went out on: engaging
with it on any channel marks all of its deliveries to that member as engaged.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import Executable

from app.accounts.members import email_key
from app.consent.models import Contact, ScopePause, Suppression, WebhookEndpoint
from app.consent.scopes import CHANNELS
from app.consent.terms import GATED_KINDS, SuppressionReason
from app.extensions import db

ENGAGEMENTS = ("click", "read", "reply", "useful")


def _insert(model: type) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(model) if db.dialect == "postgresql" else sqlite.insert(model)


@cache
def _contact_statements(dialect: str) -> tuple[Executable, Executable]:
    """The two statements of :func:`record_contact`, built once per dialect."""
    engaged = select(func.min(Contact.engaged_at), func.max(Contact.last_engaged_at)).where(
        Contact.member_id == bindparam("m"), Contact.campaign == bindparam("c")
    )
    insert = postgresql.insert(Contact) if dialect == "postgresql" else sqlite.insert(Contact)
    return engaged, insert.on_conflict_do_nothing(index_elements=["ref"]).returning(Contact.id)


def record_contact(
    member_id: int,
    scope: str,
    channel: str,
    *,
    campaign: str,
    kind: str,
    ref: str,
    sent_at: datetime,
) -> bool:
    """Record that delivery ``ref`` (unique, for example the outbox row's id or the email's
    Message-ID) of ``campaign`` on ``scope`` reached ``member_id`` on ``channel``.

    Idempotent on ``ref``: returns False when it was already recorded. Raises ``ValueError``
    for an unknown channel or kind, or a value too long to store.
    """
    if channel not in CHANNELS or kind not in GATED_KINDS:
        raise ValueError(f"unknown channel {channel!r} or kind {kind!r}")
    if not ref or len(ref) > 128 or not campaign or len(campaign) > 64 or len(scope) > 64:
        raise ValueError("ref, campaign or scope is empty or too long")
    engaged_query, insert_query = _contact_statements(db.dialect)
    connection = db.session.connection()
    engaged = connection.execute(engaged_query, {"m": member_id, "c": campaign}).one()
    added = connection.scalar(
        insert_query,
        {
            "member_id": member_id,
            "scope": scope,
            "channel": channel,
            "campaign": campaign,
            "kind": kind,
            "ref": ref,
            "sent_at": sent_at,
            "engaged_at": engaged[0],
            "last_engaged_at": engaged[1],
        },
    )
    return added is not None


def record_engagement(ref: str, at: datetime, how: str) -> bool:
    """Record that the member engaged with delivery ``ref`` (``how``: click, read, reply or
    useful). Marks every delivery of that campaign to the member as engaged, and lifts a "not
    for me" said on its scope before ``at``. Returns False for an unknown ``ref``; raises
    ``ValueError`` for an unknown ``how``."""
    if how not in ENGAGEMENTS:
        raise ValueError(f"unknown engagement {how!r}")
    contact = db.session.scalar(select(Contact).where(Contact.ref == ref))
    if contact is None:
        return False
    siblings = (Contact.member_id == contact.member_id, Contact.campaign == contact.campaign)
    db.session.execute(
        update(Contact)
        .where(*siblings)
        .values(
            engaged_at=case((Contact.engaged_at < at, Contact.engaged_at), else_=at),
            last_engaged_at=case((Contact.last_engaged_at > at, Contact.last_engaged_at), else_=at),
            engaged_how=how,
        )
        .execution_options(synchronize_session="fetch")
    )
    db.session.execute(
        update(ScopePause)
        .where(
            ScopePause.member_id == contact.member_id,
            ScopePause.scope == contact.scope,
            ScopePause.not_for_me_at <= at,
        )
        .values(not_for_me_at=None)
        .execution_options(synchronize_session="fetch")
    )
    return True


def _upsert_pause(member_id: int, scope: str, **values: datetime | None) -> None:
    statement = _insert(ScopePause).values(member_id=member_id, scope=scope, **values)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["member_id", "scope"], set_=values
        ).execution_options(synchronize_session=False)
    )
    cached = db.session.identity_map.get(db.session.identity_key(ScopePause, (member_id, scope)))
    if cached is not None:
        db.session.expire(cached)


def not_for_me(member_id: int, scope: str, at: datetime) -> None:
    """The member said "not for me" about a message on ``scope``: the gate pauses the scope
    for them (reason ``paused``) until they engage with it again or resume it."""
    _upsert_pause(member_id, scope, not_for_me_at=at)


def resume_scope(member_id: int, scope: str, at: datetime) -> None:
    """The member asked to hear about ``scope`` again: lifts "not for me", and deliveries
    ignored before ``at`` no longer count towards ``pause_after_ignored``."""
    _upsert_pause(member_id, scope, not_for_me_at=None, resumed_at=at)


def pauses_of(member_id: int) -> dict[str, ScopePause]:
    return {
        row.scope: row
        for row in db.session.scalars(select(ScopePause).where(ScopePause.member_id == member_id))
    }


def record_suppression(target: str, reason: str, at: datetime) -> int:
    """Stop gated messages to ``target``: an email address (hard bounce, complaint) or a
    webhook endpoint URL (every endpoint with that URL is disabled). Returns how many
    addresses or endpoints were affected. Raises ``ValueError`` for an unknown reason."""
    if reason not in frozenset(SuppressionReason):
        raise ValueError(f"unknown suppression reason {reason!r}")
    if target.startswith(("https://", "http://")):
        result = db.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.url == target, WebhookEndpoint.disabled_at.is_(None))
            .values(disabled_at=at, disabled_reason=reason)
            .execution_options(synchronize_session="fetch")
        )
        return int(getattr(result, "rowcount", 0) or 0)
    key = email_key(target)
    statement = _insert(Suppression).values(address_key=key, reason=reason, at=at)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["address_key"], set_={"reason": reason, "at": at}
        )
    )
    return 1


def lift_suppression(address: str) -> None:
    """Forget a suppression, when the person proved again that the address reads mail."""
    db.session.execute(delete(Suppression).where(Suppression.address_key == email_key(address)))


def is_suppressed(address: str) -> bool:
    return (
        db.session.scalar(
            select(Suppression.id).where(Suppression.address_key == email_key(address))
        )
        is not None
    )


def last_messages(member_id: int) -> dict[tuple[str, str], datetime]:
    """When the member last got a message, per (scope, channel)."""
    rows = db.session.execute(
        select(Contact.scope, Contact.channel, func.max(Contact.sent_at))
        .where(Contact.member_id == member_id)
        .group_by(Contact.scope, Contact.channel)
    )
    return {(scope, channel): sent for scope, channel, sent in rows}


def contacts_of(member_id: int, limit: int = 200) -> list[Contact]:
    """The member's most recent deliveries, newest first."""
    return list(
        db.session.scalars(
            select(Contact)
            .where(Contact.member_id == member_id)
            .order_by(Contact.sent_at.desc(), Contact.id.desc())
            .limit(limit)
        )
    )
