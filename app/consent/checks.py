"""``flask content check`` for ``content/scopes.toml``."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from app.consent.scopes import parse_scopes
from app.site.checks import ContentProblem


def scopes_file() -> Path:
    return Path(current_app.config["CONTENT_DIR"]) / "scopes.toml"


def check_scopes() -> list[ContentProblem]:
    """Every problem in the scopes file, with its path and line."""
    _, problems = parse_scopes(scopes_file())
    return [ContentProblem(p.path, p.line, p.message) for p in problems]
