"""The worker: lease due deliveries, re-run the gate for each, send, record the result.

For each delivery, in its own transaction:

1. take the row again (``FOR UPDATE`` on PostgreSQL) and check it is still leased to this
   worker and its campaign was not cancelled;
2. read every fact the gate knows about the member afresh (consent, pause everything, quiet
   hours and time zone, "not for me", entitlement, account, suppression, endpoints, recent
   contacts for the caps) and run the whole gate on them: whatever committed before this
   moment is honoured, even for a message queued long ago or in this very batch. On
   PostgreSQL the rows behind those facts are held ``FOR SHARE`` until the delivery is
   recorded, so a change to them waits for a send in flight. On SQLite the decision is taken
   inside the write transaction (``BEGIN IMMEDIATE``) that takes the delivery, and that
   transaction ends before the network call (SQLite's one write lock must not wait on a
   remote server), so a change can commit while the message is already on its way. A failing
   gate marks the delivery ``suppressed`` with its reason; quiet hours and the scope's days
   and window move it to the first moment both allow;
3. send on the channel, with the channel's idempotency id derived from the delivery id;
4. record ``sent`` and the contact, or schedule a retry with exponential backoff and jitter,
   or put it in the dead letter after ``NOTIFY_MAX_ATTEMPTS``.

Only a failure that judged the delivery spends an attempt (a refused recipient, a message the
relay would not take, an endpoint that answered 5xx). When the way out itself is down (the SMTP
relay cannot be reached, signed in to or refuses the connection; no host of a member's webhook
endpoints answers), the worker opens a *circuit* for it: the delivery and the rest of the
batch on it go back untouched (their attempts and their place in the queue kept), and the
worker leaves that channel or host alone for a backoff that doubles with each failed try (from
``NOTIFY_RETRY_SECONDS``, capped at six hours) before it tries the oldest waiting delivery
again. An outage of any length costs no delivery its attempts.

A delivery is recorded before the next is sent, so a worker killed mid-batch re-sends at most
the delivery it was sending, with the same Message-ID or webhook-id. Leases of a killed worker
run out and another worker takes the rows again. :meth:`Worker.stop` (SIGTERM) lets the current
delivery finish, gives the rest of the batch back, and ends the loop.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from app import clock
from app.accounts.models import Member
from app.consent.contacts import record_contact, record_suppression
from app.consent.facts import facts_for_send, hold_facts
from app.consent.gate import decide
from app.consent.scopes import Scope, find_scope
from app.consent.webhooks import endpoints_of
from app.consent.why import why_url
from app.extensions import db
from app.mail.message import clean_header
from app.notify import outbox
from app.notify.campaigns import start_due
from app.notify.channels import Channel, Endpoint, Outgoing, open_channels
from app.notify.drafts import draft_from_posts
from app.notify.errors import ChannelDown, EndpointGone, SendFailed
from app.notify.models import Campaign, Delivery
from app.notify.render import delivery_body
from app.notify.tokens import open_token, unsubscribe_token
from app.ops.heartbeat import beat
from app.web.urls import external_url

log = logging.getLogger("pullfirst.notify")

MAX_BACKOFF = timedelta(hours=6)
TICK_SECONDS = 30.0
MAX_NAME = 64
_random = secrets.SystemRandom()


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base x 2^(attempts-1), capped at six
    hours, times a random factor between 0.5 and 1.5."""
    seconds = min(base_seconds * 2 ** max(attempts - 1, 0), MAX_BACKOFF.total_seconds())
    return timedelta(seconds=seconds * _random.uniform(0.5, 1.5))


