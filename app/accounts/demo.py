"""The demo administrator that ``flask serve`` creates on a database without one."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app

from app import clock
from app.accounts import members
from app.extensions import db

DEMO_ADMIN_EMAIL = "admin@example.com"


def ensure_demo_admin() -> str:
    """Create ``admin@example.com`` with a random password when no admin exists, and keep the
    credentials in ``instance/demo-admin.txt`` (mode 0600). Returns a line for the console."""
    credentials = Path(current_app.instance_path) / "demo-admin.txt"
    if members.count_members(role="admin") > 0:
        if credentials.exists():
            return f"sign in with the credentials in {credentials}"
        return "an admin exists"
    password = secrets.token_urlsafe(12)
    members.create_member(
        DEMO_ADMIN_EMAIL,
        password,
        now=clock.now(),
        role="admin",
        display_name="Demo admin",
        verified=True,
    )
    db.session.commit()
    fd = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"email: {DEMO_ADMIN_EMAIL}\npassword: {password}\n")
    return f"created {DEMO_ADMIN_EMAIL} with password {password} (also in {credentials})"
