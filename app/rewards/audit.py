"""``flask rewards check``: rules that cannot work as written.

Besides the files that cannot be read at all, a rule is reported when it names a survey, a code
batch or a scope that does not exist (scopes are the top-level tables of ``scopes.toml``). A
pattern such as ``survey:reader-*`` is reported when it matches none of them; ``code:*`` (any
batch) never is, since new batches are meant to match it.

Surveys and scopes are files, so one that is missing is an error. Code batches are issued into
the database by a marketer, often after the rule that rewards them is written (the demo's
``spring-store`` is issued by ``flask serve``): a batch not issued yet is a warning.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from app.rewards.rules import Rule, RuleBook, pattern_matches

NOUNS = {"survey": "survey", "code": "code batch", "subscribe": "scope"}
# Kinds whose names live in the database and may come after the rule: a warning, not an error.
NOT_YET = {"code"}


@dataclass(frozen=True, order=True)
class RuleProblem:
    path: Path
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {'warning: ' if self.warning else ''}{self.message}"


def _known(names: Collection[str]) -> str:
    return f"known: {', '.join(sorted(names))}" if names else "there are none yet"


def pattern_problem(pattern: str, names: dict[str, Collection[str]]) -> str | None:
    """Why ``pattern`` can never match, or None when it can (or is not checkable)."""
    kind, _, ref = pattern.partition(":")
    if kind not in NOUNS or ref == "*":
        return None
    known = names.get(kind, ())
    if "*" in ref:
        if any(pattern_matches(pattern, f"{kind}:{name}") for name in known):
            return None
        return f"{pattern!r} matches no {NOUNS[kind]}{_yet(kind)} ({_known(known)})"
    if ref in known:
        return None
    return f"{pattern!r} names no {NOUNS[kind]}{_yet(kind)} ({_known(known)})"


def _yet(kind: str) -> str:
    return " issued yet" if kind in NOT_YET else ""


def _line(rule: Rule, pattern: str) -> int:
    """The line of ``pattern`` in the rule's file, inside the scope's own table if it has one."""
    try:
        lines = rule.source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    start = 0
    if rule.kind == "scope":
        header = re.compile(rf"^\s*\[\s*\"?{re.escape(rule.ref)}\"?\s*\]")
        start = next((i for i, line in enumerate(lines) if header.match(line)), 0)
    quoted = (f'"{pattern}"', f"'{pattern}'")
    for number in range(start, len(lines)):
        if any(q in lines[number] for q in quoted):
            return number + 1
    return start + 1


def audit_rules(
    book: RuleBook, surveys: Collection[str], batches: Collection[str]
) -> list[RuleProblem]:
    """Every problem of the rule book, sorted by file and line."""
    names: dict[str, Collection[str]] = {
        "survey": surveys,
        "code": batches,
        "subscribe": book.scopes,
    }
    problems = [RuleProblem(p.path, p.line or 1, p.message) for p in book.problems]
    for rule in book.rules:
        for pattern in rule.patterns:
            message = pattern_problem(pattern, names)
            if message is not None:
                problems.append(
                    RuleProblem(
                        rule.source,
                        _line(rule, pattern),
                        f"{rule.reward}: {message}",
                        warning=pattern.partition(":")[0] in NOT_YET,
                    )
                )
    return sorted(problems)
