"""Scopes, read from ``content/scopes.toml``: what a member may allow us to push, and how often.

::

    [newsletter]
    title = "The weekly letter"
    promise = "One email on Fridays with the three best new articles. Nothing else."
    consent_text = "Yes, send me the weekly letter. I can stop it with one click at any time."
    consent_version = 1          # raise it when the wording changes materially
    channels = ["email", "inbox"]
    earned_by = ["account"]
    kind = "editorial"           # or "promotional"
    max_per_week = 1
    cooldown_hours = 24          # default 24
    pause_after_ignored = 4      # default 4
    expires_after_days = 365     # optional

The file is read again when it changes. A scope with a problem is left out (and logged), the
others stay; ``flask content check`` reports every problem with its path and line.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from app.consent.errors import ScopeFileError, UnknownScope
from app.rewards.errors import RuleError
from app.rewards.rules import check_pattern, pattern_matches

log = logging.getLogger("pullfirst.consent")

CHANNELS = ("email", "inbox", "webhook")
KINDS = ("editorial", "promotional")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_TEXT = {"title": 120, "promise": 500, "consent_text": 500}
REQUIRED = ("title", "promise", "consent_text", "channels", "earned_by", "kind", "max_per_week")
KNOWN = (*REQUIRED, "consent_version", "cooldown_hours", "pause_after_ignored",
         "expires_after_days")


@dataclass(frozen=True)
class Scope:
    """One scope. ``consent_version`` starts at 1; grants on an older version are stale."""

    slug: str
    title: str
    promise: str
    consent_text: str
    channels: tuple[str, ...]
    earned_by: tuple[str, ...]
    kind: str
    max_per_week: int
    consent_version: int = 1
    cooldown_hours: int = 24
    pause_after_ignored: int = 4
    expires_after_days: int | None = None

    @property
    def reward(self) -> str:
        """The entitlement a member must hold to be offered this scope."""
        return f"scope:{self.slug}"

    @property
    def wording_hash(self) -> str:
        return wording_hash(self.consent_text)

    @property
    def visitor_subscribable(self) -> bool:
        """Whether a visitor may subscribe by address: confirming the address earns the scope
        (``account`` or ``subscribe:<slug>``) and the scope offers email."""
        return "email" in self.channels and any(
            pattern_matches(p, action)
            for p in self.earned_by for action in ("account", f"subscribe:{self.slug}")
        )


def wording_hash(text: str) -> str:
    """The SHA-256 of a wording, as recorded with every consent event."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- reading the file ---------------------------------------------------------------------


_TABLE = re.compile(r'^\[\s*"?([^"\]\[]+?)"?\s*\]\s*(#.*)?$')
_AT_LINE = re.compile(r"\(at line (\d+)")
_KEY = re.compile(r'^"?([A-Za-z0-9_-]+)"?\s*=')


def _lines(text: str) -> dict[tuple[str | None, str | None], int]:
    """Where each ``[table]`` header and each ``key =`` line is, for messages with a line."""
    where: dict[tuple[str | None, str | None], int] = {}
    table: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = _TABLE.match(line)
        if header:
            table = header.group(1).strip()
            where.setdefault((table, None), number)
            continue
        key = _KEY.match(line)
        if key:
            where.setdefault((table, key.group(1)), number)
    return where


