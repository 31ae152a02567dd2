"""Links that areas add to the shared layout: the member menu in the header and the sections of
the admin dashboard. Each area registers its own in its ``init_app``, so the layout never imports
an area.

A member link may carry a count (the inbox's unread messages, say): ``count`` is called per request
with the signed-in member's id and returns a number, or None to show no badge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, url_for
from flask_login import current_user

from app.registry import Registry

CountFunction = Callable[[int], int | None]


@dataclass(frozen=True)
class MemberLink:
    label: str
    endpoint: str
    order: int = 50
    count: CountFunction | None = None


@dataclass(frozen=True)
class AdminSection:
    label: str
    endpoint: str
    role: str  # "editor", "marketer" or "admin"
    description: str = ""
    order: int = 50


@dataclass(frozen=True)
class ShownLink:
    label: str
    url: str
    count: int | None
    current: bool


MEMBER_LINKS = Registry[MemberLink](
    "member_links", "a link in the header for signed-in members, by endpoint"
)
ADMIN_SECTIONS = Registry[AdminSection](
    "admin_sections", "a section of the admin dashboard, by endpoint"
)


def register_member_link(app: Flask, link: MemberLink) -> None:
    """Show ``link`` in the header of every page for signed-in members."""
    MEMBER_LINKS.add(app, link.endpoint, link)


def register_admin_section(app: Flask, section: AdminSection) -> None:
    """List ``section`` on the admin dashboard for members who hold its role."""
    ADMIN_SECTIONS.add(app, section.endpoint, section)


def member_links() -> list[ShownLink]:
    """The header links for the signed-in member of this request (empty for visitors)."""
    if not current_user.is_authenticated:
        return []
    from flask import request

    shown = []
    for link in sorted(MEMBER_LINKS.items(), key=lambda item: item.order):
        count = link.count(current_user.id) if link.count is not None else None
        shown.append(
            ShownLink(link.label, url_for(link.endpoint), count, request.endpoint == link.endpoint)
        )
    return shown


def admin_sections() -> list[AdminSection]:
    """The admin sections the signed-in member may open."""
    if not current_user.is_authenticated:
        return []
    return [
        s
        for s in sorted(ADMIN_SECTIONS.items(), key=lambda item: item.order)
        if current_user.has_role(s.role)
    ]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["member_links"] = member_links
    app.jinja_env.globals["admin_sections"] = admin_sections
