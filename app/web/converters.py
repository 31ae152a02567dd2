"""URL converters: row ids (``/inbox/<id:delivery_id>``) and the product's words
(``/me/permissions/<scope>/<channel:channel>/yes``).

Every table's id is an ``Integer`` column, counted from 1: 64 bits wide in SQLite but 32 bits in
PostgreSQL, where the driver casts each bound id to ``INTEGER``. A number outside
``1..MAX_ID`` names no row on any database, yet reaching a query it overflows (SQLite's 64-bit
integers, PostgreSQL's ``integer out of range``) and the request fails with a 500. So such a
path simply does not match: ``99999999999999999999``, ``0``, ``-1`` or ``0042`` are a 404
before any view runs.

A word converter (:func:`word_converter`) matches only the members of one ``StrEnum`` and hands
the view the member: ``/me/permissions/newsletter/fax/yes`` is a 404, not a query for a channel
that does not exist.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**31 - 1


class IdConverter(BaseConverter):
    """Digits without a sign or a leading zero, for a number from 1 to :data:`MAX_ID`."""

    regex = r"[1-9][0-9]{0,9}"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


def word_converter(words: type[StrEnum]) -> type[BaseConverter]:
    """A converter that matches exactly the values of ``words`` and gives the member."""

    class WordConverter(BaseConverter):
        regex = "|".join(re.escape(w.value) for w in sorted(words, key=len, reverse=True))
        part_isolating = True

        def to_python(self, value: str) -> StrEnum:
            return words(value)

        def to_url(self, value: Any) -> str:
            return str(words(value).value)

    WordConverter.__name__ = f"{words.__name__}Converter"
    return WordConverter
