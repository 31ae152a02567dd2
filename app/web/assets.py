"""The stylesheet, scripts and icons under URLs that name their content
(``/static/pullfirst.css?v=<digest>``): browsers keep them for a year without asking again, and
fetch a changed file at once because its pages then link a new URL."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.security import safe_join

IMMUTABLE = "public, max-age=31536000, immutable"


def content_digest(folder: str, filename: str) -> str | None:
    """The first 12 hex digits of the SHA-256 of ``folder/filename``, or None when there is no
    such file (or the name leaves the folder). Computed again when the file changes."""
    path = safe_join(folder, filename)
    if path is None:
        return None
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return _digest(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def init_app(app: Flask) -> None:
    folder = app.static_folder
    if folder is None:
        return

    @app.url_defaults
    def _name_the_content(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values:
            digest = content_digest(folder, values.get("filename", ""))
            if digest:
                values["v"] = digest

    @app.after_request
    def _keep_named_content(response: Response) -> Response:
        # Only the URL of the current content is immutable: an old or made-up digest gets the
        # default revalidation, so no cache ever keeps new content under an old name.
        if (
            request.endpoint == "static"
            and response.status_code in (200, 304)
            and request.view_args
            and request.args.get("v")
            and request.args["v"] == content_digest(folder, request.view_args["filename"])
        ):
            response.headers["Cache-Control"] = IMMUTABLE
        return response
