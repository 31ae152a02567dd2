"""A survey's introduction: Markdown rendered to HTML, then cleaned against an allow-list.

Editors are trusted, but what reaches a page is sanitized anyway (nh3): only the tags below, only
``href`` and ``title`` on links (http, https and mailto), no images, scripts, styles or event
attributes. Links get ``rel="noopener noreferrer"``. The introduction keeps to the site's render
budget (:mod:`app.site.budget`): the same limits, the same linear link scanners, the same clock.
"""

from __future__ import annotations

import functools

import markdown
import nh3
from markupsafe import Markup

from app.site.budget import DEFAULT_SECONDS, check_shape, within
from app.site.linear_links import LinearLinks

TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "b",
        "i",
        "a",
        "ul",
        "ol",
        "li",
        "blockquote",
        "code",
        "pre",
        "h2",
        "h3",
        "h4",
        "hr",
        "abbr",
    }
)
ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
MAX_INTRO = 20_000


def check_intro(text: str) -> None:
    """Raise :class:`~app.site.errors.OverBudget` (with the line) when the introduction is
    over the render budget's limits; renders nothing."""
    check_shape(text[:MAX_INTRO])


@functools.lru_cache(maxsize=64)
def render_intro(text: str, seconds: float = DEFAULT_SECONDS) -> Markup:
    """The sanitized HTML of a Markdown introduction (headings start at level 2). Raises
    :class:`~app.site.errors.OverBudget` when it is over the render budget of ``seconds``."""
    check_intro(text)
    html = within(
        seconds,
        lambda: markdown.markdown(
            text[:MAX_INTRO], extensions=["sane_lists", LinearLinks()], output_format="html"
        ),
    )
    html = html.replace("<h1", "<h2").replace("</h1>", "</h2>")  # the page's title is the h1
    clean = nh3.clean(
        html,
        tags=set(TAGS),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitized by nh3 against the allow-list above
