"""Error pages that keep the site's layout: 400, 403, 404, 405, 429 and 500."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db

log = logging.getLogger("pullfirst.web")

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing at this address. It may have moved, or never existed."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    429: ("Slow down", "Too many attempts in a short time. Please wait a little and try again."),
    500: ("Something went wrong", "We could not finish this request. It has been logged."),
}


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, message = MESSAGES.get(code, (f"Error {code}", "The request failed."))
    return render_template(
        "errors/error.html", code=code, title=title, message=detail or message
    ), code


def render_bad_link(expired: bool = False) -> tuple[str, int]:
    """The 400 page of a signed link from a message that is out of date or not ours."""
    return render_error(
        400,
        "This link is out of date."
        if expired
        else "This link is not valid. Copy the whole address from the message.",
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        return render_error(
            400, "This form expired or came from another site. Go back, reload and try again."
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int] | HTTPException:
        code = error.code or 500
        if code < 400 or code not in MESSAGES:
            return error
        custom = error.description != type(error).description
        detail = error.description if code in (400, 403, 404) and custom else None
        return render_error(code, detail)

    @app.errorhandler(InternalServerError)
    def _internal(error: InternalServerError) -> tuple[str, int]:
        # The failure may have been the database's: the page's own queries (the layout asks
        # who is signed in) need the failed transaction rolled back first.
        db.session.rollback()
        return render_error(500)
