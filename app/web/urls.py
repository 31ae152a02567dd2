"""Building absolute URLs (with or without a request) and checking ``next`` targets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request

MAX_NEXT_LENGTH = 2000


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` under ``BASE_URL``, inside or outside a request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site, else None.

    Only a relative path that starts with a single ``/`` passes: no scheme, no host, no
    protocol-relative ``//`` or ``/\\``, no control characters or backslashes anywhere.
    """
    if not target or len(target) > MAX_NEXT_LENGTH:
        return None
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


NO_RETURN_ENDPOINTS = frozenset({"site.home", "accounts.signin", "accounts.signup"})


def return_path() -> str | None:
    """Where a "sign in" link on the current page should bring the reader back to."""
    if request.endpoint in NO_RETURN_ENDPOINTS or request.method != "GET":
        return None
    return safe_next(request.full_path.rstrip("?"))
