"""The member export and ``flask members export``: what each part holds, a deleted member's
events kept pseudonymous, formula-safe CSV cells beside exact JSON, words with line breaks,
quotes and any script surviving the round trip, a few thousand rows, and clear CLI errors."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import insert, select

from app.accounts import members
from app.accounts.models import Member
from app.accounts.privacy import delete_member
from app.consent.ledger.consents import Origin, grant_consent, revoke_consent
from app.consent.models import ConsentEvent, ConsentSubject
from app.consent.scopes import find_scope
from app.extensions import db
from app.rewards.entitlements import grant
from app.rewards.models import Entitlement
from app.tabular import FORMULA_STARTS
from app.transfer.export import PARTS
from tests.conftest import Clock

FORMULA = '=HYPERLINK("http://x","y")'
#: Words of a stop: a formula first, then a line break, quotes, accents, an emoji.
STOP_WORDS = FORMULA + '\nStop "the weekly letter" — ça suffit, 止める ✓ 🐦\r\nend'


@dataclass(frozen=True)
class World:
    alice: int
    carol: int
    bob_subject: int
    alice_grant: str
    alice_stop: str
    carol_grant: str
    bob_receipts: tuple[str, ...]


def build_world(app: Flask, clock: Clock) -> World:
    """Alice (named like a formula) said yes by email, then stopped with :data:`STOP_WORDS`;
    Bob said yes in the inbox and deleted his account; Carol says yes by email."""
    origin = Origin("preferences", page="/me/permissions")
    with app.app_context():
        scope = find_scope("newsletter")
        assert scope is not None
        people = {}
        for name, display in (("alice", FORMULA), ("bob", "Bob"), ("carol", "")):
            member = members.create_member(
                f"{name}@example.com", None, now=clock(), display_name=display, verified=True
            )
            grant(member.id, "scope:newsletter", "account", clock())
            people[name] = member
        alice, bob, carol = people["alice"], people["bob"], people["carol"]
        clock.advance(minutes=5)
        alice_grant = grant_consent(
            alice.id, scope, "email", scope.wording_for("email"), origin, clock()
        )
        bob_grant = grant_consent(
            bob.id, scope, "inbox", scope.wording_for("inbox"), origin, clock()
        )
        carol_grant = grant_consent(
            carol.id, scope, "email", scope.wording_for("email"), origin, clock()
        )
        clock.advance(hours=1)
        alice_stop = revoke_consent(
            alice.id, "newsletter", "email", origin, clock(), wording=STOP_WORDS
        )
        assert alice_grant and bob_grant and carol_grant and alice_stop
        bob_subject = bob_grant.subject_id
        delete_member(bob, clock())
        db.session.commit()
        bob_receipts = tuple(
            db.session.scalars(
                select(ConsentEvent.receipt)
                .where(ConsentEvent.subject_id == bob_subject)
                .order_by(ConsentEvent.id)
            )
        )
        return World(
            alice.id,
            carol.id,
            bob_subject,
            alice_grant.receipt,
            alice_stop.receipt,
            carol_grant.receipt,
            bob_receipts,
        )


def export_json(runner: FlaskCliRunner) -> dict[str, Any]:
    result = runner.invoke(args=["members", "export", "--format", "json", "--out", "-"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def read_zip(path: Path) -> dict[str, list[dict[str, str]]]:
    """Each CSV file of the zip, as rows keyed by the header."""
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        found = {}
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8")
            found[name] = list(csv.DictReader(io.StringIO(text, newline="")))
        return found


def by(rows: list[dict[str, Any]], key: str, value: object) -> list[dict[str, Any]]:
    """The rows whose ``key`` is ``value`` (in a CSV row, once its apostrophe is taken off)."""
    return [row for row in rows if row[key] in (value, f"'{value}")]


def unescaped(cell: str) -> str:
    """A formula-safe CSV cell as the value it stands for."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


# --- what each part holds -----------------------------------------------------------------------


