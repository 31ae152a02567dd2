"""The demo code batch that ``flask serve`` issues once, so a newcomer can redeem a code."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app

from app import clock
from app.engage.redemption import find_batch, issue_codes
from app.extensions import db
from app.web.urls import external_url

DEMO_BATCH = "spring-store"
DEMO_COUNT = 20
SHOWN = 3


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def ensure_demo_codes() -> str:
    """Issue the ``spring-store`` batch when it does not exist, keep its codes in
    ``instance/demo-codes.txt`` (mode 0600), and return a console line with a few of them."""
    path = Path(current_app.instance_path) / "demo-codes.txt"
    where = external_url("engage.redeem_code")
    if find_batch(DEMO_BATCH) is not None:
        if not path.exists():
            return f"batch {DEMO_BATCH} exists"
        kept = [
            line.strip()
            for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        return f"redeem one of {', '.join(kept[:SHOWN])} at {where} (all in {path})"
    issued = issue_codes(DEMO_BATCH, DEMO_COUNT, now=clock.now(), uses=1)
    _write_private(
        path,
        f"# Demo codes of batch {DEMO_BATCH}: each works once, at {where}\n"
        + "".join(f"{code}\n" for code in issued.codes),
    )
    try:
        db.session.commit()
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return (
        f"issued {DEMO_COUNT} codes in batch {DEMO_BATCH}; redeem one of "
        f"{', '.join(issued.codes[:SHOWN])} at {where} (all in {path})"
    )
