"""*Admin → Import members*: upload, detected format and mapping, the dry run with every bad row
(downloadable), then the import; administrators only, CSRF on every form."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from app.accounts.models import Member
from app.extensions import db
from app.transfer import import_screens
from app.transfer.models import ImportInvitation, ImportRun, ImportUpload
from tests.conftest import Clock
from tests.helpers import csrf_token
from tests.security.harness import staff_client
from tests.transfer.test_import_cli import FIXTURES


@pytest.fixture
def admin(app: Flask, clock: Clock) -> FlaskClient:
    return staff_client(app, clock, "admin")


def upload(
    client: FlaskClient, content: bytes, name: str = "members.csv", **fields: str
) -> TestResponse:
    token = csrf_token(client.get("/admin/import").get_data(as_text=True))
    data: dict[str, object] = {
        "csrf_token": token,
        "file_format": "auto",
        "scope": "newsletter",
        "channel": "email",
        "old_list": "the Old Letter",
        "rate": "200/hour",
        "file": (io.BytesIO(content), name),
    }
    data.update(fields)
    return client.post("/admin/import", data=data, content_type="multipart/form-data")


def members_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Member)) or 0)


def test_only_administrators_may_import(app: Flask, clock: Clock) -> None:
    visitor = app.test_client()
    assert "/signin" in visitor.get("/admin/import").location
    for role in ("member", "editor", "marketer"):
        client = staff_client(app, clock, role)
        assert client.get("/admin/import").status_code == 403, role
    admin = staff_client(app, clock, "admin")
    page = admin.get("/admin/import").get_data(as_text=True)
    assert "Import members" in page
    assert "Import members" in admin.get("/admin/").get_data(as_text=True)


def test_a_ghost_export_is_checked_then_imported(app: Flask, admin: FlaskClient) -> None:
    response = upload(admin, (FIXTURES / "ghost-members.csv").read_bytes(), "ghost-members.csv")
    assert response.status_code == 302
    run_page = admin.get(response.location).get_data(as_text=True)
    assert "Ghost member export" in run_page
    assert "not an email address" in run_page  # line 7
    assert re.search(r"<td>6</td><td>Ada@example.com</td><td>the same address as line 2", run_page)
    assert "Import 3 members" in run_page
    before = members_count(app)
    # Bad rows: refused unless skipped, and nothing is written.
    token = csrf_token(run_page)
    refused = admin.post(f"{response.location}/apply", data={"csrf_token": token})
    assert refused.status_code == 302
    assert "Nothing was imported" in admin.get(refused.location).get_data(as_text=True)
    assert members_count(app) == before
    done = admin.post(
        f"{response.location}/apply", data={"csrf_token": token, "skip_bad_rows": "y"}
    )
    assert done.status_code == 302
    page = admin.get(done.location).get_data(as_text=True)
    assert "Imported 3 members" in page
    assert members_count(app) == before + 3
    with app.app_context():
        run = db.session.scalars(select(ImportRun)).one()
        assert (run.state, run.by, run.rate_count) == ("imported", "admin@example.com", 200)
        assert db.session.get(ImportUpload, run.id) is None  # the file is not kept
        assert db.session.scalar(select(func.count()).select_from(ImportInvitation)) == 3
    # Applying twice imports nothing more.
    again = admin.post(
        f"{response.location}/apply", data={"csrf_token": token, "skip_bad_rows": "y"}
    )
    assert "already done or discarded" in admin.get(again.location).get_data(as_text=True)


def test_the_problems_download_lists_every_bad_row(admin: FlaskClient) -> None:
    response = upload(admin, (FIXTURES / "duplicates.csv").read_bytes(), "duplicates.csv")
    download = admin.get(f"{response.location}/problems.csv")
    assert download.status_code == 200
    assert (
        download.headers["Content-Disposition"] == 'attachment; filename="duplicates-problems.csv"'
    )
    lines = download.get_data(as_text=True).splitlines()
    assert lines[1:] == [
        "3,SAM@example.com,bad row,the same address as line 2 (addresses are compared in any case)",
        "5,Sam@example.com,bad row,the same address as line 2 (addresses are compared in any case)",
    ]


def test_a_plain_csvs_columns_are_mapped_on_the_screen(app: Flask, admin: FlaskClient) -> None:
    response = upload(admin, (FIXTURES / "generic.csv").read_bytes(), "generic.csv")
    page = admin.get(response.location).get_data(as_text=True)
    assert "CSV file with mapped columns" in page
    assert "new members: 2 (0 with evidence" in page
    mapped = admin.post(
        f"{response.location}/mapping",
        data={
            "csrf_token": csrf_token(page),
            "email": "E-mail",
            "name": "Full name",
            "joined": "Signed up",
            "evidence_wording": "Consent text",
            "evidence_at": "Consented at",
            "evidence_where": "Consent page",
        },
    )
    assert mapped.status_code == 302
    assert "new members: 2 (1 with evidence" in admin.get(mapped.location).get_data(as_text=True)


@pytest.mark.parametrize(
    ("content", "fields", "message"),
    [
        (b"name\nAda\n", {}, "members.csv: has no email column"),
        (b"email\na@example.com\n", {"scope": "offers"}, None),  # a scope that exists
        (b"email\na@example.com\n", {"rate": "lots"}, "--rate &#39;lots&#39;"),
        (b"\x00\x01\x02", {}, "members.csv: holds binary data"),
    ],
)
def test_a_wrong_file_or_option_is_a_form_error(
    app: Flask, admin: FlaskClient, content: bytes, fields: dict[str, str], message: str | None
) -> None:
    response = upload(admin, content, **fields)
    if message is None:
        assert response.status_code == 302
        return
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_a_file_too_large_for_the_screen_points_to_the_command(
    admin: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_screens, "MAX_WEB_ROWS", 3)
    content = b"email\n" + b"".join(b"p%d@example.com\n" % n for n in range(4))
    response = upload(admin, content)
    assert response.status_code == 200
    assert "flask members import FILE" in response.get_data(as_text=True)


def test_every_form_of_the_screen_needs_its_csrf_token(app: Flask, admin: FlaskClient) -> None:
    response = upload(admin, (FIXTURES / "generic.csv").read_bytes(), "generic.csv")
    run = response.location
    for path in ("/admin/import", f"{run}/mapping", f"{run}/apply", f"{run}/discard"):
        refused = admin.post(path, data={"csrf_token": "forged"})
        assert refused.status_code == 400, path
    assert members_count(app) == 1  # the admin only
    with app.app_context():
        assert db.session.scalars(select(ImportRun.state)).all() == ["checked"]


def test_a_discarded_upload_is_gone(app: Flask, admin: FlaskClient) -> None:
    response = upload(admin, (FIXTURES / "bom.csv").read_bytes(), "bom.csv")
    token = csrf_token(admin.get(response.location).get_data(as_text=True))
    admin.post(f"{response.location}/discard", data={"csrf_token": token})
    assert "discarded" in admin.get(response.location).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportUpload)) == 0


def test_an_unknown_run_is_not_found(admin: FlaskClient) -> None:
    assert admin.get("/admin/import/999").status_code == 404
    assert admin.get("/admin/import/999/problems.csv").status_code == 404


def test_the_fixture_folder_has_a_file_per_format() -> None:
    names = {p.name for p in Path(FIXTURES).iterdir()}
    assert {
        "ghost-members.csv",
        "listmonk-subscribers.csv",
        "mailchimp-audience.csv",
        "generic.csv",
    } <= names


def test_an_upload_far_over_the_limit_is_refused_before_it_is_read(
    admin: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_screens, "MAX_UPLOAD_BYTES", 1_000)
    monkeypatch.setattr(import_screens, "FORM_ROOM", 1_000)
    content = b"email\n" + b"x" * 10_000
    response = upload(admin, content)
    assert response.status_code == 413
    assert "flask members import FILE" in response.get_data(as_text=True)
