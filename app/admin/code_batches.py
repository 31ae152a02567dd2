"""Marketers' view of in-store code batches: issued, redeemed, used up, expired, still open."""

from __future__ import annotations

from flask import Flask, render_template

from app import clock
from app.accounts.roles import role_required
from app.engage.redemption import batch_stats
from app.web.nav import AdminSection, register_admin_section


@role_required("marketer")
def codes() -> str:
    return render_template("admin/codes.html", stats=batch_stats(clock.now()))


def register(app: Flask) -> None:
    register_admin_section(
        app,
        AdminSection(
            "In-store codes",
            "admin.codes",
            "marketer",
            "Code batches: how many were issued, redeemed and left to expire.",
            order=35,
        ),
    )
