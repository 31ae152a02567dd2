"""SMS through Kannel: the product talks to smsbox's sendsms HTTP interface
(``GET <sendsms_url>?username&password&from&to&text&charset…``), and smsbox hands the message to
bearerbox, which sends it through the operator's SMS centre (SMPP in production).

Why plain HTTP through httpx: sendsms is one GET with a one-line plain-text answer
(``0: Accepted for delivery``, ``3: Queued for later delivery``, ``Authorization failed for
sendsms``…). A keep-alive :class:`httpx.Client` per :class:`SmsGateway` gives connection reuse
and timeouts; nothing else is needed.

How the text travels: it is always sent as UTF-8 (``charset=UTF-8``). When every character is in
the GSM 03.38 alphabet Kannel packs it into 7-bit septets; otherwise we ask for ``coding=2`` so
Kannel sends UCS-2 instead of dropping or replacing what GSM-7 cannot carry. :func:`segments`
tells the marketer, before a campaign goes out, which encoding a text will use and how many SMS
it will cost.

Delivery reports: with ``dlr_url`` the message asks for every report (``dlr-mask=31``) and Kannel
calls the URL once per report, replacing ``%d`` with the report type (8: the SMS centre accepted
it, 1: delivered to the phone, 2: failed, 16: the SMS centre rejected it, 4: buffered).

Errors (``str(error)`` is safe to log: the password never appears)::

    SmsError             Kannel did not take the message (``status``: the HTTP status or 0,
    │                    ``answer``: Kannel's answer text)
    ├── SmsGatewayDown   no answer (refused, timeout), a 5xx (such as a full queue) or an answer
    │                    we do not understand: try again later
    └── SmsRejected      a 4xx (authorization failed, missing or invalid receiver…): this message
                         will never be taken as it is; do not retry it
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from app.outbound.http import KeepAlive

#: GSM 03.38 default alphabet: one septet each. Line feed and carriage return are in it; the
#: escape code (0x1B) is not a character of its own.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The extension table: reached through the escape code, so two septets each.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7 = "GSM-7"
UCS2 = "UCS-2"
#: Units in a single SMS and in each part of a concatenated one (the rest of a part carries the
#: 6-octet concatenation header: 7 septets in GSM-7, 3 code units in UCS-2).
SINGLE_LIMIT = {GSM7: 160, UCS2: 70}
PART_LIMIT = {GSM7: 153, UCS2: 67}

#: Answers that mean Kannel has taken the message: sent on to bearerbox, or queued there until
#: the SMS centre is connected again.
ACCEPTED_PREFIXES = ("0:", "3:")


class SmsError(Exception):
    """Kannel did not take a message. ``status`` is the HTTP status (0 when no answer came) and
    ``answer`` Kannel's answer text or a description of what went wrong."""

    def __init__(self, status: int, answer: str) -> None:
        prefix = f"Kannel answered {status}" if status else "Kannel did not answer"
        super().__init__(f"{prefix}: {answer}" if answer else prefix)
        self.status = status
        self.answer = answer


class SmsGatewayDown(SmsError):
    """Kannel could not take the message now (unreachable, overloaded, full queue): retry later."""


class SmsRejected(SmsError):
    """Kannel refused this message for good (credentials, receiver, parameters): do not retry."""


def is_gsm7(text: str) -> bool:
    """Whether ``text`` can go out in GSM-7: every character in the default alphabet or in its
    extension table."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


@dataclass(frozen=True)
class Segments:
    """How a text goes out: ``encoding`` (``"GSM-7"`` or ``"UCS-2"``), ``units`` (septets, two
    per extension character, or UTF-16 code units, two per character outside the BMP) and
    ``count``, the number of SMS the phone receives (and the operator bills)."""

    encoding: str
    units: int
    count: int


def segments(text: str) -> Segments:
    """The encoding and SMS count of ``text``: one SMS up to 160 septets (GSM-7) or 70 code units
    (UCS-2), otherwise parts of at most 153 or 67. An empty text is still one SMS."""
    if is_gsm7(text):
        encoding = GSM7
        widths = [2 if char in GSM7_EXTENSION else 1 for char in text]
    else:
        encoding = UCS2
        widths = [2 if ord(char) > 0xFFFF else 1 for char in text]
    units = sum(widths)
    if units <= SINGLE_LIMIT[encoding]:
        return Segments(encoding, units, 1)
    # A character is never split between two parts (an escaped GSM character or a surrogate
    # pair would be garbled), so a part may end one unit short of the limit.
    per_part = PART_LIMIT[encoding]
    count, used = 1, 0
    for width in widths:
        if used + width > per_part:
            count, used = count + 1, 0
        used += width
    return Segments(encoding, units, count)


class SmsGateway(KeepAlive):
    """One smsbox sendsms account (one keep-alive connection pool; :meth:`close` it).

    ``sender`` is the ``from`` of every message: a number in E.164 form or an alphanumeric
    sender ID, whichever the operator's SMS centre allows for this account."""

    def __init__(
        self,
        sendsms_url: str,
        username: str,
        password: str,
        sender: str,
        timeout: float = 10.0,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = sendsms_url
        self._username = username
        self._password = password
        self._sender = sender
        super().__init__(timeout, transport)

    def __repr__(self) -> str:
        return f"SmsGateway(url={self._url!r}, username={self._username!r})"

    def _safe(self, text: str) -> str:
        return text.replace(self._password, "<password>") if self._password else text

    def send(self, to: str, text: str, *, dlr_url: str | None = None) -> None:
        """Hand one SMS to Kannel for ``to`` (E.164, such as ``+447700900123``). Returns once
        Kannel has accepted or queued it; raises :class:`SmsGatewayDown` or
        :class:`SmsRejected` otherwise.

        ``dlr_url`` is called by Kannel for each delivery report; it should contain ``%d`` (the
        report type), which reaches Kannel intact because the whole URL is one percent-encoded
        query value."""
        params: dict[str, str] = {
            "username": self._username,
            "password": self._password,
            "from": self._sender,
            "to": to,
            "text": text,
            "charset": "UTF-8",
        }
        if not is_gsm7(text):
            params["coding"] = "2"
        if dlr_url is not None:
            params["dlr-mask"] = "31"
            params["dlr-url"] = dlr_url
        try:
            response = self._client.get(self._url, params=params)
        except httpx.TimeoutException:
            raise SmsGatewayDown(0, "no answer in time") from None
        except httpx.HTTPError as error:
            detail = self._safe(str(error)) or type(error).__name__
            raise SmsGatewayDown(0, f"not reachable: {detail}") from None
        self._check(response)

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        answer = self._safe(response.text.strip())
        if 200 <= status < 300 and answer.startswith(ACCEPTED_PREFIXES):
            return
        if 400 <= status < 500:
            raise SmsRejected(status, answer or f"HTTP {status}")
        raise SmsGatewayDown(status, answer or f"HTTP {status}")