def test_json_holds_members_earned_scopes_states_and_the_whole_ledger(
    app: Flask, runner: FlaskCliRunner, clock: Clock
) -> None:
    world = build_world(app, clock)
    data = export_json(runner)
    assert list(data) == [
        "exported_at",
        "site",
        "members",
        "entitlements",
        "consent_states",
        "ledger",
    ]
    assert datetime.fromisoformat(data["exported_at"]) == clock()
    assert data["site"] == {"title": data["site"]["title"], "base_url": "http://localhost"}

    # Members: the two who are left, with what the account says.
    assert [m["email"] for m in data["members"]] == ["alice@example.com", "carol@example.com"]
    alice = data["members"][0]
    assert alice["id"] == world.alice and alice["role"] == "member"
    assert alice["has_password"] is False and alice["deleted_at"] is None
    assert datetime.fromisoformat(alice["email_verified_at"]).tzinfo is not None
    assert alice["time_zone"] == "UTC"

    # Earned: the scope each member holds, by which action.
    earned = {(e["member_id"], e["reward"]): e for e in data["entitlements"]}
    assert (world.alice, "scope:newsletter") in earned
    assert (world.carol, "scope:newsletter") in earned
    assert all(e["member_id"] in (world.alice, world.carol) for e in data["entitlements"])

    # Consent state: Alice's stop stands (with its receipt), Carol's yes stands.
    states = {(s["member_id"], s["channel"]): s for s in data["consent_states"]}
    assert set(states) == {(world.alice, "email"), (world.carol, "email")}
    assert states[(world.alice, "email")]["granted"] is False
    assert states[(world.alice, "email")]["receipt"] == world.alice_stop
    assert states[(world.carol, "email")]["granted"] is True
    assert states[(world.carol, "email")]["receipt"] == world.carol_grant
    assert len(states[(world.carol, "email")]["wording_sha256"]) == 64

    # The ledger, oldest first: every grant and revoke, with the words shown.
    receipts = [e["receipt"] for e in data["ledger"]]
    assert set(receipts) == {
        world.alice_grant,
        world.alice_stop,
        world.carol_grant,
        *world.bob_receipts,
    }
    stop = by(data["ledger"], "receipt", world.alice_stop)[0]
    assert (stop["member_id"], stop["action"], stop["source"]) == (
        world.alice,
        "revoke",
        "preferences",
    )
    assert stop["page"] == "/me/permissions" and stop["scope"] == "newsletter"
    assert stop["wording"] == STOP_WORDS
    assert "client_hash" not in stop


def test_a_deleted_members_events_stay_under_the_pseudonymous_subject(
    app: Flask, runner: FlaskCliRunner, clock: Clock
) -> None:
    world = build_world(app, clock)
    data = export_json(runner)
    bobs = by(data["ledger"], "subject", world.bob_subject)
    # Bob's yes, and the revoke his deletion recorded.
    assert [(e["action"], e["source"]) for e in bobs] == [
        ("grant", "preferences"),
        ("revoke", "deletion"),
    ]
    assert all(e["member_id"] is None for e in bobs)
    text = json.dumps(data)
    assert "bob@example.com" not in text and '"Bob"' not in text
    with app.app_context():
        subject = db.session.get(ConsentSubject, world.bob_subject)
        assert subject is not None and subject.member_id is None


# --- formats: formula-safe CSV, exact JSON, round trip ------------------------------------------


