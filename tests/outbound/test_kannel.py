"""The SMS client (:mod:`app.outbound.kannel`): the segment arithmetic the campaign preview
shows, pure; then sending, delivery reports and inbound SMS through a real bearerbox and smsbox
with Kannel's simulated SMS centre (:mod:`tests.kannel`), which skip without Kannel."""

from __future__ import annotations

import socket
from urllib.parse import quote

import httpx
import pytest

from app.outbound.kannel import (
    GSM7,
    GSM7_EXTENSION,
    UCS2,
    Segments,
    SmsError,
    SmsGateway,
    SmsGatewayDown,
    SmsRejected,
    is_gsm7,
    segments,
)
from tests import kannel as harness
from tests.kannel import InboundRecorder, KannelGateway, fake_line, parse_phone_log

# The harness's fixtures, used here as they are.
inbound_recorder = harness.inbound_recorder
sms_inbound_url = harness.sms_inbound_url
kannel = harness.kannel

PHONE = "+447700900123"
OTHER_PHONE = "+447700900456"

# --- GSM-7 or UCS-2 ---------------------------------------------------------------------------


def test_gsm7_alphabet() -> None:
    assert is_gsm7("")
    assert is_gsm7("Hello @ £5, 50% off! Ça va? Ñoño ÆØÅ ΔΦΓΛΩΠΨΣΘΞ ¡¿ §¤\n\r")
    assert is_gsm7("€[]{}^~\\|\f")
    for text in ("ç", "á", "â", "`", "✋", "😀", "\t", "ő", "€\u0301"):
        assert not is_gsm7(text), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Segments(GSM7, 0, 1)),
        ("a" * 160, Segments(GSM7, 160, 1)),
        ("a" * 161, Segments(GSM7, 161, 2)),
        ("a" * 306, Segments(GSM7, 306, 2)),
        ("a" * 307, Segments(GSM7, 307, 3)),
        ("a" * 459, Segments(GSM7, 459, 3)),
        ("€" * 80, Segments(GSM7, 160, 1)),
        ("€" * 80 + "a", Segments(GSM7, 161, 2)),
        ("a" * 159 + "]", Segments(GSM7, 161, 2)),
        # an escaped character is never split, so the first part ends one septet short
        ("a" * 152 + "{" + "a" * 152, Segments(GSM7, 306, 3)),
        ("ç" * 70, Segments(UCS2, 70, 1)),
        ("ç" * 71, Segments(UCS2, 71, 2)),
        ("ç" * 134, Segments(UCS2, 134, 2)),
        ("ç" * 135, Segments(UCS2, 135, 3)),
        ("😀" * 35, Segments(UCS2, 70, 1)),
        ("😀" * 35 + "a", Segments(UCS2, 71, 2)),
        # a surrogate pair is never split either
        ("x" * 66 + "😀" + "x" * 66, Segments(UCS2, 134, 3)),
        ("x" * 65 + "😀" + "x" * 67, Segments(UCS2, 134, 2)),
        ("Stöp ✋", Segments(UCS2, 6, 1)),
    ],
)
def test_segments(text: str, expected: Segments) -> None:
    assert segments(text) == expected


def test_each_extension_character_takes_two_septets() -> None:
    for char in GSM7_EXTENSION:
        assert segments("a" * 158 + char) == Segments(GSM7, 160, 1), repr(char)
        assert segments("a" * 159 + char) == Segments(GSM7, 161, 2), repr(char)


def test_one_character_outside_gsm7_turns_the_whole_text_to_ucs2() -> None:
    assert segments("a" * 70) == Segments(GSM7, 70, 1)
    assert segments("a" * 69 + "✋") == Segments(UCS2, 70, 1)
    assert segments("a" * 70 + "✋") == Segments(UCS2, 71, 2)


# --- the client against stand-ins ------------------------------------------------------------


def _answering(status: int, body: str, seen: list[httpx.Request]) -> SmsGateway:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text=body)

    return SmsGateway(
        "http://kannel.test/cgi-bin/sendsms",
        "user",
        "pa$$word",
        "+15550100",
        transport=httpx.MockTransport(handler),
    )


def test_the_request_carries_every_parameter_and_keeps_the_dlr_placeholder() -> None:
    seen: list[httpx.Request] = []
    with _answering(202, "0: Accepted for delivery", seen) as gateway:
        gateway.send(PHONE, "Stöp ✋ 100%+", dlr_url="https://example.org/dlr?id=7&status=%d")
    (request,) = seen
    params = dict(request.url.params)
    assert params == {
        "username": "user",
        "password": "pa$$word",
        "from": "+15550100",
        "to": PHONE,
        "text": "Stöp ✋ 100%+",
        "charset": "UTF-8",
        "coding": "2",
        "dlr-mask": "31",
        "dlr-url": "https://example.org/dlr?id=7&status=%d",
    }
    raw = request.url.query.decode()
    assert "to=%2B447700900123" in raw
    assert "%25d" in raw  # smsbox decodes it back to %d and substitutes the report type


