"""The admin dashboard opens to editors and marketers, and lists the sections their role opens."""

from __future__ import annotations

from flask import Flask

from app.accounts import members
from app.extensions import db
from app.web.nav import AdminSection, register_admin_section
from tests.conftest import PASSWORD, Clock
from tests.helpers import sign_in


def _user(app: Flask, clock: Clock, email: str, role: str) -> None:
    with app.app_context():
        members.create_member(email, PASSWORD, now=clock(), role=role, verified=True)
        db.session.commit()


def test_members_get_403_and_staff_see_only_their_sections(app: Flask, clock: Clock) -> None:
    register_admin_section(app, AdminSection("Content", "admin.dashboard", "editor"))
    register_admin_section(app, AdminSection("Campaigns", "site.home", "marketer"))
    _user(app, clock, "m@example.com", "member")
    _user(app, clock, "e@example.com", "editor")
    _user(app, clock, "a@example.com", "admin")

    member = app.test_client()
    sign_in(member, "m@example.com", PASSWORD)
    assert member.get("/admin/").status_code == 403
    assert ">Admin</a>" not in member.get("/").text

    editor = app.test_client()
    sign_in(editor, "e@example.com", PASSWORD)
    page = editor.get("/admin/").text
    assert "Content" in page and "Campaigns" not in page
    assert ">Admin</a>" in editor.get("/").text

    admin = app.test_client()
    sign_in(admin, "a@example.com", PASSWORD)
    page = admin.get("/admin/").text
    assert "Content" in page and "Campaigns" in page


def test_anonymous_visitors_are_sent_to_sign_in(client: object) -> None:
    response = client.get("/admin/")  # type: ignore[attr-defined]
    assert response.status_code == 302 and "/signin" in response.headers["Location"]
