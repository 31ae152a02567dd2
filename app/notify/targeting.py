"""Who a campaign is for: the targeting language, checked, evaluated and explained.

A campaign may narrow its audience (the members the gate lets through) with a filter written
in this language. Without a filter it goes to the whole audience.

Clauses
=======

What a member told us in a survey (``content/surveys/<slug>.md``), one question at a time::

    survey:reader-2026 role = "Marketing or growth"       single choice: = or !=
    survey:reader-2026 role != "Something else"
    survey:reader-2026 topics has "Email deliverability"  multiple choice: the option is chosen
    survey:reader-2026 usefulness >= 4                    rating (1-5), nps (0-10):
    survey:reader-2026 recommend < 7                          = != < <= > >=
    survey:reader-2026 next-article contains stickers     text: case-insensitive substring
    survey:reader-2026 role answered                      any type: the question has an answer

What a member read on the site or clicked in our messages, by the tag of the article::

    read tag:consent within 30 days         the member read an article tagged Consent
    clicked tag:"Permission marketing" within 14 days
                                            a link of one of our messages to such an article

Whether a member engaged (clicked, read in the inbox, replied, said "useful") with a message
we delivered to them on a channel::

    engaged email within 60 days

Combine clauses with ``and``, ``or`` and ``not``; ``not`` binds tightest, then ``and``, then
``or``; parentheses group::

    survey:reader-2026 role = "Marketing or growth" and (read tag:consent within 30 days
        or clicked tag:consent within 30 days) and not engaged sms within 7 days

Words
=====

- Keywords (``and or not has contains answered read clicked engaged within days``) may be
  written in any case. Option values compare without regard to case.
- A value with spaces, or one that is a keyword, goes in double quotes; inside them ``\\"``
  is a quote and ``\\\\`` a backslash.
- A comparison needs an answer: ``role != "Something else"`` keeps members who answered the
  question otherwise, never those who did not answer; ``not survey:… role = …`` keeps both.
- ``within N days`` counts back from the moment of sending; N is 1 to 3650.
- A filter is at most :data:`MAX_LENGTH` characters, :data:`MAX_CLAUSES` clauses and
  :data:`MAX_DEPTH` levels of parentheses and ``not``.

API
===

:func:`parse` (syntax) and :func:`check` (against today's surveys and posts) raise
:class:`TargetingError` with a message that names the character or the clause. The
evaluation and explanation functions live in :mod:`app.notify.targeting_eval`:
``members`` (set-based, for the outbox and the preview), ``matches`` (one member, for the
worker), ``explain`` (the preview's counts per clause) and ``because`` (the sentences of the
member's "why did I get this?" page).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from app.consent.scopes import CHANNELS
from app.engage.responses import shelf
from app.notify.errors import CampaignError
from app.site import content
from app.site.meta import tag_slug

MAX_LENGTH = 2000
MAX_DEPTH = 12
MAX_CLAUSES = 40
MAX_DAYS = 3650
KEYWORDS = frozenset(
    {"and", "or", "not", "has", "contains", "answered", "within", "days", "day", "read"}
    | {"clicked", "engaged"}
)
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
OPERATORS_BY_TYPE = {
    "single": ("=", "!=", "answered"),
    "multi": ("has", "answered"),
    "rating": (*COMPARISONS, "answered"),
    "nps": (*COMPARISONS, "answered"),
    "text": ("contains", "answered"),
}
TYPE_WORDS = {
    "single": "a single-choice question",
    "multi": "a multiple-choice question",
    "rating": "a rating question",
    "nps": "a 0-10 recommendation question",
    "text": "a text question",
}


class TargetingError(CampaignError):
    """A filter that cannot be read or does not fit today's surveys and posts; the message
    says where and what to write instead."""


# --- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerClause:
    """``survey:<survey> <question> <op> [value]``; ``op`` is a comparison, ``has``,
    ``contains`` or ``answered`` (then ``value`` is None)."""

    survey: str
    question: str
    op: str
    value: str | None
    text: str
    position: int


@dataclass(frozen=True)
class ActivityClause:
    """``read|clicked tag:<tag> within <days> days``."""

    verb: str
    tag: str
    days: int
    text: str
    position: int


@dataclass(frozen=True)
class EngagedClause:
    """``engaged <channel> within <days> days``."""

    channel: str
    days: int
    text: str
    position: int


@dataclass(frozen=True)
class And:
    items: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    item: Filter


Clause = AnswerClause | ActivityClause | EngagedClause
Filter = Clause | And | Or | Not


def clauses(node: Filter) -> list[Clause]:
    """The clauses of a filter, in the order they were written."""
    if isinstance(node, And | Or):
        return [c for item in node.items for c in clauses(item)]
    if isinstance(node, Not):
        return clauses(node.item)
    return [node]


# --- reading the text ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # word, string, op, (, ), end
    text: str
    position: int  # 1-based character


_SPACE = re.compile(r"\s+")
_WORD = re.compile(r'[^\s()"=!<>\[\]{}]+')
_OP = re.compile(r"<=|>=|!=|=|<|>")


def _at(position: int, message: str) -> TargetingError:
    return TargetingError(f"Who it is for, at character {position}: {message}")


def _string(text: str, start: int) -> tuple[str, int]:
    """The quoted string starting at ``text[start] == '"'`` and the index after it."""
    out: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
        elif char == '"':
            return "".join(out), index + 1
        else:
            out.append(char)
            index += 1
    raise _at(start + 1, 'this quote is never closed; end the value with another ".')


def tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    index = 0
    while index < len(text):
        if space := _SPACE.match(text, index):
            index = space.end()
            continue
        char = text[index]
        if char in "()":
            found.append(_Token(char, char, index + 1))
            index += 1
        elif char == '"':
            value, end = _string(text, index)
            found.append(_Token("string", value, index + 1))
            index = end
        elif op := _OP.match(text, index):
            found.append(_Token("op", op.group(), index + 1))
            index = op.end()
        elif word := _WORD.match(text, index):
            value, end = word.group(), word.end()
            if value.endswith(":") and end < len(text) and text[end] == '"':
                quoted, end = _string(text, end)  # tag:"Permission marketing"
                value += quoted
            found.append(_Token("word", value, index + 1))
            index = end
        else:
            raise _at(index + 1, f'“{char}” has no meaning here; quote values with ".')
    found.append(_Token("end", "", len(text) + 1))
    return found


def _shown(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the filter"
    return f"“{token.text[:40]}”"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokens(text)
        self.index = 0
        self.depth = 0
        self.count = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "word" and token.text.casefold() == word:
            self.index += 1
            return True
        return False

    def expect(self, word: str, after: str) -> None:
        if not self.keyword(word):
            token = self.peek()
            raise _at(token.position, f"expected “{word}” after {after}, found {_shown(token)}.")

    def deeper(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _at(
                token.position, f"nested more than {MAX_DEPTH} levels deep; write it flatter."
            )

    def filter(self) -> Filter:
        node = self.any_of()
        token = self.peek()
        if token.kind != "end":
            hint = " (a “)” without its “(”?)" if token.kind == ")" else ""
            raise _at(
                token.position, f"expected “and”, “or” or the end, found {_shown(token)}{hint}."
            )
        return node

    def any_of(self) -> Filter:
        items = [self.all_of()]
        while self.keyword("or"):
            items.append(self.all_of())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def all_of(self) -> Filter:
        items = [self.unary()]
        while self.keyword("and"):
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Filter:
        token = self.peek()
        if self.keyword("not"):
            self.deeper(token)
            node: Filter = Not(self.unary())
            self.depth -= 1
            return node
        if token.kind == "(":
            self.take()
            self.deeper(token)
            node = self.any_of()
            self.depth -= 1
            closing = self.take()
            if closing.kind != ")":
                raise _at(
                    closing.position,
                    f"expected “)” to close the “(” at character {token.position}, "
                    f"found {_shown(closing)}.",
                )
            return node
        return self.clause()

    def clause(self) -> Clause:
        token = self.take()
        self.count += 1
        if self.count > MAX_CLAUSES:
            raise _at(token.position, f"more than {MAX_CLAUSES} clauses; split the campaign.")
        word = token.text.casefold() if token.kind == "word" else ""
        if word.startswith("survey:"):
            clause: Clause = self.answer(token)
        elif word in ("read", "clicked"):
            clause = self.activity(token, word)
        elif word == "engaged":
            clause = self.engaged(token)
        else:
            raise _at(
                token.position,
                "expected a clause (survey:<survey> <question> …, read tag:<tag> within N "
                f"days, clicked tag:<tag> …, engaged <channel> …) or “(”, found {_shown(token)}.",
            )
        return clause

    def source(self, start: _Token) -> str:
        end = self.tokens[self.index].position - 1
        return self.text[start.position - 1 : end].strip()

    def value(self, after: str) -> _Token:
        token = self.take()
        if token.kind == "string" or (
            token.kind == "word" and token.text.casefold() not in KEYWORDS
        ):
            return token
        raise _at(
            token.position,
            f"expected a value after {after}, found {_shown(token)} (quote a value that is a "
            "keyword or has spaces).",
        )

    def answer(self, start: _Token) -> AnswerClause:
        survey = start.text[len("survey:") :]
        if not survey:
            raise _at(start.position, "name the survey right after “survey:”.")
        question = self.take()
        if question.kind != "word" or question.text.casefold() in KEYWORDS:
            raise _at(
                question.position,
                f"expected the id of a question of {survey} after “{start.text}”, "
                f"found {_shown(question)}.",
            )
        op_token = self.take()
        op = op_token.text.casefold() if op_token.kind in ("op", "word") else ""
        if op not in (*COMPARISONS, "has", "contains", "answered"):
            raise _at(
                op_token.position,
                f"expected =, !=, <, <=, >, >=, has, contains or answered after “{question.text}”, "
                f"found {_shown(op_token)}.",
            )
        value = None if op == "answered" else self.value(f"“{op_token.text}”").text
        return AnswerClause(survey, question.text, op, value, self.source(start), start.position)

    def days(self, start: _Token) -> int:
        self.expect("within", "the clause")
        number = self.take()
        if number.kind != "word" or not number.text.isdigit():
            raise _at(number.position, f"expected a number of days, found {_shown(number)}.")
        days = int(number.text) if len(number.text) < 6 else MAX_DAYS + 1
        if not 1 <= days <= MAX_DAYS:
            raise _at(number.position, f"the number of days is 1 to {MAX_DAYS}, not {days}.")
        if not (self.keyword("days") or self.keyword("day")):
            raise _at(self.peek().position, f"expected “days” after “{number.text}”.")
        return days

    def activity(self, start: _Token, verb: str) -> ActivityClause:
        tag = self.take()
        name = tag.text[len("tag:") :] if tag.kind == "word" else ""
        if not tag.text.casefold().startswith("tag:") or not name.strip():
            raise _at(
                tag.position,
                f"expected tag:<tag> after “{start.text}” (for example tag:consent), "
                f"found {_shown(tag)}.",
            )
        days = self.days(start)
        return ActivityClause(verb, name.strip(), days, self.source(start), start.position)

    def engaged(self, start: _Token) -> EngagedClause:
        channel = self.take()
        if channel.kind != "word" or channel.text.casefold() not in CHANNELS:
            raise _at(
                channel.position,
                f"expected a channel after “engaged” ({', '.join(CHANNELS)}), "
                f"found {_shown(channel)}.",
            )
        days = self.days(start)
        return EngagedClause(channel.text.casefold(), days, self.source(start), start.position)


def parse(text: str) -> Filter:
    """The filter ``text`` writes. Raises :class:`TargetingError` naming the character where
    it stops making sense; the length and the nesting are capped, so any input is read at
    once."""
    if len(text) > MAX_LENGTH:
        raise TargetingError(
            f"Who it is for is {len(text):,} characters long; keep it under {MAX_LENGTH:,}."
        )
    if not text.strip():
        raise TargetingError("Who it is for is empty: leave it blank to send to everyone.")
    return _Parser(text).filter()


@lru_cache(maxsize=64)
def parsed(text: str) -> Filter:
    """:func:`parse`, remembered per text: a campaign's filter is read once per version, not
    once per delivery."""
    return parse(text)


# --- checking against today's surveys and posts ----------------------------------------


def _quoted(values: Iterable[object]) -> str:
    return ", ".join(f"“{v}”" for v in values)


def _check_answer(clause: AnswerClause) -> str | None:
    where = f"In “{clause.text}”: "
    survey = shelf().surveys.get(clause.survey)
    if survey is None:
        known = sorted(shelf().surveys)
        return (
            where
            + f"there is no survey “{clause.survey}”"
            + (f"; the surveys are {_quoted(known)}." if known else ".")
        )
    question = survey.question(clause.question)
    if question is None:
        return where + (
            f"the survey “{survey.title}” has no question “{clause.question}” (any more); "
            f"its questions are {_quoted(q.id for q in survey.questions)}."
        )
    allowed = OPERATORS_BY_TYPE[question.type]
    if clause.op not in allowed:
        return where + (
            f"“{question.id}” is {TYPE_WORDS[question.type]}: use "
            f"{', '.join(allowed[:-1])} or {allowed[-1]}, not {clause.op}."
        )
    if clause.value is None or question.type == "text":
        return None
    if question.type in ("single", "multi"):
        if clause.value.casefold() not in {o.casefold() for o in question.options}:
            return where + (
                f"“{clause.value}” is not an answer to “{question.label}”; its answers are "
                f"{_quoted(question.options)}."
            )
        return None
    low, high = question.scale[0], question.scale[-1]
    if not re.fullmatch(r"-?\d{1,4}", clause.value) or int(clause.value) not in question.scale:
        return where + (
            f"“{question.label}” is answered with a number from {low} to {high}, "
            f"not “{clause.value}”."
        )
    return None


def posts_tagged(tag: str) -> dict[str, str]:
    """Every post (public or not) carrying ``tag`` (compared as tag slugs): slug → URL path."""
    wanted = tag_slug(tag)
    return {
        page.slug: page.url
        for page in content.current().posts.values()
        if any(tag_slug(t) == wanted for t in page.tags)
    }


def _check_activity(clause: ActivityClause) -> str | None:
    if posts_tagged(clause.tag):
        return None
    tags = sorted({t for page in content.current().posts.values() for t in page.tags})
    return f"In “{clause.text}”: no article is tagged “{clause.tag}”" + (
        f"; the tags are {_quoted(tags)}." if tags else "."
    )


def check(node: Filter) -> None:
    """Raise :class:`TargetingError` listing every clause that does not fit today's
    surveys and posts: a survey or question that does not exist, an answer the question
    does not offer (with the ones it does), an operator that does not fit the question's
    type, a number outside its scale, a tag no article carries."""
    problems = []
    for clause in clauses(node):
        if isinstance(clause, AnswerClause):
            problem = _check_answer(clause)
        elif isinstance(clause, ActivityClause):
            problem = _check_activity(clause)
        else:
            problem = None
        if problem is not None:
            problems.append(problem)
    if problems:
        raise TargetingError(" ".join(problems))


def checked(text: str | None) -> str | None:
    """The filter to store for what a marketer typed: None when blank, else the text once
    it parses and fits today's surveys and posts. Raises :class:`TargetingError`."""
    if text is None or not text.strip():
        return None
    check(parse(text))
    return text.strip()
