"""Admin → In-store codes: issuing a batch in the browser (the CLI's rules), the CSV file with
formula-safe cells, and printable cards whose QR codes hold BASE_URL/redeem?code=<code>."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import PASSWORD, Clock
from tests.helpers import csrf_token, post_form, sign_in


@pytest.fixture
def marketer(app: Flask, clock: Clock) -> FlaskClient:
    from app.accounts import members
    from app.extensions import db

    with app.app_context():
        members.create_member(
            "marketer@example.com", PASSWORD, now=clock(), verified=True, role="marketer"
        )
        db.session.commit()
    client = app.test_client()
    sign_in(client, "marketer@example.com", PASSWORD)
    return client


def issue(client: FlaskClient, button: str = "cards", **fields: object):
    data: dict[str, object] = {"batch": "spring-store", "count": 3, "uses": 1, "expires": ""}
    data.update(fields)
    data[button] = "yes"
    return post_form(client, "/admin/codes", data)


def codes_in(app: Flask, batch: str) -> int:
    from app.engage.models import Code, CodeBatch
    from app.extensions import db

    with app.app_context():
        return (
            db.session.scalar(
                select(func.count())
                .select_from(Code)
                .join(CodeBatch, CodeBatch.id == Code.batch_id)
                .where(CodeBatch.name == batch)
            )
            or 0
        )


def test_cards_show_each_code_with_the_qr_of_its_redeem_url(
    app: Flask, marketer: FlaskClient, clock: Clock
) -> None:
    from app.admin.code_cards import qr_svg, redeem_url
    from app.engage import codes

    last = (clock() + timedelta(days=30)).date()
    response = issue(marketer, expires=last.isoformat())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "3 cards for spring-store" in page
    assert "@media print" not in page  # the print sheet is a file: no inline style
    assert 'href="/static/code-cards.css' in page
    cards = re.findall(
        r'<li class="code-card">\s*<div class="code-card-qr" data-url="([^"]+)">'
        r"(<svg.*?</svg>)</div>"
        r'.*?<p class="code-card-code">([^<]+)</p>',
        page,
        re.S,
    )
    assert len(cards) == 3
    base = app.config["BASE_URL"].rstrip("/")
    with app.app_context():
        for url, svg, code in cards:
            codes.normalise(code)  # a well-formed code with its check character
            assert url == f"{base}/redeem?code={code}" == redeem_url(base, code)
            assert svg == str(qr_svg(url))  # the same QR, built again from the right URL
    assert len({code for _, _, code in cards}) == 3
    assert codes_in(app, "spring-store") == 3
    listing = marketer.get("/admin/codes").get_data(as_text=True)
    assert "<td>3</td><td>0</td>" in listing  # issued 3, redeemed 0


def test_a_card_code_redeems_through_its_qr_url(
    app: Flask, marketer: FlaskClient, member: object
) -> None:
    page = issue(marketer, count=1).get_data(as_text=True)
    (url,) = re.findall(r'data-url="([^"]+)"', page)
    path = url.split("localhost", 1)[-1]
    reader = app.test_client()
    sign_in(reader, "reader@example.com", PASSWORD)
    form = reader.get(path).get_data(as_text=True)
    code = url.rsplit("=", 1)[1]
    assert f'value="{code}"' in form  # /redeem?code= fills the form
    listing = marketer.get("/admin/codes").get_data(as_text=True)
    assert "spring-store" in listing


def test_the_csv_download_has_the_clis_columns(app: Flask, marketer: FlaskClient) -> None:
    response = issue(marketer, "csv", count=4, uses=2, expires="2099-01-31")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["code", "batch", "uses", "valid_until"]
    assert len(rows) == 5
    assert {tuple(r[1:]) for r in rows[1:]} == {("spring-store", "2", "2099-01-31")}
    assert codes_in(app, "spring-store") == 4


def test_the_cards_page_downloads_its_codes_and_nothing_forged(
    app: Flask, marketer: FlaskClient
) -> None:
    from app.engage import codes

    page = issue(marketer, count=2).get_data(as_text=True)
    shown = re.findall(r'<input type="hidden" name="code" value="([^"]+)">', page)
    assert len(shown) == 2
    forged = codes.generate()  # well formed, but never issued
    response = marketer.post(
        "/admin/codes/codes.csv",
        data={"csrf_token": csrf_token(page), "batch": "spring-store", "code": [*shown, forged]},
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(r[0] for r in rows[1:]) == sorted(shown)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("7KQ2-M4XD-9RTB-T", "7KQ2-M4XD-9RTB-T"),
        ("spring-store", "spring-store"),
    ],
)
def test_csv_cells_never_start_a_formula(value: str, safe: str) -> None:
    from app.admin.code_cards import safe_cell

    assert safe_cell(value) == safe


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"count": 0}, "Issue between 1 and 5,000 codes at a time here."),
        ({"count": 100000}, "Issue between 1 and 5,000 codes at a time here."),
        ({"count": ""}, "Say how many codes."),
        ({"uses": 0}, "Each code works between 1 and 100,000 times."),
        ({"batch": "Spring Store"}, "Use lower-case letters, digits and dashes"),
        ({"expires": "2020-01-01"}, "The last day must be in the future."),
        ({"count": 201}, "Cards are printed 200 at a time"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_issues_nothing(
    app: Flask, marketer: FlaskClient, fields: dict[str, object], message: str
) -> None:
    response = issue(marketer, **fields)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert codes_in(app, "spring-store") == 0
    assert codes_in(app, "Spring Store") == 0


def test_an_existing_batch_keeps_its_own_rules(app: Flask, marketer: FlaskClient) -> None:
    issue(marketer, count=1, uses=1)
    response = issue(marketer, count=1, uses=3)
    assert "gives 1 use(s) per code" in response.get_data(as_text=True)
    assert codes_in(app, "spring-store") == 1
    issue(marketer, count=2)  # same rules: the batch grows
    assert codes_in(app, "spring-store") == 3


def test_issuing_needs_the_role_and_a_csrf_token(
    app: Flask, marketer: FlaskClient, member: object
) -> None:
    data = {"batch": "spring-store", "count": 3, "uses": 1, "cards": "yes"}
    assert marketer.post("/admin/codes", data=data).status_code == 400
    reader = app.test_client()
    sign_in(reader, "reader@example.com", PASSWORD)
    assert reader.get("/admin/codes").status_code == 403
    token = csrf_token(reader.get("/me/permissions").get_data(as_text=True))
    assert reader.post("/admin/codes", data={**data, "csrf_token": token}).status_code == 403
    assert reader.post("/admin/codes/codes.csv", data={"csrf_token": token}).status_code == 403
    assert codes_in(app, "spring-store") == 0
