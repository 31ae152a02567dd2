"""What an app holds, and what areas add to it: the two shapes of ``app.extensions``.

- A :class:`Slot` is one object an app holds (the content library, the clock, the database
  state), kept under ``app.extensions["pullfirst.<name>"]`` and set by one area's ``init_app``.
- A :class:`Registry` is an ordered collection of named contributions (start-up steps, data
  exporters, admin sections) that areas add in their ``init_app``, so that a lower module can
  use what a higher area offers without importing it.

Each instance is declared once, at module level, in the module that owns it
(``SCOPES = Slot[ScopeSource]("scopes", ...)``), so every use is typed. The README's
"Extension points" lists them all; ``tests/test_registry.py`` keeps that list true.

Errors::

    LookupError
    └── SlotEmpty              nothing was set in a slot that is read
    ValueError
    └── DuplicateContribution  a second contribution under a name already taken

This module is shared infrastructure: it imports no area.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Generic, TypeVar

from flask import Flask, current_app

T = TypeVar("T")

PREFIX = "pullfirst."


class SlotEmpty(LookupError):
    """A slot was read before the area that sets it was wired into the app."""


class DuplicateContribution(ValueError):
    """A contribution was added under a name that one already holds."""


def _the(app: Flask | None) -> Flask:
    return current_app if app is None else app


class Slot(Generic[T]):
    """One object an app holds under ``app.extensions["pullfirst.<name>"]``.

    ``holds`` says what it is, ``set_by`` names the function that puts it there (an area's
    ``init_app``, or the function that makes it on first use); both appear in the error raised
    when the slot is read empty.
    """

    def __init__(self, name: str, holds: str, *, set_by: str) -> None:
        self.name, self.holds, self.set_by = name, holds, set_by
        self.key = PREFIX + name

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"

    def set(self, app: Flask, value: T) -> None:
        """Hold ``value`` for ``app``, in place of anything held before."""
        app.extensions[self.key] = value

    def get(self, app: Flask | None = None) -> T:
        """What ``app`` (by default the current app) holds. Raises :class:`SlotEmpty`, naming
        the slot and who sets it, when nothing was set."""
        extensions = _the(app).extensions
        if self.key not in extensions:
            raise SlotEmpty(
                f"the app holds no {self.holds} (slot {self.name!r}): {self.set_by} sets it; "
                "was the app made by app.create_app()?"
            )
        value: T = extensions[self.key]
        return value

    def find(self, app: Flask | None = None) -> T | None:
        """What ``app`` holds, or None when nothing was set (for slots an area may leave empty)."""
        value: T | None = _the(app).extensions.get(self.key)
        return value

    def ensure(self, make: Callable[[], T], app: Flask | None = None) -> T:
        """What ``app`` holds, made with ``make()`` and kept on first use (a per-app cache)."""
        extensions = _the(app).extensions
        if self.key not in extensions:
            extensions[self.key] = make()
        value: T = extensions[self.key]
        return value


class Registry(Generic[T]):
    """Named contributions that areas add to an app, kept in the order they were added.

    ``extends`` says what a contribution adds. Each app has its own collection, under
    ``app.extensions["pullfirst.<name>"]``; reading an app nobody contributed to gives nothing.
    """

    def __init__(self, name: str, extends: str) -> None:
        self.name, self.extends = name, extends
        self.key = PREFIX + name

    def __repr__(self) -> str:
        return f"Registry({self.name!r})"

    def _of(self, app: Flask) -> dict[str, T]:
        found: dict[str, T] = app.extensions.setdefault(self.key, {})
        return found

    def add(self, app: Flask, name: str, item: T) -> None:
        """Add ``item`` under ``name``. Raises :class:`DuplicateContribution` when ``name`` is
        taken: two areas never silently override each other."""
        contributions = self._of(app)
        if name in contributions:
            raise DuplicateContribution(
                f"{self.name}: {name!r} is already registered ({self.extends}); "
                "each name is added once"
            )
        contributions[name] = item

    def replace(self, app: Flask, name: str, item: T) -> None:
        """Put ``item`` in place of the contribution under ``name``, keeping its position (a
        test standing in for an area), or add it when there is none."""
        self._of(app)[name] = item

    def named(self, app: Flask | None = None) -> Mapping[str, T]:
        """The contributions of ``app`` (by default the current app) by name, in order."""
        found: dict[str, T] = _the(app).extensions.get(self.key, {})
        return MappingProxyType(found)

    def items(self, app: Flask | None = None) -> list[T]:
        """The contributions of ``app`` (by default the current app), in order."""
        return list(self.named(app).values())
