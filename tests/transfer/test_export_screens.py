"""*Admin → Export members*: administrators only, a CSRF-checked POST, a streamed attachment
that no cache keeps, logged with who asked; the stream holds no write lock and reads one
snapshot."""

from __future__ import annotations

import csv
import getpass
import io
import json
import logging
import re
import time
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.accounts import members
from app.extensions import db
from tests.conftest import Clock
from tests.helpers import csrf_token
from tests.security.harness import staff_client
from tests.transfer.test_export import FORMULA, STOP_WORDS, build_world

URL = "/admin/export"
REFUSED = "This form expired or came from another site"


def download(client: FlaskClient, export_format: str) -> Any:
    token = csrf_token(client.get(URL).text)
    return client.post(URL, data={"export_format": export_format, "csrf_token": token})


@pytest.fixture
def admin(app: Flask, clock: Clock) -> FlaskClient:
    return staff_client(app, clock, "admin")


def test_the_page_says_what_is_in_the_export_and_offers_both_formats(
    admin: FlaskClient,
) -> None:
    page = admin.get(URL)
    assert page.status_code == 200
    for words in ("Export members", "pseudonymous subject", "apostrophe", "members.csv"):
        assert words in page.text
    assert 'value="csv"' in page.text and 'value="json"' in page.text
    assert "Export members" in admin.get("/admin/").text


@pytest.mark.parametrize("role", ["member", "editor", "marketer"])
def test_only_administrators_may_open_or_download_it(app: Flask, clock: Clock, role: str) -> None:
    client = staff_client(app, clock, role)
    assert client.get(URL).status_code == 403
    token = csrf_token(client.get("/me/account").text)
    response = client.post(URL, data={"export_format": "json", "csrf_token": token})
    assert response.status_code == 403
    assert "alice@example.com" not in response.text
    if role != "member":
        assert "Export members" not in client.get("/admin/").text


def test_a_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/signin" in response.location


@pytest.mark.parametrize("token", ["none", "forged", "another session's"])
def test_a_download_without_the_sessions_csrf_token_is_refused(
    app: Flask, admin: FlaskClient, clock: Clock, token: str
) -> None:
    build_world(app, clock)
    data = {"export_format": "json"}
    if token == "forged":
        data["csrf_token"] = "forged"
    elif token != "none":
        data["csrf_token"] = csrf_token(staff_client(app, clock, "editor").get("/me/account").text)
    response = admin.post(URL, data=data)
    assert response.status_code == 400 and REFUSED in response.text
    assert "alice@example.com" not in response.text


def test_an_unknown_format_shows_the_page_again(admin: FlaskClient) -> None:
    response = download(admin, "xml")
    assert response.status_code == 200
    assert "Not a valid choice" in response.text
    assert response.mimetype == "text/html"


def test_json_download_is_a_streamed_attachment_no_cache_keeps(
    app: Flask, admin: FlaskClient, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    build_world(app, clock)
    with caplog.at_level(logging.INFO, logger="pullfirst.transfer"):
        response = download(admin, "json")
        assert response.status_code == 200
        assert response.is_streamed
        assert response.mimetype == "application/json"
        stamp = f"{clock():%Y%m%d-%H%M%S}"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="members-{stamp}.json"'
        )
        assert response.headers["Cache-Control"] == "no-store"
        data = json.loads(response.get_data(as_text=True))
    names = {m["email"]: m["display_name"] for m in data["members"]}
    assert set(names) == {"admin@example.com", "alice@example.com", "carol@example.com"}
    assert names["alice@example.com"] == FORMULA
    assert STOP_WORDS in [e["wording"] for e in data["ledger"]]
    downloaded, finished = (r for r in caplog.records if r.name == "pullfirst.transfer")
    assert downloaded.levelno == logging.WARNING
    assert "downloaded by admin@example.com" in downloaded.getMessage()
    assert clock().isoformat() in downloaded.getMessage()
    assert "3 members" in finished.getMessage()


def _downloads(page: str) -> list[list[str]]:
    """The rows of the page's *Downloads so far* table, as their cells' text."""
    section = page.split('id="downloads-heading"', 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr><td>.*?</tr>", section)
    ]


