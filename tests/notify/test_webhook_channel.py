"""The webhook channel against a real HTTP receiver on loopback that checks each signature the
way a member's endpoint would (:func:`app.outbound.signing.verify_signature`): retries on 500
and on a timeout with the same webhook-id, the dead letter and a disabled endpoint on 410,
redirects not followed, the address checked again on every send."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import Clock
from tests.loopback import LoopbackEndpoint
from tests.notify.crowd import add_crowd
from tests.notify.rows import delivery_rows, retry_bounds


class Hook(LoopbackEndpoint):
    """A member's endpoint. Each POST takes the next of ``answers``: a status code, or
    ``"hang"`` (no answer until the test ends) or ``"redirect:<url>"``. Every request is kept
    with whether its signature verified at the moment it arrived."""

    def __init__(self, answers: list[str], clock: Clock) -> None:
        super().__init__()
        self.answers = list(answers)
        self.clock = clock
        self.secret = ""
        self.requests: list[tuple[dict[str, str], bytes, bool]] = []

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        from app.outbound.signing import verify_signature

        headers, body = self.read(handler)
        with self.lock:
            verified = verify_signature(self.secret, headers, body, self.clock())
            self.requests.append((headers, body, verified))
            answer = self.answers.pop(0) if self.answers else "200"
        if answer == "hang":
            self.hang()
            return
        if answer.startswith("redirect:"):
            handler.send_response(302)
            handler.send_header("Location", answer.removeprefix("redirect:"))
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        self.reply(handler, int(answer), b"ok")

    def ids(self) -> list[str]:
        return [headers["webhook-id"] for headers, _, _ in self.requests]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WEBHOOK_ALLOW_LOOPBACK"] = True
    return app_config


@pytest.fixture
def hooked(app: Flask, clock: Clock) -> Callable[..., tuple[int, int]]:
    """A member of ``offers`` on the webhook channel whose verified endpoint is ``hook``;
    returns (member id, endpoint id)."""

    def make(hook: Hook) -> tuple[int, int]:
        from app.consent.models import WebhookEndpoint
        from app.extensions import db
        from app.outbound.signing import new_secret

        [member_id] = add_crowd(app, 1, clock(), scope="offers", channels=("webhook",)).ids
        hook.secret = new_secret()
        with app.app_context():
            endpoint = WebhookEndpoint(
                member_id=member_id,
                url=hook.url,
                secret=hook.secret,
                created_at=clock() - timedelta(days=7),
                verified_at=clock() - timedelta(days=7),
            )
            db.session.add(endpoint)
            db.session.commit()
            return member_id, endpoint.id

    return make


def offer(campaign: Callable[..., int]) -> int:
    return campaign(
        title="A member offer", scope="offers", kind="promotional", channels=("webhook",)
    )


def endpoint_row(app: Flask, endpoint_id: int) -> Any:
    from app.consent.models import WebhookEndpoint
    from app.extensions import db

    with app.app_context():
        row = db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
        db.session.expunge(row)
        return row


def test_a_signed_message_reaches_the_endpoint(
    app: Flask,
    clock: Clock,
    campaign: Callable[..., int],
    work: Callable,
    hooked: Callable[..., tuple[int, int]],
) -> None:
    from app.outbound.signing import new_secret, verify_signature

    with Hook(["204"], clock) as hook:
        hooked(hook)
        campaign_id = offer(campaign)
        assert work() == {"sent": 1}
    [row] = delivery_rows(app, campaign_id)
    [(headers, body, verified)] = hook.requests
    assert verified
    assert row.message_id == headers["webhook-id"] == f"msg_delivery_{row.id}"
    assert headers["content-type"] == "application/json"
    message = json.loads(body)
    assert message["type"] == "message.created"
    assert message["data"]["delivery"] == row.id and message["data"]["title"] == "A member offer"
    assert message["data"]["unsubscribe_url"].startswith("http://localhost/u/")
    # What makes the check worth something: another secret or a changed body fails it.
    assert not verify_signature(new_secret(), headers, body, clock())
    assert not verify_signature(hook.secret, headers, body.replace(b"offer", b"0ffer"), clock())
    assert not verify_signature(hook.secret, headers, body, clock() + timedelta(minutes=6))


@pytest.mark.slow
def test_500_then_a_timeout_then_410_retries_twice_then_disables_the_endpoint(
    app: Flask,
    clock: Clock,
    campaign: Callable[..., int],
    work: Callable,
    hooked: Callable[..., tuple[int, int]],
) -> None:
    """The timeout is the real ten seconds of :mod:`app.outbound.client`: the channel takes
    no shorter one."""
    with Hook(["500", "hang", "410"], clock) as hook:
        _, endpoint_id = hooked(hook)
        campaign_id = offer(campaign)
        for attempt, error in ((1, "answered 500"), (2, "127.0.0.1 did not answer")):
            assert work() == {"retry": 1}
            [row] = delivery_rows(app, campaign_id)
            assert (row.state, row.attempts) == ("retry", attempt)
            assert error in (row.last_error or ""), row.last_error
            low, high = retry_bounds(attempt)
            assert low <= (row.due_at - clock()).total_seconds() <= high
            assert endpoint_row(app, endpoint_id).disabled_at is None
            clock.set(row.due_at)
        assert work() == {"dead": 1}
        clock.advance(days=1)
        assert work() == {}  # nothing after the dead letter
    [row] = delivery_rows(app, campaign_id)
    assert (row.state, row.reason, row.attempts) == ("dead", "endpoint-gone", 3)
    endpoint = endpoint_row(app, endpoint_id)
    assert endpoint.disabled_at is not None and endpoint.disabled_reason == "gone (410)"
    assert len(hook.requests) == 3
    assert all(verified for _, _, verified in hook.requests)
    assert hook.ids() == [f"msg_delivery_{row.id}"] * 3  # the receiver can tell a retry


def test_a_disabled_endpoint_takes_the_member_out_of_the_next_audience(
    app: Flask,
    clock: Clock,
    campaign: Callable[..., int],
    work: Callable,
    hooked: Callable[..., tuple[int, int]],
) -> None:
    with Hook(["410"], clock) as hook:
        hooked(hook)
        first = offer(campaign)
        assert work() == {"dead": 1}
        clock.advance(days=8)
        second = offer(campaign)
    assert [row.reason for row in delivery_rows(app, first)] == ["endpoint-gone"]
    assert delivery_rows(app, second) == []
    assert len(hook.requests) == 1


def test_a_redirect_is_not_followed(
    app: Flask,
    clock: Clock,
    campaign: Callable[..., int],
    work: Callable,
    hooked: Callable[..., tuple[int, int]],
) -> None:
    with Hook([], clock) as elsewhere, Hook([], clock) as hook:
        hook.answers = [f"redirect:{elsewhere.url}"]
        hooked(hook)
        campaign_id = offer(campaign)
        assert work() == {"retry": 1}
    [row] = delivery_rows(app, campaign_id)
    assert "answered 302" in (row.last_error or "")
    assert len(hook.requests) == 1 and elsewhere.requests == []


def test_the_address_is_checked_again_on_every_send(
    app: Flask,
    clock: Clock,
    campaign: Callable[..., int],
    work: Callable,
    hooked: Callable[..., tuple[int, int]],
) -> None:
    """The endpoint was verified, then its name came to resolve to a private address: the
    worker refuses to connect, and the delivery waits for a retry."""
    from app.notify.channels import InboxChannel
    from app.notify.webhook import WebhookChannel

    with Hook([], clock) as hook:
        hooked(hook)
        campaign_id = offer(campaign)
        assert work(
            channels=lambda: {
                "inbox": InboxChannel(),
                "webhook": WebhookChannel(
                    allow_loopback=False, resolve=lambda host, port: ["10.1.2.3"]
                ),
            }
        ) == {"retry": 1}
    [row] = delivery_rows(app, campaign_id)
    assert "private network address" in (row.last_error or ""), row.last_error
    assert hook.requests == []


def test_a_member_without_a_verified_endpoint_is_not_queued(
    app: Flask, clock: Clock, campaign: Callable[..., int]
) -> None:
    add_crowd(app, 3, clock(), scope="offers", channels=("webhook",))
    assert delivery_rows(app, offer(campaign)) == []


def test_a_host_that_is_down_costs_no_attempt(
    app: Flask,
    clock: Clock,
    campaign: Callable[..., int],
    work: Callable,
    hooked: Callable[..., tuple[int, int]],
) -> None:
    app.config["NOTIFY_MAX_ATTEMPTS"] = 2
    hook = Hook([], clock)
    hook.server.server_close()  # nothing listens on the endpoint's port any more
    hooked(hook)
    campaign_id = offer(campaign)
    for _ in range(5):
        assert work() == {"held": 1}
        [row] = delivery_rows(app, campaign_id)
        assert (row.state, row.attempts) == ("queued", 0)
        assert "We could not reach 127.0.0.1" in (row.last_error or "")
        assert row.due_at > clock()  # the host is left alone for a while
        clock.set(row.due_at)
