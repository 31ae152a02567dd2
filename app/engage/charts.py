"""Bar charts drawn on the server: the geometry of a horizontal bar chart, which a template turns
into inline SVG (no script, no inline style: colours come from the stylesheet's classes)."""

from __future__ import annotations

from dataclasses import dataclass

from app.engage.results import OptionCount

WIDTH = 680
LABEL_WIDTH = 280
VALUE_ROOM = 56
BAR_HEIGHT = 22
GAP = 10
MAX_LABEL = 32


@dataclass(frozen=True)
class Bar:
    label: str  # in full, for the tooltip and the table
    short_label: str
    count: int
    y: int
    width: float
    tone: str


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    bar_height: int


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"


def bar_chart(title: str, counts: list[OptionCount]) -> BarChart:
    """One bar per option, scaled to the largest count (an empty chart has zero-width bars)."""
    largest = max((c.count for c in counts), default=0)
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    bars = [
        Bar(
            c.label,
            _shorten(c.label),
            c.count,
            GAP + i * (BAR_HEIGHT + GAP),
            round(room * c.count / largest, 1) if largest else 0.0,
            c.tone,
        )
        for i, c in enumerate(counts)
    ]
    return BarChart(
        title, bars, WIDTH, GAP + len(bars) * (BAR_HEIGHT + GAP), LABEL_WIDTH, BAR_HEIGHT
    )
