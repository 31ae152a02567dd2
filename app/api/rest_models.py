"""The tables of the API keys and idempotent requests."""

from __future__ import annotations
