"""``LOG_FORMAT=json`` writes one JSON object per line; a misspelt ``PULLFIRST_*`` variable is
named at start-up with the setting it most resembles."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.config import unknown_settings
from app.ops.logs import configure_logging


@pytest.fixture
def text_logs_after() -> Iterator[None]:
    yield
    configure_logging("INFO", "text")


def test_json_logs_are_one_object_per_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clean_environment: None,
    capsys: pytest.CaptureFixture[str],
    text_logs_after: None,
) -> None:
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PULLFIRST_LOG_FORMAT", "json")
    create_app({"SECRET_KEY": "k" * 40})
    log = logging.getLogger("pullfirst.test")
    log.info("first line\nsecond line")
    try:
        raise ValueError("broken")
    except ValueError:
        log.exception("it failed")
    logging.getLogger("pullfirst.test").debug("below the level")
    lines = capsys.readouterr().err.splitlines()
    entries: list[dict[str, Any]] = [json.loads(line) for line in lines]
    assert [(e["level"], e["logger"], e["message"]) for e in entries] == [
        ("INFO", "pullfirst.test", "first line\nsecond line"),
        ("ERROR", "pullfirst.test", "it failed"),
    ]
    assert entries[0]["time"].endswith("+00:00")
    assert "ValueError: broken" in entries[1]["exception"]


def test_text_format_removes_the_json_handler(text_logs_after: None) -> None:
    configure_logging("INFO", "json")
    configure_logging("INFO", "json")
    assert sum(type(h).__name__ == "_JsonHandler" for h in logging.getLogger().handlers) == 1
    configure_logging("WARNING", "text")
    assert not any(type(h).__name__ == "_JsonHandler" for h in logging.getLogger().handlers)
    assert logging.getLogger("pullfirst").level == logging.WARNING


def test_unknown_settings_are_named_with_the_closest_known_one() -> None:
    environ = {
        "PULLFIRST_SECRT_KEY": "x",
        "PULLFIRST_DATABSE_URL": "x",
        "PULLFIRST_SOMETHING": "x",
        "PULLFIRST_MAIL_URL": "x",
        "HOME": "/root",
        "PULLFIRST_TEST_DATABASE_URL": "x",
        "PULLFIRST_INSTANCE_PATH": "x",
        "PULLFIRST_WORKERS": "4",
        "DATABASE_URL": "x",
    }
    assert unknown_settings(environ) == [
        "pullfirst: unknown setting PULLFIRST_DATABSE_URL (did you mean PULLFIRST_DATABASE_URL?)",
        "pullfirst: unknown setting PULLFIRST_SECRT_KEY (did you mean PULLFIRST_SECRET_KEY?)",
        "pullfirst: unknown setting PULLFIRST_SOMETHING",
    ]


def test_start_up_warns_of_an_unknown_setting(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clean_environment: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PULLFIRST_SECRT_KEY", "typed-in-a-hurry")
    monkeypatch.setenv("PULLFIRST_TEST_DATABASE_URL", "postgresql://known/to-the-tests")
    with caplog.at_level(logging.WARNING, logger="pullfirst.config"):
        create_app()
    assert [r.getMessage() for r in caplog.records if r.name == "pullfirst.config"] == [
        "pullfirst: unknown setting PULLFIRST_SECRT_KEY (did you mean PULLFIRST_SECRET_KEY?)"
    ]
