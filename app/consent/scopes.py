"""Scopes, read from ``content/scopes.toml``: what a member may allow us to push, and how often.

::

    [newsletter]
    title = "The weekly letter"
    about = "the three best new articles"   # what, in words: no frequency, day or time
    consent_text = "Yes, send me the weekly letter. I can stop it with one click at any time."
    consent_version = 1          # raise it to ask every member again with unchanged words
    channels = ["email", "inbox"]
    earned_by = ["account"]
    kind = "editorial"           # or "promotional"
    max_per_week = 1
    max_per_month = 4            # optional
    days = ["fri"]               # optional: mon … sun; deferred to the next allowed day
    send_window = "08:00-18:00"  # optional, in the member's time zone; may wrap past midnight
    cooldown_hours = 24          # default 24
    pause_after_ignored = 4      # default 4
    expires_after_days = 365     # optional
    digest = 3                   # optional: one letter per member, of this many new articles

The cadence is data, and every sentence members read is rendered from it (:mod:`app.consent.
cadence`): :attr:`Scope.promise` ("The three best new articles. At most one message a week, on
Fridays between 08:00 and 18:00 your time, by email or in your inbox on this site.") and
:attr:`Scope.wording`, the exact words a member says yes to (the consent text and the cadence
terms). A grant is current only while both its version and the SHA-256 of its words match the
scope's, so changing the cadence asks every member again.

The file is read again when it changes. A scope with a problem is left out (and logged), the
others stay; ``flask content check`` reports every problem with its path and line.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from app.consent.errors import ScopeFileError, UnknownScope
from app.consent.gate import cadence
from app.consent.terms import CampaignKind, Channel
from app.editorfiles.documents import Document, load_toml
from app.editorfiles.errors import EditorFileError
from app.editorfiles.fields import Fields
from app.registry import Slot
from app.rewards.errors import RuleError
from app.rewards.rules import check_pattern, pattern_matches

log = logging.getLogger("pullfirst.consent")
_T = TypeVar("_T")

CHANNELS = tuple(Channel)
KINDS = (CampaignKind.EDITORIAL, CampaignKind.PROMOTIONAL)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_DIGEST = 10  # articles in one member's issue of a digest
MAX_TEXT = {"title": 120, "about": 300, "consent_text": 500}
REQUIRED = ("title", "about", "consent_text", "channels", "earned_by", "kind", "max_per_week")
KNOWN = (
    *REQUIRED,
    "consent_version",
    "cooldown_hours",
    "pause_after_ignored",
    "expires_after_days",
    "max_per_month",
    "days",
    "send_window",
    "digest",
)
RENAMED = {
    "promise": "promise is now rendered from the data: write what the messages are "
    "about in 'about' (no frequency, day or time), and the cadence in "
    "max_per_week, max_per_month, days and send_window"
}


@dataclass(frozen=True)
class Scope:
    """One scope. ``consent_version`` starts at 1; grants on an older version are stale."""

    slug: str
    title: str
    about: str
    consent_text: str
    channels: tuple[Channel, ...]
    earned_by: tuple[str, ...]
    kind: CampaignKind
    max_per_week: int
    consent_version: int = 1
    cooldown_hours: int = 24
    pause_after_ignored: int = 4
    expires_after_days: int | None = None
    max_per_month: int | None = None
    days: tuple[int, ...] = ()  # weekdays, Monday = 0; empty means every day
    send_window: tuple[int, int] | None = None  # minutes after local midnight, start and end
    sms_program: str = "Pullfirst"  # who texts, named in the SMS wording (``SMS_PROGRAM``)
    # A digest: the scope's letter is assembled per member from this many new articles
    # (:mod:`app.notify.digest`); None for a scope whose campaigns are written by hand.
    digest: int | None = None

    @property
    def reward(self) -> str:
        """The entitlement a member must hold to be offered this scope."""
        return f"scope:{self.slug}"

    @property
    def cadence(self) -> cadence.Cadence:
        return cadence.Cadence(self.max_per_week, self.max_per_month, self.days, self.send_window)

    @property
    def promise(self) -> str:
        """What members read about the scope: what it is about and, rendered from the data,
        how often, when and where."""
        return cadence.promise(self.about, self.cadence, self.channels)

    @property
    def wording(self) -> str:
        """The exact words a member says yes to: the consent text and the cadence terms."""
        return cadence.wording(self.consent_text, self.cadence)

    @property
    def wording_hash(self) -> str:
        return wording_hash(self.wording)

    def wording_for(self, channel: str) -> str:
        """The exact words a member says yes to on ``channel``: :attr:`wording`, and for text
        messages the terms carriers expect with it (:func:`cadence.sms_wording`)."""
        if channel == Channel.SMS:
            return cadence.sms_wording(self.consent_text, self.cadence, self.sms_program)
        return self.wording

    def wording_hash_for(self, channel: str) -> str:
        return wording_hash(self.wording_for(channel))

    @property
    def sms_terms(self) -> str:
        """What :meth:`wording_for` adds to :attr:`wording` for text messages."""
        return cadence.sms_terms(self.sms_program)

    @property
    def channels_in_order(self) -> tuple[Channel, ...]:
        """:attr:`channels` in the one order members see channels in (:data:`CHANNEL_ORDER`)."""
        return in_channel_order(self.channels)

    @property
    def visitor_subscribable(self) -> bool:
        """Whether a visitor may subscribe by address: confirming the address earns the scope
        (``account`` or ``subscribe:<slug>``) and the scope offers email."""
        return Channel.EMAIL in self.channels and any(
            pattern_matches(p, action)
            for p in self.earned_by
            for action in ("account", f"subscribe:{self.slug}")
        )


def wording_hash(text: str) -> str:
    """The SHA-256 of a wording, as recorded with every consent event."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- reading the file ---------------------------------------------------------------------


