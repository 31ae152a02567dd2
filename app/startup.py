"""Work that ``flask serve`` does before it serves: each area registers its own steps.

Steps run in registration order (areas are wired from the bottom up), each in its own app
context, and print one line each.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

StartupStep = Callable[[], str | None]


def register_startup_step(app: Flask, name: str, step: StartupStep) -> None:
    """Run ``step`` when ``flask serve`` starts; a returned string is printed after ``name``."""
    steps: list[tuple[str, StartupStep]] = app.extensions.setdefault("pullfirst.startup", [])
    steps.append((name, step))


def startup_steps(app: Flask) -> list[tuple[str, StartupStep]]:
    steps: list[tuple[str, StartupStep]] = app.extensions.get("pullfirst.startup", [])
    return steps


Companion = Callable[[Flask, threading.Event], None]


def register_companion(app: Flask, name: str, run: Companion) -> None:
    """Run ``run(app, stopping)`` in a thread beside ``flask serve``'s development server
    (the notifier's worker, so the demo sends for real). It should return soon after
    ``stopping`` is set."""
    companions: list[tuple[str, Companion]] = app.extensions.setdefault("pullfirst.companions", [])
    companions.append((name, run))


def companions(app: Flask) -> list[tuple[str, Companion]]:
    found: list[tuple[str, Companion]] = app.extensions.get("pullfirst.companions", [])
    return found
