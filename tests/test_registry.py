"""The registries and slots of ``app/registry.py``, and the README's list of them."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask

import app as app_package
from app.registry import DuplicateContribution, Registry, Slot, SlotEmpty

README = Path(__file__).resolve().parents[1] / "README.md"


def _modules() -> list[ModuleType]:
    names = [m.name for m in pkgutil.walk_packages(app_package.__path__, "app.")]
    return [importlib.import_module(name) for name in sorted(names)]


def _declared() -> tuple[dict[str, Registry[object]], dict[str, Slot[object]]]:
    """Every Registry and Slot held by a module of ``app``, by name (imports reach the same
    object, so each is counted once)."""
    registries: dict[int, Registry[object]] = {}
    slots: dict[int, Slot[object]] = {}
    for module in _modules():
        for value in vars(module).values():
            if isinstance(value, Registry):
                registries[id(value)] = value
            elif isinstance(value, Slot):
                slots[id(value)] = value
    by_name_r = {r.name: r for r in registries.values()}
    by_name_s = {s.name: s for s in slots.values()}
    assert len(by_name_r) == len(registries), "two registries share a name"
    assert len(by_name_s) == len(slots), "two slots share a name"
    assert not by_name_r.keys() & by_name_s.keys(), "a registry and a slot share a key"
    return by_name_r, by_name_s


def _tables() -> dict[str, dict[str, list[str]]]:
    """The README's "Extension points" tables, by first header cell, as name -> cells."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Extension points\n", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in section.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if current is None:
            current = tables.setdefault(cells[0], {})
        elif not set(cells[0]) <= {"-", ":"}:
            current[cells[0].strip("`")] = [c.strip("`") for c in cells[1:]]
    return tables


def _resolve(dotted: str) -> object:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise AssertionError(f"{dotted} names nothing")


def test_the_readme_lists_exactly_the_registries_declared_in_the_code() -> None:
    registries, _ = _declared()
    listed = _tables()["Registry"]
    assert sorted(listed) == sorted(registries)
    for name, (declared_as, *_) in listed.items():
        assert _resolve(declared_as) is registries[name], f"{name}: declared as {declared_as}?"


def test_the_readme_lists_exactly_the_slots_declared_in_the_code() -> None:
    _, slots = _declared()
    listed = _tables()["Slot"]
    assert sorted(listed) == sorted(slots)
    for name, (declared_as, _holds, set_by) in listed.items():
        assert _resolve(declared_as) is slots[name], f"{name}: declared as {declared_as}?"
        assert set_by == slots[name].set_by, f"{name}: set by {slots[name].set_by}"
        assert callable(_resolve(set_by))


def test_every_slot_an_app_needs_is_set_by_create_app(app: Flask) -> None:
    _, slots = _declared()
    set_later = {"clock", "events", "head_revision", "notices", "receipt_key", "sticker_build"}
    optional = {"metrics", "content_sync"}  # only while METRICS_TOKEN / CONTENT_GIT_REMOTE is set
    with app.app_context():
        for name, slot in slots.items():
            if name not in set_later | optional:
                assert slot.find() is not None, f"create_app leaves {name} empty"


# --- behaviour ---------------------------------------------------------------------------------

BOOKS = Slot[list[str]]("test_books", "the test's books", set_by="tests.test_registry.shelve")
COLOURS = Registry[str]("test_colours", "a colour the test knows")


def test_reading_an_empty_slot_names_the_slot_and_who_sets_it() -> None:
    app = Flask(__name__)
    with pytest.raises(SlotEmpty) as caught:
        BOOKS.get(app)
    message = str(caught.value)
    assert "'test_books'" in message and "the test's books" in message
    assert "tests.test_registry.shelve sets it" in message
    assert BOOKS.find(app) is None


def test_a_slot_holds_one_value_per_app_and_reads_the_current_app_by_default() -> None:
    first, second = Flask(__name__), Flask(__name__)
    BOOKS.set(first, ["Emma"])
    assert BOOKS.get(first) == ["Emma"] and BOOKS.find(second) is None
    with first.app_context():
        assert BOOKS.get() == ["Emma"]
    made = BOOKS.ensure(lambda: ["Persuasion"], second)
    assert BOOKS.ensure(lambda: ["never made"], second) is made == ["Persuasion"]
    assert second.extensions["pullfirst.test_books"] is made


def test_a_registry_keeps_order_and_refuses_a_name_twice() -> None:
    app = Flask(__name__)
    COLOURS.add(app, "sky", "blue")
    COLOURS.add(app, "grass", "green")
    with pytest.raises(DuplicateContribution, match="'sky' is already registered"):
        COLOURS.add(app, "sky", "grey")
    assert COLOURS.items(app) == ["blue", "green"]
    assert dict(COLOURS.named(app)) == {"sky": "blue", "grass": "green"}
    COLOURS.replace(app, "sky", "grey")  # a test standing in for an area keeps the position
    assert COLOURS.items(app) == ["grey", "green"]
    with pytest.raises(TypeError):
        COLOURS.named(app)["sea"] = "teal"  # type: ignore[index]


def test_two_apps_do_not_share_registrations() -> None:
    first, second = Flask(__name__), Flask(__name__)
    COLOURS.add(first, "sky", "blue")
    COLOURS.add(second, "sky", "black")
    assert COLOURS.items(first) == ["blue"] and COLOURS.items(second) == ["black"]
    assert COLOURS.items(Flask(__name__)) == []
    with second.app_context():
        assert COLOURS.items() == ["black"]


def test_two_apps_from_create_app_have_their_own_contributions(
    app: Flask, app_config: dict[str, Any]
) -> None:
    from app import create_app
    from app.extensions import db
    from app.startup import STARTUP_STEPS

    other = create_app(app_config)
    try:
        assert [*STARTUP_STEPS.named(other)] == [*STARTUP_STEPS.named(app)]
        STARTUP_STEPS.add(other, "only in other", lambda: None)
        assert "only in other" in STARTUP_STEPS.named(other)
        assert "only in other" not in STARTUP_STEPS.named(app)
    finally:
        with other.app_context():
            db.engine.dispose()
