"""Event webhook endpoints, and the events queued for them.

An admin registers an endpoint (an https URL checked by the rules of members' webhooks, see
:mod:`app.outbound.client`) with the events it wants, every event or a list. It gets a
Standard Webhooks secret (``whsec_…``) that the admin sees on its page and can rotate: the
secret it replaces still signs every message, beside the new one, for
:data:`PREVIOUS_SECRET_LIFETIME`, so the receiver can switch without losing a message.

:func:`queue_event` runs in the transaction of the event's cause (the handlers in
:mod:`app.api.hooks_wiring` call it): one ``event_deliveries`` row per active endpoint that
wants the event, holding the message's body, so what commits is sent and what rolls back never
is. The worker sends them (:mod:`app.api.hooks_delivery`). Functions flush; the caller commits.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app import clock
from app.api.hook_models import EventDelivery, EventEndpoint
from app.api.hooks_errors import EndpointTaken, NotReplayable, TooManyEndpoints
from app.api.hooks_terms import EVENTS, EventType, HookState
from app.extensions import db
from app.outbound import client
from app.outbound.signing import message_body, new_secret

MAX_ENDPOINTS = 20
MAX_DESCRIPTION = 200
PREVIOUS_SECRET_LIFETIME = timedelta(hours=24)
PAGE_SIZE = 50
MAX_PAGE = 100_000


def new_message_id() -> str:
    """A message id (``msg_`` and 24 random URL-safe characters): the ``webhook-id`` header,
    the same on every attempt and replay of the message."""
    return "msg_" + secrets.token_urlsafe(18)


# --- endpoints ------------------------------------------------------------------------------


def endpoints() -> list[EventEndpoint]:
    """Every endpoint, the oldest first."""
    return list(
        db.session.scalars(
            select(EventEndpoint).order_by(EventEndpoint.created_at, EventEndpoint.id)
        )
    )


def get_endpoint(endpoint_id: int) -> EventEndpoint | None:
    return db.session.get(EventEndpoint, endpoint_id)


def counts_by_state() -> dict[int, dict[HookState, int]]:
    """How many deliveries each endpoint has in each state (in the kept log)."""
    found: dict[int, dict[HookState, int]] = {}
    rows = db.session.execute(
        select(EventDelivery.endpoint_id, EventDelivery.state, func.count()).group_by(
            EventDelivery.endpoint_id, EventDelivery.state
        )
    )
    for endpoint_id, state, count in rows:
        found.setdefault(endpoint_id, {})[HookState(state)] = count
    return found


def events_text(chosen: Iterable[EventType | str] | None) -> str | None:
    """``chosen`` as the ``events`` column keeps it (None for every event). Raises
    :class:`ValueError` for an empty choice or a word that is not an event."""
    if chosen is None:
        return None
    words = {EventType(word) for word in chosen}
    if not words or EventType.ENDPOINT_TEST in words:
        raise ValueError("Choose at least one event.")
    return ",".join(t.value for t in EVENTS if t in words)


def add_endpoint(
    url: str,
    description: str,
    chosen: Iterable[EventType | str] | None,
    by: int | None,
    now: datetime,
    *,
    allow_loopback: bool = False,
    resolve: client.Resolver = client.system_resolver,
) -> EventEndpoint:
    """Register an endpoint with a new secret after checking its address. Raises
    :class:`~app.outbound.errors.UnsafeWebhookURL`, :class:`TooManyEndpoints` or
    :class:`EndpointTaken`; nothing is written when it raises."""
    target = client.check_url(url.strip(), allow_loopback=allow_loopback, resolve=resolve)
    count = db.session.scalar(select(func.count()).select_from(EventEndpoint)) or 0
    if count >= MAX_ENDPOINTS:
        raise TooManyEndpoints(
            f"At most {MAX_ENDPOINTS} endpoints can be registered. Delete one first."
        )
    endpoint = EventEndpoint(
        url=target.url,
        description=description.strip()[:MAX_DESCRIPTION],
        events=events_text(chosen),
        secret=new_secret(),
        created_at=now,
        created_by=by,
    )
    try:
        with db.session.begin_nested():
            db.session.add(endpoint)
    except IntegrityError:
        raise EndpointTaken("This address is registered already.") from None
    _endpoints_changed()
    return endpoint


def change_endpoint(
    endpoint: EventEndpoint, description: str, chosen: Iterable[EventType | str] | None
) -> None:
    """Change what the endpoint is for and which events it gets (from the next event on)."""
    endpoint.description = description.strip()[:MAX_DESCRIPTION]
    endpoint.events = events_text(chosen)
    db.session.flush()
    _endpoints_changed()


def rotate_secret(endpoint: EventEndpoint, now: datetime) -> None:
    """Give the endpoint a new secret; the old one keeps signing beside it for a day."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + PREVIOUS_SECRET_LIFETIME
    endpoint.secret = new_secret()
    db.session.flush()


def signing_secrets(endpoint: EventEndpoint, now: datetime) -> list[str]:
    """The secrets a message to the endpoint is signed with now: its own, and the one it
    replaced while that still counts."""
    found = [endpoint.secret]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and now < until:
        found.append(endpoint.previous_secret)
    return found


