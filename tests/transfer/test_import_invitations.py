"""What imported members get: one invitation each, sent by the worker's chore at the run's rate
through a real SMTP server, and nothing from a campaign until they confirm and consent."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from app.accounts.models import Member
from app.consent.gate.audience import audience
from app.consent.ledger.consents import history
from app.consent.models import Suppression
from app.consent.scopes import find_scope
from app.consent.terms import Channel, SuppressionReason
from app.extensions import db
from app.notify.chores import run_chores
from app.transfer.models import ImportInvitation
from tests.conftest import Clock
from tests.helpers import SMTPSink, csrf_token, link_in, text_body
from tests.transfer.test_import_cli import current_wording, run_import


def people(tmp_path: Path, count: int, wording: str = "", at: str = "", where: str = "") -> Path:
    path = tmp_path / "people.csv"
    lines = ["email,name,evidence_wording,evidence_at,evidence_where"]
    lines += [f'p{n}@example.com,Person {n},"{wording}",{at},{where}' for n in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tick(app: Flask, clock: Clock) -> None:
    with app.app_context():
        run_chores(clock())


def sent_states(app: Flask) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(select(ImportInvitation.state).order_by(ImportInvitation.id))
        )


def test_invitations_go_out_at_the_runs_rate_and_never_twice(
    app: Flask, runner: FlaskCliRunner, clock: Clock, smtp: SMTPSink, tmp_path: Path
) -> None:
    result = run_import(runner, str(people(tmp_path, 5)), "--rate", "2/minute", "--apply")
    assert result.exit_code == 0, result.output
    tick(app, clock)
    assert len(smtp.messages) == 1  # the first at once
    tick(app, clock)
    assert len(smtp.messages) == 1  # spread: one every 30 seconds
    clock.advance(seconds=30)
    tick(app, clock)
    assert len(smtp.messages) == 2
    clock.advance(minutes=10)  # the worker was away: no burst beyond 2 a minute
    tick(app, clock)
    assert len(smtp.messages) == 4
    clock.advance(minutes=1)
    tick(app, clock)
    clock.advance(hours=5)
    tick(app, clock)
    assert len(smtp.messages) == 5
    assert sorted(str(m["To"]) for m in smtp.messages) == sorted(
        f"Person {n} <p{n}@example.com>" for n in range(5)
    )
    assert sent_states(app) == ["sent"] * 5


def test_a_member_without_evidence_is_asked_once_to_say_yes_again(
    app: Flask, runner: FlaskCliRunner, clock: Clock, smtp: SMTPSink, tmp_path: Path
) -> None:
    run_import(runner, str(people(tmp_path, 1)), "--old-list", "the Old Letter", "--apply")
    tick(app, clock)
    message = smtp.wait_for(1)[0]
    assert message["Subject"] == "You were on the Old Letter: say yes again if you like"
    assert message["Auto-Submitted"] == "auto-generated"
    body = text_body(message)
    assert "Your address was on the Old Letter" in body
    assert "If you do nothing, this is the last message you get from us." in body
    # The link confirms the address, and may sign in once, then shows the permissions.
    client = app.test_client()
    link = link_in(message, "/verify/")
    assert link.endswith("?next=/me/permissions")
    page = client.get(link)
    assert page.status_code == 200
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.email == "p0@example.com"))
        assert member is not None and member.email_verified_at is not None
    signed_in = client.post(
        link.split("?")[0] + "/sign-in?next=/me/permissions",
        data={"csrf_token": csrf_token(page.get_data(as_text=True))},
    )
    assert signed_in.status_code == 302
    assert "I can stop it with one click" in client.get("/me/permissions").get_data(as_text=True)


def test_a_member_with_evidence_to_the_current_words_is_asked_to_confirm_to_keep_it(
    app: Flask, runner: FlaskCliRunner, clock: Clock, smtp: SMTPSink, tmp_path: Path
) -> None:
    path = people(tmp_path, 1, current_wording(app), "2024-02-03T04:05:06Z", "the old form")
    run_import(runner, str(path), "--apply")
    tick(app, clock)
    message = smtp.wait_for(1)[0]
    assert message["Subject"] == "Confirm your address to keep receiving The weekly letter"
    assert "To keep receiving it, confirm that p0@example.com is your address" in (
        text_body(message)
    )


def test_a_closed_account_or_a_bounced_address_is_not_invited(
    app: Flask, runner: FlaskCliRunner, clock: Clock, smtp: SMTPSink, tmp_path: Path
) -> None:
    run_import(runner, str(people(tmp_path, 2)), "--apply")
    with app.app_context():
        db.session.add(
            Suppression(
                address_key="p1@example.com", reason=SuppressionReason.HARD_BOUNCE, at=clock()
            )
        )
        db.session.commit()
    tick(app, clock)
    clock.advance(hours=1)
    tick(app, clock)
    assert [str(m["To"]) for m in smtp.messages] == ["Person 0 <p0@example.com>"]
    assert sent_states(app) == ["sent", "skipped"]


def test_an_smtp_outage_delays_the_invitations_without_losing_them(
    app: Flask, runner: FlaskCliRunner, clock: Clock, smtp: SMTPSink, tmp_path: Path
) -> None:
    run_import(runner, str(people(tmp_path, 1)), "--apply")
    app.config["MAIL_URL"] = "smtp://127.0.0.1:9"  # nothing listens there
    tick(app, clock)
    assert sent_states(app) == ["queued"]
    app.config["MAIL_URL"] = smtp.url
    clock.advance(minutes=1)
    tick(app, clock)
    assert len(smtp.wait_for(1)) == 1
    assert sent_states(app) == ["sent"]


# --- the gate ----------------------------------------------------------------------------------


def reachable(app: Flask, clock: Clock) -> set[str]:
    with app.app_context():
        scope = find_scope("newsletter")
        assert scope is not None
        ids = audience(scope, Channel.EMAIL, clock())
        return set(db.session.scalars(select(Member.email).where(Member.id.in_(ids))))


def verify(app: Flask, clock: Clock, email: str) -> None:
    from app.accounts.members import find_by_email, mark_verified

    with app.app_context():
        member = find_by_email(email)
        assert member is not None
        mark_verified(member, clock())
        db.session.commit()


@pytest.mark.parametrize(
    ("wording", "reached_after_confirming"),
    [(None, False), ("current", True), ("Yes, send me your news.", False)],
    ids=["no evidence", "evidence to the current words", "evidence to other words"],
)
def test_imported_members_are_not_reachable_until_they_confirm_and_consent(
    app: Flask,
    runner: FlaskCliRunner,
    clock: Clock,
    tmp_path: Path,
    wording: str | None,
    reached_after_confirming: bool,
) -> None:
    words = current_wording(app) if wording == "current" else (wording or "")
    path = people(tmp_path, 1, words, "2024-02-03T04:05:06Z" if wording else "", "the old form")
    result = run_import(runner, str(path), "--apply")
    assert result.exit_code == 0, result.output
    assert reachable(app, clock) == set()  # unconfirmed: no campaign reaches them
    verify(app, clock, "p0@example.com")
    assert reachable(app, clock) == ({"p0@example.com"} if reached_after_confirming else set())


def test_the_ledger_keeps_the_evidence_wording_byte_for_byte(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    words = "Oui, envoyez-moi la lettre — « chaque vendredi ». I can stop it any time."
    wording = tmp_path / "wording.txt"
    wording.write_text(words, encoding="utf-8")
    path = people(tmp_path, 1, "", "2024-02-03T04:05:06Z", "https://old.example.com/f")
    result = run_import(runner, str(path), "--evidence-wording-file", str(wording), "--apply")
    assert result.exit_code == 0, result.output
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.email == "p0@example.com"))
        assert member is not None
        (event,) = history(member.id)
        assert (event.action, event.wording, event.page) == (
            "grant",
            words,
            "https://old.example.com/f",
        )
        assert event.at.isoformat() == "2024-02-03T04:05:06+00:00"
        invitation = db.session.scalars(select(ImportInvitation)).one()
        assert invitation.kind == "ask"  # other words than the scope's: asked again
