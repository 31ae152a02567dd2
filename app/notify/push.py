"""The ``push`` channel: a campaign as a browser notification (Web Push, RFC 8030/8291/8292).

Each of the member's browsers that allowed notifications gets the notification: the campaign's
title, the start of its text, and where a click leads (the campaign's first link, tracked as a
click, or else the message in the member's inbox, whose opening counts as a read). The payload
is encrypted to each browser's keys and signed with the site's VAPID key.

A browser whose push service answers 404 or 410 turned notifications off: its subscription is
disabled, and when it was the member's last, their ``push`` permissions are revoked
(:func:`app.consent.push.disable`). A push service that does not answer, or answers 429 or
5xx, is retried; with several browsers, one that took the message is enough.
"""

from __future__ import annotations

import re

from app import clock
from app.consent import push
from app.consent.terms import Channel
from app.extensions import db
from app.notify.channels import Outgoing
from app.notify.errors import EndpointGone, SendFailed
from app.notify.render import PreparedBody
from app.outbound.webpush import PushFailed, PushGone, PushSender

BODY_CHARS = 140
_ADDRESS = re.compile(r" \((?:\x00|[a-z][a-z0-9+.-]*:[^\s)]*)\)")
TTL = 2 * 24 * 3600  # a notification older than two days is of no use


def notification_text(body: PreparedBody) -> str:
    """The start of the campaign's words, as a notification shows them: a link's address,
    written after its text in the plain part, has no use there (the click is the link)."""
    words = body.text.fill({f"l{i}": "\x00" for i in range(len(body.links))})
    text = " ".join(_ADDRESS.sub("", words).split())
    if len(text) > BODY_CHARS:
        text = text[: BODY_CHARS - 1].rsplit(" ", 1)[0] + "\u2026"
    return text


def payload(item: Outgoing) -> dict[str, str]:
    """What the service worker shows: title, body, the click's target, and a tag per
    delivery (a retried message replaces itself instead of showing twice)."""
    links = item.body.tracker_urls(item.delivery_id)
    return {
        "title": item.title,
        "body": notification_text(item.body),
        "url": links["l0"] if links else item.inbox_url,
        "tag": f"delivery-{item.delivery_id}",
    }


class PushChannel:
    name = Channel.PUSH

    def __init__(self, sender: PushSender) -> None:
        self.sender = sender

    def send(self, item: Outgoing) -> str:
        if not item.push_targets:
            raise SendFailed("no browser allowed notifications", temporary=False)
        message = payload(item)
        gone, took = 0, 0
        failures: list[PushFailed] = []
        for target in item.push_targets:
            try:
                self.sender.send(target, message, ttl=TTL, topic=f"d{item.delivery_id}")
            except PushGone:
                push.disable(target.endpoint, clock.now())
                db.session.flush()
                gone += 1
            except PushFailed as exc:
                failures.append(exc)
            else:
                took += 1
        if took:
            return message["tag"]
        if gone == len(item.push_targets):
            raise EndpointGone("every browser turned notifications off")
        words = "; ".join(str(f) for f in failures)[:300]
        raise SendFailed(words, temporary=any(f.retry for f in failures))

    def close(self) -> None:
        self.sender.close()
