"""The email channel: one multipart (text and HTML) message per delivery, over a transport
that keeps its SMTP connection for the whole batch.

Every campaign mail carries the RFC 2369 / RFC 8058 headers: ``List-Unsubscribe`` with the https
link and a mailto, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, and ``List-Id``, and a
footer with the scope's promise, the postal address of ``content/site.toml``, "why did I get
this?" and the unsubscribe link. Header values are checked for CR and LF by
:mod:`app.mail.message`, so a display name or subject cannot add a header.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app

from app import clock
from app.consent.terms import Channel
from app.mail.message import DeliveryFailed, HeaderInjection, MailError, RelayUnavailable
from app.mail.transport import Transport
from app.notify.bounces.verp import bounce_domain, bounce_key, verp_address
from app.notify.channels import Outgoing
from app.notify.errors import ChannelDown, SendFailed
from app.notify.mailmerge import Filled, MailTemplate
from app.site.settings import current_settings


class EmailChannel:
    """Sends campaign mail over ``transport``. Each campaign's mail is written once
    (:class:`~app.notify.mailmerge.MailTemplate`) and filled per delivery; the channel keeps
    the templates of the last few campaigns it sent."""

    name = Channel.EMAIL
    KEEP = 16

    def __init__(self, transport: Transport, sender: str) -> None:
        self.transport = transport
        self.sender = sender
        self.domain = parseaddr(sender)[1].rsplit("@", 1)[-1] or "localhost"
        self._templates: OrderedDict[tuple[object, ...], MailTemplate] = OrderedDict()
        self._verp: tuple[str, bytes] | None = None  # bounce domain and key, read on first use

    def template(self, item: Outgoing) -> MailTemplate:
        """The mail of ``item``'s campaign, written on first use."""
        config = current_app.config
        postal_address = current_settings().postal_address
        key = (
            item.campaign_id,
            item.body,
            item.title,
            item.scope,
            item.scope_title,
            item.promise,
            item.kind,
            item.open_url is None,
            postal_address,
            config["NOTIFY_UNSUBSCRIBE_MAILTO"],
            config["BASE_URL"],
        )
        found = self._templates.get(key)
        if found is None:
            mailbox = config["NOTIFY_UNSUBSCRIBE_MAILTO"] or parseaddr(self.sender)[1]
            site = urlsplit(config["BASE_URL"]).hostname or self.domain
            found = MailTemplate(
                item,
                sender=self.sender,
                domain=self.domain,
                mailbox=mailbox,
                site=site,
                postal_address=postal_address,
            )
            self._templates[key] = found
            while len(self._templates) > self.KEEP:
                self._templates.popitem(last=False)
        else:
            self._templates.move_to_end(key)
        return found

    def render(self, item: Outgoing, now: datetime) -> Filled:
        """``item``'s mail as it is sent at ``now``; raises :class:`SendFailed` (not
        temporary) when it cannot be written safely."""
        try:
            return self.template(item).fill(item, now)
        except (HeaderInjection, MailError, UnicodeEncodeError) as exc:
            raise SendFailed(f"refused to build the mail: {exc}", temporary=False) from None

    def send(self, item: Outgoing) -> str:
        mail = self.render(item, clock.now())
        if self._verp is None:
            self._verp = (bounce_domain(), bounce_key())
        try:
            # The envelope sender is the delivery's own VERP address: a bounce or complaint
            # that comes back later names the delivery (app.notify.bounces).
            self.transport.send_bytes(
                mail.data,
                to=item.email,
                message_id=mail.message_id,
                eight_bit=mail.eight_bit,
                envelope_from=verp_address(item.delivery_id, *self._verp),
            )
        except RelayUnavailable as exc:
            raise ChannelDown(str(exc), Channel.EMAIL) from exc
        except DeliveryFailed as exc:
            raise SendFailed(
                str(exc), temporary=exc.temporary, address_refused=exc.recipient_refused
            ) from exc
        return mail.message_id

    def close(self) -> None:
        self.transport.close()
