"""Calls to action: the block under an article (front matter ``cta``), on the home page and in the
footer that offers a survey or a scope.

A target is written ``kind:ref``, as in ``survey:reader-2026`` or ``scope:newsletter``. The site
does not know how to render either: the area that owns the kind registers a :class:`CtaKind` in its
``init_app`` (engage for surveys, consent for scopes). Until one is registered, the block shows a
neutral placeholder, and ``content check`` reports targets whose kind or ref nobody knows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask, render_template
from markupsafe import Markup

from app.registry import Registry

PLACEMENTS = ("article", "home", "footer")


@dataclass(frozen=True)
class CtaKind:
    """How one kind of target is checked and drawn.

    ``exists(ref)`` says whether the ref names something real (a survey file, a scope).
    ``render(ref, placement)`` returns the block's HTML (already escaped), or None to show
    nothing, for example when the signed-in member already answered the survey.
    """

    kind: str
    exists: Callable[[str], bool]
    render: Callable[[str, str], Markup | None]


class CtaError(ValueError):
    pass


def parse_target(target: str) -> tuple[str, str]:
    """Split ``kind:ref``; raise :class:`CtaError` when it is not of that shape."""
    kind, sep, ref = str(target).partition(":")
    if not sep or not kind or not ref:
        raise CtaError(
            f"call to action {target!r} must look like 'survey:<slug>' or 'scope:<slug>'"
        )
    return kind, ref


CTA_KINDS = Registry[CtaKind](
    "cta_kinds", "how targets of one kind (`survey:`, `scope:`) are checked and drawn"
)


def register_cta_kind(app: Flask, kind: CtaKind) -> None:
    """Check and draw targets written ``<kind.kind>:<ref>`` with ``kind``."""
    CTA_KINDS.add(app, kind.kind, kind)


def _kinds() -> Mapping[str, CtaKind]:
    return CTA_KINDS.named()


def target_problem(target: str) -> str | None:
    """None when ``target`` names something real, else a message for ``content check``."""
    try:
        kind, ref = parse_target(target)
    except CtaError as exc:
        return str(exc)
    handler = _kinds().get(kind)
    if handler is None:
        return f"unknown call-to-action kind {kind!r} in {target!r}"
    if not handler.exists(ref):
        return f"call to action {target!r} names no {kind} of that name"
    return None


def render_cta(target: str | None, placement: str = "article") -> Markup:
    """The HTML of the block for ``target`` at ``placement``; a placeholder when no area draws
    that kind, and nothing for an empty target."""
    if not target:
        return Markup("")
    try:
        kind, ref = parse_target(target)
    except CtaError:
        return Markup("")
    handler = _kinds().get(kind)
    if handler is not None:
        return handler.render(ref, placement) or Markup("")
    html = render_template("site/cta_placeholder.html", kind=kind, ref=ref, placement=placement)
    return Markup(html)  # noqa: S704 - rendered by an autoescaping template


def init_app(app: Flask) -> None:
    app.jinja_env.globals["render_cta"] = render_cta
