"""Marketers' view of in-store code batches: issued, redeemed, used up, expired, still open;
and issuing a batch from the browser, as a CSV file or as printable cards with QR codes.

Issuing follows the command line's rules (:func:`app.engage.redemption.issue_codes`): a batch
name of lower-case letters, digits and dashes, uses per code, an expiry day in the future;
issuing into an existing batch adds codes to it with its own uses and expiry. The printed codes
exist only in the answer to the issuing request.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, Response, current_app, render_template, request
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, Regexp

from app import clock
from app.accounts.roles import role_required
from app.admin import code_cards
from app.editorfiles.fields import parse_moment
from app.engage import codes as code_symbols
from app.engage.errors import BatchError, CodeMalformed
from app.engage.models import Code
from app.engage.redemption import (
    BATCH_NAME,
    MAX_USES,
    IssuedCodes,
    batch_stats,
    code_key,
    find_batch,
    issue_codes,
)
from app.extensions import db
from app.web.errors import render_error
from app.web.nav import AdminSection, register_admin_section


class IssueForm(FlaskForm):
    batch = StringField(
        "Batch name",
        validators=[
            DataRequired("Name the batch."),
            Regexp(
                BATCH_NAME.pattern,
                message="Use lower-case letters, digits and dashes, like spring-store.",
            ),
        ],
    )
    count = IntegerField(
        "How many codes",
        validators=[
            InputRequired("Say how many codes."),
            NumberRange(
                1,
                code_cards.MAX_WEB_COUNT,
                f"Issue between 1 and {code_cards.MAX_WEB_COUNT:,} codes at a time here.",
            ),
        ],
    )
    uses = IntegerField(
        "Uses per code",
        default=1,
        validators=[
            InputRequired("Say how many times each code works."),
            NumberRange(1, MAX_USES, f"Each code works between 1 and {MAX_USES:,} times."),
        ],
    )
    expires = DateField("Last day the codes work (optional)", validators=[Optional()])
    cards = SubmitField("Issue and print cards")
    csv = SubmitField("Issue and download CSV")


def _expiry(day: date | None) -> datetime | None:
    """The exclusive end of ``day`` in UTC (the CLI's ``--expires`` rule)."""
    return None if day is None else parse_moment(day, end_of_day=True)


def _page(form: IssueForm, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "admin/codes.html",
            stats=batch_stats(clock.now()),
            form=form,
            max_cards=code_cards.MAX_CARDS,
            max_count=code_cards.MAX_WEB_COUNT,
        ),
        status,
    )


def _csv_response(issued: IssuedCodes) -> Response:
    name = code_cards.csv_filename(issued, clock.now())
    return Response(
        code_cards.codes_csv(issued),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@role_required("marketer")
def codes() -> str | Response | tuple[str, int]:
    form = IssueForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, 400 if form.csrf_token.errors else 200)
    as_cards = bool(form.cards.data) and not form.csv.data
    count = form.count.data or 0
    if as_cards and count > code_cards.MAX_CARDS:
        form.count.errors = [
            f"Cards are printed {code_cards.MAX_CARDS} at a time: issue {code_cards.MAX_CARDS} "
            "or fewer (and again into the same batch for more), or download a CSV."
        ]
        return _page(form)
    now = clock.now()
    try:
        issued = issue_codes(
            form.batch.data or "",
            count,
            now=now,
            uses=form.uses.data,
            expires_at=_expiry(form.expires.data),
        )
    except BatchError as exc:
        db.session.rollback()
        form.form_errors.append(_web_words(str(exc)))
        return _page(form)
    db.session.commit()
    if not as_cards:
        return _csv_response(issued)
    return render_template(
        "admin/code_cards.html",
        issued=issued,
        cards=code_cards.cards(issued, current_app.config["BASE_URL"]),
        valid_until=code_cards.last_valid_day(issued),
        form=CsvForm(),
    )


def _web_words(message: str) -> str:
    """The CLI's message in the form's words (``--expires`` is the field "Last day")."""
    words = {
        "--expires": "the last day",
        "--uses": "uses per code",
        "--count": "how many codes",
        "leave out": "leave out",
    }
    for flag, field in words.items():
        message = message.replace(flag, field)
    return message[:1].upper() + message[1:] + "."


class CsvForm(FlaskForm):
    """The cards page's "Download these codes as CSV": the codes it shows, sent back."""


@role_required("marketer")
def codes_csv() -> Response | tuple[str, int]:
    """The CSV of codes a cards page showed, sent back by its form: only well-formed codes
    that belong to the named batch are written (a forged list yields nothing new)."""
    if not CsvForm().validate_on_submit():
        return render_error(400)
    batch = find_batch(request.form.get("batch", ""))
    if batch is None:
        return render_error(404)
    typed = request.form.getlist("code")[: code_cards.MAX_CARDS]
    key, printed = code_key(), {}
    for text in typed:
        try:
            symbols = code_symbols.normalise(text)
        except CodeMalformed:
            continue
        printed[code_symbols.code_hash(symbols, key)] = code_symbols.format_code(symbols)
    known = set(
        db.session.scalars(
            select(Code.code_hash).where(
                Code.batch_id == batch.id, Code.code_hash.in_(list(printed))
            )
        )
    )
    issued = IssuedCodes(
        batch.name,
        [code for digest, code in printed.items() if digest in known],
        batch.uses_per_code,
        batch.expires_at,
    )
    return _csv_response(issued)


def register(app: Flask) -> None:
    register_admin_section(
        app,
        AdminSection(
            "In-store codes",
            "admin.codes",
            "marketer",
            "Issue code batches as printable cards or CSV; see how many were redeemed.",
            order=35,
        ),
    )
