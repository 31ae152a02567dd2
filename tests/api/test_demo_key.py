"""The demo till's key: made once by ``flask serve`` on a site without keys, kept readable by
its owner only, and working for exactly its permissions."""

from __future__ import annotations

import stat
from pathlib import Path

from flask import Flask

from tests.api.conftest import MakeKey


def _ensure(app: Flask) -> str:
    from app.api.demo import ensure_demo_key

    with app.app_context():
        return ensure_demo_key()


def test_the_demo_key_is_made_once_and_mints_codes(app: Flask) -> None:
    from app.engage.demo import ensure_demo_codes

    with app.app_context():
        ensure_demo_codes()
    kept = Path(app.instance_path) / "demo-api-key.txt"
    assert "made the demo till's key" in _ensure(app)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    secret = kept.read_text().strip()
    assert _ensure(app) == f"the demo till's key is in {kept}"  # not a second key
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "receipt-1"}
    minted = client.post("/api/v1/batches/spring-store/codes", json={}, headers=headers)
    assert minted.status_code == 201, minted.text
    assert "/redeem?code=" in minted.json["codes"][0]["redeem_url"]
    consent = client.get("/api/v1/members/nobody@example.com/consent", headers=headers)
    assert consent.status_code == 403  # the demo till reads no consent


def test_a_site_with_keys_gets_no_demo_key(app: Flask, make_key: MakeKey) -> None:
    make_key(name="Shop")
    assert _ensure(app) == "API keys exist"
    assert not (Path(app.instance_path) / "demo-api-key.txt").exists()
