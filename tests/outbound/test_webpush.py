"""The Web Push sender against the local push service (:mod:`tests.push.service`), the VAPID
key store, the check of what a browser posts, and the service itself against RFCs 8030, 8291
and 8292: each refusal the product may meet is provoked on the service with a hand-made
request, so a sender bug cannot hide behind a lax service."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import http_ece  # type: ignore[import-untyped]
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02  # type: ignore[import-untyped]

from app.outbound.webpush import (
    MAX_PAYLOAD_BYTES,
    PushFailed,
    PushGone,
    PushSender,
    Subscription,
    VapidKeys,
    b64url,
    b64url_decode,
    check_subscription,
    vapid_keys,
)
from tests.push.service import PushService

SUBJECT = "mailto:push@pullfirst.example"


@pytest.fixture
def service() -> Iterator[PushService]:
    with PushService() as running:
        yield running
    assert not running.errors, f"the push service itself failed: {running.errors}"


@pytest.fixture
def keys(tmp_path: Path) -> VapidKeys:
    return vapid_keys(tmp_path / "keys")


@pytest.fixture
def sender(keys: VapidKeys) -> Iterator[PushSender]:
    with PushSender(keys, SUBJECT, timeout=5.0) as opened:
        yield opened


# --- the sender --------------------------------------------------------------------------


def test_payload_arrives_decrypted_exactly(service: PushService, sender: PushSender) -> None:
    subscription, _ = service.subscribe()
    payload = {"title": "Neu: Brötchen 🥐", "body": 'a "quoted" line\nand more', "n": 3}
    sender.send(subscription, payload)
    [message] = service.wait_for(1)
    assert message.payload == payload
    assert message.data == json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    assert message.endpoint_id == subscription.endpoint.rsplit("/", 1)[-1]
    assert message.headers["content-encoding"] == "aes128gcm"
    assert not service.refusals


def test_headers_ttl_urgency_topic(service: PushService, sender: PushSender) -> None:
    subscription, _ = service.subscribe()
    sender.send(subscription, {"a": 1}, ttl=600, urgency="high", topic="weekly-letter_42")
    sender.send(subscription, {"a": 2})
    first, second = service.wait_for(2)
    assert (first.headers["ttl"], first.headers["urgency"]) == ("600", "high")
    assert first.headers["topic"] == "weekly-letter_42"
    assert (second.headers["ttl"], second.headers["urgency"]) == ("86400", "normal")
    assert "topic" not in second.headers


def test_vapid_claims_and_key(service: PushService, sender: PushSender, keys: VapidKeys) -> None:
    subscription, _ = service.subscribe(application_server_key=keys.public_key)
    before = time.time()
    sender.send(subscription, {"a": 1})
    [message] = service.wait_for(1)
    assert message.vapid_key == keys.public_key
    assert message.claims["aud"] == service.origin
    assert message.claims["sub"] == SUBJECT
    assert before < message.claims["exp"] <= time.time() + 24 * 3600


def test_fresh_claims_for_each_origin(keys: VapidKeys) -> None:
    with PushService() as one, PushService() as two, PushSender(keys, SUBJECT) as sender:
        first, _ = one.subscribe(application_server_key=keys.public_key)
        second, _ = two.subscribe(application_server_key=keys.public_key)
        sender.send(first, {"to": 1})
        sender.send(second, {"to": 2})
        sender.send(first, {"to": 3})
    assert [m.payload["to"] for m in one.wait_for(2)] == [1, 3]
    assert [m.payload["to"] for m in two.wait_for(1)] == [2]
    assert one.messages[0].claims["aud"] == one.origin
    assert two.messages[0].claims["aud"] == two.origin
    assert not one.refusals and not two.refusals


def test_gone_subscription_raises_push_gone(service: PushService, sender: PushSender) -> None:
    subscription, _ = service.subscribe()
    sender.send(subscription, {"a": 1})
    service.unsubscribe(subscription.endpoint)
    with pytest.raises(PushGone) as caught:
        sender.send(subscription, {"a": 2})
    assert caught.value.status == 410
    assert subscription.endpoint.rsplit("/", 1)[-1] not in str(caught.value)


def test_unknown_subscription_raises_push_gone(service: PushService, sender: PushSender) -> None:
    subscription, _ = service.subscribe()
    missing = Subscription(service.origin + "/push/nobody", subscription.p256dh, subscription.auth)
    with pytest.raises(PushGone) as caught:
        sender.send(missing, {"a": 1})
    assert caught.value.status == 404


def test_too_many_requests_retries_after(service: PushService, sender: PushSender) -> None:
    subscription, _ = service.subscribe()
    service.fail_next(429, retry_after=30)
    with pytest.raises(PushFailed) as caught:
        sender.send(subscription, {"a": 1})
    assert (caught.value.status, caught.value.retry, caught.value.retry_after) == (429, True, 30)
    sender.send(subscription, {"a": 2})
    assert [m.payload for m in service.wait_for(1)] == [{"a": 2}]


def test_server_error_retries(service: PushService, sender: PushSender) -> None:
    subscription, _ = service.subscribe()
    service.fail_next(503)
    with pytest.raises(PushFailed) as caught:
        sender.send(subscription, {"a": 1})
    assert (caught.value.status, caught.value.retry, caught.value.retry_after) == (503, True, None)


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_refusal_is_not_retried(service: PushService, sender: PushSender, status: int) -> None:
    subscription, _ = service.subscribe()
    service.fail_next(status)
    with pytest.raises(PushFailed) as caught:
        sender.send(subscription, {"a": 1})
    assert (caught.value.status, caught.value.retry) == (status, False)


def test_connection_refused_retries(sender: PushSender) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with PushService() as service:
        subscription, _ = service.subscribe()
    closed = Subscription(f"http://127.0.0.1:{port}/push/x", subscription.p256dh, subscription.auth)
    with pytest.raises(PushFailed) as caught:
        sender.send(closed, {"a": 1})
    assert (caught.value.status, caught.value.retry) == (None, True)


def test_no_answer_in_time_retries(keys: VapidKeys) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    with PushService() as service:
        subscription, _ = service.subscribe()
    silent = Subscription(f"http://127.0.0.1:{port}/push/x", subscription.p256dh, subscription.auth)
    try:
        with (
            PushSender(keys, SUBJECT, timeout=0.3) as impatient,
            pytest.raises(PushFailed) as caught,
        ):
            impatient.send(silent, {"a": 1})
        assert caught.value.retry
    finally:
        listener.close()


def test_payload_limit(service: PushService, sender: PushSender) -> None:
    subscription, _ = service.subscribe()
    overhead = len(json.dumps({"t": ""}, separators=(",", ":")))
    largest = {"t": "x" * (MAX_PAYLOAD_BYTES - overhead)}
    sender.send(subscription, largest)
    assert service.wait_for(1)[0].payload == largest
    with pytest.raises(ValueError, match="at most 3000"):
        sender.send(subscription, {"t": "x" * (MAX_PAYLOAD_BYTES - overhead + 1)})
    with pytest.raises(ValueError):  # multi-byte characters count as the bytes they take
        sender.send(subscription, {"t": "é" * 1500})


@pytest.mark.parametrize(
    "options",
    [
        {"ttl": -1},
        {"urgency": "urgent"},
        {"topic": ""},
        {"topic": "x" * 33},
        {"topic": "has space"},
        {"topic": "a+b/c="},
    ],
)
def test_bad_options_refused_before_sending(
    service: PushService, sender: PushSender, options: dict[str, Any]
) -> None:
    subscription, _ = service.subscribe()
    with pytest.raises(ValueError):
        sender.send(subscription, {"a": 1}, **options)
    assert not service.messages and not service.refusals


def test_subject_must_be_mailto_or_https(keys: VapidKeys) -> None:
    with pytest.raises(ValueError):
        PushSender(keys, "push@pullfirst.example")
    with pytest.raises(ValueError):
        PushSender(keys, "http://pullfirst.example")
    PushSender(keys, "https://pullfirst.example/contact").close()


# --- VAPID keys --------------------------------------------------------------------------


def test_vapid_keys_generated_once(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    first = vapid_keys(folder)
    path = folder / "vapid-private.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert vapid_keys(folder) == first
    assert path.read_bytes() == first.private_pem
    assert sorted(p.name for p in folder.iterdir()) == ["vapid-private.pem"]


def test_vapid_public_key_matches_private(keys: VapidKeys) -> None:
    private = serialization.load_pem_private_key(keys.private_pem, password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    point = b64url_decode(keys.public_key)
    assert len(point) == 65 and point[0] == 4
    assert point == private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert "=" not in keys.public_key


def test_vapid_keys_concurrent_first_use(tmp_path: Path) -> None:
    folder = tmp_path / "race"
    found: list[VapidKeys] = []
    start = threading.Barrier(8)

    def load() -> None:
        start.wait()
        found.append(vapid_keys(folder))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8
    assert len({k.private_pem for k in found}) == 1
    assert (folder / "vapid-private.pem").read_bytes() == found[0].private_pem
    assert sorted(p.name for p in folder.iterdir()) == ["vapid-private.pem"]


# --- what a browser posts ----------------------------------------------------------------


def _browser_json(subscription: Subscription) -> dict[str, Any]:
    return {
        "endpoint": subscription.endpoint,
        "expirationTime": None,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }


def _posted() -> dict[str, Any]:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {
        "endpoint": "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABn-x_y",
        "expirationTime": None,
        "keys": {"p256dh": b64url(point), "auth": b64url(os.urandom(16))},
    }


def test_check_subscription_accepts_a_browser_subscription() -> None:
    posted = _posted()
    checked = check_subscription(posted)
    assert checked == Subscription(
        posted["endpoint"], posted["keys"]["p256dh"], posted["keys"]["auth"]
    )
    padded = {**posted, "keys": {k: v + "=" * (-len(v) % 4) for k, v in posted["keys"].items()}}
    assert check_subscription(padded) == checked


def test_check_subscription_loopback_only_when_allowed(service: PushService) -> None:
    subscription, _ = service.subscribe()
    with pytest.raises(ValueError, match="https"):
        check_subscription(_browser_json(subscription))
    assert check_subscription(_browser_json(subscription), allow_loopback=True) == subscription
    elsewhere = {**_browser_json(subscription), "endpoint": "http://push.example/x"}
    with pytest.raises(ValueError, match="https"):
        check_subscription(elsewhere, allow_loopback=True)


def _with(path: str, value: Any) -> dict[str, Any]:
    posted = _posted()
    if path.startswith("keys."):
        posted["keys"][path[5:]] = value
    else:
        posted[path] = value
    return posted


def _not_on_curve() -> str:
    return b64url(b"\x04" + b"\x01" * 64)


@pytest.mark.parametrize(
    "posted",
    [
        pytest.param([], id="not an object"),
        pytest.param({"keys": _posted()["keys"]}, id="no endpoint"),
        pytest.param(_with("endpoint", 42), id="endpoint not text"),
        pytest.param(_with("endpoint", ""), id="empty endpoint"),
        pytest.param(_with("endpoint", "https://push.example/" + "a" * 980), id="too long"),
        pytest.param(_with("endpoint", "http://push.example/x"), id="http"),
        pytest.param(_with("endpoint", "ftp://push.example/x"), id="ftp"),
        pytest.param(_with("endpoint", "javascript:alert(1)"), id="javascript"),
        pytest.param(_with("endpoint", "https:///x"), id="no host"),
        pytest.param(_with("endpoint", "https://a b.example/x"), id="space"),
        pytest.param(_with("endpoint", "https://u:p@push.example/x"), id="user info"),
        pytest.param(_with("endpoint", "https://push.example/x#f"), id="fragment"),
        pytest.param(_with("endpoint", "https://push.example:99999/x"), id="bad port"),
        pytest.param(_with("keys", None), id="no keys"),
        pytest.param(_with("keys", "p256dh"), id="keys not an object"),
        pytest.param(_with("keys.p256dh", None), id="no p256dh"),
        pytest.param(_with("keys.auth", None), id="no auth"),
        pytest.param(_with("keys.p256dh", "not base64!"), id="p256dh not base64url"),
        pytest.param(_with("keys.p256dh", b64url(b"\x04" + b"\x01" * 31)), id="p256dh short"),
        pytest.param(_with("keys.p256dh", b64url(b"\x02" + b"\x01" * 64)), id="compressed tag"),
        pytest.param(_with("keys.p256dh", _not_on_curve()), id="p256dh off the curve"),
        pytest.param(_with("keys.auth", b64url(os.urandom(15))), id="auth 15 bytes"),
        pytest.param(_with("keys.auth", b64url(os.urandom(32))), id="auth 32 bytes"),
        pytest.param(_with("keys.auth", "a+b/" * 5 + "AA"), id="auth plain base64"),
    ],
)
def test_check_subscription_refuses(posted: Any) -> None:
    with pytest.raises(ValueError) as caught:
        check_subscription(posted)
    assert str(caught.value).endswith(".")


# --- the service refuses what a real push service refuses -------------------------------


def _request(
    service: PushService,
    subscription: Subscription,
    *,
    key: ec.EllipticCurvePrivateKey | None = None,
    claims: dict[str, Any] | None = None,
    authorization: str | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    data: bytes = b'{"a":1}',
) -> httpx.Response:
    """POST a hand-made push: by default a valid one, with the parts a test names replaced."""
    vapid = Vapid02(private_key=key or ec.generate_private_key(ec.SECP256R1()))
    given = {"sub": SUBJECT, "aud": service.origin, "exp": int(time.time()) + 3600}
    given.update(claims or {})
    if authorization is None:
        authorization = vapid.sign(given)["Authorization"]
    if body is None:
        body = http_ece.encrypt(
            data,
            private_key=ec.generate_private_key(ec.SECP256R1()),
            dh=b64url_decode(subscription.p256dh),
            auth_secret=b64url_decode(subscription.auth),
            version="aes128gcm",
        )
    sent = {"TTL": "60", "Content-Encoding": "aes128gcm", "Authorization": authorization}
    sent.update(headers or {})
    sent = {name: value for name, value in sent.items() if value}
    return httpx.post(subscription.endpoint, content=body, headers=sent, timeout=5)


def _refused(service: PushService, response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.text
    assert service.refusals[-1].status == status
    assert words in service.refusals[-1].reason
    assert not service.messages


def test_service_accepts_a_hand_made_push(service: PushService) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription)
    assert response.status_code == 201
    assert response.headers["Location"].startswith(service.origin + "/message/")
    assert service.wait_for(1)[0].payload == {"a": 1}


def test_service_accepts_rfc_spacing(service: PushService) -> None:
    subscription, _ = service.subscribe()
    header = Vapid02(private_key=ec.generate_private_key(ec.SECP256R1())).sign(
        {"sub": SUBJECT, "aud": service.origin, "exp": int(time.time()) + 60}
    )["Authorization"]
    response = _request(service, subscription, authorization=header.replace(",k=", ", k="))
    assert response.status_code == 201


def test_service_refuses_wrong_aud(service: PushService) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription, claims={"aud": "https://fcm.googleapis.com"})
    _refused(service, response, 401, "aud")


def test_service_refuses_expired_jwt(service: PushService) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription, claims={"exp": int(time.time()) - 10})
    _refused(service, response, 401, "expired")


def test_service_refuses_exp_over_a_day_ahead(service: PushService) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription, claims={"exp": int(time.time()) + 25 * 3600})
    _refused(service, response, 401, "24 hours")


def test_service_refuses_sub_that_is_no_contact(service: PushService) -> None:
    subscription, _ = service.subscribe()
    vapid = Vapid02(private_key=ec.generate_private_key(ec.SECP256R1()), conf={"no-strict": True})
    header = vapid.sign({"sub": "someone", "aud": service.origin})["Authorization"]
    response = _request(service, subscription, authorization=header)
    _refused(service, response, 401, "sub")


def test_service_refuses_signature_of_another_key(service: PushService) -> None:
    subscription, _ = service.subscribe()
    header = Vapid02(private_key=ec.generate_private_key(ec.SECP256R1())).sign(
        {"sub": SUBJECT, "aud": service.origin}
    )["Authorization"]
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    other_k = b64url(
        other.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    token = header.split("t=", 1)[1].split(",", 1)[0]
    response = _request(service, subscription, authorization=f"vapid t={token}, k={other_k}")
    _refused(service, response, 401, "does not verify")


def test_service_refuses_key_the_subscription_was_not_made_with(
    service: PushService, keys: VapidKeys
) -> None:
    subscription, _ = service.subscribe(application_server_key=keys.public_key)
    response = _request(service, subscription)  # signed and verifiable, but by a stranger
    _refused(service, response, 403, "not the key")


@pytest.mark.parametrize(
    ("authorization", "words"),
    [
        ("Bearer abc", "scheme"),
        ("WebPush eyJ.eyJ.sig", "scheme"),
        ("vapid t=abc", "both t and k"),
        ("vapid t=a.b.c, k=!!", "k is not"),
    ],
)
def test_service_refuses_malformed_authorization(
    service: PushService, authorization: str, words: str
) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription, authorization=authorization)
    _refused(service, response, 401, words)


def test_service_refuses_missing_authorization(service: PushService) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription, authorization="")
    _refused(service, response, 401, "missing Authorization")


def test_service_refuses_missing_ttl(service: PushService) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription, headers={"TTL": ""})
    _refused(service, response, 400, "TTL")


def test_service_refuses_ttl_that_is_no_number(service: PushService) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription, headers={"TTL": "soon"})
    _refused(service, response, 400, "TTL")


def test_service_refuses_wrong_encoding(service: PushService) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription, headers={"Content-Encoding": "aesgcm"})
    _refused(service, response, 400, "aes128gcm")


def test_service_refuses_unknown_urgency(service: PushService) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription, headers={"Urgency": "asap"})
    _refused(service, response, 400, "Urgency")


def test_service_refuses_long_topic(service: PushService) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription, headers={"Topic": "t" * 33})
    _refused(service, response, 400, "Topic")


def test_service_refuses_body_over_4096(service: PushService) -> None:
    subscription, _ = service.subscribe()
    response = _request(service, subscription, body=os.urandom(4097))
    _refused(service, response, 413, "4096")


def test_service_refuses_body_for_other_keys(service: PushService) -> None:
    subscription, _ = service.subscribe()
    stranger, _ = service.subscribe()
    body = http_ece.encrypt(
        b"{}",
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=b64url_decode(stranger.p256dh),
        auth_secret=b64url_decode(stranger.auth),
        version="aes128gcm",
    )
    response = _request(service, subscription, body=body)
    _refused(service, response, 400, "decrypt")


def test_service_answers_gone_after_unsubscribe(service: PushService) -> None:
    subscription, _ = service.subscribe()
    service.unsubscribe(subscription.endpoint)
    response = _request(service, subscription)
    _refused(service, response, 410, "unsubscribed")
