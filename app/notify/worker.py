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
   or put it in the dead letter after ``NOTIFY_MAX_ATTEMPTS``; a delivery sent or put in the
   dead letter emits :class:`~app.notify.outbox.DeliverySent` or
   :class:`~app.notify.outbox.DeliveryFailed` in the transaction that records it.

Only a failure that judged the delivery spends an attempt (a refused recipient, a message the
relay would not take, an endpoint that answered 5xx). When the way out itself is down (the SMTP
relay cannot be reached, signed in to or refuses the connection; no host of a member's webhook
endpoints answers), the worker opens a *circuit* for it: the delivery and the rest of the
batch on it go back untouched (their attempts and their place in the queue kept), and the
worker leaves that channel or host alone for a backoff that doubles with each failed try (from
``NOTIFY_RETRY_SECONDS``, capped at six hours) before it tries the oldest waiting delivery
again. An outage of any length costs no delivery its attempts.

A delivery is recorded before the next is sent, so a worker killed mid-batch re-sends at most
the delivery it was sending, with the same Message-ID or webhook-id.

What makes a delivery cheap: each campaign's mail is written once and filled per delivery
(:mod:`app.notify.mailmerge`); the statements of a delivery (take it, read the facts, record
it) are built once and bound per call; the SMTP connection stays open across batches while
there is work. Leases of a killed worker
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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import String, bindparam, case, select, update

