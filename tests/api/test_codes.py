"""POST /api/v1/batches/{batch}/codes: minting for a till, with idempotent retries."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.api.conftest import MakeKey, bearer, problem
from tests.conftest import Clock


def mint(
    client: FlaskClient, key: str, body: object, idem: str = "k-1", batch: str = "spring-store"
):
    headers = {**bearer(key), "Idempotency-Key": idem}
    return client.post(f"/api/v1/batches/{batch}/codes", json=body, headers=headers)


def codes_in(app: Flask) -> int:
    from app.engage.models import Code
    from app.extensions import db

    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Code)) or 0)


def test_minting_answers_codes_that_a_member_can_redeem(
    app: Flask, client: FlaskClient, key: str, batch: str, member: object, clock: Clock
) -> None:
    response = mint(client, key, {"count": 3})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["batch"] == "spring-store" and body["uses"] == 1
    assert len(body["codes"]) == 3 and len({c["code"] for c in body["codes"]}) == 3
    first = body["codes"][0]
    assert first["redeem_url"] == f"http://localhost/redeem?code={first['code']}"
    assert body["expires_at"].startswith((clock() + timedelta(days=30)).date().isoformat())
    assert codes_in(app) == 4
    # Only hashes are stored: the printed code is nowhere in the codes table.
    from app.engage.models import Code
    from app.engage.redemption import redeem
    from app.extensions import db

    with app.app_context():
        assert first["code"] not in " ".join(db.session.scalars(select(Code.code_hash)))
        assert redeem(member.id, first["code"], clock()).action == "code:spring-store"  # type: ignore[attr-defined]


def test_count_defaults_to_one_and_an_empty_body_is_fine(
    client: FlaskClient, key: str, batch: str
) -> None:
    response = client.post(
        "/api/v1/batches/spring-store/codes", headers={**bearer(key), "Idempotency-Key": "x"}
    )
    assert response.status_code == 201 and len(response.get_json()["codes"]) == 1


def test_a_retry_with_the_same_key_and_body_gets_the_same_codes(
    app: Flask, client: FlaskClient, key: str, batch: str
) -> None:
    first = mint(client, key, {"count": 2}, idem="receipt-42")
    again = mint(client, key, {"count": 2}, idem="receipt-42")
    assert again.status_code == first.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert codes_in(app) == 3  # minted once
    # The stored answer is encrypted: the codes are not in the table in clear.
    from app.api.rest_models import ApiIdempotency
    from app.extensions import db

    with app.app_context():
        stored = db.session.scalar(select(ApiIdempotency.response))
        assert stored is not None
        assert first.get_json()["codes"][0]["code"].encode() not in stored


def test_the_same_key_with_another_body_is_a_422(
    app: Flask, client: FlaskClient, key: str, batch: str
) -> None:
    assert mint(client, key, {"count": 2}, idem="receipt-43").status_code == 201
    response = mint(client, key, {"count": 3}, idem="receipt-43")
    assert response.status_code == 422
    assert "another request" in problem(response)["detail"]
    assert codes_in(app) == 3


def test_an_idempotency_key_belongs_to_its_api_key(
    client: FlaskClient, make_key: MakeKey, batch: str
) -> None:
    one, other = make_key(name="Till 1"), make_key(name="Till 2")
    first = mint(client, one, {"count": 1}, idem="same")
    second = mint(client, other, {"count": 1}, idem="same")
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert first.get_json()["codes"] != second.get_json()["codes"]


def test_a_request_still_in_flight_is_a_409_until_its_lease_ends(
    app: Flask, client: FlaskClient, key: str, batch: str, clock: Clock
) -> None:
    from app.api import idempotency
    from app.api.keys import authenticate
    from app.extensions import db

    body = b'{"count": 1}'
    with app.app_context():
        key_id = authenticate(key).id
        canonical = b'{"count": 1}'
        print_ = idempotency.fingerprint("POST", "/api/v1/batches/spring-store/codes", canonical)
        claimed = idempotency.claim(key_id, "busy", print_, clock())
        assert isinstance(claimed, int)
        db.session.commit()
    response = mint(client, key, {"count": 1}, idem="busy")
    assert response.status_code == 409, response.get_data(as_text=True)
    assert "still being answered" in problem(response)["detail"]
    clock.advance(minutes=3)  # the first request died before committing: a retry takes over
    response = mint(client, key, {"count": 1}, idem="busy")
    assert response.status_code == 201 and len(response.get_json()["codes"]) == 1
    assert body  # the fingerprint is of the parsed body, whatever its spacing


def test_a_failed_mint_keeps_no_claim(app: Flask, client: FlaskClient, key: str) -> None:
    assert mint(client, key, {"count": 1}, idem="k", batch="no-such").status_code == 404
    from app.engage.redemption import issue_codes
    from app.extensions import db

    with app.app_context():
        from app import clock as app_clock

        issue_codes("no-such", 1, now=app_clock.now())
        db.session.commit()
    assert mint(client, key, {"count": 1}, idem="k", batch="no-such").status_code == 201


def test_unknown_and_expired_batches(
    app: Flask, client: FlaskClient, key: str, batch: str, clock: Clock
) -> None:
    response = mint(client, key, {"count": 1}, batch="autumn")
    assert response.status_code == 404 and "autumn" in problem(response)["detail"]
    assert mint(client, key, {"count": 1}, batch="Not_A_Batch").status_code == 404
    clock.advance(days=31)
    response = mint(client, key, {"count": 1}, idem="late")
    assert response.status_code == 409 and "expired" in problem(response)["detail"]


def test_bad_requests_are_problems_naming_the_field(
    client: FlaskClient, key: str, batch: str
) -> None:
    bodies = ({"count": 0}, {"count": 51}, {"count": "2"}, {"count": 1, "extra": 1})
    for n, body in enumerate(bodies):
        response = mint(client, key, body, idem=f"bad-{n}")
        assert response.status_code == 422, body
        errors = problem(response)["errors"]
        assert set(errors) <= {"count", "extra"} and errors
    missing = client.post(
        "/api/v1/batches/spring-store/codes", json={"count": 1}, headers=bearer(key)
    )
    assert missing.status_code == 400 and "Idempotency-Key" in problem(missing)["errors"]
    long_key = mint(client, key, {"count": 1}, idem="x" * 256)
    assert long_key.status_code == 400
    not_json = client.post(
        "/api/v1/batches/spring-store/codes",
        data="count=1",
        content_type="application/x-www-form-urlencoded",
        headers={**bearer(key), "Idempotency-Key": "form"},
    )
    assert not_json.status_code == 415 and problem(not_json)
    broken = client.post(
        "/api/v1/batches/spring-store/codes",
        data="{nope",
        content_type="application/json",
        headers={**bearer(key), "Idempotency-Key": "broken"},
    )
    assert broken.status_code == 400 and problem(broken)
    huge = client.post(
        "/api/v1/batches/spring-store/codes",
        data='{"count": 1, "pad": "' + "x" * 20_000 + '"}',
        content_type="application/json",
        headers={**bearer(key), "Idempotency-Key": "huge"},
    )
    assert huge.status_code == 413 and problem(huge)


def test_old_answers_are_forgotten_after_a_day(
    app: Flask, client: FlaskClient, key: str, batch: str, clock: Clock
) -> None:
    from app.api.idempotency import forget_old
    from app.api.rest_models import ApiIdempotency
    from app.extensions import db

    assert mint(client, key, {"count": 1}, idem="day-old").status_code == 201
    clock.advance(hours=25)
    with app.app_context():
        assert forget_old(clock()) == 1
        assert db.session.scalar(select(func.count()).select_from(ApiIdempotency)) == 0
