"""``content/site.toml``: the site's name, description, language, author, address and links.

Read again whenever the file changes (a stat per call, cheap). A broken file keeps the last good
settings (or the defaults) and is logged with its path and line.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("pullfirst.site")


@dataclass(frozen=True)
class NavLink:
    title: str
    url: str


@dataclass(frozen=True)
class SiteSettings:
    title: str = "Pullfirst"
    description: str = ""
    language: str = "en"
    author: str = ""
    base_url: str = ""
    postal_address: str = ""
    navigation: tuple[NavLink, ...] = ()
    social: tuple[NavLink, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


class SiteSettingsError(ValueError):
    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path, self.line = path, line
        super().__init__(f"{path}:{line or 1}: {message}")


def _links(value: Any, path: Path, key: str) -> tuple[NavLink, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SiteSettingsError(path, None, f"{key} must be a list of tables")
    result = []
    for item in value:
        if not isinstance(item, dict) or not {"title", "url"} <= item.keys():
            raise SiteSettingsError(path, None, f"each {key} entry needs title and url")
        result.append(NavLink(str(item["title"]), str(item["url"])))
    return tuple(result)


KNOWN = {
    "title",
    "description",
    "language",
    "author",
    "base_url",
    "postal_address",
    "navigation",
    "social",
}


def parse_site_settings(path: Path) -> SiteSettings:
    """Parse ``path``; raise :class:`SiteSettingsError` with the line when it is not valid."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise SiteSettingsError(path, None, f"not UTF-8 ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        raise SiteSettingsError(path, line, f"invalid TOML: {exc}") from None
    for key in ("title", "description", "language", "author", "base_url", "postal_address"):
        if key in data and not isinstance(data[key], str):
            raise SiteSettingsError(path, None, f"{key} must be text")
    return SiteSettings(
        title=data.get("title", "Pullfirst"),
        description=data.get("description", ""),
        language=data.get("language", "en"),
        author=data.get("author", ""),
        base_url=data.get("base_url", ""),
        postal_address=data.get("postal_address", ""),
        navigation=_links(data.get("navigation"), path, "navigation"),
        social=_links(data.get("social"), path, "social"),
        extra={k: v for k, v in data.items() if k not in KNOWN},
    )


def current_settings() -> SiteSettings:
    """The settings of the current app's ``site.toml`` (inside an app context)."""
    from flask import current_app

    source: SiteSettingsSource = current_app.extensions["pullfirst.site_settings"]
    return source.get()


class SiteSettingsSource:
    """Serves the current settings of one ``site.toml``, re-reading it when its mtime changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._settings = SiteSettings()

    @property
    def version(self) -> tuple[int, int] | None:
        """Changes whenever the file is read again (its mtime and size)."""
        return self._stamp

    def get(self) -> SiteSettings:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            return self._settings
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._settings = parse_site_settings(self.path)
            except SiteSettingsError as exc:
                log.error("%s (keeping the previous settings)", exc)
        return self._settings