from app import clock, events
from app.accounts.models import Member
from app.consent import push, texts
from app.consent.gate.contacts import record_contact, record_suppression
from app.consent.gate.facts import facts_for_send, hold_facts
from app.consent.gate.rules import Campaign as GateCampaign
from app.consent.gate.rules import (
    Facts,
    decide,
    ignored_streak,
    last_pause_ended,
    may_ask,
    relevant_contacts,
)
from app.consent.gate.why import why_url
from app.consent.phones import number_of
from app.consent.scopes import CHANNELS, Scope, find_scope
from app.consent.telegram import chat_of
from app.consent.terms import DEFERRING, Channel, GateReason
from app.consent.webhooks import endpoints_of
from app.extensions import db
from app.mail.message import clean_header
from app.notify import answer_notices, outbox
from app.notify.asking import ASKED, ask_body, ask_title, claim
from app.notify.campaigns import NOT_TARGETED, start_due
from app.notify.channels import ChannelFactory, Endpoint, Outgoing, Sender, open_channels
from app.notify.chores import run_chores
from app.notify.digest import NO_PICKS, issue_body, send_due_digests
from app.notify.drafts import draft_from_posts
from app.notify.errors import ChannelDown, EndpointGone, SendFailed
from app.notify.models import Campaign, Delivery
from app.notify.outbox import DeliveryFailed, DeliverySent
from app.notify.render import PreparedBody, prepared_body
from app.notify.states import UNDELIVERED, CampaignState, DeliveryState
from app.notify.targeting_eval import still_targeted
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

    def __init__(
        self,
        name: str | None = None,
        *,
        batch: int | None = None,
        channels: ChannelFactory = open_channels,
    ) -> None:
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
        self._campaigns: dict[tuple[int, datetime], Campaign] = {}
        self._channels: dict[str, Sender] | None = None

    def stop(self) -> None:
        self.stopping.set()

    # --- the loop ---------------------------------------------------------------------------

    def run(
        self, once: bool = False, on_batch: Callable[[Counter[str]], None] | None = None
    ) -> Counter[str]:
        """Work until stopped (or, with ``once``, until nothing is due). Returns the totals.

        The channels (the SMTP connection) stay open from one batch to the next while there
        is work, and are closed when the queue runs dry and when the loop ends."""
        try:
            while not self.stopping.is_set():
                ticked = self.tick()
                done = self.run_batch(keep_open=True)
                if on_batch is not None and done:
                    on_batch(done)
                if not sum(done.values()):
                    self.close_channels()
                    if not ticked:  # the prompt chores (event webhooks), within a poll
                        run_chores(clock.now(), prompt_only=True)
                    if once:
                        break
                    self.stopping.wait(self.poll)
        finally:
            self.close_channels()
        return self.totals

    def close_channels(self) -> None:
        """Close what the channels hold open (the SMTP connection)."""
        channels, self._channels = self._channels, None
        for channel in (channels or {}).values():
            channel.close()

    def tick(self, force: bool = False) -> bool:
        """Housekeeping at most every 30 seconds: start scheduled campaigns, draft campaigns
        for new posts, make the digests that are due, mark finished campaigns sent, hand
        Kannel the system texts that were still waiting for it, and send the mails that tell
        members the team answered them, then run the chores higher areas registered. Returns
        whether it ran."""
        if not force and time.monotonic() - self._last_tick < TICK_SECONDS:
            return False
        self._last_tick = time.monotonic()
        now = clock.now()
        start_due(now)
        draft_from_posts(now)
        send_due_digests(now)
        outbox.finish_campaigns(now)
        beat(self.name, now)  # what /readyz and /metrics read
        db.session.commit()
        if texts.configured():
            texts.flush(now)
        answer_notices.send_due(now)  # the mails telling members the team answered them
        run_chores(now)  # what higher areas asked for (event webhooks, import invitations)
        return True

    def run_batch(self, keep_open: bool = False) -> Counter[str]:
        """Claim one batch and work through it. Returns what happened to its deliveries.
        With ``keep_open`` the channels stay open for the next batch (see :meth:`run`)."""
        done: Counter[str] = Counter()
        ids = outbox.claim(
            self.name,
            self.batch,
            clock.now(),
            self.lease,
            skip_channels=[Channel(k) for k in self._open_circuits(clock.now()) if k in CHANNELS],
        )
        if not ids:
            outbox.finish_campaigns(clock.now())
            db.session.commit()
            return done
        # Plain values, not rows: a row may vanish mid-batch (its member deleted their account).
        rows = list(
            db.session.execute(
                select(Delivery.id, Delivery.lease_until)
                .where(Delivery.id.in_(ids))
                .order_by(Delivery.due_at, Delivery.id)
            )
        )
        db.session.commit()
        if self._channels is None:
            self._channels = self.channels()
        channels, failed = self._channels, True
        try:
            for index, (delivery_id, lease_until) in enumerate(rows):
                if self.stopping.is_set() or clock.now() >= self._lease_margin(lease_until):
                    outbox.release([row.id for row in rows[index:]], self.name)
                    db.session.commit()
                    done["released"] += len(rows) - index
                    break
                done[self._deliver(delivery_id, channels)] += 1
            failed = False
        finally:
            if failed or not keep_open:
                self.close_channels()
            db.session.rollback()
        self.totals.update(done)
        return done

    def _lease_margin(self, lease_until: datetime | None) -> datetime:
        return (lease_until or clock.now()) - self.lease / 10

    # --- circuits --------------------------------------------------------------------------

    def _open_circuits(self, now: datetime) -> set[str]:
        return {key for key, circuit in self.circuits.items() if circuit.open_until > now}

    def _trip(self, key: str, now: datetime, wait: timedelta | None = None) -> datetime:
        """Record one more failed try of ``key``; returns when to try it again: after the
        backoff, and never before ``wait`` (what the receiver asked for) has passed."""
        failures = self.circuits[key].failures + 1 if key in self.circuits else 1
        until = now + max(backoff(failures, self.retry_seconds), wait or timedelta(0))
        self.circuits[key] = Circuit(failures, until)
        log.warning(
            "notify: %s is down (%d failed tries in a row); next try after %s",
            key,
            failures,
            until.isoformat(timespec="seconds"),
        )
        return until

    @staticmethod
    def _circuit(item: Outgoing, channel: str) -> str | None:
        if channel in (Channel.EMAIL, Channel.TELEGRAM, Channel.SMS):
            return Channel(channel)  # one way out for every delivery on the channel
        if channel == Channel.WEBHOOK and item.endpoints:
            hosts = sorted({urlsplit(e.url).hostname or "" for e in item.endpoints})
            return "webhook:" + ",".join(hosts)
        return None

    # --- one delivery ----------------------------------------------------------------------

    def _take(self, delivery_id: int) -> Any:
        """The delivery, still leased to this worker, with its campaign's state and version and
        the member's address (``FOR UPDATE`` of the delivery on PostgreSQL)."""
        query = _TAKE
        if db.dialect == "postgresql":
            query = query.with_for_update(of=Delivery.__table__)
        return (
            db.session.connection()
            .execute(query, {"id": delivery_id, "worker": self.name})
            .one_or_none()
        )

    def _campaign(self, campaign_id: int, updated_at: datetime) -> Campaign:
        """The campaign as of version ``updated_at``, read once per version for the batch."""
        key = (campaign_id, updated_at)
        found = self._campaigns.get(key)
        if found is None:
            found = db.session.get_one(Campaign, campaign_id)
            self._campaigns = {key: found}
        return found

    def _deliver(self, delivery_id: int, channels: dict[str, Sender]) -> str:
        row = self._take(delivery_id)
        if row is None:
            db.session.commit()
            return "lost-lease"
        now = clock.now()
        if row.campaign_state == CampaignState.CANCELLED:
            return self._finish(delivery_id, DeliveryState.CANCELLED, now)
        campaign = self._campaign(row.campaign_id, row.campaign_updated_at)
        scope = find_scope(campaign.scope)
        if scope is None:
            return self._finish(
                delivery_id,
                DeliveryState.DEAD,
                now,
                reason="unknown-scope",
                error=f"the scope {campaign.scope!r} no longer exists",
            )
        if db.dialect == "postgresql":
            hold_facts(row.member_id, scope.slug, row.channel)
        gate_campaign = outbox.gate_campaign(campaign, scope)
        facts = facts_for_send(row.member_id, scope.slug, row.channel, now)
        decision = decide(facts, gate_campaign, row.member_id, row.channel, now)
        blocking = [reason for reason in decision.reasons if reason not in DEFERRING]
        ask = blocking == [GateReason.PAUSED] and _may_ask(facts, gate_campaign, row, now)
        waiting = len(blocking) < len(decision.reasons)
        if (blocking and not ask) or (waiting and decision.deferred_until is None):
            return self._finish(
                delivery_id, DeliveryState.SUPPRESSED, now, reason=decision.reasons[0]
            )
        if decision.deferred_until is not None:
            self._update(
                delivery_id,
                state=DeliveryState.QUEUED,
                due_at=decision.deferred_until,
                lease_until=None,
                leased_by=None,
                attempts=Delivery.attempts - 1,
            )
            db.session.commit()
            return "deferred"
        if campaign.audience_filter and not still_targeted(
            campaign.audience_filter, row.member_id, now
        ):  # an answer corrected since the outbox was filled is honoured
            return self._finish(delivery_id, DeliveryState.SUPPRESSED, now, reason=NOT_TARGETED)
        question = self._question(facts, gate_campaign, row, now) if ask else None
        if ask and question is None:  # another delivery of the campaign asked first
            return self._finish(
                delivery_id, DeliveryState.SUPPRESSED, now, reason=decision.reasons[0]
            )
        channel = channels.get(row.channel)
        if channel is None:
            return self._finish(
                delivery_id,
                DeliveryState.DEAD,
                now,
                reason="channel",
                error=f"no channel {row.channel!r}",
            )
        issue = issue_body(campaign, row.member_id) if campaign.digest else None
        if campaign.digest and issue is None:  # a digest is only queued for members with picks
            return self._finish(delivery_id, DeliveryState.SUPPRESSED, now, reason=NO_PICKS)
        outgoing = self._outgoing(row, campaign, gate_campaign.kind, scope, issue)
        if question is not None:
            outgoing = replace(outgoing, title=ask_title(scope.title), body=question)
        circuit = self._circuit(outgoing, row.channel)
        if circuit is not None and circuit in self._open_circuits(now):
            return self._hold(
                delivery_id, None if circuit == Channel.EMAIL else self.circuits[circuit].open_until
            )
        if db.dialect == "sqlite":
            # SQLite has one write lock for the whole database: never hold it across a network
            # call, or a slow SMTP server or webhook would stall every write of the site.
            db.session.commit()
        failure: SendFailed | None = None
        try:
            external_id = channel.send(outgoing)
        except SendFailed as exc:
            failure = exc
        if isinstance(failure, ChannelDown):
            until = self._trip(failure.circuit, now, failure.wait)
            # The relay keeps every waiting mail's place; a host down waits its own time.
            return self._hold(
                delivery_id,
                None if failure.circuit == Channel.EMAIL else until,
                error=f"not sent: {failure}",
            )
        if circuit is not None:
            self.circuits.pop(circuit, None)
        if isinstance(failure, EndpointGone):
            return self._finish(
                delivery_id, DeliveryState.DEAD, now, reason="endpoint-gone", error=str(failure)
            )
        if failure is not None:
            if not failure.temporary:
                if row.channel == Channel.EMAIL and failure.address_refused:
                    record_suppression(outgoing.email, "hard-bounce", now)
                return self._finish(
                    delivery_id, DeliveryState.DEAD, now, reason="refused", error=str(failure)
                )
            return self._retry(delivery_id, row.attempts, now, str(failure))
        sent_at = clock.now()
        result = db.session.connection().execute(
            _SENT,
            {
                "delivery_id": delivery_id,
                "at": sent_at,
                "external_id": external_id,
                "reason": ASKED if question is not None else None,
            },
        )
        if not getattr(result, "rowcount", 1):
            # The member deleted their account while the message was on its way (on SQLite
            # nothing holds their rows through the send): nothing of theirs is left to record.
            db.session.rollback()
            log.info("delivery %s: the account was deleted while it was sent", delivery_id)
            return "account-deleted"
        record_contact(
            row.member_id,
            campaign.scope,
            row.channel,
            campaign=campaign.ref,
            kind=gate_campaign.kind,
            ref=f"delivery-{delivery_id}",
            sent_at=sent_at,
        )
        _tell_sent(row, external_id, sent_at)
        db.session.commit()
        return "sent"

    @staticmethod
    def _question(
        facts: Facts, campaign: GateCampaign, row: Any, now: datetime
    ) -> PreparedBody | None:
        """The "still want this?" question that goes in place of the campaign, if this
        delivery is the one that asks (:func:`app.notify.asking.claim`)."""
        member = facts.members[row.member_id]
        scope = campaign.scope
        contacts = relevant_contacts(member, campaign, now)
        if not claim(row.member_id, scope.slug, now, last_pause_ended(member, scope, contacts)):
            return None
        return ask_body(scope, ignored_streak(member, scope.slug, contacts))

    @staticmethod
    def _update(delivery_id: int, **values: Any) -> bool:
        """Set ``values`` on the delivery; False when its row is gone."""
        result = db.session.connection().execute(
            update(Delivery).where(Delivery.id == delivery_id).values(**values)
        )
        return bool(getattr(result, "rowcount", 1))

    def _outgoing(
        self,
        row: Any,
        campaign: Campaign,
        kind: str,
        scope: Scope,
        issue: PreparedBody | None = None,
    ) -> Outgoing:
        """What the channel sends; ``issue`` is the member's own body (a digest's issue)."""
        delivery_id, member_id, channel = row.id, row.member_id, row.channel
        return Outgoing(
            delivery_id=delivery_id,
            campaign_id=campaign.id,
            kind=kind,
            scope=scope.slug,
            scope_title=scope.title,
            promise=scope.promise,
            member_id=member_id,
            email=row.email,
            display_name=safe_name(row.display_name),
            title=campaign.title,
            body=issue if issue is not None else prepared_body(campaign.body, campaign.updated_at),
            unsubscribe_url=external_url(
                "notify.unsubscribe_page",
                token=unsubscribe_token(member_id, scope.slug, channel, delivery_id),
            ),
            why_url=why_url(member_id, scope.slug, channel, clock.now(), kind, delivery_id),
            inbox_url=external_url("notify.message", delivery_id=delivery_id),
            open_url=external_url("notify.opened", token=open_token(delivery_id))
            if self.open_pixel and channel == Channel.EMAIL
            else None,
            endpoints=tuple(
                Endpoint(e.id, e.url, e.secret)
                for e in endpoints_of(member_id)
                if e.verified_at is not None and e.disabled_at is None
            )
            if channel == Channel.WEBHOOK
            else (),
            chat_id=chat.chat_id
            if channel == Channel.TELEGRAM and (chat := chat_of(member_id)) is not None
            else None,
            phone=phone.number
            if channel == Channel.SMS and (phone := number_of(member_id)) is not None
            else None,
            push_targets=tuple(push.usable(member_id)) if channel == Channel.PUSH else (),
        )

    def _hold(
        self, delivery_id: int, due_at: datetime | None = None, error: str | None = None
    ) -> str:
        """Give the delivery back untouched: its attempt is returned and, unless ``due_at``
        is given, its place in the queue kept."""
        values: dict[str, Any] = {
            "state": DeliveryState.QUEUED,
            "lease_until": None,
            "leased_by": None,
            "attempts": Delivery.attempts - 1,
        }
        if due_at is not None:
            values["due_at"] = due_at
        if error is not None:
            values["last_error"] = error[:300]
        self._update(delivery_id, **values)
        db.session.commit()
        return "held"

    def _finish(
        self,
        delivery_id: int,
        state: DeliveryState,
        now: datetime,
        reason: str | None = None,
        error: str | None = None,
    ) -> str:
        values: dict[str, Any] = {
            "state": state,
            "reason": reason,
            "finished_at": now,
            "lease_until": None,
        }
        if error is not None:
            values["last_error"] = error[:300]
        self._update(delivery_id, **values)
        if state == DeliveryState.DEAD:
            _tell_failed(delivery_id, reason, error, now)
        db.session.commit()
        return state

    def _retry(self, delivery_id: int, attempts: int, now: datetime, error: str) -> str:
        if attempts >= self.max_attempts:
            return self._finish(
                delivery_id, DeliveryState.DEAD, now, reason="attempts", error=error
            )
        self._update(
            delivery_id,
            state=DeliveryState.RETRY,
            lease_until=None,
            leased_by=None,
            last_error=error[:300],
            due_at=now + backoff(max(attempts, 1), self.retry_seconds),
        )
        db.session.commit()
        return "retry"


