"""Every area's models module, imported so that ``Base.metadata`` knows every table."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "app.accounts.models",
    "app.engage.models",
    "app.rewards.models",
    "app.consent.models",
    "app.notify.models",
    "app.ops.models",
)


def import_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
