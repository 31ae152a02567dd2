"""Errors of the site area::

    SourceError            a content file cannot be used (path and line say where)
    └── SourceOverBudget   its Markdown body is over the render budget
    SiteError              a request about content cannot be done
    ├── EditConflict       the file changed since the editor opened it (nothing was written)
    ├── ImageRejected      an uploaded image is not an allowed format, too large or unreadable
    ├── ContentPathError   a name that would leave the content folder or is not a slug
    ├── DraftTooLong       an autosaved draft is over the editor's size limit
    └── OverBudget         Markdown too long, too dense, nested too deeply or too slow to render

``SourceError`` lives in :mod:`app.site.frontmatter` (it is raised while reading a file) and is
re-exported here so the whole tree can be imported from one place.
"""

from __future__ import annotations

from pathlib import Path

from app.site.frontmatter import SourceError

__all__ = [
    "ContentPathError",
    "DraftTooLong",
    "EditConflict",
    "ImageRejected",
    "OverBudget",
    "SiteError",
    "SourceError",
    "SourceOverBudget",
]


class SiteError(Exception):
    """Base class; ``str(error)`` is a message fit to show the editor who asked."""


class OverBudget(SiteError):
    """Markdown that the renderer refuses (see :mod:`app.site.budget`): longer, denser or
    more deeply nested than its limits, or slower to render than ``RENDER_BUDGET_SECONDS``.

    ``line`` is the line of the rendered text (1 is its first line) where the limit was
    crossed; ``message`` says what to change, without the line. ``slow_under`` is the budget in
    seconds when the text was refused for its time rather than its shape."""

    def __init__(self, message: str, line: int = 1, slow_under: float | None = None) -> None:
        self.message, self.line, self.slow_under = message, max(line, 1), slow_under
        super().__init__(f"line {self.line}: {message}")


class SourceOverBudget(SourceError):
    """A content file whose body is over the render budget: ``path`` and ``line`` point into
    the file (front matter counted)."""

    @classmethod
    def of(cls, path: Path | str, body_line: int, error: OverBudget) -> SourceOverBudget:
        """The file-level error for ``error`` raised while rendering a body that starts on
        line ``body_line`` of ``path``."""
        return cls(path, body_line + error.line - 1, f"over the render budget: {error.message}")


class EditConflict(SiteError):
    """Someone saved the file after the editor opened it. ``current`` is the text on disk now
    and ``current_hash`` its content hash, so the editor can compare and merge."""

    def __init__(self, message: str, current: str, current_hash: str) -> None:
        super().__init__(message)
        self.current = current
        self.current_hash = current_hash


class ImageRejected(SiteError):
    pass


class ContentPathError(SiteError):
    pass


class DraftTooLong(SiteError):
    pass