def _tell_sent(row: Any, external_id: str, at: datetime) -> None:
    """Emit :class:`DeliverySent` for the delivery just recorded, or :class:`DeliveryFailed`
    when a delivery report that came first made the record a failure (texts only)."""
    if row.channel == Channel.SMS:
        state = db.session.connection().scalar(select(Delivery.state).where(Delivery.id == row.id))
        if state == DeliveryState.DEAD:
            _tell_failed(row.id, UNDELIVERED, "the SMS centre reported it undelivered", at)
            return
    events.emit(
        DeliverySent(
            delivery_id=row.id,
            campaign_id=row.campaign_id,
            member_id=row.member_id,
            channel=row.channel,
            message_id=external_id,
            at=at,
        )
    )


def _tell_failed(delivery_id: int, reason: str | None, error: str | None, at: datetime) -> None:
    """Emit :class:`DeliveryFailed` for a delivery just put in the dead letter."""
    found = (
        db.session.connection()
        .execute(
            select(Delivery.campaign_id, Delivery.member_id, Delivery.channel).where(
                Delivery.id == delivery_id
            )
        )
        .one_or_none()
    )
    if found is None:
        return
    events.emit(
        DeliveryFailed(
            delivery_id=delivery_id,
            campaign_id=found.campaign_id,
            member_id=found.member_id,
            channel=found.channel,
            reason=reason,
            error=error[:300] if error else None,
            at=at,
        )
    )


