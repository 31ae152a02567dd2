"""Bad input to the importer: each gets a clear error or a bad row with its line, and a failed
import writes nothing (on SQLite and on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from app.accounts.models import Member
from app.consent.models import ConsentEvent
from app.extensions import db
from app.rewards.models import Entitlement
from app.transfer import importing
from app.transfer.models import ImportInvitation, ImportRun
from tests.transfer.test_import_cli import FIXTURES, run_import


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: int(
                db.session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (Member, Entitlement, ConsentEvent, ImportInvitation, ImportRun)
        }


NOTHING = {
    "members": 0,
    "entitlements": 0,
    "consent_events": 0,
    "import_invitations": 0,
    "import_runs": 0,
}


def test_a_byte_order_mark_is_dropped(app: Flask, runner: FlaskCliRunner) -> None:
    result = run_import(runner, "bom.csv", "--apply")
    assert result.exit_code == 0, result.output
    assert "columns: email=email, name=name" in result.output
    with app.app_context():
        assert db.session.scalars(select(Member.email)).all() == ["bom@example.com"]


def test_a_windows_1252_file_is_read_as_such(app: Flask, runner: FlaskCliRunner) -> None:
    result = run_import(runner, "cp1252.csv", "--apply")
    assert result.exit_code == 0, result.output
    assert "Windows-1252" in result.output
    with app.app_context():
        names = set(db.session.scalars(select(Member.display_name)))
    assert names == {"François René", "Zoë"}


def test_a_line_in_another_encoding_in_a_utf8_file_is_a_bad_row(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = run_import(runner, "mixed-encodings.csv")
    assert result.exit_code == 1
    assert "mixed-encodings.csv:3: mixed encodings: this line is not UTF-8" in result.output
    assert "bad rows: 1" in result.output
    applied = run_import(runner, "mixed-encodings.csv", "--apply", "--skip-bad-rows")
    assert applied.exit_code == 0, applied.output
    with app.app_context():
        names = set(db.session.scalars(select(Member.display_name)))
    assert names == {"Chloé Utf", "Last"}  # never a guessed "M�lanie"


def test_duplicate_addresses_in_any_case_name_the_first_line(runner: FlaskCliRunner) -> None:
    result = run_import(runner, "duplicates.csv")
    assert "duplicates.csv:3: the same address as line 2" in result.output
    assert "duplicates.csv:5: the same address as line 2" in result.output
    assert "new members: 2" in result.output


def test_a_formula_in_a_cell_is_an_invalid_address_or_a_name_stored_as_text(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = run_import(runner, "injection.csv", "--apply", "--skip-bad-rows")
    assert result.exit_code == 0, result.output
    assert "injection.csv:2: not an email address" in result.output
    assert "injection.csv:3: warning: the name starts with '='" in result.output
    with app.app_context():
        name = db.session.scalar(
            select(Member.display_name).where(Member.email == "formula@example.com")
        )
    assert name == '=HYPERLINK("http://evil.example","Click me")'


def test_an_evidence_date_in_the_future_is_a_bad_row(runner: FlaskCliRunner) -> None:
    result = run_import(runner, "future-date.csv")
    assert "future-date.csv:3: the evidence date 2999-01-01 00:00 UTC is in the future" in (
        result.output
    )
    assert "new members: 1 (1 with evidence of consent" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "holds binary data (NUL bytes): it is not a CSV"),
        (b"name,city\nAda,London\n", "has no email column: name it with --map email=COLUMN"),
        ("email,name\na@example.com,A\n".encode("utf-16"), "is UTF-16 or UTF-32 text"),
        (b"", "is empty"),
        (b'email,name\n"a@example.com,"unclosed\n', None),
    ],
)
def test_a_file_that_is_not_a_member_csv_is_refused_with_its_name(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, content: bytes, message: str | None
) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    result = run_import(runner, str(path), "--apply")
    if message is None:  # the CSV reader copes: a bad row, not a crash
        assert result.exit_code == 1 and "Traceback" not in result.output
    else:
        assert result.exit_code == 1
        assert f"{path}: {message}" in result.output
    assert counts(app) == NOTHING


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--scope", "no-such-scope"], "--scope 'no-such-scope': no such scope"),
        (["--channel", "fax"], "--channel 'fax': no such channel"),
        (["--channel", "webhook"], "The weekly letter is not offered by it"),
        (["--channel", "telegram"], "an import proves only email addresses"),
        (["--rate", "fast"], "--rate 'fast': give a number per minute, hour or day"),
        (["--rate", "0/hour"], "--rate '0/hour'"),
    ],
)
def test_wrong_options_are_refused_before_any_row_is_read(
    app: Flask, runner: FlaskCliRunner, options: list[str], message: str
) -> None:
    result = runner.invoke(
        args=[
            "members",
            "import",
            str(FIXTURES / "generic.csv"),
            "--scope",
            "newsletter",
            *options,
            "--apply",
        ]
    )
    assert result.exit_code == 1
    assert message in result.output
    assert counts(app) == NOTHING


def test_apply_refuses_a_file_with_bad_rows_and_writes_nothing(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = run_import(runner, "ghost-members.csv", "--apply")
    assert result.exit_code == 1
    assert "ghost-members.csv:7: not an email address" in result.output  # the rows are shown
    assert "2 bad rows: fix them, or import the other rows and skip those (--skip-bad-rows)" in (
        result.output
    )
    assert counts(app) == NOTHING


def test_a_failure_in_the_middle_of_an_import_writes_nothing(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two batches: the second fails after the first was written (flushed); all of it goes."""
    monkeypatch.setattr(importing, "WRITE_BATCH", 2)
    path = tmp_path / "people.csv"
    rows = "".join(
        f"p{n}@example.com,Person {n},Yes.,2024-01-01T00:00:00Z,form\n" for n in range(5)
    )
    path.write_text(
        "email,name,evidence_wording,evidence_at,evidence_where\n" + rows, encoding="utf-8"
    )
    calls = {"n": 0}
    real = importing.import_consents

    def failing(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importing, "import_consents", failing)
    result = run_import(runner, str(path), "--apply")
    assert result.exit_code != 0
    assert calls["n"] == 2
    assert counts(app) == NOTHING


@pytest.mark.slow
def test_a_file_of_200_000_rows_is_checked_in_full_and_its_bad_rows_named(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """The size of a real newsletter's export: the dry run streams every row, names the bad ones
    wherever they are, and writes nothing."""
    header = "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,"
    header += "created_at,deleted_at,labels,tiers\n"
    path = tmp_path / "ghost-200k.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(header)
        for n in range(200_000):
            email = f"reader{n}@example.com"
            if n == 150_000:
                email = "not an address"
            if n == 199_998:
                email = "READER7@EXAMPLE.COM"  # line 9's address again, in other case
            out.write(f"{n:024x},{email},Reader {n},,true,false,,2024-01-15T10:00:00.000Z,,,Free\n")
    result = run_import(runner, str(path))
    assert result.exit_code == 1, result.output
    assert "ghost-200k.csv:150002: " in result.output
    assert "ghost-200k.csv:200000: the same address as line 9" in result.output
    assert "new members: 199,998" in result.output or "new members: 199998" in result.output
    assert "bad rows: 2" in result.output
    assert counts(app) == NOTHING