def test_csv_cells_that_would_run_a_formula_start_with_an_apostrophe_and_json_is_exact(
    app: Flask, runner: FlaskCliRunner, clock: Clock, tmp_path: Path
) -> None:
    world = build_world(app, clock)
    out = tmp_path / "export.zip"
    result = runner.invoke(args=["members", "export", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = read_zip(out)
    assert list(files) == [p.file for p in PARTS]
    alice = by(files["members.csv"], "id", str(world.alice))[0]
    assert alice["display_name"] == "'" + FORMULA
    stop = by(files["ledger.csv"], "receipt", world.alice_stop)[0]
    assert stop["wording"] == "'" + STOP_WORDS
    assert stop["member_id"] == str(world.alice)
    assert by(files["consent.csv"], "receipt", world.alice_stop)[0]["granted"] == "false"
    # No cell of any file starts a formula.
    for rows in files.values():
        for row in rows:
            for cell in row.values():
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n")), cell
    # The same values, unchanged, in JSON.
    data = export_json(runner)
    assert by(data["members"], "id", world.alice)[0]["display_name"] == FORMULA
    assert by(data["ledger"], "receipt", world.alice_stop)[0]["wording"] == STOP_WORDS


def test_every_text_column_is_formula_safe_even_a_receipt_that_starts_with_a_dash(
    app: Flask, runner: FlaskCliRunner, clock: Clock, tmp_path: Path
) -> None:
    world = build_world(app, clock)
    with app.app_context():
        subject = db.session.scalar(
            select(ConsentSubject.id).where(ConsentSubject.member_id == world.carol)
        )
        assert subject is not None
        db.session.add(
            ConsentEvent(
                receipt="-r3ceipt_from-urlsafe",
                subject_id=subject,
                scope="newsletter",
                channel="sms",
                action="revoke",
                at=clock(),
                source="sms",
                page="=cmd|' /C calc'!A0",
                wording="+stop",
                wording_version=1,
                wording_hash="0" * 64,
                typed="@STOP",
            )
        )
        db.session.commit()
    out = tmp_path / "export.zip"
    assert runner.invoke(args=["members", "export", "--out", str(out)]).exit_code == 0
    row = by(read_zip(out)["ledger.csv"], "receipt", "-r3ceipt_from-urlsafe")[0]
    assert (row["receipt"], row["page"], row["wording"], row["typed"]) == (
        "'-r3ceipt_from-urlsafe",
        "'=cmd|' /C calc'!A0",
        "'+stop",
        "'@STOP",
    )
    event = by(export_json(runner)["ledger"], "receipt", "-r3ceipt_from-urlsafe")[0]
    assert (event["page"], event["wording"], event["typed"]) == (
        "=cmd|' /C calc'!A0",
        "+stop",
        "@STOP",
    )


def test_words_with_line_breaks_quotes_and_any_script_come_back_byte_for_byte(
    app: Flask, runner: FlaskCliRunner, clock: Clock, tmp_path: Path
) -> None:
    world = build_world(app, clock)
    with app.app_context():
        scope = find_scope("newsletter")
        assert scope is not None
        stored = {
            e.receipt: e.wording
            for e in db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))
        }
    out = tmp_path / "export.zip"
    assert runner.invoke(args=["members", "export", "--out", str(out)]).exit_code == 0
    from_csv = {
        unescaped(row["receipt"]): unescaped(row["wording"]) for row in read_zip(out)["ledger.csv"]
    }
    assert from_csv == stored
    from_json = {e["receipt"]: e["wording"] for e in export_json(runner)["ledger"]}
    assert from_json == stored
    # Nothing stored is unlike the scope's words but the stop and Bob's deletion revoke.
    assert stored[world.alice_grant] == scope.wording_for("email")


def test_the_zip_is_a_valid_archive_with_crlf_rows_and_no_byte_order_mark(
    app: Flask, runner: FlaskCliRunner, clock: Clock, tmp_path: Path
) -> None:
    build_world(app, clock)
    out = tmp_path / "export.zip"
    assert runner.invoke(args=["members", "export", "--out", str(out)]).exit_code == 0
    with zipfile.ZipFile(out) as archive:
        members_csv = archive.read("members.csv")
        assert archive.comment.decode().startswith("Member export of ")
    assert members_csv.startswith(b"id,email,display_name,role,time_zone,joined_at,")
    assert members_csv.count(b"\r\n") == 3  # the header and two members


