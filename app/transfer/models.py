"""The importer's tables."""

from __future__ import annotations
