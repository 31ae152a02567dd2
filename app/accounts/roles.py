"""Role checks for views: ``@role_required("editor")``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import abort
from flask_login import current_user, login_required

P = ParamSpec("P")
R = TypeVar("R")


def role_required(role: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Sign-in is required (redirect to the sign-in page); then the role (403 otherwise).
    Admins hold every role."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapper)  # type: ignore[no-any-return]

    return decorator
