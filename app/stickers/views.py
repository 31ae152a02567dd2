"""The sticker pages: every pack, one pack, its previews and its gated downloads.

Downloads are the only way out of the build folder, and no route serves a path a request
controls: a slug is looked up among the known packs, a preview name among the build's own
previews, a platform among the three platforms. Downloads check the entitlement on every
request and answer 404 to anyone without it, so they reveal nothing about locked packs.
"""

from __future__ import annotations

import io

from flask import abort, current_app, render_template, request, send_file
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import limiter
from app.rewards.entitlements import holds
from app.rewards.rules import PACK_SLUG
from app.stickers import downloads, limits
from app.stickers.actions import pack_actions
from app.stickers.context import build_options, library, output_dir
from app.stickers.earning import earning_steps
from app.stickers.library import ListedPack
from app.stickers.reward import cover_url, summary

PREVIEW_MAX_AGE = 30 * 24 * 3600
DOWNLOAD_LIMIT = "60 per minute"


def _member_id() -> int | None:
    return int(current_user.id) if current_user.is_authenticated else None


def _entitled(slug: str) -> bool:
    member_id = _member_id()
    return member_id is not None and holds(member_id, f"pack:{slug}")


def _known(slug: str) -> ListedPack:
    """The pack named ``slug``; 404 for anything else."""
    listed = library().pack(slug) if PACK_SLUG.match(slug) else None
    if listed is None:
        abort(404)
    return listed


def index() -> str:
    packs = library().packs()
    entitled = {p.slug for p in packs if _entitled(p.slug)}
    return render_template(
        "stickers/index.html",
        packs=packs,
        entitled=entitled,
        cover_url=cover_url,
        summary=summary,
        earning_steps=earning_steps,
    )


def pack(slug: str) -> str:
    listed = _known(slug)
    entitled, member_id = _entitled(slug), _member_id()
    return render_template(
        "stickers/pack.html",
        pack=listed,
        entitled=entitled,
        actions=pack_actions(listed, member_id)
        if entitled and member_id is not None and listed.build is not None
        else [],
        steps=earning_steps(listed.spec.unlocked_by),
        platforms=limits.PLATFORMS,
        summary=summary(listed),
    )


def preview(slug: str, name: str) -> Response:
    """A preview of the build, by a name the build listed; public, like the pack page."""
    listed = _known(slug)
    built = listed.build
    found = built.previews().get(name) if built is not None else None
    if built is None or found is None:
        abort(404)
    response = send_file(
        built.path(found.file),
        mimetype="image/webp",
        conditional=True,
        etag=f"{built.hash[:24]}-{name}",
        max_age=PREVIEW_MAX_AGE,
    )
    response.cache_control.public = True
    return response


@limiter.limit(DOWNLOAD_LIMIT)
def download(slug: str, platform: str) -> Response:
    """The pack's zip for ``platform``. 404 unless the signed-in member holds ``pack:<slug>``
    (checked on every request); 503 while an entitled member's pack is still being built."""
    if not PACK_SLUG.match(slug) or platform not in limits.PLATFORMS_BY_NAME or not _entitled(slug):
        abort(404)
    listed = _known(slug)
    built = listed.build
    if built is None:
        page = render_template("stickers/building.html", pack=listed)
        return Response(page, status=503, headers={"Retry-After": "60"}, mimetype="text/html")
    name = current_user.name
    tag = downloads.etag(built, platform, name)
    if request.if_none_match.contains(tag):
        response = Response(status=304)
        response.set_etag(tag)
        return _download_headers(response, downloads.filename(built, platform))
    found = downloads.download(
        built,
        platform,
        output_dir(current_app),
        int(current_user.id),
        name,
        build_options(current_app).links,
    )
    source = found.path if found.path is not None else io.BytesIO(found.data or b"")
    response = send_file(
        source,
        mimetype="application/zip",
        as_attachment=True,
        download_name=found.filename,
        etag=found.etag,
        conditional=True,
        max_age=0,
    )
    return _download_headers(response, found.filename)


def _download_headers(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.cache_control.public = False
    return response