def test_gsm_text_without_dlr_sends_no_coding_and_no_mask() -> None:
    seen: list[httpx.Request] = []
    with _answering(202, "3: Queued for later delivery", seen) as gateway:
        gateway.send(PHONE, "Hello [world] €5")
    params = dict(seen[0].url.params)
    assert "coding" not in params
    assert "dlr-mask" not in params
    assert "dlr-url" not in params


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, "Authorization failed for sendsms", SmsRejected),
        (400, "Missing receiver number, rejected", SmsRejected),
        (503, "4: Message rejected by bearerbox, no router", SmsGatewayDown),
        (500, "", SmsGatewayDown),
        (202, "something unexpected", SmsGatewayDown),
    ],
)
def test_answers_map_to_errors(status: int, body: str, error: type[SmsError]) -> None:
    with _answering(status, body, []) as gateway, pytest.raises(error) as caught:
        gateway.send(PHONE, "hi")
    assert caught.value.status == status
    assert str(caught.value).startswith(f"Kannel answered {status}")
    if body:
        assert body in str(caught.value)


def test_the_password_never_appears_in_an_error() -> None:
    with (
        _answering(403, "bad password pa$$word", []) as gateway,
        pytest.raises(SmsRejected) as caught,
    ):
        gateway.send(PHONE, "hi")
    assert "pa$$word" not in str(caught.value)
    assert "pa$$word" not in repr(gateway)


def test_a_closed_port_is_gateway_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens there any more
    url = f"http://127.0.0.1:{port}/cgi-bin/sendsms"
    with (
        SmsGateway(url, "u", "p", "+15550100", timeout=2) as gateway,
        pytest.raises(SmsGatewayDown) as caught,
    ):
        gateway.send(PHONE, "hi")
    assert caught.value.status == 0
    assert "not reachable" in str(caught.value)


def test_a_silent_gateway_times_out_as_down() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/cgi-bin/sendsms"
        with (
            SmsGateway(url, "u", "p", "+15550100", timeout=0.3) as gateway,
            pytest.raises(SmsGatewayDown, match="no answer in time"),
        ):
            gateway.send(PHONE, "hi")


# --- the harness's own parsing ---------------------------------------------------------------


def test_phone_log_parsing() -> None:
    def got(number: int, line: str) -> str:
        return f"2026-12-05 03:16:08 [8137] [0] DEBUG: Got message {number}: <{line}>"

    ucs2 = quote("Stöp ✋ 😀".encode("utf-16-be"), safe="").replace("%20", "+")
    log = "\n".join(
        [
            "2026-12-05 03:16:07 [8137] [0] INFO: fakesmsc starting",
            got(1, "+1 +2 text hello > world"),
            got(2, f"+1 +2 ucs-2 {ucs2}"),
            got(3, "+1 +2 udh %05%00%03%07%02%02 data %E2%82%AC+b"),
            got(4, "+1 +3 text first line"),
            got(5, "second line"),
            got(6, "+1 +2 udh %05%00%03%07%02%01 data a+"),
        ]
    )
    messages = parse_phone_log(log)
    assert [(m.to, m.text, m.encoding, m.parts) for m in messages] == [
        ("+2", "hello > world", GSM7, 1),
        ("+2", "Stöp ✋ 😀", UCS2, 1),
        ("+3", "first line\nsecond line", GSM7, 1),
        ("+2", "a € b", GSM7, 2),
    ]


def test_fake_lines() -> None:
    assert fake_line("+1", "+2", "STOP") == "+1 +2 text STOP"
    assert fake_line("+1", "+2", "ç").startswith("+1 +2 ucs2 %00%E7")
    assert " ucs2 " in fake_line("+1", "+2", "two\nlines")


# --- through a real Kannel -------------------------------------------------------------------


def _client(kannel: KannelGateway, password: str | None = None) -> SmsGateway:
    return SmsGateway(
        kannel.sendsms_url, kannel.username, password or kannel.password, kannel.sender
    )