class _Reader:
    """Validates one ``[slug]`` table; every problem names its line."""

    def __init__(
        self, doc: Document, slug: str, table: Mapping[str, Any], sms_program: str
    ) -> None:
        self.sms_program = sms_program
        self.path, self.slug, self.table = doc.path, slug, table
        self.fields = Fields(doc, table, (slug,))

    def problem(self, key: str | None, message: str) -> ScopeFileError:
        return ScopeFileError(self.path, self.fields.line(key), f"[{self.slug}] {message}")

    def _read(self, read: Callable[[], _T]) -> _T:
        """What a shared field reader returns; its error names this scope."""
        try:
            return read()
        except EditorFileError as exc:
            raise ScopeFileError(exc.path, exc.line, f"[{self.slug}] {exc.message}") from None

    def text(self, key: str) -> str:
        return self._read(lambda: self.fields.text(key, max_length=MAX_TEXT[key]))

    def number(self, key: str, default: int | None, minimum: int, maximum: int) -> int | None:
        if default is None:
            return self._read(
                lambda: self.fields.optional_integer(key, minimum=minimum, maximum=maximum)
            )
        return self._read(
            lambda: self.fields.integer(key, minimum=minimum, maximum=maximum, default=default)
        )

    def channels(self) -> tuple[Channel, ...]:
        value = self.table["channels"]
        if not isinstance(value, list) or not value:
            raise self.problem("channels", "channels must be a non-empty list")
        for channel in value:
            if channel not in CHANNELS:
                raise self.problem(
                    "channels", f"unknown channel {channel!r}; use {', '.join(CHANNELS)}"
                )
        if len(set(value)) != len(value):
            raise self.problem("channels", "channels lists a channel twice")
        return tuple(Channel(c) for c in value)

    def about(self) -> str:
        value = self.text("about")
        found = cadence.names_cadence(value)
        if found:
            raise self.problem(
                "about",
                f"about names a cadence ({found!r}): say what the "
                "messages are about, and put how often and when in "
                "max_per_week, max_per_month, days and send_window",
            )
        return value

    def days(self) -> tuple[int, ...]:
        value = self.table.get("days", [])
        if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
            raise self.problem("days", 'days must be a list of weekdays such as ["fri"]')
        try:
            return cadence.parse_days(value)
        except ValueError as exc:
            raise self.problem("days", str(exc)) from None

    def send_window(self) -> tuple[int, int] | None:
        value = self.table.get("send_window")
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.problem("send_window", 'send_window must be text like "08:00-18:00"')
        try:
            return cadence.parse_window(value)
        except ValueError as exc:
            raise self.problem("send_window", str(exc)) from None

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
        for old, advice in RENAMED.items():
            if old in self.table:
                raise self.problem(old, advice)
        self._read(lambda: self.fields.check_known(KNOWN))
        missing = self.fields.missing(REQUIRED)
        if missing:
            raise self.problem(None, f"missing {', '.join(missing)}")
        kind = self.table["kind"]
        if kind not in KINDS:
            raise self.problem("kind", "kind must be 'editorial' or 'promotional'")
        max_per_week = self.number("max_per_week", None, 1, 50) or 1
        max_per_month = self.number("max_per_month", None, 1, 200)
        if max_per_month is not None and max_per_month < max_per_week:
            raise self.problem("max_per_month", "max_per_month must be at least max_per_week")
        return Scope(
            slug=self.slug,
            title=self.text("title"),
            about=self.about(),
            consent_text=self.text("consent_text"),
            channels=self.channels(),
            earned_by=self.earned_by(),
            kind=CampaignKind(kind),
            max_per_week=max_per_week,
            consent_version=self.number("consent_version", 1, 1, 1_000_000) or 1,
            cooldown_hours=self.number("cooldown_hours", 24, 0, 24 * 365) or 0,
            pause_after_ignored=self.number("pause_after_ignored", 4, 1, 100) or 4,
            expires_after_days=self.number("expires_after_days", None, 1, 3650),
            max_per_month=max_per_month,
            days=self.days(),
            send_window=self.send_window(),
            sms_program=self.sms_program,
            digest=self.number("digest", None, 1, MAX_DIGEST),
        )


