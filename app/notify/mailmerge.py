"""A campaign's mail, written once and filled for each delivery.

Writing a multipart message with the email package takes longer than sending it. The email
channel therefore writes each campaign's mail once (per campaign version, scope, kind and
sender): both templates rendered, the headers that are the same for everyone (From, Subject,
List-Id, the MIME structure) folded by the email package, and a hole wherever a delivery differs
(the recipient, the date, the Message-ID and delivery id, the tracked links, the unsubscribe,
"why", inbox and open URLs). A delivery fills the holes and encodes the two parts as the email
package would (7bit for ASCII, 8bit for other text, quoted-printable for a line over 998
bytes). A test parses filled messages beside messages the email package built from the same
values and holds every header and both parts equal.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email import quoprimime
from email.utils import format_datetime, parseaddr
from types import SimpleNamespace
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from flask import render_template
from markupsafe import escape

from app.mail.message import POLICY, _address, clean_header
from app.notify.channels import Outgoing, message_id
from app.notify.render import Holes, hole_marker

if TYPE_CHECKING:
    from collections.abc import Mapping

FOLD = POLICY.clone(linesep="\r\n")
MAX_LINE = 998
# A display name the email package writes as it is, and an address it writes as it is.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


@dataclass(frozen=True)
class Filled:
    """One delivery's mail: its bytes (CRLF line ends), Message-ID, and whether it holds
    8-bit text."""

    data: bytes
    message_id: str
    eight_bit: bool


def folded(name: str, value: object) -> str:
    """The header line ``name: value`` as the email package writes it (encoded words for
    text that is not ASCII, folded, CRLF)."""
    return str(FOLD.header_factory(name, value).fold(policy=FOLD))


def to_header(display_name: str, address: str) -> str:
    """The folded ``To`` header line for ``display_name <address>``, as the email package
    writes it (a test checks the two agree); raises
    :class:`~app.mail.message.HeaderInjection` for a line break or control character."""
    if len(address) < 200 and _PLAIN_ADDRESS.fullmatch(address):
        if not display_name:
            return f"To: {address}\r\n"
        if len(display_name) <= 64 and _PLAIN_NAME.fullmatch(display_name):
            return f"To: {display_name} <{address}>\r\n"
    return folded("To", _address(display_name, address))


def _encoded(text: str) -> tuple[str, bytes]:
    """``text`` as a text part's body, CRLF line ends: (transfer encoding, bytes)."""
    lines = text.encode("utf-8").splitlines()
    longest = max(map(len, lines), default=0)
    if longest <= MAX_LINE:
        body = b"\r\n".join(lines) + b"\r\n"
        return ("7bit" if body.isascii() else "8bit"), body
    data = quoprimime.body_encode(b"\n".join(lines).decode("latin-1") + "\n", 76)
    return "quoted-printable", data.replace("\n", "\r\n").encode("ascii")


class MailTemplate:
    """One campaign's mail with holes (see the module's text). ``fill`` makes a delivery's."""

    def __init__(
        self,
        item: Outgoing,
        *,
        sender: str,
        domain: str,
        mailbox: str,
        site: str,
        postal_address: str,
    ) -> None:
        write, marker = hole_marker()
        sample = SimpleNamespace(
            title=item.title,
            scope=item.scope,
            scope_title=item.scope_title,
            promise=item.promise,
            kind=item.kind,
            html=item.body.html.fill({name: write(name) for name in item.body.html.names}),
            text=item.body.text.fill({name: write(name) for name in item.body.text.names}),
            unsubscribe_url=write("unsubscribe"),
            why_url=write("why"),
            inbox_url=write("inbox"),
            open_url=write("open") if item.open_url is not None else None,
        )
        context = {"item": sample, "subject": item.title, "postal_address": postal_address}
        self.text = Holes(render_template("notify/mail.txt", **context), marker)
        self.html = Holes(render_template("notify/mail.html", **context), marker)
        self.links = item.body
        self.domain = domain
        self.mailbox = mailbox
        self.boundary = (
            "===============" + "".join(secrets.choice("0123456789") for _ in range(19)) + "=="
        )
        sender_name, sender_address = parseaddr(sender)
        list_id = f"{_list_name(item.scope_title)} <{item.scope}.{site}>"
        self.from_line = folded("From", _address(sender_name, sender_address))
        self.subject_line = folded("Subject", clean_header("Subject", item.title))
        self.list_lines = "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" + folded(
            "List-Id", clean_header("List-Id", list_id)
        )
        self.content_type = (
            f'Content-Type: multipart/alternative;\r\n boundary="{self.boundary}"\r\n'
        )

    def fill(self, item: Outgoing, now: datetime) -> Filled:
        """``item``'s mail, dated ``now``. Raises :class:`~app.mail.message.HeaderInjection`
        for a recipient that cannot be written safely."""
        urls: dict[str, str] = {
            "unsubscribe": item.unsubscribe_url,
            "why": item.why_url,
            "inbox": item.inbox_url,
            "open": item.open_url or "",
        }
        links = self.links.tracker_urls(item.delivery_id)
        urls.update(links)
        html_values: Mapping[str, str] = {name: str(escape(url)) for name, url in urls.items()}
        text_cte, text = _encoded(self.text.fill(urls))
        html_cte, html = _encoded(self.html.fill(html_values))
        boundary = self.boundary.encode("ascii")
        if boundary in text or boundary in html:  # pragma: no cover - 19 random digits
            raise ValueError("the boundary occurs in the message; write it again")
        token = urlsplit(item.unsubscribe_url).path.rstrip("/").rsplit("/", 1)[-1]
        mailto = f"mailto:{self.mailbox}?subject={quote('unsubscribe ' + token)}"
        mid = message_id(item.delivery_id, self.domain)
        head = "".join(
            (
                self.from_line,
                to_header(item.display_name, item.email),
                self.subject_line,
                f"Date: {format_datetime(now)}\r\nMessage-ID: {mid}\r\n"
                f"X-Pullfirst-Delivery: {item.delivery_id}\r\n"
                f"List-Unsubscribe: <{clean_header('List-Unsubscribe', item.unsubscribe_url)}>,"
                f"\r\n <{mailto}>\r\n",
                self.list_lines,
                "MIME-Version: 1.0\r\n",
                self.content_type,
                "\r\n",
            )
        ).encode("ascii")
        data = b"".join(
            (
                head,
                b"--",
                boundary,
                b"\r\n",
                b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: ',
                text_cte.encode(),
                b"\r\n\r\n",
                text,
                b"\r\n--",
                boundary,
                b"\r\n",
                b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: ',
                html_cte.encode(),
                b"\r\n\r\n",
                html,
                b"\r\n--",
                boundary,
                b"--\r\n",
            )
        )
        return Filled(data, mid, "8bit" in (text_cte, html_cte))


def _list_name(title: str) -> str:
    """The scope title as a quoted List-Id phrase, without characters that end it."""
    cleaned = "".join(c for c in title if c.isprintable() and c not in '"\\')
    return f'"{cleaned[:60]}"'
