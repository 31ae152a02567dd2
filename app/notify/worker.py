"""The worker: lease due deliveries, re-run the gate for each, send, record the result.

For each delivery, in its own transaction:

1. take the row again (``FOR UPDATE`` on PostgreSQL) and check it is still leased to this
   worker and its campaign was not cancelled;
2. re-run the gate on the member's facts (loaded once per batch), with the consent state read
   afresh: a revoke that committed first is always seen. On PostgreSQL the state row is held
   ``FOR SHARE`` until the delivery is recorded, so a revoke waits for a send in flight; on
   SQLite the transaction ends before the network call (SQLite's one write lock must not wait
   on a remote server), so a revoke can commit while the message is already on its way. A
   failing gate marks the delivery ``suppressed`` with its reason; quiet hours move it to the
   end of the quiet hours;
3. send on the channel, with the channel's idempotency id derived from the delivery id;
4. record ``sent`` and the contact, or schedule a retry with exponential backoff and jitter,
   or put it in the dead letter after ``NOTIFY_MAX_ATTEMPTS``.

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
from dataclasses import replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app import clock
from app.accounts.models import Member
from app.consent.contacts import record_contact, record_suppression
from app.consent.facts import load_facts
from app.consent.gate import ConsentFact, ContactFact, Facts, decide
from app.consent.models import ConsentState
from app.consent.scopes import Scope, find_scope
from app.consent.why import why_url
from app.extensions import db
from app.mail.message import clean_header
from app.notify import outbox
from app.notify.campaigns import start_due
from app.notify.channels import Channel, Outgoing, open_channels
from app.notify.drafts import draft_from_posts
from app.notify.errors import EndpointGone, SendFailed
from app.notify.models import Campaign, Delivery
from app.notify.render import delivery_body
from app.notify.tokens import open_token, unsubscribe_token
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
        db.session.commit()

    def run_batch(self) -> Counter[str]:
        """Claim one batch and work through it. Returns what happened to its deliveries."""
        done: Counter[str] = Counter()
        ids = outbox.claim(self.name, self.batch, clock.now(), self.lease)
        if not ids:
            outbox.finish_campaigns(clock.now())
            db.session.commit()
            return done
        rows = list(db.session.scalars(select(Delivery).where(Delivery.id.in_(ids))
                                       .order_by(Delivery.due_at, Delivery.id)
                                       .execution_options(populate_existing=True)))
        facts = load_facts({row.member_id for row in rows})
        # The batch's members, read with its facts and held here (the session's identity map
        # holds them weakly): each delivery finds its member without asking the database.
        members = list(db.session.scalars(select(Member).where(
            Member.id.in_({row.member_id for row in rows}))))
        db.session.commit()
        channels = self.channels()
        down: set[str] = set()
        try:
            for index, row in enumerate(rows):
                if self.stopping.is_set() or clock.now() >= self._lease_margin(row):
                    outbox.release([r.id for r in rows[index:]], self.name)
                    db.session.commit()
                    done["released"] += len(rows) - index
                    break
                outcome, facts = self._deliver(row.id, facts, channels, down)
                done[outcome] += 1
        finally:
            for channel in channels.values():
                channel.close()
            db.session.rollback()
            del members
        self.totals.update(done)
        return done

    def _lease_margin(self, row: Delivery) -> datetime:
        until = row.lease_until or clock.now()
        return until - self.lease / 10

    # --- one delivery ----------------------------------------------------------------------

    def _deliver(self, delivery_id: int, facts: Facts, channels: dict[str, Channel],
                 down: set[str]) -> tuple[str, Facts]:
        query = select(Delivery).where(Delivery.id == delivery_id, Delivery.state == "leased",
                                       Delivery.leased_by == self.name)
        if db.dialect == "postgresql":
            query = query.with_for_update(of=Delivery.__table__)
        delivery = db.session.scalar(query.execution_options(populate_existing=True))
        if delivery is None:
            db.session.commit()
            return "lost-lease", facts
        now = clock.now()
        campaign = delivery.campaign  # joined to the delivery, so read afresh with it
        if campaign.state == "cancelled":
            return self._finish(delivery, "cancelled", now), facts
        scope = find_scope(campaign.scope)
        if scope is None:
            delivery.last_error = f"the scope {campaign.scope!r} no longer exists"
            return self._finish(delivery, "dead", now, reason="unknown-scope"), facts
        facts = self._fresh_consent(facts, delivery, campaign)
        decision = decide(facts, outbox.gate_campaign(campaign, scope), delivery.member_id,
                          delivery.channel, now)
        if not decision.eligible:
            return self._finish(delivery, "suppressed", now, reason=decision.reasons[0]), facts
        if decision.deferred_until is not None:
            delivery.state, delivery.due_at = "queued", decision.deferred_until
            delivery.lease_until, delivery.leased_by = None, None
            delivery.attempts -= 1
            db.session.commit()
            return "deferred", facts
        if delivery.channel in down:
            return self._retry(delivery, now, "not tried: the channel failed earlier in this "
                               "batch", counts=False), facts
        channel = channels.get(delivery.channel)
        if channel is None:
            delivery.last_error = f"no channel {delivery.channel!r}"
            return self._finish(delivery, "dead", now, reason="channel"), facts
        member = db.session.get(Member, delivery.member_id)
        assert member is not None
        outgoing = self._outgoing(delivery, campaign, scope, member)
        if db.dialect == "sqlite":
            # SQLite has one write lock for the whole database: never hold it across a network
            # call, or a slow SMTP server or webhook would stall every write of the site.
            db.session.commit()
        try:
            external_id = channel.send(outgoing)
        except EndpointGone as exc:
            delivery.last_error = str(exc)[:300]
            return self._finish(delivery, "dead", now, reason="endpoint-gone"), facts
        except SendFailed as exc:
            if not exc.temporary:
                delivery.last_error = str(exc)[:300]
                if delivery.channel == "email" and str(exc).startswith("recipient refused"):
                    record_suppression(member.email, "hard-bounce", now)
                return self._finish(delivery, "dead", now, reason="refused"), facts
            down.add(delivery.channel)
            return self._retry(delivery, now, str(exc)), facts
        sent_at = clock.now()
        delivery.state, delivery.sent_at, delivery.finished_at = "sent", sent_at, sent_at
        delivery.message_id, delivery.lease_until, delivery.reason = external_id, None, None
        record_contact(delivery.member_id, campaign.scope, delivery.channel,
                       campaign=campaign.ref, kind=campaign.kind, ref=delivery.ref,
                       sent_at=sent_at)
        db.session.commit()
        return "sent", _with_contact(facts, delivery, campaign, sent_at)

    def _fresh_consent(self, facts: Facts, delivery: Delivery, campaign: Campaign) -> Facts:
        """``facts`` with the member's consent on this scope and channel read now."""
        query = select(ConsentState).where(ConsentState.member_id == delivery.member_id,
                                           ConsentState.scope == campaign.scope,
                                           ConsentState.channel == delivery.channel)
        if db.dialect == "postgresql":
            query = query.with_for_update(read=True)
        state = db.session.scalar(query.execution_options(populate_existing=True))
        member = facts.members.get(delivery.member_id)
        if member is None:
            return facts
        consents = dict(member.consents)
        key = (campaign.scope, delivery.channel)
        if state is None:
            consents.pop(key, None)
        else:
            consents[key] = ConsentFact(state.granted, state.wording_version, state.granted_at,
                                        state.changed_at)
        members = dict(facts.members)
        members[delivery.member_id] = replace(member, consents=consents)
        return replace(facts, members=members)

    def _outgoing(self, delivery: Delivery, campaign: Campaign, scope: Scope,
                  member: Member) -> Outgoing:
        body = delivery_body(campaign.body, delivery.id, campaign.updated_at)
        gated = campaign.kind != "transactional"
        return Outgoing(
            delivery_id=delivery.id, campaign_id=campaign.id, kind=campaign.kind,
            scope=scope.slug, scope_title=scope.title, promise=scope.promise,
            member_id=member.id, email=member.email, display_name=safe_name(member.display_name),
            title=campaign.title, html=body.html, text=body.text,
            unsubscribe_url=external_url("notify.unsubscribe_page", token=unsubscribe_token(
                member.id, scope.slug, delivery.channel, delivery.id)) if gated else None,
            why_url=why_url(member.id, scope.slug, delivery.channel, clock.now(), campaign.kind),
            inbox_url=external_url("notify.message", delivery_id=delivery.id),
            open_url=external_url("notify.opened", token=open_token(delivery.id))
            if self.open_pixel and delivery.channel == "email" else None,
        )

    def _finish(self, delivery: Delivery, state: str, now: datetime,
                reason: str | None = None) -> str:
        delivery.state, delivery.reason, delivery.finished_at = state, reason, now
        delivery.lease_until = None
        db.session.commit()
        return state

    def _retry(self, delivery: Delivery, now: datetime, error: str, counts: bool = True) -> str:
        delivery.last_error = error[:300]
        if not counts:
            delivery.attempts -= 1
        if delivery.attempts >= self.max_attempts:
            return self._finish(delivery, "dead", now, reason="attempts")
        delivery.state, delivery.lease_until, delivery.leased_by = "retry", None, None
        delivery.due_at = now + backoff(max(delivery.attempts, 1), self.retry_seconds)
        db.session.commit()
        return "retry"


def _with_contact(facts: Facts, delivery: Delivery, campaign: Campaign,
                  sent_at: datetime) -> Facts:
    """``facts`` knowing of the delivery just sent, so the rest of the batch respects caps."""
    member = facts.members.get(delivery.member_id)
    if member is None:
        return facts
    contact = ContactFact(campaign.scope, campaign.ref, campaign.kind, sent_at)
    members = dict(facts.members)
    members[delivery.member_id] = replace(member, contacts=(*member.contacts, contact))
    return replace(facts, members=members)
