"""The admin dashboard: every section the signed-in role opens.

The admin screens are views only, each calling the area it shows: ``editor`` (content),
``campaign_screens``, ``member_screens``, ``survey_results`` and ``code_batches``; their routes
are listed in :mod:`app.admin.routes`.
"""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user, login_required

from app.web.nav import admin_sections


@login_required
def dashboard() -> str:
    """Every section the signed-in member's role opens; members without one get a 403."""
    if not any(current_user.has_role(role) for role in ("editor", "marketer")):
        abort(403)
    return render_template("admin/dashboard.html", sections=admin_sections())
