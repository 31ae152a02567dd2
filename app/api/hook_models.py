"""The tables of the event webhook endpoints and their deliveries."""

from __future__ import annotations
