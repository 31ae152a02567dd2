"""The webhook channel: a signed JSON POST (Standard Webhooks) to each of the member's verified,
enabled endpoints.

The endpoints come with the delivery (:attr:`Outgoing.endpoints`, read by the worker before the
send), so sending reads nothing from the database and holds no lock while it waits on a
member's server. The ``webhook-id`` is derived from the delivery id, so receivers de-duplicate
retries. The
address is checked again after DNS resolution on every send, redirects are not followed and the
deadline is ten seconds (:mod:`app.outbound.client`). An endpoint that answers 410 is disabled
and the delivery is not retried. When no endpoint's host can be reached at all, the channel
reports the hosts as down (:class:`ChannelDown`): the delivery keeps its attempt and the worker
waits for the host with backoff. Any other failure (5xx, a redirect, a refused address)
retries the whole delivery, to every endpoint, with the same id, and spends an attempt.
"""

from __future__ import annotations

from typing import Any

from app import clock
from app.consent.terms import Channel
from app.consent.webhooks import disable_endpoint
from app.extensions import db
from app.notify.channels import Outgoing, webhook_id
from app.notify.errors import ChannelDown, EndpointGone, SendFailed
from app.outbound import client as outbound
from app.outbound.errors import EndpointUnreachable, UnsafeWebhookURL, WebhookFailed
from app.outbound.signing import deliver

EVENT_TYPE = "message.created"


def payload(item: Outgoing) -> dict[str, Any]:
    return {
        "delivery": item.delivery_id,
        "campaign": item.campaign_id,
        "kind": item.kind,
        "scope": item.scope,
        "title": item.title,
        "text": item.text,
        "html": item.html,
        "inbox_url": item.inbox_url,
        "why_url": item.why_url,
        "unsubscribe_url": item.unsubscribe_url,
    }


class WebhookChannel:
    name = Channel.WEBHOOK

    def __init__(
        self, *, allow_loopback: bool = False, resolve: outbound.Resolver = outbound.system_resolver
    ) -> None:
        self.allow_loopback = allow_loopback
        self.resolve = resolve

    def send(self, item: Outgoing) -> str:
        ident = webhook_id(item.delivery_id)
        endpoints = item.endpoints
        if not endpoints:
            raise SendFailed("no verified, enabled endpoint", temporary=False)
        problems: list[str] = []
        unreachable: set[str] = set()
        gone = 0
        for endpoint in endpoints:
            try:
                result = deliver(
                    endpoint.url,
                    endpoint.secret,
                    ident,
                    EVENT_TYPE,
                    payload(item),
                    clock.now(),
                    allow_loopback=self.allow_loopback,
                    resolve=self.resolve,
                )
            except EndpointUnreachable as exc:
                problems.append(f"{endpoint.url}: {exc}")
                unreachable.add(exc.host)
                continue
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
        if problems and len(unreachable) == len(problems) == len(endpoints):
            # Every endpoint's host is down: nothing was said about this message.
            raise ChannelDown("; ".join(problems)[:300], "webhook:" + ",".join(sorted(unreachable)))
        if problems:
            raise SendFailed("; ".join(problems)[:300], temporary=True)
        return ident

    def close(self) -> None:
        pass