def test_every_download_is_recorded_and_listed_newest_first_with_who_and_how(
    app: Flask, admin: FlaskClient, clock: Clock, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    build_world(app, clock)
    assert "Nobody has downloaded the export yet." in admin.get(URL).text
    assert download(admin, "json").status_code == 200
    clock.advance(minutes=5)
    result = runner.invoke(args=["members", "export", "--out", str(tmp_path / "members.zip")])
    assert result.exit_code == 0, result.output
    clock.advance(minutes=5)
    refused = admin.post(URL, data={"export_format": "json"})  # no CSRF token: not a download
    assert refused.status_code == 400
    assert download(admin, "xml").status_code == 200  # the page again: not a download
    cli_refused = runner.invoke(args=["members", "export", "--out", str(tmp_path)])
    assert cli_refused.exit_code == 1  # a folder: refused before anything is read
    page = admin.get(URL).text
    assert "2 downloads, newest first" in page
    rows = _downloads(page)
    assert [row[1:] for row in rows] == [
        [f"command line ({getpass.getuser()})", "CSV", "The command line"],
        ["admin@example.com", "JSON", "This page"],
    ]
    assert rows[1][0].startswith(f"{(clock() - timedelta(minutes=10)).day} ")


def test_a_download_cut_short_is_recorded_all_the_same(
    app: Flask, admin: FlaskClient, clock: Clock
) -> None:
    build_world(app, clock)
    token = csrf_token(admin.get(URL).text)
    response = admin.post(URL, data={"export_format": "csv", "csrf_token": token}, buffered=False)
    next(iter(response.response))  # the first block, then the reader goes
    response.close()
    page = admin.get(URL).text
    assert "1 download, from this page" in page
    assert _downloads(page) == [[_downloads(page)[0][0], "admin@example.com", "CSV", "This page"]]


def test_the_list_shows_the_latest_twenty_and_says_how_many_in_all(
    app: Flask, admin: FlaskClient, clock: Clock
) -> None:
    from app.transfer.export_audit import CLI, record_export
    from app.transfer.export_formats import ExportFormat

    with app.app_context():
        for minute in range(23):
            record_export(
                ExportFormat.JSON,
                CLI,
                f"command line (user{minute})",
                None,
                clock() + timedelta(minutes=minute),
            )
    page = admin.get(URL).text
    assert "The latest 20 of 23 downloads, newest first" in page
    rows = _downloads(page)
    assert len(rows) == 20 and rows[0][1] == "command line (user22)"
    assert rows[-1][1] == "command line (user3)"


def test_csv_download_is_a_zip_of_formula_safe_files(
    app: Flask, admin: FlaskClient, clock: Clock
) -> None:
    build_world(app, clock)
    response = download(admin, "csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].endswith('.zip"')
    assert response.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert archive.namelist() == ["members.csv", "earned.csv", "consent.csv", "ledger.csv"]
        members_csv = archive.read("members.csv").decode()
        ledger_csv = archive.read("ledger.csv").decode()
    names = {
        row["email"]: row["display_name"]
        for row in csv.DictReader(io.StringIO(members_csv, newline=""))
    }
    assert names["alice@example.com"] == "'" + FORMULA
    words = [row["wording"] for row in csv.DictReader(io.StringIO(ledger_csv, newline=""))]
    assert "'" + STOP_WORDS in words


def test_the_stream_comes_in_chunks_and_holds_back_no_writer(
    app: Flask, admin: FlaskClient, clock: Clock
) -> None:
    with app.app_context():
        for n in range(1_200):
            members.create_member(
                f"many{n}@example.com", None, now=clock(), display_name=f"Name {n} " * 8
            )
        db.session.commit()
    response = download(admin, "json")
    body = iter(response.response)
    first = next(body)
    assert 0 < len(first) < 200_000
    # While the export is being read, the site goes on writing, without waiting for it; what
    # is written then is not in the export, which reads one moment of the database.
    started = time.monotonic()
    with app.app_context():
        members.create_member("late@example.com", None, now=clock(), verified=True)
        db.session.commit()
    assert time.monotonic() - started < 5
    rest = list(body)
    response.close()
    assert len(rest) >= 2
    data = json.loads(b"".join([first, *rest]))
    emails = {m["email"] for m in data["members"]}
    assert len(emails) == 1_201
    assert "late@example.com" not in emails
    # The late member earned the newsletter as they joined: not in the export either.
    exported = {m["id"] for m in data["members"]}
    assert {e["member_id"] for e in data["entitlements"]} <= exported


@pytest.mark.parametrize("export_format", ["json", "csv"])
def test_a_download_stopped_half_way_ends_its_snapshot(
    app: Flask, admin: FlaskClient, clock: Clock, export_format: str
) -> None:
    with app.app_context():
        for n in range(600):
            members.create_member(f"many{n}@example.com", None, now=clock(), display_name="x" * 80)
        db.session.commit()
    response = download(admin, export_format)
    body = iter(response.response)
    assert next(body)
    response.close()  # the browser went away
    with app.app_context():
        members.create_member("after@example.com", None, now=clock())
        db.session.commit()
    assert admin.get(URL).status_code == 200
    assert "after@example.com" in download(admin, "json").get_data(as_text=True)
