"""Every route of the site area, registered on its blueprint in one place: the URL, the
view that answers it and its methods. ``init_app`` registers :func:`blueprint` on the app."""

from __future__ import annotations

from flask import Blueprint

from app.site import discovery, views


def blueprint() -> Blueprint:
    bp = Blueprint("site", __name__)
    bp.add_url_rule("/", view_func=views.home, methods=["GET"])
    bp.add_url_rule("/posts/<slug>/", view_func=views.article, methods=["GET"])
    bp.add_url_rule("/<slug>/", view_func=views.page, strict_slashes=False, methods=["GET"])
    bp.add_url_rule("/tags/", view_func=views.tags, methods=["GET"])
    bp.add_url_rule("/tags/<tag>/", view_func=views.tag, methods=["GET"])
    bp.add_url_rule("/search", view_func=views.search, methods=["GET"])
    bp.add_url_rule("/images/<path:filename>", view_func=views.image, methods=["GET"])
    bp.add_url_rule("/<path:path>", view_func=views.alias, methods=["GET"])
    bp.add_url_rule("/robots.txt", view_func=discovery.robots, methods=["GET"])
    bp.add_url_rule("/sitemap.xml", view_func=discovery.sitemap, methods=["GET"])
    bp.add_url_rule("/sitemaps/<part>.xml", view_func=discovery.sitemap_part, methods=["GET"])
    bp.add_url_rule("/feed.xml", view_func=discovery.feed, methods=["GET"])
    bp.add_url_rule("/tags/<tag>/feed.xml", view_func=discovery.tag_feed, methods=["GET"])
    bp.add_url_rule("/og/<slug>.png", view_func=discovery.og_card, methods=["GET"])
    return bp
