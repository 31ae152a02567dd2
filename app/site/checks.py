"""Problems in the editors' files, as ``flask content check`` reports them.

The site checks its own pages. Other areas that read files under ``content/`` (surveys, scopes)
register a check in their ``init_app``; each returns :class:`ContentProblem` values and never
raises for a bad file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from app.registry import Registry


@dataclass(frozen=True, order=True)
class ContentProblem:
    """``path:line: message``, the form every editor tool understands.

    A ``warning`` is advice (a missing description, a long title): the web editor saves the file
    anyway. Every other problem stops a save.
    """

    path: Path
    line: int
    message: str
    warning: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


ContentCheck = Callable[[], list[ContentProblem]]

CONTENT_CHECKS = Registry[ContentCheck](
    "content_checks", "a check of editors' files that `flask content check` runs"
)


def register_content_check(app: Flask, name: str, check: ContentCheck) -> None:
    """Run ``check`` in ``flask content check``; ``name`` says what it covers (``surveys``)."""
    CONTENT_CHECKS.add(app, name, check)


def registered_checks() -> dict[str, ContentCheck]:
    return dict(CONTENT_CHECKS.named())
