"""Referrals: a friend who joins through a member's link and confirms their address earns both of
them the ``referral`` action, up to the cap; self-referral and loops do nothing."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.accounts import members
from app.accounts.privacy import delete_member
from app.engage import referrals
from app.engage.actions import has_action
from app.engage.models import Referral
from app.extensions import db
from app.rewards.entitlements import holds
from tests.conftest import PASSWORD, Clock
from tests.engage.conftest import MakeMember, SignedIn
from tests.helpers import SMTPSink, copy_pack, link_in, post_form


@pytest.fixture
def stickers(stickers: Path) -> Path:
    copy_pack(stickers, "friends", "Friends", ["referral"])
    return stickers


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["REFERRAL_CAP"] = 2
    return app_config


def _code(app: Flask, member_id: int, clock: Clock) -> str:
    with app.app_context():
        code = referrals.ensure_link(member_id, clock())
        db.session.commit()
        return code


def _friend(app: Flask, clock: Clock, email: str, code: str, verify: bool = True) -> int:
    """A member created from a visit through ``code``'s link, as sign-up does it."""
    with app.app_context():
        friend = members.create_member(
            email, None, now=clock(), arrived_via=referrals.arrival_mark(code)
        )
        if verify:
            members.mark_verified(friend, clock())
        db.session.commit()
        return friend.id


def test_a_friend_who_joins_through_the_link_earns_both_the_referral(
    app: Flask, smtp: SMTPSink, signed_in: SignedIn
) -> None:
    referrer = signed_in("host@example.com")
    rewards = referrer.get("/me/rewards").text
    link = re.search(r'value="http://localhost(/r/[0-9a-z]{10})"', rewards)
    assert link is not None and "No one has joined through it yet." in rewards
    assert "you both earn <strong>Friends</strong>" in rewards

    visitor = app.test_client()
    landing = visitor.get(link.group(1)).text
    assert "A friend invited you" in landing and "Friends" in landing
    assert (
        post_form(
            visitor, "/signup", {"email": "guest@example.com", "password": PASSWORD}
        ).status_code
        == 302
    )
    with app.app_context():
        guest = members.find_by_email("guest@example.com")
        host = members.find_by_email("host@example.com")
        assert guest is not None and host is not None
        assert not has_action(host.id, "referral")  # not before the address is confirmed
    visitor.get(link_in(smtp.wait_for(1)[0], "/verify/"))
    with app.app_context():
        for member_id in (guest.id, host.id):
            assert has_action(member_id, "referral") and holds(member_id, "pack:friends")
    assert "1 friend joined through it." in referrer.get("/me/rewards").text


def test_the_cap_limits_credited_referrals_and_says_so(
    app: Flask, clock: Clock, make_member: MakeMember, signed_in: SignedIn
) -> None:
    host = signed_in("host@example.com")
    with app.app_context():
        host_id = members.find_by_email("host@example.com").id  # type: ignore[union-attr]
    code = _code(app, host_id, clock)
    friends = [_friend(app, clock, f"f{i}@example.com", code) for i in range(3)]
    pending = _friend(app, clock, "slow@example.com", code, verify=False)
    with app.app_context():
        states = dict(db.session.execute(select(Referral.referred_id, Referral.state)).all())
        assert [states[f] for f in friends] == ["credited", "credited", "capped"]
        assert states[pending] == "pending"
        assert has_action(friends[1], "referral") and not has_action(friends[2], "referral")
        assert referrals.credited_count(host_id) == 2
    page = host.get("/me/rewards").text
    assert (
        "2 friends joined through it, 1 still to confirm their address, 1 past the limit." in page
    )


def test_own_link_existing_members_and_loops_do_nothing(
    app: Flask, clock: Clock, signed_in: SignedIn, make_member: MakeMember
) -> None:
    host = signed_in("host@example.com")
    with app.app_context():
        host_id = members.find_by_email("host@example.com").id  # type: ignore[union-attr]
    code = _code(app, host_id, clock)
    assert "This is your invitation link" in host.get(f"/r/{code}").text
    other = signed_in("other@example.com")
    assert "You are already a member" in other.get(f"/r/{code}").text
    # a known address signing up again through the link is not a new member
    visitor = app.test_client()
    visitor.get(f"/r/{code}")
    post_form(visitor, "/signup", {"email": "other@example.com", "password": PASSWORD})
    friend = _friend(app, clock, "friend@example.com", code)
    friend_code = _code(app, friend, clock)
    with app.app_context():
        assert not referrals.attach(host_id, referrals.arrival_mark(code), clock())  # self
        assert not referrals.attach(host_id, referrals.arrival_mark(friend_code), clock())  # loop
        assert not referrals.attach(friend, referrals.arrival_mark(code), clock())  # only once
        assert not referrals.attach(friend, "referral:unknown00", clock())
        assert not referrals.attach(friend, None, clock())
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Referral)) == 1


def test_deleting_a_friend_does_not_free_room_under_the_cap(
    app: Flask, clock: Clock, make_member: MakeMember
) -> None:
    host_id = make_member("host@example.com")
    code = _code(app, host_id, clock)
    first, second = (_friend(app, clock, f"f{i}@example.com", code) for i in range(2))
    with app.app_context():
        delete_member(members.get_member(first), clock())  # type: ignore[arg-type]
        db.session.commit()
    third = _friend(app, clock, "f3@example.com", code)
    with app.app_context():
        assert referrals.credited_count(host_id) == 2  # the deleted friend still counts
        assert not has_action(third, "referral") and has_action(second, "referral")


def test_concurrent_confirmations_never_pass_the_cap(
    app: Flask, clock: Clock, make_member: MakeMember
) -> None:
    host_id = make_member("host@example.com")
    code = _code(app, host_id, clock)
    friends = [_friend(app, clock, f"c{i}@example.com", code, verify=False) for i in range(8)]
    barrier = threading.Barrier(len(friends))

    def confirm(friend_id: int) -> None:
        with app.app_context():
            member = members.get_member(friend_id)
            assert member is not None
            db.session.commit()  # hold no lock while waiting for the others
            barrier.wait(timeout=30)
            members.mark_verified(member, clock())
            db.session.commit()

    threads = [threading.Thread(target=confirm, args=(f,)) for f in friends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        states = list(db.session.scalars(select(Referral.state)))
    assert sorted(states) == ["capped"] * 6 + ["credited"] * 2


def test_an_unknown_invitation_is_a_404_that_still_invites(client: Any) -> None:
    response = client.get("/r/zzzzzzzzzz")
    assert response.status_code == 404 and "You can still join." in response.text


def test_the_export_lists_referrals_without_the_friends_identity(
    app: Flask, clock: Clock, make_member: MakeMember
) -> None:
    host_id = make_member("host@example.com")
    code = _code(app, host_id, clock)
    _friend(app, clock, "secret-friend@example.com", code)
    with app.app_context():
        data = referrals.referrals_of(host_id)
    assert data["link_code"] == code and [f["state"] for f in data["friends"]] == ["credited"]
    assert "secret-friend" not in str(data)
