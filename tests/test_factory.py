"""The app factory and the settings: precedence, errors, the secret key, the README table."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from app import create_app
from app.config import SETTINGS, SettingError, load_settings

REPO = Path(__file__).resolve().parent.parent


def test_defaults_then_instance_then_environment_then_test_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_environment: None
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        'BASE_URL = "https://from-instance.example"\n'
        'MAIL_FROM = "Instance <i@example.com>"\n'
        'LOG_LEVEL = "WARNING"\n'
    )
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("PULLFIRST_MAIL_FROM", "Env <e@example.com>")
    monkeypatch.setenv("PULLFIRST_LOG_LEVEL", "error")
    app = create_app({"LOG_LEVEL": "DEBUG"})
    assert app.instance_path == str(instance)
    assert app.config["BASE_URL"] == "https://from-instance.example"  # instance over default
    assert app.config["MAIL_FROM"] == "Env <e@example.com>"  # environment over instance
    assert app.config["LOG_LEVEL"] == "DEBUG"  # test_config over environment
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"  # default
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'pullfirst.db'}"
    assert app.config["SESSION_COOKIE_SECURE"] is True  # https BASE_URL


def test_plain_database_url_is_accepted_and_postgres_urls_use_psycopg() -> None:
    values = load_settings({}, {"DATABASE_URL": "postgres://u@h/db"}, None)
    assert values["DATABASE_URL"] == "postgresql+psycopg://u@h/db"
    values = load_settings(
        {}, {"DATABASE_URL": "postgres://u@h/db", "PULLFIRST_DATABASE_URL": "sqlite:///x.db"}, None
    )
    assert values["DATABASE_URL"] == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("MAIL_URL", "http://mail.example", "smtp://"),
        ("MAIL_URL", "smtp://", "names no host"),
        ("MAIL_FROM", "nobody", "address"),
        ("BASE_URL", "ftp://x", "http"),
        ("RATELIMIT_STORAGE_URI", "mongodb://x", "redis"),
        ("RATELIMIT_AUTH_IP", "lots", "rate limit"),
        ("PROXY_COUNT", "many", "whole number"),
        ("SECRET_KEY", "short", "32 characters"),
        ("DATABASE_URL", "mysql://x", "sqlite"),
        ("LOG_LEVEL", "LOUD", "DEBUG"),
    ],
)
def test_an_ill_formed_setting_stops_start_up_with_one_line_naming_it(
    name: str, value: str, fragment: str
) -> None:
    with pytest.raises(SettingError) as caught:
        load_settings({}, {f"PULLFIRST_{name}": value}, None)
    message = str(caught.value)
    assert "\n" not in message
    assert f"PULLFIRST_{name}" in message and fragment in message


def test_ill_formed_setting_exits_the_process_with_that_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_environment: None
) -> None:
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PULLFIRST_MAIL_URL", "pop3://x")
    with pytest.raises(SystemExit) as caught:
        create_app()
    assert str(caught.value).startswith("pullfirst: setting MAIL_URL")


def test_a_broken_instance_config_names_its_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_environment: None
) -> None:
    (tmp_path / "config.py").write_text('BASE_URL = "https://ok.example"\nMAIL_URL = (\n')
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(SystemExit) as caught:
        create_app()
    assert f"{tmp_path / 'config.py'}:" in str(caught.value)


def test_secret_key_is_generated_once_with_mode_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_environment: None
) -> None:
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path))
    first = create_app().config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 64
    assert create_app().config["SECRET_KEY"] == first
    key_file.chmod(0o644)
    with pytest.raises(SettingError, match="chmod 600"):
        create_app()


def test_no_setting_has_a_built_in_secret() -> None:
    secret = next(s for s in SETTINGS if s.name == "SECRET_KEY")
    assert secret.default is None


def _readme_section(title: str) -> str:
    readme = (REPO / "README.md").read_text()
    start = readme.index(f"## {title}")
    end = readme.find("\n## ", start + 3)
    return readme[start : end if end != -1 else None]


def test_readme_configuration_table_matches_the_settings() -> None:
    rows = re.findall(r"^\| `([A-Z_]+)` \|", _readme_section("Configuration"), re.MULTILINE)
    assert rows == [s.name for s in SETTINGS]


def test_readme_cli_table_lists_every_command(app: object) -> None:
    from flask import Flask

    assert isinstance(app, Flask)
    section = _readme_section("Command line")
    listed = set(re.findall(r"^\| `flask --app app ([a-z-]+(?: [a-z-]+)?)", section, re.MULTILINE))
    commands: set[str] = set()
    for name, command in app.cli.commands.items():
        sub = getattr(command, "commands", None)
        if sub:
            commands.update(f"{name} {child}" for child in sub)
        else:
            commands.add(name)
    ours = {c for c in commands if c.split()[0] not in {"run", "shell", "routes"}}
    assert ours <= listed, f"missing from the README: {sorted(ours - listed)}"


def test_factory_does_not_touch_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_environment: None
) -> None:
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path))
    create_app()
    assert not (tmp_path / "pullfirst.db").exists()
    assert os.listdir(tmp_path) == ["secret_key"]