@pytest.mark.parametrize(
    "text",
    [
        "Hello from Pullfirst: 20% off today only! Reply STOP to opt out.",
        "Prices: €5 [was {€7}] ^~\\| @home £3 ¥4 Ñoño",
        "Stöp ✋ – naïve café 😀",
        "a+b=c & 100% %d <tag> \"quoted\" 'single'",
    ],
)
def test_a_sent_sms_reaches_the_phone_byte_exact(kannel: KannelGateway, text: str) -> None:
    with _client(kannel) as gateway:
        gateway.send(PHONE, text)
    message = kannel.wait_for(PHONE)
    assert message.text == text
    assert message.sender == kannel.sender
    assert message.encoding == (GSM7 if is_gsm7(text) else UCS2)
    assert message.parts == 1


def test_long_texts_arrive_in_the_parts_segments_predicts(kannel: KannelGateway) -> None:
    gsm = "Week 12: " + "all the news you asked for. " * 8  # 233 septets
    ucs = "Grüße ✋ " * 12  # 96 code units
    with _client(kannel) as gateway:
        gateway.send(PHONE, gsm)
        gateway.send(OTHER_PHONE, ucs)
    first, second = kannel.wait_for(PHONE), kannel.wait_for(OTHER_PHONE)
    assert (first.text, first.encoding, first.parts) == (gsm, GSM7, segments(gsm).count)
    assert (second.text, second.encoding, second.parts) == (ucs, UCS2, segments(ucs).count)
    assert first.parts == second.parts == 2


def test_a_text_with_line_breaks_arrives_whole(kannel: KannelGateway) -> None:
    text = "Line one\nLine two\n\nReply STOP"
    with _client(kannel) as gateway:
        gateway.send(PHONE, text)
    assert kannel.wait_for(PHONE).text == text


def test_the_dlr_url_is_called_with_8_and_1(
    kannel: KannelGateway, inbound_recorder: InboundRecorder
) -> None:
    dlr_url = f"http://127.0.0.1:{inbound_recorder.port}/sms/dlr?message=42&status=%d"
    with _client(kannel) as gateway:
        gateway.send(PHONE, "with a report", dlr_url=dlr_url)
    kannel.wait_for(PHONE)
    reports = inbound_recorder.wait(2)
    assert inbound_recorder.paths == ["/sms/dlr", "/sms/dlr"]
    # smsbox calls the URL for both reports at once: either may come first, so the product
    # must not let a late 8 (taken by the SMS centre) undo a 1 (delivered)
    assert sorted(reports, key=lambda report: report["status"]) == [
        {"message": "42", "status": "1"},
        {"message": "42", "status": "8"},
    ]


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "Stöp ✋",
        "yes  please, 100% + more",
        "two\nlines 😀",
        "ça\n\nva ?",
        "Price €5 [ok] {x}",
    ],
)
def test_an_inbound_sms_reaches_the_inbound_url_exactly(
    kannel: KannelGateway, inbound_recorder: InboundRecorder, text: str
) -> None:
    kannel.inject(PHONE, text)
    (request,) = inbound_recorder.requests  # inject() returns once smsbox has had the answer
    assert inbound_recorder.paths == ["/sms/inbound"]
    assert request["from"] == PHONE
    assert request["to"] == kannel.sender
    assert request["text"] == text
    assert request["coding"] == "0"
    assert request["charset"] == "UTF-8"
    assert len(request["id"]) == 36
    assert request["time"][:2] == "20"


def test_injections_in_a_row_keep_their_order_and_receiver(
    kannel: KannelGateway, inbound_recorder: InboundRecorder
) -> None:
    kannel.inject(PHONE, "first")
    kannel.inject(OTHER_PHONE, "second", to="+15550199")
    kannel.inject(PHONE, "third")
    got = [(r["from"], r["to"], r["text"]) for r in inbound_recorder.requests]
    assert got == [
        (PHONE, kannel.sender, "first"),
        (OTHER_PHONE, "+15550199", "second"),
        (PHONE, kannel.sender, "third"),
    ]
    assert kannel.messages() == []  # the inbound service answers nothing to the phone


def test_a_wrong_password_is_rejected(kannel: KannelGateway) -> None:
    with _client(kannel, password="wrong") as gateway, pytest.raises(SmsRejected) as caught:
        gateway.send(PHONE, "hi")
    assert caught.value.status == 403
    assert "Authorization failed" in str(caught.value)


def test_a_missing_receiver_is_rejected(kannel: KannelGateway) -> None:
    with _client(kannel) as gateway, pytest.raises(SmsRejected) as caught:
        gateway.send("", "hi")
    assert caught.value.status == 400
    assert "receiver" in str(caught.value)


def test_a_stopped_gateway_is_down(kannel: KannelGateway) -> None:
    kannel.stop()
    with _client(kannel) as gateway, pytest.raises(SmsGatewayDown):
        gateway.send(PHONE, "hi")
