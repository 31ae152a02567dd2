"""The demo till's API key that ``flask serve`` makes on a site without any key, so that the
README's curl examples work on the demo as they stand."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app import clock
from app.api.keys import DEFAULT_RATE_LIMIT, Permission, create_key
from app.api.rest_models import ApiKey
from app.extensions import db

DEMO_KEY_NAME = "Demo till"
DEMO_PERMISSIONS = (Permission.CODES_MINT, Permission.ACTIONS_RECORD, Permission.MEMBERS_READ)


def ensure_demo_key() -> str:
    """Make the demo till's key (mint codes, record purchases, read members) when the site has
    no key at all, and keep it in ``instance/demo-api-key.txt`` (mode 0600): the one place it is
    shown again, since only its hash is stored. Returns a line for the console."""
    kept = Path(current_app.instance_path) / "demo-api-key.txt"
    if db.session.scalar(select(func.count()).select_from(ApiKey)):
        return f"the demo till's key is in {kept}" if kept.exists() else "API keys exist"
    made = create_key(
        DEMO_KEY_NAME, DEMO_PERMISSIONS, DEFAULT_RATE_LIMIT, created_by=None, now=clock.now()
    )
    db.session.commit()
    fd = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{made.secret}\n")
    return f"made the demo till's key ({', '.join(DEMO_PERMISSIONS)}), kept in {kept}"
