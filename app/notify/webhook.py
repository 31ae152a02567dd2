"""The webhook channel: a signed JSON POST (Standard Webhooks) to each of the member's verified,
enabled endpoints.

The ``webhook-id`` is derived from the delivery id, so receivers de-duplicate retries. The
address is checked again after DNS resolution on every send, redirects are not followed and the
deadline is ten seconds (:mod:`app.consent.outbound`). An endpoint that answers 410 is disabled
and the delivery is not retried. Any other failure (5xx, timeout, a redirect, a refused address)
retries the whole delivery, to every endpoint, with the same id.
"""

from __future__ import annotations

from typing import Any

from app import clock
from app.consent import outbound
from app.consent.errors import UnsafeWebhookURL, WebhookFailed
from app.consent.webhooks import deliver, disable_endpoint, endpoints_of
from app.extensions import db
from app.notify.channels import Outgoing, webhook_id
from app.notify.errors import EndpointGone, SendFailed

EVENT_TYPE = "message.created"


def payload(item: Outgoing) -> dict[str, Any]:
    return {"delivery": item.delivery_id, "campaign": item.campaign_id, "kind": item.kind,
            "scope": item.scope, "title": item.title, "text": item.text, "html": item.html,
            "inbox_url": item.inbox_url, "why_url": item.why_url,
            "unsubscribe_url": item.unsubscribe_url}


class WebhookChannel:
    name = "webhook"

    def __init__(self, *, allow_loopback: bool = False,
                 resolve: outbound.Resolver = outbound.system_resolver) -> None:
        self.allow_loopback = allow_loopback
        self.resolve = resolve

    def send(self, item: Outgoing) -> str:
        ident = webhook_id(item.delivery_id)
        endpoints = [e for e in endpoints_of(item.member_id)
                     if e.verified_at is not None and e.disabled_at is None]
        if not endpoints:
            raise SendFailed("no verified, enabled endpoint", temporary=False)
        problems: list[str] = []
        gone = 0
        for endpoint in endpoints:
            try:
                result = deliver(endpoint.url, endpoint.secret, ident, EVENT_TYPE, payload(item),
                                 clock.now(), allow_loopback=self.allow_loopback,
                                 resolve=self.resolve)
            except (UnsafeWebhookURL, WebhookFailed) as exc:
                problems.append(f"{endpoint.url}: {exc}")
                continue
            if result.status == 410:
                disable_endpoint(endpoint.id, "gone (410)", clock.now())
                db.session.flush()
                gone += 1
            elif not result.ok:
                problems.append(f"{endpoint.url}: answered {result.status}")
        if gone == len(endpoints):
            raise EndpointGone("every endpoint answered 410 Gone; disabled")
        if problems:
            raise SendFailed("; ".join(problems)[:300], temporary=True)
        return ident

    def close(self) -> None:
        pass
