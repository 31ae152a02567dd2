"""Caching headers for the pull side.

An anonymous visitor without a session gets ``Cache-Control: public, max-age=0,
s-maxage=<SHARED_CACHE_SECONDS>``: a shared cache (nginx) may keep the page for that long, and the
browser revalidates every time with ``If-None-Match`` / ``If-Modified-Since`` (answered by 304).
A request that carries a session (a signed-in member, or a visitor in the middle of a form) gets
``private, no-store``: the page may show their name, flashes or tokens. Public pages never write
the session, so an anonymous first visit receives no cookie.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, request, session
from flask_login import current_user
from werkzeug.wrappers import Response


def is_anonymous_visit() -> bool:
    """True when the response cannot depend on who asks: no sign-in, nothing in the session."""
    return not current_user.is_authenticated and not session


PRIVATE = "private, no-store"


def cacheable(
    body: str | bytes, mimetype: str = "text/html", last_modified: datetime | None = None
) -> Response:
    """Wrap ``body`` with the headers above; answers a matching conditional GET with 304."""
    response: Response = current_app.response_class(body, mimetype=mimetype)
    # The header is written whole: werkzeug's cache_control object parses and writes it again
    # at each attribute set, which costs more than the rest of this function.
    if not is_anonymous_visit():
        response.headers["Cache-Control"] = PRIVATE
        return response
    seconds = current_app.config["SHARED_CACHE_SECONDS"]
    response.headers["Cache-Control"] = f"public, max-age=0, s-maxage={seconds}"
    if last_modified is not None:
        response.last_modified = last_modified
    response.add_etag()
    return response.make_conditional(request)


def private(response: Response) -> Response:
    response.cache_control.private = True
    response.cache_control.no_store = True
    response.cache_control.public = False
    return response


def immutable(response: Response) -> Response:
    """For files whose name changes when their content does (images, OpenGraph cards)."""
    response.cache_control.public = True
    response.cache_control.max_age = 31_536_000
    response.cache_control.immutable = True
    return response
