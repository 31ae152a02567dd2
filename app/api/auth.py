"""Who may call an operation: the key the request sends as ``Authorization: Bearer <key>``
(never a session cookie), the permission the operation needs, and the key's requests per
minute (Flask-Limiter, one counter per key shared by every operation).

:func:`guarded` wraps a view in that order: an unknown or revoked key is a 401 before anything
is counted; a known key's request is counted, then its permission checked (403).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, request

from app import clock
from app.api import keys
from app.api.errors import PermissionMissing
from app.api.rest_models import ApiKey
from app.extensions import db, limiter

View = Callable[..., Any]


def current_key() -> ApiKey:
    """The key of this request (set by :func:`guarded`)."""
    key: ApiKey = g.pullfirst_api_key
    return key


def _limit() -> str:
    return f"{current_key().rate_limit} per minute"


def _limit_key() -> str:
    # The prefix, not the id: ids restart in a new database, a prefix is random per key.
    return f"api-key:{current_key().prefix}"


def _note_use(key: ApiKey) -> None:
    """Write the key's last use (at most once a minute) in a short transaction of its own that
    takes the write lock from the start, whatever the request's method."""
    now = clock.now()
    if not keys.needs_touch(key, now):
        return
    db.session.commit()
    was = g.get("pullfirst_writes")
    g.pullfirst_writes = True
    try:
        keys.touch(key, now)
        db.session.commit()
    finally:
        g.pullfirst_writes = was


def guarded(view: View, permission: str | None) -> View:
    """``view`` behind the key check, the key's rate limit and ``permission`` (None: public)."""
    if permission is None:
        return view

    @functools.wraps(view)
    def permitted(*args: Any, **kwargs: Any) -> Any:
        if permission not in current_key().permission_list:
            raise PermissionMissing(permission)
        return view(*args, **kwargs)

    limited = limiter.shared_limit(_limit, scope="api-key", key_func=_limit_key)(permitted)

    @functools.wraps(view)
    def authenticated(*args: Any, **kwargs: Any) -> Any:
        key = keys.authenticate(keys.bearer_token(request.headers.get("Authorization")))
        g.pullfirst_api_key = key
        _note_use(key)
        return limited(*args, **kwargs)

    return authenticated
