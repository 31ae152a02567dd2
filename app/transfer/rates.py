"""The rate an import's invitations go out at: ``200/hour``, ``50/day``, ``5/minute``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.transfer.errors import ImportRefused

PERIODS = {"minute": 60, "min": 60, "hour": 3600, "h": 3600, "day": 86_400, "d": 86_400}
MAX_PER_HOUR = 100_000
_RATE = re.compile(r"^\s*(\d{1,7})\s*/\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @property
    def spacing(self) -> float:
        """Seconds between two invitations when they are spread evenly."""
        return self.seconds / self.count

    def __str__(self) -> str:
        name = {60: "minute", 3600: "hour", 86_400: "day"}.get(self.seconds, f"{self.seconds} s")
        return f"{self.count}/{name}"


def parse_rate(text: str) -> Rate:
    """``N/minute``, ``N/hour`` or ``N/day`` (N at least 1); raise :class:`ImportRefused`."""
    match = _RATE.match(text.casefold())
    if not match or match.group(2) not in PERIODS or int(match.group(1)) < 1:
        raise ImportRefused(
            f"--rate {text!r}: give a number per minute, hour or day, like 200/hour"
        )
    rate = Rate(int(match.group(1)), PERIODS[match.group(2)])
    if rate.count * 3600 / rate.seconds > MAX_PER_HOUR:
        raise ImportRefused(f"--rate {text!r}: at most {MAX_PER_HOUR:,} an hour")
    return rate