def _may_ask(facts: Facts, campaign: GateCampaign, row: Any, now: datetime) -> bool:
    """Whether the campaign, held back by a pause by silence alone, goes as the one "still
    want this?" question of that pause (learning only)."""
    member = facts.members.get(row.member_id)
    if not facts.learning or member is None:
        return False
    return may_ask(member, campaign.scope, relevant_contacts(member, campaign, now), now)


# A delivery sent: the one statement of every delivery, built once.
# A delivery report can beat the worker's own record of the send (an SMS centre answers in
# milliseconds): a failure it reported while the row was still leased stands.
_REPORTED_FAILED = Delivery.reason == UNDELIVERED
_SENT = (
    update(Delivery)
    .where(Delivery.id == bindparam("delivery_id"))
    .values(
        state=case((_REPORTED_FAILED, DeliveryState.DEAD), else_=DeliveryState.SENT),
        sent_at=bindparam("at"),
        finished_at=bindparam("at"),
        message_id=bindparam("external_id"),
        lease_until=None,
        reason=case(
            (_REPORTED_FAILED, UNDELIVERED),
            else_=bindparam("reason", None, type_=String(), required=False),
        ),
    )
)

# The delivery as the worker takes it: still leased to it, with what the send needs.
_TAKE = (
    select(
        Delivery.id,
        Delivery.member_id,
        Delivery.channel,
        Delivery.attempts,
        Delivery.campaign_id,
        Campaign.state.label("campaign_state"),
        Campaign.updated_at.label("campaign_updated_at"),
        Member.email,
        Member.display_name,
    )
    .join(Campaign, Campaign.id == Delivery.campaign_id)
    .outerjoin(Member, Member.id == Delivery.member_id)
    .where(
        Delivery.id == bindparam("id"),
        Delivery.state == DeliveryState.LEASED,
        Delivery.leased_by == bindparam("worker"),
    )
)
