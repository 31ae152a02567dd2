"""The email channel: one multipart (text and HTML) message per delivery, over a transport
that keeps its SMTP connection for the whole batch.

Every campaign mail carries the RFC 2369 / RFC 8058 headers: ``List-Unsubscribe`` with the https
link and a mailto, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, and ``List-Id``, and a
footer with the scope's promise, the postal address of ``content/site.toml``, "why did I get
this?" and the unsubscribe link. Header values are checked for CR and LF by
:mod:`app.mail.message`, so a display name or subject cannot add a header.
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import quote, urlsplit

from flask import current_app, render_template

from app import clock
from app.mail.message import DeliveryFailed, HeaderInjection, Message, RelayUnavailable, build
from app.mail.transport import Transport
from app.notify.bounces.verp import bounce_domain, bounce_key, verp_address
from app.notify.channels import Outgoing, message_id
from app.notify.errors import ChannelDown, SendFailed
from app.site.settings import current_settings


class EmailChannel:
    name = "email"

    def __init__(self, transport: Transport, sender: str) -> None:
        self.transport = transport
        self.sender = sender
        self.domain = parseaddr(sender)[1].rsplit("@", 1)[-1] or "localhost"

    def headers(self, item: Outgoing) -> dict[str, str]:
        headers = {"X-Pullfirst-Delivery": str(item.delivery_id)}
        mailbox = current_app.config["NOTIFY_UNSUBSCRIBE_MAILTO"] or parseaddr(self.sender)[1]
        token = urlsplit(item.unsubscribe_url).path.rstrip("/").rsplit("/", 1)[-1]
        mailto = f"mailto:{mailbox}?subject={quote('unsubscribe ' + token)}"
        site = urlsplit(current_app.config["BASE_URL"]).hostname or self.domain
        headers.update({
            "List-Unsubscribe": f"<{item.unsubscribe_url}>, <{mailto}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"{_list_name(item.scope_title)} <{item.scope}.{site}>",
        })
        return headers

    def message(self, item: Outgoing) -> Message:
        context = {"item": item, "subject": item.title,
                   "postal_address": current_settings().postal_address}
        return Message(
            to=item.email, to_name=item.display_name, subject=item.title,
            text=render_template("notify/mail.txt", **context),
            html=render_template("notify/mail.html", **context),
            headers=self.headers(item), message_id=message_id(item.delivery_id, self.domain),
        )

    def send(self, item: Outgoing) -> str:
        try:
            mail = build(self.message(item), self.sender, clock.now())
        except HeaderInjection as exc:
            raise SendFailed(f"refused to build the mail: {exc}", temporary=False) from None
        try:
            # The envelope sender is the delivery's own VERP address: a bounce or complaint
            # that comes back later names the delivery (app.notify.bounces).
            self.transport.send(mail, envelope_from=verp_address(
                item.delivery_id, bounce_domain(), bounce_key()))
        except RelayUnavailable as exc:
            raise ChannelDown(str(exc), "email") from exc
        except DeliveryFailed as exc:
            raise SendFailed(str(exc), temporary=exc.temporary) from exc
        return str(mail["Message-ID"])

    def close(self) -> None:
        self.transport.close()


def _list_name(title: str) -> str:
    """The scope title as a quoted List-Id phrase, without characters that end it."""
    cleaned = "".join(c for c in title if c.isprintable() and c not in '"\\')
    return f'"{cleaned[:60]}"'
