"""A campaign's mail is written once and filled per delivery: the filled bytes must read exactly
as the message the email package builds from the same values, and the prepared body exactly as
tracking and converting the body afresh."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from flask import Flask, render_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.mail.message import HeaderInjection, Message, build
from app.notify.channels import Outgoing
from app.notify.mailmerge import FOLD, MailTemplate, to_header
from app.notify.render import campaign_html, plain_text, prepare, tracked
from app.notify.tokens import read_click

WHEN = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
BODIES = [
    "Plain words and nothing else.",
    "Three links: [one](https://example.com/a), [two](/pages/about) and "
    "[one again](https://example.com/a).\n\n- [x](https://example.org/?q=1&r=2)\n"
    "- [mail](mailto:a@b.c)",
    "Ünïcödé — “quotes”, emoji 🐦 and a [link](https://example.com/ü).",
    "# A heading\n\n" + "A very long line of words " * 60 + "\n\n[end](https://example.com/end)",
    "===============0000000000000000000==\n\nLooks like a boundary, [l](https://e.com/)",
    '<script>alert(1)</script> [x](javascript:alert(1)) [y](https://e.com/"onmouseover=1)',
]
TITLES = [
    "The weekly letter",
    "Réunion à 20 h — “spécial”",
    "A = ?b? =?utf-8?q?x?= title",
    "Long " * 40 + "end",
]
NAMES = [
    "",
    "Robin",
    "Robin Smith",
    "Robin S.",
    "O'Brien, Pat",
    "Zoë Ångström",
    "a  b",
    " padded ",
    "x" * 64,
    "Back\\slash",
    "名前",
]


def _untracked(text: str) -> str:
    """``text`` with every tracker URL replaced by what it tracks (tokens differ per call)."""

    def swap(match: re.Match[str]) -> str:
        link = read_click(match.group(1))
        return f"TRACKED[{link.delivery_id}:{link.url}]"

    return re.sub(r"http://localhost/t/([A-Za-z0-9_.\-]+)", swap, text)


def _item(
    body: str, title: str, name: str, *, open_url: bool = True, email: str = "reader@example.com"
) -> Outgoing:
    return Outgoing(
        delivery_id=4321,
        campaign_id=7,
        kind="editorial",
        scope="newsletter",
        scope_title="The weekly letter",
        promise="At most one message a week.",
        member_id=9,
        email=email,
        display_name=name,
        title=title,
        body=prepare(campaign_html(body)),
        unsubscribe_url="http://localhost/u/tok.EN-1_x",
        why_url="http://localhost/why/w.1",
        inbox_url="http://localhost/inbox/4321",
        open_url="http://localhost/o/op.en" if open_url else None,
    )


def _reference(app: Flask, item: Outgoing) -> EmailMessage:
    """The same mail built the slow way: both templates rendered for this delivery and the
    message assembled by the email package."""
    context = {"item": item, "subject": item.title, "postal_address": "12 Harbour Lane"}
    token = item.unsubscribe_url.rsplit("/", 1)[-1]
    headers = {
        "X-Pullfirst-Delivery": str(item.delivery_id),
        "List-Unsubscribe": f"<{item.unsubscribe_url}>, "
        f"<mailto:news@pullfirst.example?subject=unsubscribe%20{token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": '"The weekly letter" <newsletter.localhost>',
    }
    message = Message(
        to=item.email,
        to_name=item.display_name,
        subject=item.title,
        text=render_template("notify/mail.txt", **context),
        html=render_template("notify/mail.html", **context),
        headers=headers,
        message_id=f"<delivery-{item.delivery_id}@pullfirst.example>",
    )
    wire = build(message, app.config["MAIL_FROM"], WHEN).as_bytes(policy=FOLD)  # as smtplib
    parsed = BytesParser(policy=policy.default).parsebytes(wire)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _filled(app: Flask, item: Outgoing) -> EmailMessage:
    template = MailTemplate(
        item,
        sender=app.config["MAIL_FROM"],
        domain="pullfirst.example",
        mailbox="news@pullfirst.example",
        site="localhost",
        postal_address="12 Harbour Lane",
    )
    filled = template.fill(item, WHEN)
    assert b"\r\n" in filled.data and b"\n" not in filled.data.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in filled.data.split(b"\r\n"))
    assert filled.message_id == f"<delivery-{item.delivery_id}@pullfirst.example>"
    parsed = BytesParser(policy=policy.default).parsebytes(filled.data)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _same_mail(filled: EmailMessage, reference: EmailMessage) -> None:
    names = [n for n in reference if n != "Content-Type"]
    assert [n for n in filled if n != "Content-Type"] == names
    for name in names:
        assert str(filled[name]) == str(reference[name]), name
    assert filled.get_content_type() == "multipart/alternative"
    for kind in ("plain", "html"):
        mine, theirs = filled.get_body((kind,)), reference.get_body((kind,))
        assert mine is not None and theirs is not None
        assert mine["Content-Type"].params == theirs["Content-Type"].params
        assert _untracked(mine.get_content()) == _untracked(theirs.get_content())


@pytest.mark.parametrize("body", BODIES)
def test_a_prepared_body_fills_as_tracking_afresh(app: Flask, body: str) -> None:
    with app.test_request_context():
        html = campaign_html(body)
        filled = prepare(html).fill(55)
        afresh = tracked(html, 55)
        assert _untracked(filled.html) == _untracked(afresh)
        assert _untracked(filled.text) == _untracked(plain_text(afresh))


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("title", TITLES)
def test_a_filled_mail_reads_as_the_email_package_writes_it(
    app: Flask, body: str, title: str
) -> None:
    with app.test_request_context():
        item = _item(body, title, "Robin Smith")
        _same_mail(_filled(app, item), _reference(app, item))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("open_url", [True, False])
def test_every_recipient_name_reads_the_same(app: Flask, name: str, open_url: bool) -> None:
    with app.test_request_context():
        item = _item(BODIES[1], TITLES[0], name, open_url=open_url)
        _same_mail(_filled(app, item), _reference(app, item))


def test_a_hostile_address_is_refused(app: Flask) -> None:
    with app.test_request_context():
        item = _item(BODIES[0], TITLES[0], "Robin", email="a@b.c\r\nBcc: x@y.z")
        with pytest.raises(HeaderInjection):
            _filled(app, item)


_NAME_CHARS = st.sampled_from(list("abcXYZ09 .,;:\"'()<>@[]\\!#$%&*+-/=?^_`{|}~é名"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(_NAME_CHARS, max_size=40),
    address=st.sampled_from(
        ["r@example.com", "first.last+tag@mail.example.org", "o'neil@example.co.uk"]
    ),
)
def test_the_to_header_is_the_email_package_s(name: str, address: str) -> None:
    """The fast path writes exactly what the email package writes, and anything it does not
    know goes through the email package."""
    from app.mail.message import _address

    mail = EmailMessage(policy=FOLD)
    mail["To"] = _address(name, address)
    assert to_header(name, address).encode() == mail.as_bytes().split(b"\r\n\r\n")[0] + b"\r\n"