def safe_name(name: str) -> str:
    """A display name fit for the To header, shown as it reads:

    - control characters and line breaks become spaces;
    - ``=?`` is split, so the email package never reads the name as RFC 2047 encoded words
      (it would decode them, line breaks included);
    - double quotes and backslashes become ``'`` and ``/``, and the name stops after
      :data:`MAX_NAME` characters: the email package folds a longer quoted name inside its
      quotes and drops them, so a comma in the name would start a second address.
    """
    cleaned = "".join(c if c.isprintable() else " " for c in name).replace("=?", "= ?")
    cleaned = cleaned.replace('"', "'").replace("\\", "/")[:MAX_NAME].strip()
    try:
        return clean_header("display name", cleaned)
    except Exception:  # pragma: no cover - isprintable() already removed what it refuses
        return ""


@dataclass
class Circuit:
    """A way out that is down: how many tries in a row failed, and when to try again."""

    failures: int
    open_until: datetime


class Worker:
    """One worker. ``channels`` builds the channels for a batch (the app's by default)."""

    def __init__(self, name: str | None = None, *, batch: int | None = None,
                 channels: Callable[[], dict[str, Channel]] = open_channels) -> None:
        config = current_app.config
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.batch = batch or int(config["NOTIFY_BATCH"])
        self.lease = timedelta(seconds=int(config["NOTIFY_LEASE_SECONDS"]))
        self.max_attempts = int(config["NOTIFY_MAX_ATTEMPTS"])
        self.retry_seconds = float(config["NOTIFY_RETRY_SECONDS"])
        self.poll = float(config["NOTIFY_POLL_SECONDS"])
        self.open_pixel = bool(config["NOTIFY_OPEN_PIXEL"])
        self.channels = channels
        self.stopping = threading.Event()
        self.totals: Counter[str] = Counter()
        self.circuits: dict[str, Circuit] = {}
        self._last_tick = 0.0

    def stop(self) -> None:
        self.stopping.set()

    # --- the loop ---------------------------------------------------------------------------

    def run(self, once: bool = False, on_batch: Callable[[Counter[str]], None] | None = None
            ) -> Counter[str]:
        """Work until stopped (or, with ``once``, until nothing is due). Returns the totals."""
        while not self.stopping.is_set():
            self.tick()
            done = self.run_batch()
            if on_batch is not None and done:
                on_batch(done)
            if not sum(done.values()):
                if once:
                    break
                self.stopping.wait(self.poll)
        return self.totals

    def tick(self, force: bool = False) -> None:
        """Housekeeping at most every 30 seconds: start scheduled campaigns, draft campaigns
        for new posts, mark finished campaigns sent."""
        if not force and time.monotonic() - self._last_tick < TICK_SECONDS:
            return
        self._last_tick = time.monotonic()
        now = clock.now()
        start_due(now)
        draft_from_posts(now)
        outbox.finish_campaigns(now)
        beat(self.name, now)  # what /readyz and /metrics read
        db.session.commit()

    def run_batch(self) -> Counter[str]:
        """Claim one batch and work through it. Returns what happened to its deliveries."""
        done: Counter[str] = Counter()
        ids = outbox.claim(self.name, self.batch, clock.now(), self.lease,
                           skip_channels=self._open_circuits(clock.now()))
        if not ids:
            outbox.finish_campaigns(clock.now())
            db.session.commit()
            return done
        # Plain values, not rows: a row may vanish mid-batch (its member deleted their account).
        rows = list(db.session.execute(select(Delivery.id, Delivery.lease_until)
                                       .where(Delivery.id.in_(ids))
                                       .order_by(Delivery.due_at, Delivery.id)))
        db.session.commit()
        channels = self.channels()
        try:
            for index, (delivery_id, lease_until) in enumerate(rows):
                if self.stopping.is_set() or clock.now() >= self._lease_margin(lease_until):
                    outbox.release([row.id for row in rows[index:]], self.name)
                    db.session.commit()
                    done["released"] += len(rows) - index
                    break
                done[self._deliver(delivery_id, channels)] += 1
        finally:
            for channel in channels.values():
                channel.close()
            db.session.rollback()
        self.totals.update(done)
        return done

    def _lease_margin(self, lease_until: datetime | None) -> datetime:
        return (lease_until or clock.now()) - self.lease / 10

    # --- one delivery ----------------------------------------------------------------------

    # --- circuits --------------------------------------------------------------------------

    def _open_circuits(self, now: datetime) -> set[str]:
        return {key for key, circuit in self.circuits.items() if circuit.open_until > now}

    def _trip(self, key: str, now: datetime) -> datetime:
        """Record one more failed try of ``key``; returns when to try it again."""
        failures = self.circuits[key].failures + 1 if key in self.circuits else 1
        until = now + backoff(failures, self.retry_seconds)
        self.circuits[key] = Circuit(failures, until)
        log.warning("notify: %s is down (%d failed tries in a row); next try after %s",
                    key, failures, until.isoformat(timespec="seconds"))
        return until

    @staticmethod
    def _circuit(item: Outgoing, channel: str) -> str | None:
        if channel == "email":
            return "email"
        if channel == "webhook" and item.endpoints:
            hosts = sorted({urlsplit(e.url).hostname or "" for e in item.endpoints})
            return "webhook:" + ",".join(hosts)
        return None

    def _hold(self, delivery: Delivery, due_at: datetime | None = None) -> str:
        """Give the delivery back untouched: its attempt is returned and, unless ``due_at``
        is given, its place in the queue kept."""
        delivery.state, delivery.lease_until, delivery.leased_by = "queued", None, None
        delivery.attempts -= 1
        if due_at is not None:
            delivery.due_at = due_at
        db.session.commit()
        return "held"

    # --- one delivery ----------------------------------------------------------------------

    def _deliver(self, delivery_id: int, channels: dict[str, Channel]) -> str:
        query = select(Delivery).where(Delivery.id == delivery_id, Delivery.state == "leased",
                                       Delivery.leased_by == self.name)
        if db.dialect == "postgresql":
            query = query.with_for_update(of=Delivery.__table__)
        delivery = db.session.scalar(query.execution_options(populate_existing=True))
        if delivery is None:
            db.session.commit()
            return "lost-lease"
        now = clock.now()
        campaign = delivery.campaign  # joined to the delivery, so read afresh with it
        if campaign.state == "cancelled":
            return self._finish(delivery, "cancelled", now)
        scope = find_scope(campaign.scope)
        if scope is None:
            delivery.last_error = f"the scope {campaign.scope!r} no longer exists"
            return self._finish(delivery, "dead", now, reason="unknown-scope")
        if db.dialect == "postgresql":
            hold_facts(delivery.member_id, scope.slug, delivery.channel)
        gate_campaign = outbox.gate_campaign(campaign, scope)
        facts = facts_for_send(delivery.member_id, scope.slug, delivery.channel, now)
        decision = decide(facts, gate_campaign, delivery.member_id, delivery.channel, now)
        if not decision.eligible or (decision.reasons and decision.deferred_until is None):
            return self._finish(delivery, "suppressed", now, reason=decision.reasons[0])
        if decision.deferred_until is not None:
            delivery.state, delivery.due_at = "queued", decision.deferred_until
            delivery.lease_until, delivery.leased_by = None, None
            delivery.attempts -= 1
            db.session.commit()
            return "deferred"
        channel = channels.get(delivery.channel)
        if channel is None:
            delivery.last_error = f"no channel {delivery.channel!r}"
            return self._finish(delivery, "dead", now, reason="channel")
        member = db.session.get(Member, delivery.member_id)
        assert member is not None
        outgoing = self._outgoing(delivery, campaign, scope, member)
        circuit = self._circuit(outgoing, delivery.channel)
        if circuit is not None and circuit in self._open_circuits(now):
            return self._hold(delivery, None if circuit == "email"
                              else self.circuits[circuit].open_until)
        if db.dialect == "sqlite":
            # SQLite has one write lock for the whole database: never hold it across a network
            # call, or a slow SMTP server or webhook would stall every write of the site.
            db.session.commit()
        failure: SendFailed | None = None
        try:
            external_id = channel.send(outgoing)
        except SendFailed as exc:
            failure = exc
        if db.dialect == "sqlite" and not self._still_there(delivery_id):
            # The member deleted their account while the message was on its way (on SQLite
            # nothing holds their rows through the send): nothing of theirs is left to record.
            db.session.rollback()
            log.info("delivery %s: the account was deleted while it was sent", delivery_id)
            return "account-deleted"
        if isinstance(failure, ChannelDown):
            until = self._trip(failure.circuit, now)
            delivery.last_error = f"not sent: {failure}"[:300]
            # The relay keeps every waiting mail's place; a host down waits its own time.
            return self._hold(delivery, None if failure.circuit == "email" else until)
        if circuit is not None:
            self.circuits.pop(circuit, None)
        if isinstance(failure, EndpointGone):
            delivery.last_error = str(failure)[:300]
            return self._finish(delivery, "dead", now, reason="endpoint-gone")
        if failure is not None:
            if not failure.temporary:
                delivery.last_error = str(failure)[:300]
                if delivery.channel == "email" and str(failure).startswith("recipient refused"):
                    record_suppression(member.email, "hard-bounce", now)
                return self._finish(delivery, "dead", now, reason="refused")
            return self._retry(delivery, now, str(failure))
        sent_at = clock.now()
        delivery.state, delivery.sent_at, delivery.finished_at = "sent", sent_at, sent_at
        delivery.message_id, delivery.lease_until, delivery.reason = external_id, None, None
        record_contact(delivery.member_id, campaign.scope, delivery.channel,
                       campaign=campaign.ref, kind=gate_campaign.kind, ref=delivery.ref,
                       sent_at=sent_at)
        db.session.commit()
        return "sent"

    @staticmethod
    def _still_there(delivery_id: int) -> bool:
        """Whether the delivery row still exists; on SQLite this first statement also takes
        the write lock, so nothing can remove it until the outcome is recorded."""
        return db.session.scalar(select(Delivery.id).where(Delivery.id == delivery_id)) \
            is not None

    def _outgoing(self, delivery: Delivery, campaign: Campaign, scope: Scope,
                  member: Member) -> Outgoing:
        body = delivery_body(campaign.body, delivery.id, campaign.updated_at)
        return Outgoing(
            delivery_id=delivery.id, campaign_id=campaign.id,
            kind=outbox.gate_campaign(campaign, scope).kind,
            scope=scope.slug, scope_title=scope.title, promise=scope.promise,
            member_id=member.id, email=member.email, display_name=safe_name(member.display_name),
            title=campaign.title, html=body.html, text=body.text,
            unsubscribe_url=external_url("notify.unsubscribe_page", token=unsubscribe_token(
                member.id, scope.slug, delivery.channel, delivery.id)),
            why_url=why_url(member.id, scope.slug, delivery.channel, clock.now(),
                            outbox.gate_campaign(campaign, scope).kind),
            inbox_url=external_url("notify.message", delivery_id=delivery.id),
            open_url=external_url("notify.opened", token=open_token(delivery.id))
            if self.open_pixel and delivery.channel == "email" else None,
            endpoints=tuple(Endpoint(e.id, e.url, e.secret) for e in endpoints_of(member.id)
                            if e.verified_at is not None and e.disabled_at is None)
            if delivery.channel == "webhook" else (),
        )

    def _finish(self, delivery: Delivery, state: str, now: datetime,
                reason: str | None = None) -> str:
        delivery.state, delivery.reason, delivery.finished_at = state, reason, now
        delivery.lease_until = None
        db.session.commit()
        return state

    def _retry(self, delivery: Delivery, now: datetime, error: str) -> str:
        delivery.last_error = error[:300]
        if delivery.attempts >= self.max_attempts:
            return self._finish(delivery, "dead", now, reason="attempts")
        delivery.state, delivery.lease_until, delivery.leased_by = "retry", None, None
        delivery.due_at = now + backoff(max(delivery.attempts, 1), self.retry_seconds)
        db.session.commit()
        return "retry"
