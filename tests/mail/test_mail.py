"""The one place that sends mail: the dev folder, real SMTP, and header safety."""

from __future__ import annotations

import email
import email.policy
import logging
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from app.mail.message import DeliveryFailed, HeaderInjection, Message, RelayUnavailable, build
from app.mail.sending import open_transport, send_message
from app.mail.transport import SMTPTransport
from tests.helpers import SMTPSink, free_port

MESSAGE = Message(
    to="reader@example.com",
    to_name="Robin",
    subject="Hello",
    text="Plain words.",
    html="<p>Plain words.</p>",
    headers={"List-Id": "<letter.example.com>"},
)


def test_by_default_every_message_is_an_eml_file_and_one_log_line(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["MAIL_URL"] = ""
    with app.app_context(), caplog.at_level(logging.INFO, logger="pullfirst.mail"):
        message_id = send_message(MESSAGE)
    files = list((Path(app.instance_path) / "mail").glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == message_id
    assert parsed["List-Id"] == "<letter.example.com>"
    assert parsed.get_body(preferencelist=("plain",)).get_content().strip() == "Plain words."
    lines = [r.getMessage() for r in caplog.records if r.name == "pullfirst.mail"]
    assert len(lines) == 1 and "reader@example.com" in lines[0] and str(files[0]) in lines[0]


def test_smtp_delivers_multipart_with_headers(app: Flask, smtp: SMTPSink) -> None:
    with app.app_context():
        message_id = send_message(MESSAGE)
    [received] = smtp.wait_for(1)
    assert received["Message-ID"] == message_id
    assert received["From"] == "Pullfirst <hello@pullfirst.example>"
    assert received.get_content_type() == "multipart/alternative"
    assert smtp.envelopes[0] == ("hello@pullfirst.example", ["reader@example.com"])


def test_one_connection_serves_a_batch(app: Flask, smtp: SMTPSink) -> None:
    with app.app_context(), open_transport() as transport:
        for n in range(5):
            send_message(Message(to=f"r{n}@example.com", subject=f"n{n}", text="x"), transport)
        assert isinstance(transport, SMTPTransport) and transport._smtp is not None
    assert len(smtp.wait_for(5)) == 5


class _Auth:
    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"mailer",
            b"s3cret/pw",
        )
        return AuthResult(success=ok, handled=False)


class _Keep:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_url_carries_the_login(app: Flask) -> None:
    port, handler = free_port(), _Keep()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_Auth(),
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    try:
        app.config["MAIL_URL"] = f"smtp://mailer:s3cret%2Fpw@127.0.0.1:{port}"
        with app.app_context():
            send_message(MESSAGE)
        assert handler.count == 1
        app.config["MAIL_URL"] = f"smtp://mailer:wrong@127.0.0.1:{port}"
        with app.app_context(), pytest.raises(RelayUnavailable) as caught:
            send_message(MESSAGE)
        # A refused sign-in says nothing about the message: the relay is unusable as set up,
        # so the notifier waits for it (a circuit) instead of spending attempts.
        assert caught.value.temporary is True and "535" in str(caught.value)
    finally:
        controller.stop()


def test_a_server_that_is_down_is_a_temporary_failure(app: Flask) -> None:
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}"
    with app.app_context(), pytest.raises(DeliveryFailed) as caught:
        send_message(MESSAGE)
    assert caught.value.temporary is True


class _Refuse:
    def __init__(self, code: str) -> None:
        self.code = code

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return self.code


@pytest.mark.parametrize(
    ("reply", "temporary"), [("550 no such user", False), ("451 try later", True)]
)
def test_refused_recipients_say_whether_a_retry_can_help(
    app: Flask, reply: str, temporary: bool
) -> None:
    port = free_port()
    controller = Controller(_Refuse(reply), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        with app.app_context(), pytest.raises(DeliveryFailed) as caught:
            send_message(MESSAGE)
        assert caught.value.temporary is temporary
    finally:
        controller.stop()


HOSTILE = st.tuples(
    st.text(max_size=30),
    st.sampled_from(["\r\n", "\n", "\r", "\x00", "\x0b", "\x1c", "\x85", "\u2028"]),
).map(lambda parts: parts[0] + parts[1] + "Bcc: victim@example.com")


@settings(max_examples=200, deadline=None)
@given(name=HOSTILE, subject=HOSTILE)
def test_no_header_can_be_injected(name: str, subject: str) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    for message in (
        Message(to="a@example.com", to_name=name, subject="ok", text="x"),
        Message(to="a@example.com", subject=subject, text="x"),
        Message(to="a@example.com", subject="ok", text="x", headers={"X-Tag": subject}),
    ):
        with pytest.raises(HeaderInjection):
            build(message, "Pullfirst <hello@example.com>", now)


def _printable(text: str) -> bool:
    return len(text.splitlines()) <= 1 and all(
        c == "\t" or c.isprintable() or c == " " for c in text
    )


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    name=st.text(max_size=60).filter(_printable), subject=st.text(max_size=120).filter(_printable)
)
def test_any_clean_name_and_subject_survive_a_round_trip(name: str, subject: str) -> None:
    from datetime import UTC, datetime

    built = build(
        Message(to="a@example.com", to_name=name, subject=subject, text="x"),
        "Pullfirst <hello@example.com>",
        datetime.now(UTC),
    )
    parsed = email.message_from_bytes(built.as_bytes(), policy=email.policy.default)
    assert set(parsed.keys()) == {
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Content-Type",
        "Content-Transfer-Encoding",
        "MIME-Version",
    }
    assert parsed["To"].addresses[0].addr_spec == "a@example.com"


def test_a_campaign_mail_in_the_dev_folder_reads_like_any_other(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """The notifier's filled mails go to the same folder, with the envelope sender as
    Return-Path, CRLF line ends and a name made of the Message-ID."""
    from app.mail.transport import FolderTransport
    from app.notify.channels import Outgoing
    from app.notify.email import EmailChannel
    from app.notify.render import prepared_body

    folder = Path(app.instance_path) / "mail"
    with app.test_request_context(), caplog.at_level(logging.INFO, logger="pullfirst.mail"):
        channel = EmailChannel(FolderTransport(folder), app.config["MAIL_FROM"])
        item = Outgoing(
            12,
            3,
            "editorial",
            "newsletter",
            "The weekly letter",
            "Once a week.",
            5,
            "reader@example.com",
            "Robin",
            "Spring birds",
            prepared_body("Look up: [the birds](https://example.com/birds)."),
            "http://localhost/u/t",
            "http://localhost/why/w",
            "http://localhost/inbox/12",
        )
        assert channel.send(item) == "<delivery-12@pullfirst.example>"
    [file] = folder.glob("*.eml")
    assert file.name.endswith("-delivery-12_pullfirst.example.eml")
    raw = file.read_bytes()
    assert raw.startswith(b"Return-Path: <bounces+12.") and b"\n" not in raw.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Message-ID"] == "<delivery-12@pullfirst.example>"
    assert parsed["To"] == "Robin <reader@example.com>" and parsed["Subject"] == "Spring birds"
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    assert "Look up: the birds (http://localhost/t/" in text
    lines = [r.getMessage() for r in caplog.records if r.name == "pullfirst.mail"]
    assert len(lines) == 1 and "reader@example.com" in lines[0] and str(file) in lines[0]
