"""``flask users …``."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner

from app.accounts import members
from tests.helpers import sign_in


def test_users_create_reads_the_password_from_stdin(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "Boss@Example.com", "--role", "admin", "--password-stdin"],
        input="a long admin passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "created Boss@example.com" in result.output
    with app.app_context():
        boss = members.find_by_email("boss@example.com")
        assert boss is not None and boss.role == "admin" and boss.is_verified
    sign_in(app.test_client(), "boss@example.com", "a long admin passphrase")


def test_users_create_prompts_and_confirms(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "ed@example.com", "--role", "editor"],
        input="editor passphrase\neditor passphrase\n",
    )
    assert result.exit_code == 0, result.output


def test_users_create_refuses_bad_input_with_a_message(app: Flask, runner: FlaskCliRunner) -> None:
    short = runner.invoke(
        args=["users", "create", "x@example.com", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 1 and "Use at least 12 characters." in short.output
    runner.invoke(
        args=["users", "create", "x@example.com", "--password-stdin"],
        input="long enough password\n",
    )
    again = runner.invoke(
        args=["users", "create", "X@EXAMPLE.COM", "--password-stdin"],
        input="long enough password\n",
    )
    assert again.exit_code == 1 and "already exists" in again.output
    role = runner.invoke(args=["users", "create", "y@example.com", "--role", "king"])
    assert role.exit_code == 2


def test_set_role_and_list(app: Flask, runner: FlaskCliRunner) -> None:
    runner.invoke(
        args=["users", "create", "m@example.com", "--password-stdin"],
        input="long enough password\n",
    )
    assert runner.invoke(args=["users", "set-role", "M@example.com", "marketer"]).exit_code == 0
    listing = runner.invoke(args=["users", "list", "--role", "marketer"])
    assert "m@example.com\tmarketer\tverified" in listing.output
    missing = runner.invoke(args=["users", "set-role", "who@example.com", "editor"])
    assert missing.exit_code == 1 and "no member" in missing.output