class _Reader:
    """Validates one ``[slug]`` table; every problem names its line."""

    def __init__(self, path: Path, slug: str, table: Mapping[str, Any],
                 lines: dict[tuple[str | None, str | None], int]) -> None:
        self.path, self.slug, self.table, self.lines = path, slug, table, lines

    def problem(self, key: str | None, message: str) -> ScopeFileError:
        line = self.lines.get((self.slug, key)) or self.lines.get((self.slug, None), 1)
        return ScopeFileError(self.path, line, f"[{self.slug}] {message}")

    def text(self, key: str) -> str:
        value = self.table[key]
        if not isinstance(value, str) or not value.strip():
            raise self.problem(key, f"{key} must be non-empty text")
        if len(value) > MAX_TEXT[key]:
            raise self.problem(key, f"{key} is longer than {MAX_TEXT[key]} characters")
        return value.strip()

    def number(self, key: str, default: int | None, minimum: int, maximum: int) -> int | None:
        value = self.table.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.problem(key, f"{key} must be a whole number")
        if not minimum <= value <= maximum:
            raise self.problem(key, f"{key} must be between {minimum} and {maximum}")
        return value

    def channels(self) -> tuple[str, ...]:
        value = self.table["channels"]
        if not isinstance(value, list) or not value:
            raise self.problem("channels", "channels must be a non-empty list")
        for channel in value:
            if channel not in CHANNELS:
                raise self.problem("channels", f"unknown channel {channel!r}; use "
                                               f"{', '.join(CHANNELS)}")
        if len(set(value)) != len(value):
            raise self.problem("channels", "channels lists a channel twice")
        return tuple(value)

    def earned_by(self) -> tuple[str, ...]:
        value = self.table["earned_by"]
        if not isinstance(value, list) or not value:
            raise self.problem("earned_by", "earned_by must be a non-empty list of actions")
        try:
            return tuple(check_pattern(p, self.path) for p in value)
        except RuleError as exc:
            raise self.problem("earned_by", exc.message) from None

    def scope(self) -> Scope:
        if not SLUG.match(self.slug):
            raise self.problem(None, "a scope name uses a-z, 0-9 and dashes (at most 64)")
        unknown = sorted(set(self.table) - set(KNOWN))
        if unknown:
            raise self.problem(unknown[0], f"unknown field {unknown[0]!r}")
        missing = [key for key in REQUIRED if key not in self.table]
        if missing:
            raise self.problem(None, f"missing {', '.join(missing)}")
        kind = self.table["kind"]
        if kind not in KINDS:
            raise self.problem("kind", "kind must be 'editorial' or 'promotional'")
        return Scope(
            slug=self.slug,
            title=self.text("title"),
            promise=self.text("promise"),
            consent_text=self.text("consent_text"),
            channels=self.channels(),
            earned_by=self.earned_by(),
            kind=kind,
            max_per_week=self.number("max_per_week", None, 1, 50) or 1,
            consent_version=self.number("consent_version", 1, 1, 1_000_000) or 1,
            cooldown_hours=self.number("cooldown_hours", 24, 0, 24 * 365) or 0,
            pause_after_ignored=self.number("pause_after_ignored", 4, 1, 100) or 4,
            expires_after_days=self.number("expires_after_days", None, 1, 3650),
        )


def parse_scopes(path: Path) -> tuple[dict[str, Scope], list[ScopeFileError]]:
    """Read ``path``: the valid scopes by slug, and a problem for each invalid one. A missing
    file means no scopes; a file that is not TOML gives no scopes and one problem."""
    if not path.exists():
        return {}, []
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        return {}, [ScopeFileError(path, 1, f"not UTF-8 ({exc.reason})")]
    except tomllib.TOMLDecodeError as exc:
        where = _AT_LINE.search(str(exc))
        return {}, [ScopeFileError(path, int(where.group(1)) if where else 1,
                                   f"invalid TOML: {exc}")]
    lines = _lines(text)
    scopes: dict[str, Scope] = {}
    problems: list[ScopeFileError] = []
    for slug, table in data.items():
        if not isinstance(table, dict):
            line = lines.get((None, slug), 1)
            problems.append(ScopeFileError(path, line, f"{slug!r} must be a [table] of fields"))
            continue
        try:
            scopes[slug] = _Reader(path, slug, table, lines).scope()
        except ScopeFileError as exc:
            problems.append(exc)
    return scopes, problems


class ScopeSource:
    """The current scopes of one file, read again when its modification time or size changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._scopes: dict[str, Scope] = {}

    def get(self) -> dict[str, Scope]:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = (0, 0)
        if stamp != self._stamp:
            scopes, problems = parse_scopes(self.path)
            for problem in problems:
                log.error("scope skipped: %s", problem)
            self._scopes, self._stamp = scopes, stamp
        return self._scopes


# --- access for the rest of the app ---------------------------------------------------------


def all_scopes() -> dict[str, Scope]:
    """Every valid scope, in file order."""
    source: ScopeSource = current_app.extensions["pullfirst.scopes"]
    return source.get()


def find_scope(slug: str) -> Scope | None:
    return all_scopes().get(slug)


def get_scope(slug: str) -> Scope:
    """The scope named ``slug``; raises :class:`UnknownScope`."""
    scope = find_scope(slug)
    if scope is None:
        raise UnknownScope(f"There is no scope called {slug!r}.")
    return scope


def channel_label(channel: str) -> str:
    return {"email": "Email", "inbox": "Inbox on this site", "webhook": "Webhook"}.get(
        channel, channel)
