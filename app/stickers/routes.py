"""Every route of the stickers area, registered on its blueprint in one place: the URL, the
view that answers it and its methods. ``init_app`` registers :func:`blueprint` on the app."""

from __future__ import annotations

from flask import Blueprint

from app.stickers import views


def blueprint() -> Blueprint:
    bp = Blueprint("stickers", __name__, url_prefix="/stickers")
    bp.add_url_rule("/", view_func=views.index, methods=["GET"])
    bp.add_url_rule("/<slug>/", view_func=views.pack, methods=["GET"])
    bp.add_url_rule("/<slug>/previews/<name>.webp", view_func=views.preview, methods=["GET"])
    bp.add_url_rule("/<slug>/download/<platform>.zip", view_func=views.download, methods=["GET"])
    return bp
