"""Errors of the engage area::

    EngageError          an engagement request cannot be done
    └── InvalidAction    not a known ``kind:ref`` action name
"""

from __future__ import annotations


class EngageError(Exception):
    """Base class; ``str(error)`` is fit to show the person who asked."""


class InvalidAction(EngageError):
    pass
