"""Logging as the operator asked for it: ``LOG_LEVEL`` for the app's own loggers, and with
``LOG_FORMAT=json`` one JSON object per line (``time``, ``level``, ``logger``, ``message``, and
``exception`` when there is one) for every logger of the process, on standard error."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

APP_LOGGER = "pullfirst"


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON; newlines in the message or traceback stay escaped."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class _JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs, so a later call can find and replace it."""


def configure_logging(level: str, log_format: str) -> None:
    """Set the app's log level, and install (``json``) or remove (``text``) the JSON handler
    on the root logger. Calling it again with other values replaces what it did before."""
    logging.getLogger(APP_LOGGER).setLevel(level)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _JsonHandler)]:
        root.removeHandler(handler)
    if log_format == "json":
        handler = _JsonHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
