"""Every template writes dates through ``|day`` and ``|moment`` (one format, the reader's zone):
no hand-made ``strftime`` date, no ISO date or "UTC" in what people read. ISO 8601 stays where
machines read it (``<time datetime>``, ``<meta content>``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
# A strftime that writes a day, month or year (times of day such as quiet hours are fine).
DATE_STRFTIME = re.compile(r"strftime\(\s*['\"][^'\"]*%[YymdbBaAj]")
OLD_FILTERS = re.compile(r"\|\s*(local_time|long_date)\b")
ISO_CALL = re.compile(r"\.isoformat\(\)")
MACHINE_ATTRIBUTE = re.compile(r'(datetime|content)="[^"]*"')
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
TAG = re.compile(r"<[^>]*>", re.S)
# Templates that may name UTC in their text, and why. The front-matter fields of the content
# editor write times into content files, whose format reads a time without a zone as UTC
# (app/site/meta.py): there the label tells the editor what the file will say.
MAY_NAME_UTC = {
    "admin/content/_fields_page.html": "front-matter times are UTC in the file format",
    "admin/content/_fields_survey.html": "front-matter times are UTC in the file format",
    "transfer/export.html": "the export's JSON writes its times in UTC, as it says",
}


def _templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in {".html", ".txt", ".xml"})


def _problems(name: str, text: str) -> list[str]:
    """What is wrong in the template ``name`` whose source is ``text``, one line each."""

    def at(index: int) -> str:
        return f"{name}:{text.count(chr(10), 0, index) + 1}"

    found = [f"{at(m.start())}: {m.group(0)}" for m in DATE_STRFTIME.finditer(text)]
    found += [f"{at(m.start())}: {m.group(0)}" for m in OLD_FILTERS.finditer(text)]
    if "%Y-%m-%d" in text:
        found.append(f"{at(text.index('%Y-%m-%d'))}: %Y-%m-%d")
    machine = MACHINE_ATTRIBUTE.sub("", text)
    found += [f"{name}: .isoformat() shown as text" for _ in ISO_CALL.findall(machine)]
    visible = TAG.sub(" ", JINJA.sub(" ", text))
    if name not in MAY_NAME_UTC:
        found += [f"{name}: UTC in visible text" for _ in re.findall(r"\bUTC\b", visible)]
    return found


def test_templates_write_dates_only_through_day_and_moment() -> None:
    problems = [
        line
        for path in _templates()
        for line in _problems(str(path.relative_to(TEMPLATES)), path.read_text(encoding="utf-8"))
    ]
    assert problems == []


@pytest.mark.parametrize(
    "snippet",
    [
        "<td>{{ c.created_at.strftime('%Y-%m-%d') }}</td>",
        "<p>{{ at.strftime('%d %b %Y') }}</p>",
        "<p>{{ at|local_time }}</p>",
        "<p>{{ at.isoformat() }}</p>",
        "<label>Send at (UTC)</label>",
    ],
)
def test_the_scan_catches_a_stray_date(snippet: str) -> None:
    assert _problems("probe.html", snippet)


def test_the_scan_lets_machine_readable_and_time_of_day_through() -> None:
    page = (
        '<time datetime="{{ at.isoformat() }}">{{ at|moment }}</time> '
        "quiet {{ start.strftime('%H:%M') }}"
    )
    assert _problems("probe.html", page) == []
