"""The pull side's pages."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("site", __name__)


@bp.route("/")
def home() -> str:
    return render_template("site/home.html")
