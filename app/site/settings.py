"""``content/site.toml``: the site's name, description, language, author, address, links and
the time zone visitors read times in.

Read again whenever the file changes (a stat per call, cheap). A broken file keeps the last good
settings (or the defaults) and is logged with its path and line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

from app.editorfiles.documents import Document, load_toml
from app.editorfiles.errors import EditorFileError
from app.registry import Slot

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
    time_zone: str = "UTC"  # visitors read times in this zone; members in their own
    navigation: tuple[NavLink, ...] = ()
    social: tuple[NavLink, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


class SiteSettingsError(EditorFileError):
    """A problem in ``site.toml``, reported as ``path:line: message``."""


def _links(doc: Document, key: str) -> tuple[NavLink, ...]:
    value = doc.data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SiteSettingsError(doc.path, doc.line(key), f"{key} must be a list of tables")
    result = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or not {"title", "url"} <= item.keys():
            line = doc.line(key, index)
            raise SiteSettingsError(doc.path, line, f"each {key} entry needs title and url")
        result.append(NavLink(str(item["title"]), str(item["url"])))
    return tuple(result)


KNOWN = {
    "title",
    "description",
    "language",
    "author",
    "base_url",
    "postal_address",
    "time_zone",
    "navigation",
    "social",
}


def parse_site_settings(path: Path) -> SiteSettings:
    """Parse ``path``; raise :class:`SiteSettingsError` with the line when it is not valid."""
    try:
        doc = load_toml(path)
    except EditorFileError as exc:
        raise SiteSettingsError(exc.path, exc.line, exc.message) from None
    data = doc.data
    for key in (
        "title",
        "description",
        "language",
        "author",
        "base_url",
        "postal_address",
        "time_zone",
    ):
        if key in data and not isinstance(data[key], str):
            raise SiteSettingsError(path, doc.line(key), f"{key} must be text")
    if data.get("time_zone", "UTC") not in available_timezones():
        raise SiteSettingsError(
            path, doc.line("time_zone"), "time_zone must be a zone such as Europe/London"
        )
    return SiteSettings(
        title=data.get("title", "Pullfirst"),
        description=data.get("description", ""),
        language=data.get("language", "en"),
        author=data.get("author", ""),
        base_url=data.get("base_url", ""),
        postal_address=data.get("postal_address", ""),
        time_zone=data.get("time_zone", "UTC"),
        navigation=_links(doc, "navigation"),
        social=_links(doc, "social"),
        extra={k: v for k, v in data.items() if k not in KNOWN},
    )


def current_settings() -> SiteSettings:
    """The settings of the current app's ``site.toml`` (inside an app context)."""
    return SITE_SETTINGS.get().get()


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


SITE_SETTINGS = Slot[SiteSettingsSource](
    "site_settings", "the settings in content/site.toml", set_by="app.site.wiring.init_app"
)
