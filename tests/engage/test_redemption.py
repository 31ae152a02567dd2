"""In-store codes: issuing a batch, redeeming a code with clear messages, counting, and exactly one
success when fifty people redeem one single-use code at the same moment."""

from __future__ import annotations

import csv
import stat
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, text

from app.engage.errors import (
    BatchAlreadyRedeemed,
    BatchError,
    CodeAlreadyRedeemed,
    CodeExpired,
    CodeUnknown,
    CodeUsedUp,
)
from app.engage.models import Code, Redemption
from app.engage.redemption import batch_stats, issue_codes, redeem
from app.extensions import db
from app.rewards.entitlements import holds
from app.rewards.models import Entitlement
from tests.conftest import Clock
from tests.engage.conftest import MakeMember, SignedIn
from tests.helpers import csrf_token, post_form


def _issue(
    app: Flask, clock: Clock, name: str = "spring-store", count: int = 3, **options: object
) -> list[str]:
    with app.app_context():
        issued = issue_codes(name, count, now=clock(), **options)  # type: ignore[arg-type]
        db.session.commit()
        return issued.codes


def test_codes_issue_writes_a_private_csv_and_stores_only_keyed_hashes(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "codes.csv"
    result = runner.invoke(
        args=[
            "codes",
            "issue",
            "--batch",
            "spring-store",
            "--count",
            "500",
            "--uses",
            "1",
            "--expires",
            "2099-01-31",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert (
        "issued 500 codes in batch spring-store (1 use each, valid until 31 January 2099)"
        in result.output
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 500 and len({r["code"] for r in rows}) == 500
    assert rows[0]["batch"] == "spring-store" and rows[0]["valid_until"] == "2099-01-31"
    with app.app_context():
        dump = "\n".join(str(row) for row in db.session.execute(text("SELECT * FROM codes")))
        assert db.session.scalar(select(func.count()).select_from(Code)) == 500
    for row in rows[:50]:
        for form in (row["code"], row["code"].replace("-", "")):
            assert form not in dump


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch", "Spring Store", "--count", "5"], "must be lower-case letters"),
        (["--batch", "x", "--count", "0"], "--count must be between 1 and 100,000"),
        (["--batch", "x", "--count", "100001"], "--count must be between 1 and 100,000"),
        (["--batch", "x", "--count", "5", "--uses", "0"], "--uses must be between"),
        (["--batch", "x", "--count", "5", "--expires", "2020-01-01"], "must be in the future"),
        (["--batch", "x", "--count", "5", "--expires", "31/01/2027"], "YYYY-MM-DD"),
        (["--batch", "x", "--count", "5", "--expires", "2027-02-30"], "YYYY-MM-DD"),
    ],
)
def test_codes_issue_refuses_bad_options_and_writes_nothing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "codes.csv"
    result = runner.invoke(args=["codes", "issue", *args, "--out", str(out)])
    assert result.exit_code != 0 and message in result.output
    assert not out.exists()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Code)) == 0


