"""Export holds what every area registered; deletion removes the member and what hangs off it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from app import events
from app.accounts import members
from app.accounts.models import Member, SignIn
from app.accounts.privacy import MemberDeleting, delete_member, export_member, register_exporter
from app.accounts.sessions import start_sign_in
from app.engage.actions import record_action
from app.engage.models import Action
from app.extensions import db
from tests.conftest import Clock


def test_export_includes_the_account_and_every_registered_exporter(
    app: Flask, clock: Clock
) -> None:
    register_exporter(app, "notes", lambda member_id: [{"member": member_id, "text": "hi"}])
    with app.app_context():
        member = members.create_member("e@example.com", None, now=clock(), verified=True)
        db.session.commit()
        data = export_member(member, clock())
    assert data["account"]["email"] == "e@example.com"
    assert data["account"]["has_password"] is False
    assert data["notes"] == [{"member": member.id, "text": "hi"}]


def test_delete_emits_the_event_then_cascades(app: Flask, clock: Clock) -> None:
    seen: list[int] = []
    events.subscribe(app, MemberDeleting, lambda event: seen.append(event.member_id))
    with app.app_context():
        member = members.create_member("d@example.com", None, now=clock(), verified=True)
        start_sign_in(member, "test", clock())
        record_action(member.id, "survey:x", clock())
        db.session.commit()
        member_id = member.id
        delete_member(member, clock())
        db.session.commit()
        assert seen == [member_id]
        for table, column in (
            (Member, Member.id),
            (SignIn, SignIn.member_id),
            (Action, Action.member_id),
        ):
            count = db.session.scalar(
                select(func.count()).select_from(table).where(column == member_id)
            )
            assert count == 0, table
