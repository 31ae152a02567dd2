"""Typed readers for the fields of one table (or mapping) of an editor file.

::

    fields = Fields.of(load_toml(path))             # the top of the file
    scope = fields.table("newsletter")              # [newsletter]
    scope.text("title", max_length=120)             # "title must be non-empty text" at its line
    scope.integer("max_per_week", minimum=1, maximum=50)
    scope.check_known(KNOWN)                        # "unknown field 'cooldwon' (did you mean …)"

Every reader returns a plain value or raises a :class:`~app.editorfiles.errors.BadField`
subclass naming the file and the line of the field (or of its table when the field is absent).
Messages are ``<key> must …``, so an area may prefix its own context (``[newsletter] …``).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.editorfiles.documents import Document, KeyPath
from app.editorfiles.errors import BadField, MissingField, TooLong, UnknownField

_REQUIRED: Any = object()


def parse_moment(value: object, end_of_day: bool = False) -> datetime:
    """A date (``2026-11-01``) or an ISO date-time, in UTC; raises ValueError with a short reason.

    A bare date is the start of that day in UTC, or with ``end_of_day`` the start of the next.
    Date-times without a zone are taken as UTC.
    """
    if isinstance(value, datetime | date):
        value = value.isoformat()
    if not isinstance(value, str):
        raise ValueError(
            "must be a date such as 2026-11-01 or a date-time such as 2026-11-01T09:00:00Z"
        )
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(), UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date such as 2026-11-01 or a date-time such as 2026-11-01T09:00:00Z"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class Fields:
    """The fields of the mapping at ``where`` in ``doc``."""

    def __init__(self, doc: Document, data: Mapping[str, Any], where: KeyPath = ()) -> None:
        self.doc, self.data, self.where = doc, data, where

    @classmethod
    def of(cls, doc: Document) -> Fields:
        return cls(doc, doc.data)

    def line(self, key: str | int | None = None) -> int:
        """The line of ``key`` (of the table itself when None or absent)."""
        return self.doc.line(*self.where, *([] if key is None else [key]))

    def bad(self, key: str | int, message: str, kind: type[BadField] = BadField) -> BadField:
        """An error about ``key`` at its line, for checks the readers do not cover."""
        return kind(self.doc.path, self.line(key), message, key)

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def _value(self, key: str, default: Any) -> Any:
        if key in self.data and self.data[key] is not None:
            return self.data[key]
        if default is _REQUIRED:
            raise MissingField(self.doc.path, self.line(), f"{key} is missing", key)
        return default

    # --- scalars ---------------------------------------------------------------------------

    def text(self, key: str, *, max_length: int | None = None, default: Any = _REQUIRED) -> str:
        """Non-empty text, stripped; ``default`` (when given) if the field is absent."""
        value = self._value(key, default)
        if value is default and default is not _REQUIRED:
            return str(value)
        if not isinstance(value, str) or not value.strip():
            raise self.bad(key, f"{key} must be non-empty text")
        if max_length is not None and len(value.strip()) > max_length:
            raise self.bad(
                key,
                f"{key} is {len(value.strip())} characters; the limit is {max_length}",
                TooLong,
            )
        return value.strip()

    def integer(self, key: str, *, minimum: int, maximum: int, default: Any = _REQUIRED) -> int:
        """A whole number from ``minimum`` to ``maximum`` (``true`` is not a number)."""
        value = self._value(key, default)
        if value is default and default is not _REQUIRED:
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.bad(key, f"{key} must be a whole number")
        if not minimum <= value <= maximum:
            raise self.bad(key, f"{key} must be between {minimum} and {maximum}")
        return value

    def optional_integer(self, key: str, *, minimum: int, maximum: int) -> int | None:
        if self.data.get(key) is None:
            return None
        return self.integer(key, minimum=minimum, maximum=maximum)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self._value(key, default)
        if not isinstance(value, bool):
            raise self.bad(key, f"{key} must be true or false")
        return value

    def choice(self, key: str, choices: Collection[str], default: Any = _REQUIRED) -> str:
        """One of ``choices``."""
        value = self._value(key, default)
        if value not in choices:
            raise self.bad(key, f"{key} must be one of {', '.join(choices)}, got {value!r}")
        return str(value)

    def moment(self, key: str, *, end_of_day: bool = False) -> datetime | None:
        """A date or ISO date-time in UTC (see :func:`parse_moment`), or None when absent."""
        value = self.data.get(key)
        if value is None:
            return None
        try:
            return parse_moment(value, end_of_day=end_of_day)
        except ValueError as exc:
            raise self.bad(key, f"{key} {exc}") from None

    # --- collections -----------------------------------------------------------------------

    def texts(
        self,
        key: str,
        *,
        required: bool = False,
        choices: Collection[str] | None = None,
        unique: bool = False,
    ) -> tuple[str, ...]:
        """A list of text (empty when absent, unless ``required``: then it must be non-empty)."""
        value = self._value(key, _REQUIRED if required else [])
        if not isinstance(value, list) or (required and not value):
            raise self.bad(key, f"{key} must be a {'non-empty ' if required else ''}list")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.bad(key, f"{key} must be a list of text; item {index + 1} is not")
            if choices is not None and item not in choices:
                raise self.bad(key, f"{key}: {item!r} is not one of {', '.join(choices)}")
        if unique and len(set(value)) != len(value):
            raise self.bad(key, f"{key} lists the same value twice")
        return tuple(value)

    def table(self, key: str) -> Fields:
        """The mapping (``[key]`` or ``key: {…}``) under ``key``."""
        value = self._value(key, _REQUIRED)
        if not isinstance(value, dict):
            raise self.bad(key, f"{key} must be a table of fields")
        return Fields(self.doc, value, (*self.where, key))

    def tables(self, key: str) -> list[Fields]:
        """The mappings of a list (``[[key]]`` in TOML, ``- a: …`` items in YAML)."""
        value = self._value(key, _REQUIRED)
        if not isinstance(value, list):
            raise self.bad(key, f"{key} must be a list of tables")
        found = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise BadField(
                    self.doc.path,
                    self.doc.line(*self.where, key, index),
                    f"{key} {index + 1} must be a table of fields",
                    key,
                )
            found.append(Fields(self.doc, item, (*self.where, key, index)))
        return found

    # --- the keys themselves ---------------------------------------------------------------

    def unknown(
        self, known: Iterable[str], noun: str = "field", context: str = ""
    ) -> list[UnknownField]:
        """An error for every key not in ``known``, in sorted order: "unknown <noun> 'key'
        <context>", then a suggestion when a known name is close (a typo), else the known
        names."""
        names = sorted(known)
        found = []
        for key in sorted(str(k) for k in set(self.data) - set(names)):
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(names)})"
            message = f"unknown {noun} {key!r}{context}{hint}"
            found.append(UnknownField(self.doc.path, self.line(key), message, key))
        return found

    def check_known(self, known: Iterable[str], noun: str = "field", context: str = "") -> None:
        """Raise the first :meth:`unknown` error, if any."""
        for problem in self.unknown(known, noun, context):
            raise problem

    def missing(self, required: Iterable[str]) -> list[str]:
        """The required keys that are absent, in the given order."""
        return [key for key in required if key not in self.data]
