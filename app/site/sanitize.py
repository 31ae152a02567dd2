"""The allow-list every rendered page passes through, even though editors are trusted.

Only the tags and attributes that Markdown and its extensions produce survive; links and images
may only use http, https and mailto (or a path on this site). Script and style elements are
dropped with their content; event attributes, ``style`` attributes, iframes and forms vanish.
"""

from __future__ import annotations

import html
import re

import nh3
from pygments.token import STANDARD_TYPES

TAGS = frozenset(
    {
        "a",
        "abbr",
        "blockquote",
        "br",
        "code",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)

ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height", "srcset", "sizes", "loading", "decoding"},
    "ol": {"start"},
    "li": {"id"},
    "sup": {"id"},
    "td": {"align"},
    "th": {"align"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
}

_PYGMENTS = {name for name in STANDARD_TYPES.values() if name}
CLASSES = {
    "a": {"headerlink", "footnote-ref", "footnote-backref"},
    "div": {
        "highlight",
        "admonition",
        "footnote",
        "note",
        "tip",
        "warning",
        "danger",
        "important",
        "info",
        "caution",
        "attention",
        "hint",
        "error",
    },
    "p": {"admonition-title"},
    "span": _PYGMENTS | {"hll"},
    "code": {"language-text"},
}

URL_SCHEMES = frozenset({"http", "https", "mailto"})


_CLEANER = nh3.Cleaner(
    tags=set(TAGS),
    clean_content_tags={"script", "style", "template", "textarea", "title", "noscript"},
    attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    allowed_classes={tag: set(names) for tag, names in CLASSES.items()},
    link_rel="noopener",
    strip_comments=True,
)


_URL_ATTRIBUTE = re.compile(r'\s(?:href|src)="([^"]*)"')


def _odd_url(found: re.Match[str]) -> str:
    """Drop a link whose text before its first ``:`` reads as a scheme that is not one of
    ours, though it is none at all (``&lt;script&gt;javascript:``): nh3 keeps it as a relative
    address, and a browser does too, but nothing should look like it runs."""
    value = found.group(1)
    head = re.split(r"[/?#]", value, maxsplit=1)[0]
    if ":" not in head or head.split(":", 1)[0].lower() in URL_SCHEMES:
        return found.group(0)
    return ""


def sanitize(markup: str) -> str:
    """Return ``markup`` reduced to the allow-list above."""
    return _URL_ATTRIBUTE.sub(_odd_url, str(_CLEANER.clean(markup)))


_BLOCK = re.compile(
    r"</?(?:p|div|li|ol|ul|h[2-6]|tr|td|th|br|pre|hr|dd|dt|blockquote|table|"
    r"figure|figcaption|summary|details)\b[^>]*>"
)
_TAG = re.compile(r"<[^>]*>")
_HEADERLINK = re.compile(
    r'<a class="headerlink"[^>]*>.*?</a>|<a class="footnote-backref"[^>]*>'
    r".*?</a>",
    re.S,
)
_SPACE = re.compile(r"\s+")


def plain_text(markup: str) -> str:
    """The readable text of sanitized ``markup``, one space between words."""
    text = _TAG.sub("", _BLOCK.sub(" ", _HEADERLINK.sub("", markup)))
    return _SPACE.sub(" ", html.unescape(text)).strip()