def parse_scopes(
    path: Path, sms_program: str = "Pullfirst"
) -> tuple[dict[str, Scope], list[ScopeFileError]]:
    """Read ``path``: the valid scopes by slug, and a problem for each invalid one. A missing
    file means no scopes; a file that is not TOML gives no scopes and one problem."""
    if not path.exists():
        return {}, []
    try:
        doc = load_toml(path)
    except EditorFileError as exc:
        return {}, [ScopeFileError(exc.path, exc.line, exc.message)]
    scopes: dict[str, Scope] = {}
    problems: list[ScopeFileError] = []
    for slug, table in doc.data.items():
        if not isinstance(table, dict):
            line = doc.line(slug)
            problems.append(ScopeFileError(path, line, f"{slug!r} must be a [table] of fields"))
            continue
        try:
            scopes[slug] = _Reader(doc, slug, table, sms_program).scope()
        except ScopeFileError as exc:
            problems.append(exc)
    return scopes, problems


class ScopeSource:
    """The current scopes of one file, read again when its modification time or size changes."""

    def __init__(self, path: Path, sms_program: str = "Pullfirst") -> None:
        self.path = path
        self.sms_program = sms_program
        self._stamp: tuple[int, int] | None = None
        self._scopes: dict[str, Scope] = {}

    def get(self) -> dict[str, Scope]:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = (0, 0)
        if stamp != self._stamp:
            scopes, problems = parse_scopes(self.path, self.sms_program)
            for problem in problems:
                log.error("scope skipped: %s", problem)
            self._scopes, self._stamp = scopes, stamp
        return self._scopes


SCOPES = Slot[ScopeSource](
    "scopes", "the scopes in content/scopes.toml", set_by="app.consent.wiring.init_app"
)


# --- access for the rest of the app ---------------------------------------------------------


def all_scopes() -> dict[str, Scope]:
    """Every valid scope, in file order."""
    return SCOPES.get().get()


def find_scope(slug: str) -> Scope | None:
    return all_scopes().get(slug)


def get_scope(slug: str) -> Scope:
    """The scope named ``slug``; raises :class:`UnknownScope`."""
    scope = find_scope(slug)
    if scope is None:
        raise UnknownScope(f"There is no scope called {slug!r}.")
    return scope


def channel_label(channel: str) -> str:
    return LABELS.get(channel, channel)


# The one order channels are shown in, on every page: where members already are first (this
# site, their mail), then the apps and the phone, and the server of their own last.
CHANNEL_ORDER: tuple[Channel, ...] = (
    Channel.INBOX,
    Channel.EMAIL,
    Channel.TELEGRAM,
    Channel.SMS,
    Channel.PUSH,
    Channel.WEBHOOK,
)


def in_channel_order(channels: Iterable[str]) -> tuple[Channel, ...]:
    """``channels`` (each once) in :data:`CHANNEL_ORDER`; unknown names are left out."""
    given = set(channels)
    return tuple(c for c in CHANNEL_ORDER if c in given)


LABELS: dict[str, str] = {
    Channel.EMAIL: "Email",
    Channel.INBOX: "Inbox on this site",
    Channel.WEBHOOK: "Webhook",
    Channel.TELEGRAM: "Telegram",
    Channel.SMS: "Text message (SMS)",
    Channel.PUSH: "Browser notifications",
}
