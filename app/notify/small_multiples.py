"""Small multiples: one small chart per series over the same time axis, drawn as SVG on the
server (no script). Each panel has its own scale, so a series of 3 is as readable as one of
3,000, and no line hides another. The time axis has ticks with dates in the reader's zone, and
:attr:`SmallMultiples.table` holds the same numbers for a table (and screen readers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.notify.results import Series

WIDTH, PANEL_HEIGHT = 640, 96
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 22, 22
TICKS = 5
TABLE_ROWS = 12


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Panel:
    name: str
    points: str  # the polyline's ``points``
    area: str  # the filled area's path
    top: int  # the panel's scale: its largest value
    last: int  # the value at the end (cumulative series: the total)


@dataclass(frozen=True)
class SmallMultiples:
    title: str
    width: int
    panel_height: int
    panels: list[Panel]
    ticks: list[Tick]
    zone: str
    columns: list[str]  # the table's series names
    table: list[tuple[str, list[int]]]  # (moment in the reader's zone, a value per series)

    @property
    def empty(self) -> bool:
        return not self.panels

    @property
    def plot_bottom(self) -> int:
        return self.panel_height - BOTTOM

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def moment_words(moment: datetime, zone: ZoneInfo, with_time: bool = True) -> str:
    """``4 December 2026, 14:05`` (or ``4 December 2026``) on ``zone``'s clock."""
    local = moment.astimezone(zone)
    return f"{local.day} {local:%B %Y, %H:%M}" if with_time else f"{local.day} {local:%B %Y}"


def _tick_label(moment: datetime, zone: ZoneInfo, span: timedelta, first: bool) -> str:
    local = moment.astimezone(zone)
    if span >= timedelta(days=2):
        return f"{local.day} {local:%B}"
    if first or (local.hour == 0 and local.minute == 0):
        return f"{local.day} {local:%B}, {local:%H:%M}"
    return f"{local:%H:%M}"


def small_multiples(title: str, series: list[Series], zone_name: str) -> SmallMultiples:
    """Panels for ``series`` (each a list of (moment, value) on a shared time axis)."""
    zone = _zone(zone_name)
    moments = sorted({t for s in series for t, _ in s.points})
    if not moments:
        return SmallMultiples(title, WIDTH, PANEL_HEIGHT, [], [], zone.key, [], [])
    start, end = moments[0], moments[-1]
    span = end - start
    seconds = max(span.total_seconds(), 1.0)
    right, bottom = WIDTH - RIGHT, PANEL_HEIGHT - BOTTOM

    def x(t: datetime) -> float:
        return LEFT + (t - start).total_seconds() / seconds * (right - LEFT)

    panels = []
    for s in series:
        top = max((v for _, v in s.points), default=0) or 1
        coords = [(x(t), bottom - v / top * (bottom - TOP)) for t, v in s.points]
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in coords)
        area = (
            f"M{coords[0][0]:.1f},{bottom} "
            + " ".join(f"L{a:.1f},{b:.1f}" for a, b in coords)
            + f" L{coords[-1][0]:.1f},{bottom} Z"
        )
        last = s.points[-1][1] if s.points else 0
        panels.append(Panel(s.name, points, area, top, last))
    count = min(TICKS, len(moments)) if span else 1
    ticks = []
    for index in range(count):
        at = start + span * (index / max(count - 1, 1))
        ticks.append(Tick(x(at), _tick_label(at, zone, span, index == 0)))
    step = max(1, -(-len(moments) // TABLE_ROWS))
    shown = moments[::step]
    if shown[-1] != end:
        shown.append(end)
    values = [dict(s.points) for s in series]
    table = [(moment_words(t, zone), [v.get(t, 0) for v in values]) for t in shown]
    return SmallMultiples(
        title, WIDTH, PANEL_HEIGHT, panels, ticks, zone.key, [s.name for s in series], table
    )
