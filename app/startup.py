"""Work that ``flask serve`` does before it serves: each area registers its own steps.

Steps run in registration order (areas are wired from the bottom up), each in its own app
context, and print one line each.
"""

from __future__ import annotations

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