def disable_endpoint(endpoint: EventEndpoint, reason: str, now: datetime) -> None:
    """Stop queueing and sending to the endpoint; what waits for it stays waiting, and goes
    when it is enabled again. ``reason`` is shown on its page."""
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason[:200]
    db.session.flush()
    _endpoints_changed()


def enable_endpoint(endpoint: EventEndpoint) -> None:
    """Queue and send to the endpoint again, starting with what waited for it."""
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    endpoint.failing_since = None
    db.session.flush()
    _endpoints_changed()


def delete_endpoint(endpoint: EventEndpoint) -> None:
    """Forget the endpoint and its delivery log."""
    db.session.delete(endpoint)
    db.session.flush()
    _endpoints_changed()


# --- events ---------------------------------------------------------------------------------


ENDPOINTS_CACHE = "pullfirst.active_event_endpoints"


def _active_endpoints() -> list[tuple[int, frozenset[EventType] | None]]:
    """The active endpoints and the events each wants, read once per transaction: an import
    emits two events per row, and each would otherwise read the endpoints again."""
    transaction = db.session.get_transaction()
    cached = db.session.info.get(ENDPOINTS_CACHE)
    if cached is not None and transaction is not None and cached[0] is transaction:
        found: list[tuple[int, frozenset[EventType] | None]] = cached[1]
        return found
    found = [
        (endpoint.id, None if endpoint.event_types is None else frozenset(endpoint.event_types))
        for endpoint in db.session.scalars(
            select(EventEndpoint).where(EventEndpoint.disabled_at.is_(None))
        )
    ]
    db.session.info[ENDPOINTS_CACHE] = (db.session.get_transaction(), found)
    return found


def _endpoints_changed() -> None:
    db.session.info.pop(ENDPOINTS_CACHE, None)


def queue_event(
    event_type: EventType,
    member_id: int | None,
    data: Callable[[], dict[str, Any]],
    at: datetime,
) -> int:
    """Queue the event for every active endpoint that wants it, in the current transaction;
    returns how many. ``data()`` is called only when some endpoint wants the event, once: the
    message (``{"type", "timestamp", "data"}``) is the same for every endpoint, and so is its
    message id."""
    wanting = [
        endpoint_id
        for endpoint_id, chosen in _active_endpoints()
        if chosen is None or event_type in chosen
    ]
    if not wanting:
        return 0
    body = message_body(event_type.value, data(), at).decode()
    message_id, now = new_message_id(), clock.now()
    db.session.add_all(
        EventDelivery(
            endpoint_id=endpoint_id,
            event_type=event_type,
            message_id=message_id,
            member_id=member_id,
            payload=body,
            state=HookState.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint_id in wanting
    )
    db.session.flush()
    return len(wanting)


def replay(endpoint_id: int, delivery_id: int, now: datetime) -> EventDelivery:
    """Queue the delivery again, due now: a new row with the same body and message id (so a
    receiver that has it already can tell), marked as a replay of it. Raises
    :class:`NotReplayable` when the delivery is not the endpoint's."""
    original = db.session.get(EventDelivery, delivery_id)
    if original is None or original.endpoint_id != endpoint_id:
        raise NotReplayable("There is no such delivery to this endpoint.")
    again = EventDelivery(
        endpoint_id=endpoint_id,
        event_type=original.event_type,
        message_id=original.message_id,
        member_id=original.member_id,
        payload=original.payload,
        state=HookState.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        replay_of=original.id,
    )
    db.session.add(again)
    db.session.flush()
    return again


# --- the log --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogPage:
    """One page of an endpoint's delivery log, the latest first."""

    deliveries: list[EventDelivery]
    page: int
    pages: int
    total: int


def delivery_log(endpoint_id: int, page: int = 1) -> LogPage:
    total = (
        db.session.scalar(
            select(func.count())
            .select_from(EventDelivery)
            .where(EventDelivery.endpoint_id == endpoint_id)
        )
        or 0
    )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages, MAX_PAGE)
    deliveries = list(
        db.session.scalars(
            select(EventDelivery)
            .where(EventDelivery.endpoint_id == endpoint_id)
            .order_by(EventDelivery.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    return LogPage(deliveries, page, pages, total)


# --- members --------------------------------------------------------------------------------


def forget_member(member_id: int) -> None:
    """A member is being deleted: drop the log of what was sent about them. What still waits
    (the revokes their deletion just queued among it) is sent, then leaves the log with
    age (:data:`app.api.hooks_delivery.KEEP_LOG`)."""
    db.session.execute(
        delete(EventDelivery).where(
            EventDelivery.member_id == member_id, EventDelivery.state != HookState.PENDING
        )
    )


def export_deliveries(member_id: int) -> list[dict[str, Any]]:
    """What the event webhooks told other systems about the member, for their data export."""
    rows = db.session.scalars(
        select(EventDelivery).where(EventDelivery.member_id == member_id).order_by(EventDelivery.id)
    )
    return [
        {
            "event": str(row.event_type),
            "message_id": row.message_id,
            "state": str(row.state),
            "created_at": row.created_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        }
        for row in rows
    ]
