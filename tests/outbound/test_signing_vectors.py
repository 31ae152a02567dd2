"""Webhook signatures against the Standard Webhooks specification's published test vectors
(the reference libraries' tests: key, message id, timestamp, payload and the expected
``webhook-signature``), so a mistake shared by our signer and our verifier cannot pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.outbound.signing import SIGNATURE_TOLERANCE_SECONDS, sign, verify_signature

KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
PAYLOAD = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
WRONG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="  # the last byte changed
SENT = datetime.fromtimestamp(TIMESTAMP, UTC)


def headers(signature: str = EXPECTED, **changed: str) -> dict[str, str]:
    values = {
        "webhook-id": MESSAGE_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": signature,
    }
    values.update(changed)
    return values


@pytest.mark.parametrize("key", [KEY, KEY.removeprefix("whsec_")])
def test_the_published_signature(key: str) -> None:
    assert sign(key, MESSAGE_ID, TIMESTAMP, PAYLOAD) == EXPECTED
    assert verify_signature(key, headers(), PAYLOAD, SENT)


def test_a_changed_signature_payload_or_id_fails() -> None:
    assert not verify_signature(KEY, headers(WRONG), PAYLOAD, SENT)
    assert not verify_signature(KEY, headers(), PAYLOAD + b" ", SENT)
    assert not verify_signature(KEY, headers(**{"webhook-id": MESSAGE_ID + "x"}), PAYLOAD, SENT)


def test_one_good_signature_among_several_is_enough() -> None:
    several = " ".join(
        [
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            EXPECTED,
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        ]
    )
    assert verify_signature(KEY, headers(several), PAYLOAD, SENT)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_fails(missing: str) -> None:
    given = headers()
    del given[missing]
    assert not verify_signature(KEY, given, PAYLOAD, SENT)


def test_a_timestamp_that_is_not_a_number_fails() -> None:
    assert not verify_signature(KEY, headers(**{"webhook-timestamp": "hello"}), PAYLOAD, SENT)


def test_the_tolerance_is_five_minutes_either_way() -> None:
    assert SIGNATURE_TOLERANCE_SECONDS == 300
    edge = timedelta(seconds=SIGNATURE_TOLERANCE_SECONDS)
    for now in (SENT - edge, SENT + edge):
        assert verify_signature(KEY, headers(), PAYLOAD, now)
    for now in (SENT - edge - timedelta(seconds=1), SENT + edge + timedelta(seconds=1)):
        assert not verify_signature(KEY, headers(), PAYLOAD, now)
