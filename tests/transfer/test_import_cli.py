"""``flask members import``: each export format read into the same rows, the dry run's report,
and the import itself (members, scope, consent with evidence, invitations)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from app.accounts.models import Member
from app.consent.ledger.consents import history
from app.consent.models import ConsentEvent
from app.consent.scopes import find_scope
from app.extensions import db
from app.rewards.models import Entitlement
from app.transfer.formats import parse_time
from app.transfer.models import ImportInvitation, ImportRun

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


def run_import(runner: FlaskCliRunner, name: str, *options: str) -> Result:
    path = name if name.startswith("/") else str(FIXTURES / name)
    return runner.invoke(args=["members", "import", path, "--scope", "newsletter", *options])


def current_wording(app: Flask) -> str:
    with app.app_context():
        scope = find_scope("newsletter")
        assert scope is not None
        return scope.wording_for("email")


@pytest.fixture
def wording_file(tmp_path: Path, app: Flask) -> Path:
    path = tmp_path / "wording.txt"
    path.write_text(current_wording(app) + "\n", encoding="utf-8")
    return path


def member_emails(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Member.email)))


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


# --- times -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-15T10:00:00.000Z", datetime(2024, 1, 15, 10, tzinfo=UTC)),  # Ghost
        ("2022-03-16 14:40:47", datetime(2022, 3, 16, 14, 40, 47, tzinfo=UTC)),  # Mailchimp
        (
            "2023-05-10 09:12:33.123456789 +0000 +0000",  # listmonk (Go's time.Time)
            datetime(2023, 5, 10, 9, 12, 33, 123456, tzinfo=UTC),
        ),
        ("2023-06-11 17:40:00 +0200 CEST", datetime(2023, 6, 11, 15, 40, tzinfo=UTC)),
        ("2022-09-01T10:00:00+02:00", datetime(2022, 9, 1, 8, tzinfo=UTC)),
        ("2022-09-01", datetime(2022, 9, 1, tzinfo=UTC)),
    ],
)
def test_times_of_each_export_are_read_as_utc(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected


# --- formats -----------------------------------------------------------------------------------


def test_a_ghost_export_is_detected_and_mapped(
    app: Flask, runner: FlaskCliRunner, member: object, wording_file: Path
) -> None:
    result = run_import(
        runner,
        "ghost-members.csv",
        "--evidence-wording-file",
        str(wording_file),
        "--evidence-where",
        "the sign-up form at https://old.example.com/#/portal/signup",
    )
    out = result.output
    assert "Ghost member export, UTF-8, 7 rows" in out
    assert "columns: email=email, name=name, joined=created_at" in out
    assert (
        "new members: 2 (2 with evidence of consent, 2 of them to the scope's current words)" in out
    )
    assert "already members: 1 (skipped)" in out  # Reader@Example.com is the member fixture
    assert "left the old list: 2 (not imported)" in out  # unsubscribed, deleted
    assert "ghost-members.csv:6: the same address as line 2" in out
    assert "ghost-members.csv:7: not an email address" in out
    assert result.exit_code == 1  # a dry run with bad rows says so to scripts
    assert member_emails(app) == {"reader@example.com"}  # a dry run writes nothing


def test_a_listmonk_export_is_detected_and_blocklisted_people_left_out(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = run_import(runner, "listmonk-subscribers.csv", "--apply")
    assert result.exit_code == 0, result.output
    assert "listmonk subscriber export, UTF-8, 3 rows" in result.output
    assert "left the old list: 1" in result.output
    assert member_emails(app) == {"mina@example.com", "jonathan@example.com"}
    with app.app_context():
        joined = db.session.scalars(
            select(ImportInvitation.joined_at).order_by(ImportInvitation.line)
        ).all()
    assert joined == [
        datetime(2023, 5, 10, 9, 12, 33, 123456, tzinfo=UTC),
        datetime(2023, 6, 11, 15, 40, 0, 1, tzinfo=UTC),
    ]


def test_a_mailchimp_export_takes_the_confirmation_time_and_ip_as_evidence(
    app: Flask, runner: FlaskCliRunner, wording_file: Path
) -> None:
    result = run_import(
        runner, "mailchimp-audience.csv", "--evidence-wording-file", str(wording_file), "--apply"
    )
    assert result.exit_code == 0, result.output
    assert "Mailchimp audience export" in result.output
    # Edward has a confirmation time but no IP: no place, so no evidence; he is asked again.
    assert "new members: 3 (2 with evidence of consent" in result.output
    with app.app_context():
        names = dict(db.session.execute(select(Member.email, Member.display_name)).all())
        events = db.session.execute(
            select(ConsentEvent.at, ConsentEvent.page).order_by(ConsentEvent.at)
        ).all()
    assert names["elinor@example.com"] == "Elinor Dashwood"
    assert [tuple(e) for e in events] == [
        (
            datetime(2021, 11, 2, 9, 1, tzinfo=UTC),
            "Mailchimp sign-up form, from IP 198.51.100.23",
        ),
        (
            datetime(2022, 3, 16, 14, 42, 10, tzinfo=UTC),
            "Mailchimp sign-up form, from IP 203.0.113.7",
        ),
    ]


def test_a_plain_csv_is_read_through_the_operators_mapping(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = run_import(
        runner,
        "generic.csv",
        "--map",
        "email=E-mail",
        "--map",
        "name=Full name",
        "--map",
        "joined=Signed up",
        "--map",
        "evidence_wording=Consent text",
        "--map",
        "evidence_at=Consented at",
        "--map",
        "evidence_where=Consent page",
        "--apply",
    )
    assert result.exit_code == 0, result.output
    assert "CSV file with mapped columns" in result.output
    assert (
        "new members: 2 (1 with evidence of consent, 0 of them to the scope's current words)"
        in (result.output)
    )
    with app.app_context():
        lucy = db.session.scalar(select(Member).where(Member.email == "lucy@example.com"))
        assert lucy is not None
        event = history(lucy.id)[0]
        assert event.wording == (
            "Yes, send me the weekly letter. I can stop it with one click at any time."
        )
        assert event.at == datetime(2022, 9, 1, 8, tzinfo=UTC)
        assert event.page == "https://old.example.com/letter"
        assert event.source.startswith("import:run-")


def test_an_unknown_map_field_or_column_is_refused_before_any_row(runner: FlaskCliRunner) -> None:
    result = run_import(runner, "generic.csv", "--map", "phone=Phone")
    assert result.exit_code == 1
    assert "unknown field 'phone'" in result.output
    result = run_import(runner, "generic.csv", "--map", "name=Nickname")
    assert "the header has no column 'Nickname'" in result.output


# --- the import --------------------------------------------------------------------------------


def test_apply_imports_unverified_members_with_the_scope_consent_and_one_invitation_each(
    app: Flask, runner: FlaskCliRunner, wording_file: Path
) -> None:
    result = run_import(
        runner,
        "ghost-members.csv",
        "--evidence-wording-file",
        str(wording_file),
        "--evidence-where",
        "the Ghost sign-up form",
        "--rate",
        "200/hour",
        "--old-list",
        "the Old Letter",
        "--apply",
        "--skip-bad-rows",
    )
    assert result.exit_code == 0, result.output
    assert "Imported 3 members (run 1)" in result.output
    with app.app_context():
        imported = db.session.scalars(select(Member).order_by(Member.id)).all()
        assert [m.email for m in imported] == [
            "ada@example.com",
            "grace@example.org",
            "Reader@example.com",
        ]
        assert all(m.email_verified_at is None and m.password_hash is None for m in imported)
        rewards = db.session.execute(select(Entitlement.reward, Entitlement.earned_by)).all()
        assert {tuple(r) for r in rewards} == {("scope:newsletter", "import")}
        events = db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
        assert len(events) == 3
        assert {e.wording for e in events} == {current_wording(app)}
        assert {e.page for e in events} == {"the Ghost sign-up form"}
        assert events[0].at == datetime(2024, 1, 15, 10, tzinfo=UTC)
        run = db.session.get_one(ImportRun, 1)
        assert (run.format, run.rate_count, run.rate_seconds) == ("ghost", 200, 3600)
        assert (run.imported, run.with_evidence, run.bad, run.left_out) == (3, 3, 2, 2)
        assert run.by.startswith("command line")
        kinds = db.session.scalars(select(ImportInvitation.kind)).all()
        assert kinds == ["keep", "keep", "keep"]


def test_a_rerun_of_the_same_file_imports_nobody_twice(app: Flask, runner: FlaskCliRunner) -> None:
    first = run_import(runner, "listmonk-subscribers.csv", "--apply")
    assert first.exit_code == 0, first.output
    again = run_import(runner, "listmonk-subscribers.csv", "--apply")
    assert again.exit_code == 0, again.output
    assert "already members: 2 (skipped)" in again.output
    assert "Imported 0 members" in again.output
    assert count(app, Member) == 2
    assert count(app, ImportInvitation) == 2


def test_a_report_file_lists_every_bad_row(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "problems.csv"
    result = run_import(runner, "injection.csv", "--report", str(out))
    assert result.exit_code == 1
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line,email,problem,reason"
    assert lines[1].startswith("2,\"'=HYPERLINK(")  # formula-safe in the report too
    assert any(line.startswith("3,formula@example.com,warning,") for line in lines)


def test_an_imported_grant_is_told_in_words_on_the_members_history() -> None:
    from app.consent.words import source_words

    assert source_words("import:run-3") == "an import from the list you were on before"
    assert source_words("form:subscribe") != source_words("import:run-3")
