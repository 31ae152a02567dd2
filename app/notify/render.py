"""A campaign's body as each channel shows it.

The Markdown body is rendered and sanitized once per campaign version (the site's renderer and
allow-list, within the render budget: :func:`check_body` refuses a body over it when the campaign
is saved), with every link made absolute. Each delivery then gets its own copy in which every
web link goes through the click tracker (:func:`tracked`), and a plain-text version in which
links are written out after their text.

Both are prepared once per campaign version as a :class:`PreparedBody`: the HTML and the text
with a hole where each tracked link goes. A delivery only fills the holes with its own tracker
URLs (:meth:`PreparedBody.fill`), which gives the same bytes as tracking and converting the
body afresh (a test holds the two equal).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html import escape, unescape
from html.parser import HTMLParser
from urllib.parse import urljoin

from flask import current_app

from app.notify.errors import CampaignError
from app.notify.tokens import click_token, trackable
from app.site.errors import OverBudget
from app.site.rendering import render_markdown
from app.web.urls import external_url

_HREF = re.compile(r'href="([^"]*)"')
_BLOCKS = {
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "table",
    "tr",
    "hr",
    "br",
    "figure",
    "details",
}


@dataclass(frozen=True)
class Body:
    html: str
    text: str


def check_body(body: str) -> None:
    """Raise :class:`CampaignError` when ``body`` does not render within the render budget
    (``RENDER_BUDGET_SECONDS``), naming the line to change."""
    try:
        campaign_html(body)
    except OverBudget as exc:
        raise CampaignError(
            f"The message is too heavy to render (line {exc.line}): {exc.message}"
        ) from None


@lru_cache(maxsize=64)
def _rendered(body: str, base_url: str, seconds: float, _version: datetime | None) -> str:
    return _absolute_html(body, base_url, seconds)


def _absolute_html(body: str, base_url: str, seconds: float) -> str:
    html = render_markdown(body, seconds=seconds).html

    def absolute(match: re.Match[str]) -> str:
        url = unescape(match.group(1))
        if url.startswith("#"):
            return match.group(0)
        return f'href="{escape(urljoin(base_url + "/", url), quote=True)}"'

    return _HREF.sub(absolute, html)


def campaign_html(body: str, version: datetime | None = None) -> str:
    """The sanitized HTML of a campaign body, links absolute under ``BASE_URL``. Raises
    :class:`~app.site.errors.OverBudget` for a body over the render budget."""
    return _rendered(
        body,
        current_app.config["BASE_URL"].rstrip("/"),
        current_app.config["RENDER_BUDGET_SECONDS"],
        version,
    )


def tracked(html: str, delivery_id: int) -> str:
    """``html`` with each web link replaced by its tracker URL for ``delivery_id``."""

    def swap(match: re.Match[str]) -> str:
        url = unescape(match.group(1))
        if not trackable(url):
            return match.group(0)
        target = external_url("notify.click", token=click_token(delivery_id, url))
        return f'href="{escape(target, quote=True)}"'

    return _HREF.sub(swap, html)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n" if tag not in ("li", "br", "tr") else "\n")
        if tag == "li":
            self.parts.append("- ")
        if tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href = self.links.pop()
            if href and not href.startswith("#"):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """A readable plain-text version of sanitized ``html``, links in brackets after their text."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def delivery_body(body: str, delivery_id: int, version: datetime | None = None) -> Body:
    """The body as one delivery sends it: tracked links, HTML and text."""
    return prepared_body(body, version).fill(delivery_id)


class Holes:
    """A text with named holes, split once so that filling it is a join.

    ``marker`` matches a hole and captures its name; the text is split on it once, and
    :meth:`fill` puts a value in every hole."""

    def __init__(self, text: str, marker: re.Pattern[str]) -> None:
        pieces = marker.split(text)
        self.literals: tuple[str, ...] = tuple(pieces[0::2])
        self.names: tuple[str, ...] = tuple(pieces[1::2])

    def fill(self, values: Mapping[str, str]) -> str:
        literals = self.literals
        out = [literals[0]]
        for index, name in enumerate(self.names, 1):
            out.append(values[name])
            out.append(literals[index])
        return "".join(out)


def hole_marker() -> tuple[Callable[[str], str], re.Pattern[str]]:
    """A fresh way to write holes: ``write(name)`` gives the marker of hole ``name``, and the
    pattern finds them. The markers carry a random nonce, so no text can forge one."""
    nonce = secrets.token_hex(8)

    def write(name: str) -> str:
        return f"pfhole{nonce}{name}x"

    return write, re.compile(f"pfhole{nonce}([a-z0-9]+)x")


@dataclass(frozen=True)
class PreparedBody:
    """A campaign version's body, tracked links left as holes ``l0``, ``l1``... in both parts.

    ``links[n]`` is the address hole ``ln`` tracks. The HTML holes take the tracker URL
    escaped for an attribute, the text holes take it as it is."""

    html: Holes
    text: Holes
    links: tuple[str, ...]

    def tracker_urls(self, delivery_id: int) -> dict[str, str]:
        """Hole name -> tracker URL of each link, for ``delivery_id``."""
        if not self.links:
            return {}
        prefix, suffix = _click_url_parts()
        return {
            f"l{index}": prefix + click_token(delivery_id, url) + suffix
            for index, url in enumerate(self.links)
        }

    def fill(self, delivery_id: int) -> Body:
        urls = self.tracker_urls(delivery_id)
        return Body(
            html=self.html.fill({name: escape(url, quote=True) for name, url in urls.items()}),
            text=self.text.fill(urls),
        )


def prepare(html: str) -> PreparedBody:
    """``html`` (sanitized, links absolute) as a :class:`PreparedBody`."""
    write, marker = hole_marker()
    links: list[str] = []
    index: dict[str, int] = {}

    def hole(match: re.Match[str]) -> str:
        url = unescape(match.group(1))
        if not trackable(url):
            return match.group(0)
        if url not in index:
            index[url] = len(links)
            links.append(url)
        return f'href="{write(f"l{index[url]}")}"'

    holed = _HREF.sub(hole, html)
    return PreparedBody(
        html=Holes(holed, marker), text=Holes(plain_text(holed), marker), links=tuple(links)
    )


def prepared_body(body: str, version: datetime | None = None) -> PreparedBody:
    """The campaign body ``body`` (its version ``version``) prepared for delivery; kept for
    the last 64 versions."""
    return _prepared(campaign_html(body, version))


@lru_cache(maxsize=64)
def _prepared(html: str) -> PreparedBody:
    return prepare(html)


def prepared_once(body: str) -> PreparedBody:
    """``body`` rendered and prepared like :func:`prepared_body`, but not kept: a body made
    for one member (a digest's issue) would only push the campaigns' bodies out of the cache.
    Raises :class:`~app.site.errors.OverBudget` for a body over the render budget."""
    config = current_app.config
    html = _absolute_html(body, config["BASE_URL"].rstrip("/"), config["RENDER_BUDGET_SECONDS"])
    return prepare(html)


_CLICK_HOLE = "pftokenx"


def _click_url_parts() -> tuple[str, str]:
    """The tracker URL around its token (tokens are URL-safe, so the URL is a join)."""
    url = external_url("notify.click", token=_CLICK_HOLE)
    prefix, _, suffix = url.partition(_CLICK_HOLE)
    return prefix, suffix
