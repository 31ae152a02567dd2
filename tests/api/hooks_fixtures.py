"""What the event webhook tests share: a CRM's receiver on loopback that checks every signature
the way a Standard Webhooks library would (:func:`app.outbound.signing.verify_signature`), and
short ways to register an endpoint, run the worker's chore and read the delivery log."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.conftest import Clock
from tests.loopback import LoopbackEndpoint


@dataclass(frozen=True)
class Received:
    """One POST as it arrived: its headers (lower-case names), body, and which of the
    receiver's secrets its signature verified with (empty: none)."""

    headers: dict[str, str]
    body: bytes
    verified_with: tuple[str, ...]

    @property
    def message(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found

    @property
    def type(self) -> str:
        return str(self.message["type"])

    @property
    def data(self) -> dict[str, Any]:
        found: dict[str, Any] = self.message["data"]
        return found

    @property
    def verified(self) -> bool:
        return bool(self.verified_with)


class Crm(LoopbackEndpoint):
    """A CRM's webhook receiver. Each POST takes the next of ``answers`` (a status code, or
    ``"hang"``: no answer until the test ends); 204 when none is left. ``secrets`` are the
    secrets it knows (the endpoint's, set by :func:`register`)."""

    def __init__(self, clock: Clock, answers: Iterable[str] = ()) -> None:
        super().__init__()
        self.clock = clock
        self.answers = list(answers)
        self.secrets: list[str] = []
        self.received: list[Received] = []

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        from app.outbound.signing import verify_signature

        headers, body = self.read(handler)
        with self.lock:
            verified = tuple(
                s for s in self.secrets if verify_signature(s, headers, body, self.clock())
            )
            self.received.append(Received(headers, body, verified))
            answer = self.answers.pop(0) if self.answers else "204"
        if answer == "hang":
            self.hang()
            return
        self.reply(handler, int(answer), b"nope" if int(answer) >= 300 else b"done")

    def types(self) -> list[str]:
        return [r.type for r in self.received]

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.received if r.type == event_type]


def register(
    app: Flask, clock: Clock, crm: Crm, events: list[str] | None = None, url: str | None = None
) -> int:
    """Register ``crm`` as an endpoint (every event, or ``events``); returns its id and gives
    the receiver the endpoint's secret."""
    from app.api import hooks
    from app.extensions import db

    with app.app_context():
        endpoint = hooks.add_endpoint(
            url or crm.url, "The CRM", events, None, clock(), allow_loopback=True
        )
        db.session.commit()
        crm.secrets.append(endpoint.secret)
        return endpoint.id


def deliver(app: Flask, **options: Any) -> dict[str, int]:
    """Run the worker's chore once, as the worker does (loopback allowed, as in tests)."""
    from app import clock
    from app.api.hooks_delivery import deliver_due

    options.setdefault("allow_loopback", True)
    with app.app_context():
        return dict(deliver_due(clock.now(), **options))


def log(app: Flask, endpoint_id: int | None = None) -> list[Any]:
    """The deliveries (of one endpoint, or all), oldest first, detached from the session."""
    from app.api.hook_models import EventDelivery
    from app.extensions import db

    with app.app_context():
        query = select(EventDelivery).order_by(EventDelivery.id)
        if endpoint_id is not None:
            query = query.where(EventDelivery.endpoint_id == endpoint_id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def endpoint_row(app: Flask, endpoint_id: int) -> Any:
    from app.api.hook_models import EventEndpoint
    from app.extensions import db

    with app.app_context():
        row = db.session.get(EventEndpoint, endpoint_id)
        if row is not None:
            db.session.expunge(row)
        return row
