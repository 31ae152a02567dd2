"""The editors' and marketers' screens. Views only: each calls the area it shows.

Screens live in their own modules (``content.py``, ``surveys.py``, ``campaigns.py`` …) that add
routes to :data:`bp`; this module holds the blueprint and the dashboard that links to them.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from app.web.nav import admin_sections

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@login_required
def dashboard() -> str:
    """Every section the signed-in member's role opens; members without one get a 403."""
    if not any(current_user.has_role(role) for role in ("editor", "marketer")):
        abort(403)
    return render_template("admin/dashboard.html", sections=admin_sections())
