"""Sending the queued events: a prompt chore of the notifier's worker (whenever it finds its
queue empty, every ``NOTIFY_POLL_SECONDS``, and on every tick, at most 30 seconds apart while it
is busy with a campaign), and the admin's "Send a test event".

Each tick claims up to :data:`BATCH` due deliveries, oldest due first and at most
:data:`PER_ENDPOINT` of one endpoint, by moving their due time a lease ahead and counting the
attempt (a conditional ``UPDATE … RETURNING``, so two workers on PostgreSQL never take the same
row; SQLite's one write lock orders them), and commits. Then, one by one and with no
transaction open across the network call, it signs each message (Standard Webhooks, with the
endpoint's secrets and the row's message id) and POSTs it through :mod:`app.outbound.client`:
the address is checked again after DNS resolution and the connection pinned to the checked
address, redirects are not followed, and the deadline is ten seconds.

- A 2xx answer: ``sent``.
- 410 Gone: ``failed``, and the endpoint is disabled with the reason shown to the admin.
- Anything else (another status, no answer, an address that now leads somewhere private):
  tried again after :data:`SCHEDULE` (Standard Webhooks' schedule: 5 seconds, 5 minutes,
  30 minutes, 2, 5, 10 and 10 hours), then ``failed``. An endpoint whose every attempt failed
  for :data:`DISABLE_AFTER` is disabled, with the reason shown to the admin.

One slow or failing endpoint cannot hold the worker: after one failure in a tick its other
claimed rows go back untouched (their attempt returned) until the next tick, and a tick stops
sending after :data:`TICK_BUDGET_SECONDS` and gives back the rest. Finished rows leave the log
:data:`KEEP_LOG` after they finished.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from app import clock
from app.api.hook_models import EventDelivery, EventEndpoint
from app.api.hooks import disable_endpoint, new_message_id, signing_secrets
from app.api.hooks_payloads import endpoint_test
from app.api.hooks_terms import EventType, HookState
from app.extensions import db
from app.outbound import client
from app.outbound.errors import UnsafeWebhookURL, WebhookFailed
from app.outbound.signing import message_body, sign, signature_headers

#: The waits after the 1st, 2nd … 7th failed attempt; the 8th failure is final.
SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(SCHEDULE) + 1
BATCH = 50
PER_ENDPOINT = 10
TICK_BUDGET_SECONDS = 20.0
LEASE = timedelta(minutes=2)
DISABLE_AFTER = timedelta(days=5)
KEEP_LOG = timedelta(days=30)
MAX_SNIPPET = 120


@dataclass(frozen=True)
class Attempt:
    """What one attempt sends, read before the network call."""

    delivery_id: int
    endpoint_id: int
    url: str
    secrets: tuple[str, ...]
    message_id: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What the endpoint did with one attempt: ``status`` is None when it gave no answer."""

    ok: bool
    status: int | None
    error: str | None


# --- the chore ------------------------------------------------------------------------------


def deliver_due(
    now: datetime,
    *,
    allow_loopback: bool = False,
    resolve: client.Resolver = client.system_resolver,
    batch: int = BATCH,
    budget: float = TICK_BUDGET_SECONDS,
) -> Counter[str]:
    """Send what is due at ``now`` (see the module); returns what happened to each claimed
    delivery. Commits its own work."""
    started = time.monotonic()
    done: Counter[str] = Counter()
    ids = claim(now, batch)
    troubled: set[int] = set()
    for index, delivery_id in enumerate(ids):
        if time.monotonic() - started > budget:
            release(ids[index:], now)
            done["released"] += len(ids) - index
            break
        attempt = read_attempt(delivery_id)
        if attempt is None:
            done["gone"] += 1
            continue
        if attempt.endpoint_id in troubled:
            release([delivery_id], now)
            done["released"] += 1
            continue
        outcome = send(attempt, allow_loopback=allow_loopback, resolve=resolve)
        done[record(attempt, outcome, clock.now())] += 1
        if not outcome.ok:
            troubled.add(attempt.endpoint_id)
    prune(now)
    db.session.commit()
    return done


def claim(now: datetime, batch: int = BATCH) -> list[int]:
    """Lease up to ``batch`` due deliveries of enabled endpoints (at most
    :data:`PER_ENDPOINT` each), counting the attempt, and commit. Returns their ids, oldest
    due first."""
    candidates = db.session.execute(
        select(EventDelivery.id, EventDelivery.endpoint_id)
        .join(EventEndpoint, EventEndpoint.id == EventDelivery.endpoint_id)
        .where(
            EventDelivery.state == HookState.PENDING,
            EventDelivery.next_attempt_at <= now,
            EventEndpoint.disabled_at.is_(None),
        )
        .order_by(EventDelivery.next_attempt_at, EventDelivery.id)
        .limit(batch * 4)
    ).all()
    per_endpoint: Counter[int] = Counter()
    chosen: list[int] = []
    for delivery_id, endpoint_id in candidates:
        if len(chosen) < batch and per_endpoint[endpoint_id] < PER_ENDPOINT:
            chosen.append(delivery_id)
            per_endpoint[endpoint_id] += 1
    if not chosen:
        db.session.commit()
        return []
    taken = set(
        db.session.scalars(
            update(EventDelivery)
            .where(
                EventDelivery.id.in_(chosen),
                EventDelivery.state == HookState.PENDING,
                EventDelivery.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + LEASE, attempts=EventDelivery.attempts + 1)
            .returning(EventDelivery.id)
            .execution_options(synchronize_session=False)
        ).all()
    )
    db.session.commit()
    return [delivery_id for delivery_id in chosen if delivery_id in taken]


