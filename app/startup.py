"""Work that ``flask serve`` does before it serves: each area registers its own steps.

Steps run in registration order (areas are wired from the bottom up), each in its own app
context, and print one line each.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from app.registry import Registry

StartupStep = Callable[[], str | None]

STARTUP_STEPS = Registry[StartupStep](
    "startup_steps", "work `flask serve` does before it serves, printed as one line each"
)


def register_startup_step(app: Flask, name: str, step: StartupStep) -> None:
    """Run ``step`` when ``flask serve`` starts; a returned string is printed after ``name``."""
    STARTUP_STEPS.add(app, name, step)


def startup_steps(app: Flask) -> list[tuple[str, StartupStep]]:
    return list(STARTUP_STEPS.named(app).items())


Companion = Callable[[Flask, threading.Event], None]

COMPANIONS = Registry[Companion](
    "companions", "a thread that runs beside `flask serve`'s development server"
)


def register_companion(app: Flask, name: str, run: Companion) -> None:
    """Run ``run(app, stopping)`` in a thread beside ``flask serve``'s development server
    (the notifier's worker, so the demo sends for real). It should return soon after
    ``stopping`` is set."""
    COMPANIONS.add(app, name, run)


def companions(app: Flask) -> list[tuple[str, Companion]]:
    return list(COMPANIONS.named(app).items())
