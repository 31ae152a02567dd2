"""A scope's cadence as data, and the sentences members read, rendered from it.

The cadence is what the gate enforces: at most ``max_per_week`` campaigns in any 7 days and
``max_per_month`` in any 30, only on ``days`` (weekdays, Monday = 0) and inside
``send_window`` (minutes after midnight in the member's time zone; a window may wrap past
midnight and then belongs to the day it starts on). Members never read a frequency an editor
typed: :func:`promise` and :func:`wording` render it, so the words and the machine cannot
disagree, and :func:`names_cadence` keeps frequencies out of the free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.consent.words import channel_words

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
NUMBERS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

# Words that state how often or when: they belong in the data, not in ``about``.
_CADENCE_WORDS = re.compile(
    r"\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)days?|weekends?|weekdays?|weekly|daily|"
    r"monthly|hourly|fortnightly|nightly|yearly|annually|every|each\s+(?:day|week|month)|"
    r"once|twice|per\s+(?:day|week|month|year)|a\s+(?:day|week|month|year)|"
    r"at\s+most|never\s+more|no\s+more\s+than|times|mornings?|evenings?|afternoons?|"
    r"nights?|noon|midnight|tonight|today|tomorrow)\b"
    r"|\b\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)"
    r"|\b\d{1,2}:\d{2}\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Cadence:
    max_per_week: int
    max_per_month: int | None = None
    days: tuple[int, ...] = ()
    send_window: tuple[int, int] | None = None


# --- reading the data ------------------------------------------------------------------------


def parse_days(values: Iterable[str]) -> tuple[int, ...]:
    """``["fri", "mon"]`` → ``(0, 4)``. Raises ``ValueError`` naming an unknown day. Every
    day listed (or none) means every day."""
    days: set[int] = set()
    full = [name.lower()[:-1] for name in DAY_NAMES]
    for value in values:
        name = value.strip().lower()
        if name in WEEKDAYS:
            days.add(WEEKDAYS.index(name))
        elif name in full:
            days.add(full.index(name))
        else:
            raise ValueError(f"unknown day {value!r}; use {', '.join(WEEKDAYS)}")
    return () if len(days) == len(WEEKDAYS) else tuple(sorted(days))


def parse_window(value: str) -> tuple[int, int]:
    """``"08:00-18:00"`` → ``(480, 1080)``. Raises ``ValueError`` with the reason."""
    match = _WINDOW.match(value)
    if not match:
        raise ValueError(f'send_window {value!r} must look like "08:00-18:00"')
    hour1, minute1, hour2, minute2 = (int(g) for g in match.groups())
    for hour, minute in ((hour1, minute1), (hour2, minute2)):
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise ValueError(
                f"send_window {value!r} has a time that does not exist "
                f"({hour:02d}:{minute:02d}); use 00:00 to 23:59"
            )
    start, end = hour1 * 60 + minute1, hour2 * 60 + minute2
    if start == end:
        raise ValueError(f"send_window {value!r} is empty: start and end are the same")
    return start, end


def names_cadence(text: str) -> str | None:
    """The first word of ``text`` that states a frequency, a weekday or a time, if any."""
    match = _CADENCE_WORDS.search(text)
    return match.group(0) if match else None


# --- the sentences ---------------------------------------------------------------------------


def _number(n: int) -> str:
    return NUMBERS[n] if n < len(NUMBERS) else str(n)


def _count(n: int, noun: str) -> str:
    return f"{_number(n)} {noun}" if n == 1 else f"{_number(n)} {noun}s"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _join(items: Sequence[str], last: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def terms(cadence: Cadence) -> str:
    """How often and when, as one sentence without a full stop: "At most one message a
    week and two a month, on Fridays between 08:00 and 18:00 your time"."""
    words = f"At most {_count(cadence.max_per_week, 'message')} a week"
    if cadence.max_per_month is not None:
        words += f" and {_number(cadence.max_per_month)} a month"
    when = []
    if cadence.days:
        when.append(f"on {_join([DAY_NAMES[d] for d in cadence.days])}")
    if cadence.send_window is not None:
        start, end = cadence.send_window
        when.append(f"between {_clock(start)} and {_clock(end)} your time")
    return f"{words}, {' '.join(when)}" if when else words


def promise(about: str, cadence: Cadence, channels: Sequence[str]) -> str:
    """What a scope promises, in full: "The three best new articles. At most one message a
    week, on Fridays between 08:00 and 18:00 your time, by email or in your inbox on this
    site." """
    what = about.strip().rstrip(".")
    what = what[:1].upper() + what[1:]
    where = _join([channel_words(c) for c in channels], "or")
    return f"{what}. {terms(cadence)}, {where}."


def wording(consent_text: str, cadence: Cadence) -> str:
    """The exact words a member says yes to: the consent text and the cadence terms."""
    return f"{consent_text.strip()} {terms(cadence)}."


SMS_HOURS = (8 * 60, 21 * 60)  # texts go out only between 08:00 and 21:00 the member's time


def sms_wording(consent_text: str, cadence: Cadence, program: str) -> str:
    """The words a member says yes to for text messages: :func:`wording`, then what carriers
    and SMS law expect to read with it (who sends, the hours texts keep, that the member's
    operator may charge, and the two keywords)."""
    return f"{wording(consent_text, cadence)} {sms_terms(program)}"


def sms_terms(program: str) -> str:
    """What :func:`sms_wording` adds to :func:`wording` for text messages: shown beside the
    text-message switch where the consent sentence is shown once for every channel."""
    start, end = SMS_HOURS
    return (
        f"Texts from {program.strip()}, never before {_clock(start)} or after {_clock(end)} "
        "your time. Msg & data rates may apply. Reply STOP to cancel, HELP for help."
    )
