"""The ``sms`` channel: a campaign as a text message, through Kannel.

The text starts with who sends it (``SMS_PROGRAM``) and the campaign's title, then the body as
plain text with every link made short (:mod:`app.notify.shortlinks`), and ends with how to stop.
A body longer than :data:`MAX_SEGMENTS` segments is cut at a word and ends with a short link to
the whole message on the site. Every text asks Kannel for delivery reports
(:func:`app.consent.texts.report_url`), which move the delivery to delivered, or to failed, and
suppress the number when the SMS centre refused it for good.

Kannel down (no answer, a 5xx, its queue full) is :class:`ChannelDown`: the worker holds every
text and tries again with backoff. A refusal (bad number, bad credentials) is final for the
delivery.
"""

from __future__ import annotations

from datetime import datetime

from app import clock
from app.consent import texts
from app.consent.terms import Channel
from app.notify.channels import Outgoing
from app.notify.errors import ChannelDown, SendFailed
from app.notify.render import PreparedBody
from app.notify.shortlinks import sample_url, shorten
from app.outbound.kannel import SmsGateway, SmsGatewayDown, SmsRejected, segments

MAX_SEGMENTS = 4
STOP_LINE = "Reply STOP to cancel"


def compose(program: str, title: str, body: str, more: str) -> str:
    """The text of a campaign whose plain body (links already short) is ``body``; ``more`` is
    the short link to the whole message, used when the body must be cut."""
    head, tail = f"{program}: {title.strip()}\n", f"\n{STOP_LINE}"
    text = head + body.strip() + tail
    if segments(text).count <= MAX_SEGMENTS:
        return text
    read_on = f"\u2026 Read on: {more}"
    words = body.strip().split(" ")
    while words:
        words.pop()
        text = head + " ".join(words).rstrip(" ,.;:") + read_on + tail
        if segments(text).count <= MAX_SEGMENTS:
            return text
    return head + f"Read it: {more}" + tail


def campaign_text(item: Outgoing, now: datetime) -> str:
    def short(url: str) -> str:
        return shorten(item.delivery_id, url, now)

    urls = {f"l{index}": short(url) for index, url in enumerate(item.body.links)}
    return compose(texts.program(), item.title, item.body.text.fill(urls), short(item.inbox_url))


def preview_text(program: str, title: str, body: PreparedBody) -> str:
    """The text every member would get, with short links of the real length (for the
    preview's segment count)."""
    sample = sample_url()
    filled = body.text.fill({f"l{index}": sample for index in range(len(body.links))})
    return compose(program, title, filled, sample)


class SmsChannel:
    name = Channel.SMS

    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway

    def send(self, item: Outgoing) -> str:
        if item.phone is None:
            raise SendFailed("no proven mobile number", temporary=False)
        text = campaign_text(item, clock.now())
        try:
            self.gateway.send(item.phone, text, dlr_url=texts.report_url(delivery=item.delivery_id))
        except SmsGatewayDown as exc:
            raise ChannelDown(f"Kannel: {exc}", Channel.SMS) from None
        except SmsRejected as exc:
            raise SendFailed(f"Kannel refused the text: {exc}", temporary=False) from None
        return f"sms-delivery-{item.delivery_id}"

    def close(self) -> None:
        self.gateway.close()