# --- size: a few thousand rows, read in batches -------------------------------------------------


def test_a_few_thousand_members_and_events_come_out_complete(
    app: Flask, runner: FlaskCliRunner, clock: Clock, tmp_path: Path
) -> None:
    count = 3_000
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with app.app_context():
        db.session.execute(
            insert(Member),
            [
                {
                    "email": f"m{n}@example.com",
                    "email_key": f"m{n}@example.com",
                    "display_name": f"+{n}" if n % 2 else f"Member {n}",
                    "time_zone": "UTC",
                    "role": "member",
                    "created_at": at,
                }
                for n in range(count)
            ],
        )
        ids = list(db.session.scalars(select(Member.id).order_by(Member.id)))
        db.session.execute(
            insert(Entitlement),
            [
                {
                    "member_id": i,
                    "reward": "scope:newsletter",
                    "earned_by": "account",
                    "earned_at": at,
                }
                for i in ids
            ],
        )
        db.session.execute(
            insert(ConsentSubject), [{"member_id": i, "created_at": at} for i in ids]
        )
        subjects = list(db.session.scalars(select(ConsentSubject.id)))
        db.session.execute(
            insert(ConsentEvent),
            [
                {
                    "receipt": f"r{s}-{k}",
                    "subject_id": s,
                    "scope": "newsletter",
                    "channel": "email",
                    "action": "grant" if k == 0 else "revoke",
                    "at": at,
                    "source": "preferences",
                    "wording": f"words {s}\nline two",
                    "wording_version": 1,
                    "wording_hash": "0" * 64,
                }
                for s in subjects
                for k in range(2)
            ],
        )
        db.session.commit()
    out = tmp_path / "big.zip"
    result = runner.invoke(args=["members", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{count:,} members, {count:,} earned rewards, 0 consent states and " in result.output
    assert f"{2 * count:,} ledger events" in result.output
    files = read_zip(out)
    assert len(files["members.csv"]) == count
    assert len(files["ledger.csv"]) == 2 * count
    assert files["members.csv"][1]["display_name"] == "'+1"
    data = export_json(runner)
    assert len(data["members"]) == count and len(data["ledger"]) == 2 * count
    assert data["ledger"][-1]["wording"].endswith("\nline two")


# --- the command ------------------------------------------------------------------------------


def test_the_command_prints_counts_and_writes_a_file_only_its_owner_reads(
    app: Flask, runner: FlaskCliRunner, clock: Clock, tmp_path: Path
) -> None:
    build_world(app, clock)
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "members.json"
    out.write_text("an older export")
    result = runner.invoke(args=["members", "export", "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Exported 2 members, 2 earned rewards, 2 consent states and 5 ledger events to {out}.\n"
    )
    assert json.loads(out.read_text("utf-8"))["members"][0]["email"] == "alice@example.com"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == ["members.json"]


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("missing-folder/members.zip", "No such file or directory"),
        ("a-file/members.zip", "Not a directory"),
        (".", "it is a folder; give the name of a file to write"),
    ],
)
def test_a_path_that_cannot_be_written_is_a_clear_error_and_leaves_nothing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, out: str, message: str
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a-file").write_text("")
    target = folder / out
    result = runner.invoke(args=["members", "export", "--out", str(target)])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot write {target}: {message}\n"
    assert sorted(p.name for p in folder.iterdir()) == ["a-file"]


def test_a_zip_is_not_sent_to_standard_output(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["members", "export", "--format", "csv", "--out", "-"])
    assert result.exit_code == 2
    assert "a zip is not written to standard output" in result.output
    assert result.stdout == ""


def test_the_format_and_the_path_are_checked(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["members", "export", "--format", "xml", "--out", "x"])
    assert result.exit_code == 2 and "'xml' is not one of 'csv', 'json'" in result.output
    result = runner.invoke(args=["members", "export"])
    assert result.exit_code == 2 and "Missing option '--out'" in result.output
