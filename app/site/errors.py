"""Errors of the site area::

    SourceError            a content file cannot be used (path and line say where)
    SiteError              a request about content cannot be done
    ├── EditConflict       the file changed since the editor opened it (nothing was written)
    ├── ImageRejected      an uploaded image is not an allowed format, too large or unreadable
    └── ContentPathError   a name that would leave the content folder or is not a slug

``SourceError`` lives in :mod:`app.site.frontmatter` (it is raised while reading a file) and is
re-exported here so the whole tree can be imported from one place.
"""

from __future__ import annotations

from app.site.frontmatter import SourceError

__all__ = ["ContentPathError", "EditConflict", "ImageRejected", "SiteError", "SourceError"]


class SiteError(Exception):
    """Base class; ``str(error)`` is a message fit to show the editor who asked."""


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
