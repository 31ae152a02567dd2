"""What an operator sees when the database cannot serve a command: one line naming the setting
or the command to run, a non-zero exit, and never a traceback. Run as real ``flask`` processes,
since the line is what the terminal shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.config import SettingError, secret_key_for
from tests.conftest import REPO, TEST_DATABASE_URL, is_postgres
from tests.helpers import free_port

UPGRADE = "run flask --app app db upgrade"

# Every test starts real ``flask`` processes (a second or more each).
pytestmark = pytest.mark.slow


def _flask(
    instance: Path, *args: str, code: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PULLFIRST_") and k != "DATABASE_URL"
    }
    clean.update(PULLFIRST_INSTANCE_PATH=str(instance), **env)
    command = (
        [sys.executable, "-c", code, *args]
        if code
        else [sys.executable, "-m", "flask", "--app", "app", *args]
    )
    return subprocess.run(
        command, cwd=REPO, env=clean, capture_output=True, text=True, timeout=120, check=False
    )


def _one_line(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line, line
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_commands_before_the_first_upgrade_say_to_run_it(tmp_path: Path) -> None:
    for command in (["users", "list"], ["notify", "status"], ["rewards", "check"]):
        result = _flask(tmp_path, *command)
        assert _one_line(result) == f"pullfirst: the database has no schema yet: {UPGRADE}"
    assert _flask(tmp_path, "db", "upgrade").returncode == 0
    # The shipped content names the demo batch that only flask serve issues: a warning.
    checked = _flask(tmp_path, "rewards", "check")
    assert checked.returncode == 0, checked.stderr
    assert (
        "warning: pack:spring-birds: 'code:spring-store' names no code batch issued yet"
        in checked.stderr
    )
    assert "no errors, 1 warning" in checked.stdout


DRIVER_MISSING = (
    "import sys; sys.modules['psycopg'] = None; from flask.cli import main; "
    "sys.argv = ['flask', '--app', 'app', *sys.argv[1:]]; main()"
)


@pytest.mark.parametrize("case", ["unreachable", "serve", "driver", "sqlite", "instance"])
def test_an_unusable_database_setting_is_one_line_naming_it(tmp_path: Path, case: str) -> None:
    (tmp_path / "a-file").write_text("")
    port = free_port()  # nothing listens there
    postgres = f"postgresql://pullfirst:s3cret-pw@127.0.0.1:{port}/pullfirst"
    instance = tmp_path / "instance"
    if case == "unreachable":
        line = _one_line(
            _flask(instance, "users", "list", PULLFIRST_DATABASE_URL=postgres),
            "pullfirst: setting DATABASE_URL (env PULLFIRST_DATABASE_URL): "
            f"cannot connect to postgresql+psycopg://pullfirst:***@127.0.0.1:{port}"
            "/pullfirst: ",
            "Connection refused",
        )
        assert "s3cret-pw" not in line
    elif case == "serve":
        _one_line(
            _flask(instance, "serve", DATABASE_URL=postgres),
            "setting DATABASE_URL",
            "cannot connect to",
            "Connection refused",
        )
    elif case == "driver":
        _one_line(
            _flask(instance, "users", "list", code=DRIVER_MISSING, PULLFIRST_DATABASE_URL=postgres),
            "setting DATABASE_URL",
            "needs a driver that is not installed",
            "pip install -e '.[postgres]'",
        )
    elif case == "sqlite":
        path = tmp_path / "a-file" / "pullfirst.db"
        _one_line(
            _flask(instance, "db", "upgrade", PULLFIRST_DATABASE_URL=f"sqlite:///{path}"),
            f"setting DATABASE_URL (env PULLFIRST_DATABASE_URL): cannot open the SQLite "
            f"file {path}: unable to open database file (the folder {path.parent} must "
            "exist and be writable)",
        )
    else:
        _one_line(
            _flask(tmp_path / "a-file" / "instance", "db", "upgrade"),
            "pullfirst: setting INSTANCE_PATH (env PULLFIRST_INSTANCE_PATH): cannot create "
            f"the instance folder {tmp_path / 'a-file' / 'instance'}: Not a directory",
        )


@pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL (PULLFIRST_TEST_DATABASE_URL)")
def test_a_refused_sign_in_to_postgresql_is_one_line(tmp_path: Path) -> None:
    url = make_url(TEST_DATABASE_URL).set(username="pullfirst_no_such_role", password="pw")
    line = _one_line(
        _flask(
            tmp_path,
            "users",
            "list",
            PULLFIRST_DATABASE_URL=url.render_as_string(hide_password=False),
        ),
        "setting DATABASE_URL",
        "cannot connect to",
        "pullfirst_no_such_role:***@",
    )
    assert "role" in line or "authentication failed" in line


def test_an_instance_folder_where_the_key_cannot_be_written_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("app.config.os.open", refuse)
    with pytest.raises(SettingError) as caught:
        secret_key_for(str(tmp_path))
    assert str(caught.value) == (
        f"pullfirst: setting SECRET_KEY (env PULLFIRST_SECRET_KEY): cannot write "
        f"{tmp_path / 'secret_key'} (Permission denied): make the instance folder writable, "
        "or set SECRET_KEY"
    )


def test_a_misspelt_setting_is_named_at_start_up(tmp_path: Path) -> None:
    result = _flask(tmp_path, "db", "current", PULLFIRST_SECRT_KEY="x" * 40)
    assert result.returncode == 0
    assert result.stderr.strip() == (
        "pullfirst: unknown setting PULLFIRST_SECRT_KEY (did you mean PULLFIRST_SECRET_KEY?)"
    )