def test_codes_issue_never_overwrites_printed_codes_and_keeps_a_batch_consistent(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "codes.csv"
    out.write_text("precious\n")
    result = runner.invoke(
        args=["codes", "issue", "--batch", "b", "--count", "2", "--out", str(out)]
    )
    assert result.exit_code == 1 and "exists" in result.output
    assert out.read_text() == "precious\n"
    first = runner.invoke(
        args=[
            "codes",
            "issue",
            "--batch",
            "b",
            "--count",
            "2",
            "--uses",
            "3",
            "--out",
            str(tmp_path / "a.csv"),
        ]
    )
    assert first.exit_code == 0
    more = runner.invoke(
        args=["codes", "issue", "--batch", "b", "--count", "2", "--out", str(tmp_path / "b.csv")]
    )
    assert more.exit_code == 0 and "(3 uses each" in more.output  # the batch's own setting
    clash = runner.invoke(
        args=[
            "codes",
            "issue",
            "--batch",
            "b",
            "--count",
            "2",
            "--uses",
            "1",
            "--out",
            str(tmp_path / "c.csv"),
        ]
    )
    assert clash.exit_code == 1 and "gives 3 use(s) per code" in clash.output
    assert not (tmp_path / "c.csv").exists()


def test_redeeming_folds_typing_records_the_action_and_grants_the_rewards(
    app: Flask, clock: Clock, make_member: MakeMember
) -> None:
    [code] = _issue(app, clock, count=1)
    member_id = make_member("shopper@example.com")
    typed = "  " + code.lower().replace("-", " ").replace("0", "o").replace("1", "l") + " "
    with app.app_context():
        redeemed = redeem(member_id, typed, clock())
        db.session.commit()
        assert redeemed.action == "code:spring-store"
        assert holds(member_id, "pack:spring-birds") and holds(member_id, "scope:offers")


def test_each_refusal_says_why_and_leaves_nothing_behind(
    app: Flask, clock: Clock, make_member: MakeMember
) -> None:
    single, other = _issue(app, clock, count=2)
    [expiring] = _issue(app, clock, "autumn-store", count=1, expires_at=clock() + timedelta(days=1))
    first, second = make_member("a@example.com"), make_member("b@example.com")
    with app.app_context():
        redeem(first, single, clock())
        db.session.commit()
        with pytest.raises(CodeAlreadyRedeemed, match="You already redeemed this code on"):
            redeem(first, single, clock())
        with pytest.raises(BatchAlreadyRedeemed, match="It is still unused: give it to a friend"):
            redeem(first, other, clock())
        with pytest.raises(CodeUsedUp, match="already been used as many times as it allows"):
            redeem(second, single, clock())
        with pytest.raises(CodeUnknown, match="We do not know this code"):
            redeem(second, "7KQ2-M4XD-9RTB-T", clock())
        clock.advance(days=2)
        with pytest.raises(CodeExpired, match="This code was valid until"):
            redeem(second, expiring, clock())
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Redemption)) == 1
        assert db.session.scalar(select(Code.used).where(Code.used > 0)) == 1
        assert not holds(second, "scope:offers")


def test_a_code_with_three_uses_serves_three_people(
    app: Flask, clock: Clock, make_member: MakeMember
) -> None:
    [code] = _issue(app, clock, "gift-card", count=1, uses=3)
    people = [make_member(f"p{i}@example.com") for i in range(4)]
    with app.app_context():
        for person in people[:3]:
            redeem(person, code, clock())
            db.session.commit()
        with pytest.raises(CodeUsedUp):
            redeem(people[3], code, clock())


def test_fifty_concurrent_redemptions_of_one_single_use_code_give_one_success(
    app: Flask, clock: Clock, make_member: MakeMember
) -> None:
    [code] = _issue(app, clock, count=1)
    people = [make_member(f"racer{i}@example.com") for i in range(50)]
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(member_id: int) -> None:
        with app.app_context():
            barrier.wait(timeout=60)
            try:
                redeem(member_id, code, clock())
                db.session.commit()
                outcome = "redeemed"
            except CodeUsedUp:
                db.session.rollback()
                outcome = "used up"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(set(outcomes)) == ["redeemed", "used up"]
    assert outcomes.count("redeemed") == 1 and len(outcomes) == 50
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Redemption)) == 1
        assert db.session.scalar(select(Code.used)) == 1
        holders = db.session.scalar(
            select(func.count())
            .select_from(Entitlement)
            .where(Entitlement.reward == "pack:spring-birds")
        )
        assert holders == 1


def test_one_member_racing_two_codes_of_a_batch_redeems_one(
    app: Flask, clock: Clock, make_member: MakeMember
) -> None:
    codes = _issue(app, clock, count=2)
    member_id = make_member("twice@example.com")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(code: str) -> None:
        with app.app_context():
            barrier.wait(timeout=60)
            try:
                redeem(member_id, code, clock())
                db.session.commit()
                outcomes.append("redeemed")
            except BatchAlreadyRedeemed:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["redeemed", "refused"]
    with app.app_context():
        assert db.session.scalar(select(func.sum(Code.used))) == 1  # the other stays unused