def release(ids: list[int], now: datetime) -> None:
    """Give claimed deliveries back untouched: due at ``now``, their attempt returned."""
    db.session.execute(
        update(EventDelivery)
        .where(EventDelivery.id.in_(ids), EventDelivery.state == HookState.PENDING)
        .values(next_attempt_at=now, attempts=EventDelivery.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def prune(now: datetime) -> None:
    """Drop deliveries that finished more than :data:`KEEP_LOG` ago from the log."""
    db.session.execute(delete(EventDelivery).where(EventDelivery.finished_at < now - KEEP_LOG))


# --- one attempt ----------------------------------------------------------------------------


def read_attempt(delivery_id: int) -> Attempt | None:
    """What the claimed delivery sends, or None when it is gone (its endpoint was deleted) or
    finished. Ends the transaction, so none is open across the send."""
    row = db.session.execute(
        select(EventDelivery, EventEndpoint)
        .join(EventEndpoint, EventEndpoint.id == EventDelivery.endpoint_id)
        .where(EventDelivery.id == delivery_id, EventDelivery.state == HookState.PENDING)
        .execution_options(populate_existing=True)
    ).one_or_none()
    attempt = None
    if row is not None:
        delivery, endpoint = row
        attempt = Attempt(
            delivery_id=delivery.id,
            endpoint_id=endpoint.id,
            url=endpoint.url,
            secrets=tuple(signing_secrets(endpoint, clock.now())),
            message_id=delivery.message_id,
            body=delivery.payload.encode(),
        )
    db.session.commit()
    return attempt


def _snippet(body: bytes) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text[:MAX_SNIPPET] + ("…" if len(text) > MAX_SNIPPET else "")


def send(
    attempt: Attempt,
    *,
    allow_loopback: bool = False,
    resolve: client.Resolver = client.system_resolver,
) -> Outcome:
    """Sign and POST the message once. Never raises for what the endpoint does."""
    stamp = int(clock.now().timestamp())
    headers = signature_headers(attempt.secrets[0], attempt.message_id, stamp, attempt.body)
    if len(attempt.secrets) > 1:
        headers["webhook-signature"] = " ".join(
            sign(secret, attempt.message_id, stamp, attempt.body) for secret in attempt.secrets
        )
    try:
        result = client.post(
            attempt.url, attempt.body, headers, allow_loopback=allow_loopback, resolve=resolve
        )
    except UnsafeWebhookURL as exc:
        return Outcome(False, None, f"Not sent: {exc}")
    except WebhookFailed as exc:
        return Outcome(False, None, str(exc))
    if result.ok:
        return Outcome(True, result.status, None)
    said = _snippet(result.body)
    if 300 <= result.status < 400:
        error = f"Answered {result.status}; redirects are not followed."
    else:
        error = f"Answered {result.status}" + (f": {said}" if said else ".")
    return Outcome(False, result.status, error[:300])


def record(attempt: Attempt, outcome: Outcome, now: datetime) -> str:
    """Record what came of the attempt (see the module) and commit. Returns ``sent``,
    ``retry``, ``failed``, ``gone`` (410: the endpoint is disabled) or ``lost`` (the row
    went while it was sent)."""
    delivery = db.session.get(EventDelivery, attempt.delivery_id, populate_existing=True)
    endpoint = db.session.get(EventEndpoint, attempt.endpoint_id, populate_existing=True)
    if delivery is None or endpoint is None or delivery.state != HookState.PENDING:
        db.session.commit()
        return "lost"
    delivery.last_status = outcome.status
    delivery.last_error = outcome.error
    if outcome.ok:
        delivery.state, delivery.sent_at, delivery.finished_at = HookState.SENT, now, now
        endpoint.failing_since = None
        result = "sent"
    elif outcome.status == 410:
        delivery.state, delivery.finished_at = HookState.FAILED, now
        disable_endpoint(
            endpoint,
            f"It answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC: the receiver asked for "
            "nothing more.",
            now,
        )
        result = "gone"
    else:
        since = endpoint.failing_since = endpoint.failing_since or now
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.state, delivery.finished_at = HookState.FAILED, now
            result = "failed"
        else:
            delivery.next_attempt_at = now + SCHEDULE[max(delivery.attempts, 1) - 1]
            result = "retry"
        if endpoint.active and now - since >= DISABLE_AFTER:
            disable_endpoint(
                endpoint,
                f"Every attempt failed since {since:%Y-%m-%d %H:%M} UTC, for "
                f"{DISABLE_AFTER.days} days. Fix the receiver, then enable it: what waited "
                "goes then.",
                now,
            )
    db.session.commit()
    return result


# --- the admin's test -----------------------------------------------------------------------


def send_test(
    endpoint: EventEndpoint,
    by: str | None,
    now: datetime,
    *,
    allow_loopback: bool = False,
    resolve: client.Resolver = client.system_resolver,
) -> Outcome:
    """Send an ``endpoint.test`` message to the endpoint at once (enabled or not) and log it
    like any delivery: it is retried on the schedule when it fails. Commits; holds no
    transaction across the send."""
    body = message_body(EventType.ENDPOINT_TEST.value, endpoint_test(endpoint.id, by, now), now)
    delivery = EventDelivery(
        endpoint_id=endpoint.id,
        event_type=EventType.ENDPOINT_TEST,
        message_id=new_message_id(),
        payload=body.decode(),
        state=HookState.PENDING,
        attempts=1,
        next_attempt_at=now + LEASE,
        created_at=now,
    )
    db.session.add(delivery)
    db.session.commit()
    attempt = read_attempt(delivery.id)
    if attempt is None:
        return Outcome(False, None, "The endpoint was deleted meanwhile.")
    outcome = send(attempt, allow_loopback=allow_loopback, resolve=resolve)
    record(attempt, outcome, clock.now())
    return outcome
