"""What a marketer takes to the printer when a batch is issued in the browser: a CSV file and
printable cards, one code and its QR code per card.

The printed codes exist only in the answer to the request that issued them (the database
keeps a keyed hash of each, see :mod:`app.engage.redemption`), so both outputs are built from
the list :func:`~app.engage.redemption.issue_codes` returned. A card's QR code holds
``BASE_URL/redeem?code=<code>``: the redeem page fills its form from it, so a phone's camera
opens the form ready to send. QR codes are drawn by segno as inline SVG (no image files, no
script).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import segno
from markupsafe import Markup

from app.engage.redemption import IssuedCodes
from app.tabular import safe_cell

#: Cards drawn in one answer (each QR takes a few milliseconds to draw): more codes at once go
#: to the CSV file, or are issued into the same batch again for another sheet of cards.
MAX_CARDS = 200
#: Codes issued from the browser at once (the command line issues up to 100,000).
MAX_WEB_COUNT = 5_000
CSV_HEADER = ("code", "batch", "uses", "valid_until")


def redeem_url(base_url: str, code: str) -> str:
    """The address a card's QR code holds: ``BASE_URL/redeem?code=<code>``."""
    return f"{base_url.rstrip('/')}/redeem?code={quote(code, safe='-')}"


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code of ``url`` (error correction M: a smudged card still scans)."""
    qr = segno.make(url, error="m", micro=False)
    svg = qr.svg_inline(scale=4, border=2, omitsize=True, svgclass="qr", lineclass=None)
    return Markup(svg)  # noqa: S704 - segno's own SVG: only its path data and our fixed class


def last_valid_day(issued: IssuedCodes) -> str:
    """``2027-01-31``: the last day the codes work (``expires_at`` is exclusive), or ``""``."""
    if issued.expires_at is None:
        return ""
    return (issued.expires_at - timedelta(microseconds=1)).date().isoformat()


def codes_csv(issued: IssuedCodes) -> str:
    """The batch's codes as CSV: code, batch, uses, valid_until (the CLI's columns)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    valid = last_valid_day(issued)
    for code in issued.codes:
        writer.writerow([safe_cell(v) for v in (code, issued.batch, issued.uses, valid)])
    return out.getvalue()


def csv_filename(issued: IssuedCodes, now: datetime) -> str:
    return f"codes-{issued.batch}-{now:%Y%m%d-%H%M%S}.csv"


@dataclass(frozen=True)
class Card:
    code: str
    url: str
    qr: Markup


def cards(issued: IssuedCodes, base_url: str) -> list[Card]:
    """One card per code (at most :data:`MAX_CARDS`; the caller refuses more)."""
    made = []
    for code in issued.codes[:MAX_CARDS]:
        url = redeem_url(base_url, code)
        made.append(Card(code, url, qr_svg(url)))
    return made
