"""Reward rules, read from the files that define the rewards.

- ``stickers/<pack>/pack.toml``: ``unlocked_by = [...]`` earns ``pack:<pack>``;
- ``content/scopes.toml``: ``[<scope>] earned_by = [...]`` earns ``scope:<scope>``.

A pattern is an action name in which ``*`` stands for any text, as in ``code:*`` or
``survey:reader-*``. The rule book is re-read when any of those files changes (one stat per file).
A file that cannot be read is skipped and logged; ``flask rewards check`` reports it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.editorfiles.documents import Document, load_toml
from app.editorfiles.errors import EditorFileError
from app.engage.actions import parse_action
from app.engage.errors import InvalidAction
from app.registry import Slot
from app.rewards.errors import RuleError

log = logging.getLogger("pullfirst.rewards")

PACK_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class Rule:
    """``reward`` is earned by any action that matches one of ``patterns``."""

    reward: str
    patterns: tuple[str, ...]
    source: Path
    title: str = ""  # the pack's or scope's own title, for pages when no describer knows it
    summary: str = ""  # what a scope is about

    @property
    def kind(self) -> str:
        return self.reward.partition(":")[0]

    @property
    def ref(self) -> str:
        return self.reward.partition(":")[2]

    def matches(self, action: str) -> bool:
        return any(pattern_matches(p, action) for p in self.patterns)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


def pattern_matches(pattern: str, action: str) -> bool:
    if "*" not in pattern:
        return pattern == action
    return _pattern_regex(pattern).match(action) is not None


def pattern_to_like(pattern: str) -> str:
    """The SQL LIKE form of a pattern (with ``\\`` as the escape character)."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def check_pattern(pattern: object, path: Path) -> str:
    if not isinstance(pattern, str):
        raise RuleError(path, None, f"a rule must be an action name, got {pattern!r}")
    probe = pattern.replace("*", "x")
    try:
        parse_action(probe)
    except InvalidAction:
        raise RuleError(
            path,
            None,
            f"{pattern!r} is not an action pattern such as 'survey:reader-2026' or 'code:*'",
        ) from None
    return pattern


def _load_toml(path: Path) -> Document:
    try:
        return load_toml(path)
    except EditorFileError as exc:
        raise RuleError(path, exc.line, exc.message) from None


def _title(value: object, slug: str) -> str:
    return value.strip() if isinstance(value, str) and value.strip() else slug


def _patterns(doc: Document, where: tuple[str, ...], label: str) -> tuple[str, ...]:
    """The patterns at ``where`` (a key path such as ``("newsletter", "earned_by")``);
    a :class:`RuleError` names the line of that key."""
    table = doc.data.get(where[0]) if len(where) > 1 else doc.data
    value = table.get(where[-1]) if isinstance(table, dict) else None
    if value is None:
        return ()
    line = doc.line(*where)
    if not isinstance(value, list):
        raise RuleError(doc.path, line, f"{label} must be a list of action names")
    try:
        return tuple(check_pattern(p, doc.path) for p in value)
    except RuleError as exc:
        raise RuleError(doc.path, line, exc.message) from None


def pack_rules(stickers_dir: Path) -> tuple[list[Rule], list[RuleError]]:
    rules, problems = [], []
    for path in sorted(stickers_dir.glob("*/pack.toml")):
        slug = path.parent.name
        try:
            if not PACK_SLUG.match(slug):
                raise RuleError(path, None, f"pack folder {slug!r} is not a slug (a-z, 0-9, -)")
            doc = _load_toml(path)
            patterns = _patterns(doc, ("unlocked_by",), "unlocked_by")
        except RuleError as exc:
            problems.append(exc)
            continue
        if patterns:
            rules.append(Rule(f"pack:{slug}", patterns, path, _title(doc.data.get("title"), slug)))
    return rules, problems


def scope_rules(scopes_file: Path) -> tuple[list[Rule], list[RuleError]]:
    if not scopes_file.exists():
        return [], []
    try:
        doc = _load_toml(scopes_file)
    except RuleError as exc:
        return [], [exc]
    rules, problems = [], []
    for slug, table in doc.data.items():
        try:
            if not isinstance(table, dict):
                raise RuleError(scopes_file, doc.line(slug), f"[{slug}] must be a table")
            patterns = _patterns(doc, (slug, "earned_by"), f"[{slug}] earned_by")
        except RuleError as exc:
            problems.append(exc)
            continue
        if patterns:
            about = table.get("about")
            summary = about.strip() if isinstance(about, str) else ""
            rules.append(
                Rule(
                    f"scope:{slug}",
                    patterns,
                    scopes_file,
                    _title(table.get("title"), slug),
                    summary[:1].upper() + summary[1:],
                )
            )
    return rules, problems


def scope_names(scopes_file: Path) -> tuple[str, ...]:
    """Every scope: the top-level tables of ``scopes.toml`` (empty when it cannot be read)."""
    try:
        data = _load_toml(scopes_file).data if scopes_file.exists() else {}
    except RuleError:
        return ()
    return tuple(slug for slug, table in data.items() if isinstance(table, dict))


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[Rule, ...]
    problems: tuple[RuleError, ...]
    scopes: tuple[str, ...] = ()

    def rewards_for(self, action: str) -> list[Rule]:
        return [rule for rule in self.rules if rule.matches(action)]

    def rule_for(self, reward: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.reward == reward), None)


def load_rule_book(stickers_dir: Path, scopes_file: Path) -> RuleBook:
    packs, pack_problems = pack_rules(stickers_dir)
    scopes, scope_problems = scope_rules(scopes_file)
    problems = pack_problems + scope_problems
    for problem in problems:
        log.error("reward rule skipped: %s", problem)
    return RuleBook(tuple(packs + scopes), tuple(problems), scope_names(scopes_file))


class RuleSource:
    """The current rule book, re-read when a pack.toml or scopes.toml changes."""

    def __init__(self, stickers_dir: Path, scopes_file: Path) -> None:
        self.stickers_dir, self.scopes_file = stickers_dir, scopes_file
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._book = RuleBook((), ())

    def _files(self) -> Iterable[Path]:
        yield self.scopes_file
        yield from self.stickers_dir.glob("*/pack.toml")

    def _current_stamp(self) -> tuple[tuple[str, int, int], ...]:
        stamp = []
        for path in self._files():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            stamp.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(stamp))

    def get(self) -> RuleBook:
        stamp = self._current_stamp()
        if stamp != self._stamp:
            self._book = load_rule_book(self.stickers_dir, self.scopes_file)
            self._stamp = stamp
        return self._book


RULES = Slot[RuleSource](
    "rules",
    "the reward rules, read from the packs and scopes.toml",
    set_by="app.rewards.wiring.init_app",
)