def test_stats_count_issued_redeemed_used_up_and_expired(
    app: Flask, clock: Clock, make_member: MakeMember, runner: FlaskCliRunner
) -> None:
    spring = _issue(app, clock, count=4)
    _issue(app, clock, "autumn-store", count=2, expires_at=clock() + timedelta(days=1))
    shoppers = [make_member(f"s{i}@example.com") for i in range(2)]
    with app.app_context():
        for shopper, code in zip(shoppers, spring, strict=False):
            redeem(shopper, code, clock())
        db.session.commit()
        clock.advance(days=2)
        stats = {s.name: s for s in batch_stats(clock())}
    assert (
        stats["spring-store"].issued,
        stats["spring-store"].redeemed,
        stats["spring-store"].used_up,
        stats["spring-store"].left,
        stats["spring-store"].expired,
    ) == (4, 2, 2, 2, 0)
    assert (
        stats["autumn-store"].issued,
        stats["autumn-store"].expired,
        stats["autumn-store"].left,
    ) == (2, 2, 0)
    output = runner.invoke(args=["codes", "stats"]).output
    header, *lines = output.splitlines()
    assert header.split()[:3] == ["batch", "issued", "redeemed"]
    assert any(line.split()[:6] == ["spring-store", "4", "2", "2", "0", "2"] for line in lines)


def test_the_redeem_page_says_what_went_wrong_next_to_the_field(
    app: Flask, clock: Clock, signed_in: SignedIn
) -> None:
    [code] = _issue(app, clock, count=1)
    client = signed_in("buyer@example.com")
    wrong = post_form(client, "/redeem", {"code": code[:-1] + ("A" if code[-1] != "A" else "B")})
    assert wrong.status_code == 400 and "This code has a typo" in wrong.text
    assert 'aria-invalid="true"' in wrong.text and "site-header" in wrong.text
    done = post_form(client, "/redeem", {"code": code.lower()})
    assert done.status_code == 302 and done.headers["Location"] == "/redeem/spring-store"
    page = client.get("/redeem/spring-store").text
    assert "Your code is redeemed" in page and "Spring birds" in page and "Member offers" in page
    again = post_form(client, "/redeem", {"code": code})
    assert again.status_code == 400 and "You already redeemed this code" in again.text
    assert client.get("/redeem/autumn-store").status_code == 302  # not theirs


def test_a_visitor_keeps_the_code_through_sign_up_and_redeems_it_after(
    app: Flask, clock: Clock, signed_in: SignedIn, make_member: MakeMember
) -> None:
    [code] = _issue(app, clock, count=1)
    visitor = app.test_client()
    assert "Keep my code and sign in" in visitor.get(f"/redeem?code={code}").text
    kept = post_form(visitor, "/redeem", {"code": code.lower()})
    assert kept.status_code == 302
    page = visitor.get("/redeem").text
    assert "We kept your code on this device" in page and f'value="{code}"' in page
    with app.app_context():
        assert db.session.scalar(select(func.sum(Code.used))) == 0  # nothing looked up or used
    from tests.conftest import PASSWORD
    from tests.helpers import sign_in

    make_member("visitor@example.com", PASSWORD)
    sign_in(visitor, "visitor@example.com", PASSWORD)
    back = visitor.get("/redeem").text
    assert f'value="{code}"' in back and ">Redeem<" in back
    response = visitor.post("/redeem", data={"code": code, "csrf_token": csrf_token(back)})
    assert response.status_code == 302
    assert f'value="{code}"' not in visitor.get("/redeem").text  # forgotten once redeemed


def test_admin_codes_page_is_for_marketers(app: Flask, clock: Clock, signed_in: SignedIn) -> None:
    _issue(app, clock, count=7)
    assert signed_in("m@example.com").get("/admin/codes").status_code == 403
    page = signed_in("mk@example.com", role="marketer").get("/admin/codes")
    assert page.status_code == 200
    assert "spring-store" in page.text and "<td>7</td>" in page.text
    assert "In-store codes" in signed_in("mk2@example.com", role="marketer").get("/admin/").text


def test_issue_codes_checks_its_arguments(app: Flask, clock: Clock) -> None:
    with app.app_context(), pytest.raises(BatchError, match="lower-case"):
        issue_codes("../etc", 1, now=clock())
