"""Signed consent receipts: a real grant and revoke verify with the key the site publishes; a
change to any value, or another key, does not; the key is made once, kept private and reused;
the receipt page shows the signature and the member's own time zone; the README's snippet works
for a third party."""

from __future__ import annotations

import copy
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.accounts import members
from app.consent.errors import (
    BadSignature,
    MalformedReceipt,
    ReceiptKeyError,
    UnknownKey,
    UnsupportedAlgorithm,
)
from app.consent.ledger.keys import keys_in, read_private_key
from app.consent.ledger.receipts import canonical_json, key_id, sign_receipt, verify_receipt
from app.extensions import db
from tests.conftest import PASSWORD, REPO, Clock
from tests.consent.receipt_steps import KEYS_URL, grant_then_revoke, published, receipt_json
from tests.helpers import sign_in


@pytest.fixture
def signed_in(client: FlaskClient, member: Any) -> FlaskClient:
    sign_in(client, "reader@example.com", PASSWORD)
    return client


@pytest.fixture
def another_app() -> Iterator[Callable[..., Flask]]:
    """Make more apps (other processes of a site); their connections are closed after the
    test."""
    made: list[Flask] = []

    def make(config: dict[str, Any]) -> Flask:
        made.append(create_app(config))
        return made[-1]

    yield make
    for application in made:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def receipt(app: Flask, signed_in: FlaskClient, clock: Clock) -> dict[str, Any]:
    """The signed JSON receipt of a real grant."""
    with app.app_context():
        grant, _ = grant_then_revoke(signed_in, clock)
    return receipt_json(signed_in, grant)


def test_a_real_grant_and_revoke_verify_with_the_published_key(
    app: Flask, signed_in: FlaskClient, clock: Clock
) -> None:
    with app.app_context():
        receipts = grant_then_revoke(signed_in, clock)
    visitor = app.test_client()
    keys = published(visitor)
    [entry] = json.loads(visitor.get(KEYS_URL).text)["keys"]
    for receipt, action in zip(receipts, ("grant", "revoke"), strict=True):
        data = receipt_json(signed_in, receipt)
        assert data["consent"]["action"] == action
        assert data["signature"]["alg"] == "Ed25519"
        assert verify_receipt(data, keys) == data["signature"]["key_id"] == entry["key_id"]
        assert data["controller"]["receipt_keys"] == "http://localhost" + KEYS_URL
        assert data["consent"]["at"].endswith("+00:00")  # JSON keeps UTC
    assert entry["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")


def test_the_published_keys_are_public_cacheable_and_start_no_session(app: Flask) -> None:
    visitor = app.test_client()
    response = visitor.get(KEYS_URL)
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    assert "max-age=3600" in response.headers["Cache-Control"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers
    again = visitor.get(KEYS_URL, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_reformatting_keeps_a_receipt_valid(receipt: dict[str, Any], client: FlaskClient) -> None:
    keys = published(client)
    shuffled = json.loads(json.dumps(dict(reversed(list(receipt.items())))))
    assert verify_receipt(shuffled, keys)
    compact = json.loads(json.dumps(receipt, separators=(",", ":"), ensure_ascii=True))
    assert verify_receipt(compact, keys)


def _set(path: tuple[str, ...], value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        target = data
        for name in path[:-1]:
            target = target[name]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value

    return change


def _one_second_later(at: str) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(at) + timedelta(seconds=1)).isoformat()


CHANGES = {
    "one letter of the wording": _set(("consent", "wording"), lambda w: w.replace("Y", "y", 1)),
    "a space added to the wording": _set(("consent", "wording"), lambda w: w + " "),
    "the time, by one second": _set(("consent", "at"), _one_second_later),
    "the scope": _set(("consent", "scope"), "offers"),
    "the channel": _set(("consent", "channel"), "inbox"),
    "grant made revoke": _set(("consent", "action"), "revoke"),
    "the wording version": _set(("consent", "wording_version"), lambda v: v + 1),
    "the subject": _set(("subject", "email"), "someone@example.com"),
    "issued_at": _set(("issued_at",), _one_second_later),
    "the receipt id": _set(("receipt",), lambda r: r[:-1] + ("A" if r[-1] != "A" else "B")),
    "a member added": _set(("note",), "added later"),
    "a member removed": lambda data: data.pop("client_hash_is"),
    "a null made a string": _set(("consent", "promise"), lambda p: "" if p is None else None),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_to_the_content_fails(
    receipt: dict[str, Any], client: FlaskClient, change: Any
) -> None:
    keys = published(client)
    tampered = copy.deepcopy(receipt)
    change(tampered)
    assert tampered != receipt
    with pytest.raises(BadSignature, match="changed after it was signed"):
        verify_receipt(tampered, keys)


def test_every_single_byte_of_the_signed_content_matters(
    receipt: dict[str, Any], client: FlaskClient
) -> None:
    """Flip each character of every string value in turn (one at a time): none verifies."""
    keys = published(client)
    tried = 0

    def strings(node: Any, path: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if isinstance(node, dict):
            return [p for k, v in node.items() if k != "signature" for p in strings(v, (*path, k))]
        return [path] if isinstance(node, str) else []

    for path in strings(receipt, ()):
        node: Any = receipt
        for name in path:
            node = node[name]
        value: str = node
        for index in range(0, len(value), max(1, len(value) // 8)):
            tampered = copy.deepcopy(receipt)
            target = tampered
            for name in path[:-1]:
                target = target[name]
            flipped = chr(ord(value[index]) ^ 1)
            target[path[-1]] = value[:index] + flipped + value[index + 1 :]
            with pytest.raises(BadSignature):
                verify_receipt(tampered, keys)
            tried += 1
    assert tried > 50


def test_a_receipt_signed_by_another_key_fails(
    receipt: dict[str, Any], client: FlaskClient
) -> None:
    keys = published(client)
    other = Ed25519PrivateKey.generate()
    forged = sign_receipt(receipt, other)
    assert verify_receipt(forged, [other.public_key()]) == key_id(other.public_key())
    with pytest.raises(UnknownKey, match=f"key {key_id(other.public_key())}"):
        verify_receipt(forged, keys)
    # The same forgery claiming to be signed by our key.
    forged["signature"]["key_id"] = receipt["signature"]["key_id"]
    with pytest.raises(BadSignature):
        verify_receipt(forged, keys)
    # Our signature checked against someone else's key set.
    with pytest.raises(UnknownKey):
        verify_receipt(receipt, [other.public_key()])


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        ([1, 2], MalformedReceipt, "this is a list"),
        ({"receipt": "x"}, MalformedReceipt, "carries no signature"),
        ({"signature": "abc"}, MalformedReceipt, "not an object"),
        (
            {"signature": {"alg": "RS256", "key_id": "k", "value": "AA"}},
            UnsupportedAlgorithm,
            "'RS256'",
        ),
        ({"signature": {"alg": "Ed25519", "value": "AA"}}, MalformedReceipt, "key_id"),
        (
            {"signature": {"alg": "Ed25519", "key_id": "k", "value": "no*base64"}},
            MalformedReceipt,
            "not base64url",
        ),
        (
            {"signature": {"alg": "Ed25519", "key_id": "k", "value": "AAAA"}},
            MalformedReceipt,
            "3 bytes",
        ),
    ],
)
def test_what_is_not_a_signed_receipt_is_named(
    data: object, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=re.escape(words)):
        verify_receipt(data, [Ed25519PrivateKey.generate().public_key()])


def test_canonical_json_is_the_documented_form() -> None:
    payload = {"b": "ä€", "a": {"y": None, "x": [1, True]}}
    assert canonical_json(payload) == '{"a":{"x":[1,true],"y":null},"b":"ä€"}'.encode()
    assert canonical_json(payload) == json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


# --- the key ---------------------------------------------------------------------------------


def test_the_key_is_made_on_first_use_with_mode_0600_and_reused(
    app: Flask,
    receipt: dict[str, Any],
    client: FlaskClient,
    tmp_path: Path,
    app_config: dict[str, Any],
    another_app: Callable[..., Flask],
) -> None:
    path = Path(app.instance_path) / "receipt-signing-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    with app.app_context():
        assert key_id(read_private_key(path).public_key()) == receipt["signature"]["key_id"]
    # Another process of the same instance uses the same key and leaves the file alone.
    other = another_app(app_config)
    with other.app_context():
        assert verify_receipt(receipt, keys_in(other.test_client().get(KEYS_URL).data, "doc"))
    assert path.read_bytes() == first


def test_no_key_is_made_before_one_is_needed(app: Flask) -> None:
    assert not (Path(app.instance_path) / "receipt-signing-key.pem").exists()


def _write_key(path: Path, mode: int = 0o600) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    path.chmod(mode)
    return key


def test_a_configured_key_file_signs_and_is_published(
    app_config: dict[str, Any],
    tmp_path: Path,
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
    member: Any,
    another_app: Callable[..., Flask],
) -> None:
    key = _write_key(tmp_path / "shared.pem")
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    configured = another_app(
        {**app_config, "RECEIPT_SIGNING_KEY_FILE": str(tmp_path / "shared.pem")}
    )
    from app.clock import set_clock

    set_clock(configured, clock)
    client = configured.test_client()
    [entry] = json.loads(client.get(KEYS_URL).text)["keys"]
    assert entry["key_id"] == key_id(key.public_key())
    sign_in(client, "reader@example.com", PASSWORD)
    with configured.app_context():
        grant, _ = grant_then_revoke(client, clock)
    assert verify_receipt(receipt_json(client, grant), [key.public_key()])
    assert not (tmp_path / "elsewhere" / "receipt-signing-key.pem").exists()


@pytest.mark.parametrize(
    ("content", "mode", "words"),
    [
        (None, 0o644, "readable by other users (mode 644); chmod 600 it"),
        (b"not a key", 0o600, "not an unencrypted PEM private key"),
        ("rsa", 0o600, "not an Ed25519 key"),
    ],
)
def test_an_unusable_key_file_is_named(
    tmp_path: Path, content: bytes | str | None, mode: int, words: str
) -> None:
    path = tmp_path / "key.pem"
    if content is None:
        _write_key(path, mode)
    elif content == "rsa":
        from cryptography.hazmat.primitives.asymmetric import rsa

        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(rsa_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        path.chmod(mode)
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
        path.chmod(mode)
    with pytest.raises(ReceiptKeyError, match=re.escape(f"{path}")) as caught:
        read_private_key(path)
    assert words in str(caught.value)


def test_a_missing_configured_key_stops_serve_with_one_line(
    app_config: dict[str, Any],
    tmp_path: Path,
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
    another_app: Callable[..., Flask],
) -> None:
    from app.config import SettingError
    from app.consent.ledger.keys import ready_key

    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path / "instance"))
    missing = tmp_path / "nowhere.pem"
    broken = another_app({**app_config, "RECEIPT_SIGNING_KEY_FILE": str(missing)})
    with broken.app_context(), pytest.raises(SettingError) as caught:
        ready_key()
    assert "RECEIPT_SIGNING_KEY_FILE" in str(caught.value) and str(missing) in str(caught.value)
    assert "\n" not in str(caught.value)


# --- the page ----------------------------------------------------------------------------------


def test_the_receipt_page_shows_the_signature_key_and_links(
    app: Flask, signed_in: FlaskClient, clock: Clock
) -> None:
    with app.app_context():
        grant, _ = grant_then_revoke(signed_in, clock)
    page = signed_in.get(f"/me/permissions/receipts/{grant}").text
    [entry] = json.loads(signed_in.get(KEYS_URL).text)["keys"]
    assert "Ed25519" in page and f"<code>{entry['key_id']}</code>" in page
    assert f'href="{KEYS_URL}"' in page
    assert f'href="/me/permissions/receipts/{grant}.json"' in page
    assert f'action="/me/permissions/receipts/{grant}/mail"' in page
    # The JSON shown on the page is the copy whose signature the page shows, and it verifies.
    shown = re.search(r'<pre class="preview-text">(.*?)</pre>', page, re.S)
    assert shown is not None
    import html

    data = json.loads(html.unescape(shown.group(1)))
    assert data["signature"]["value"] in page
    assert verify_receipt(data, published(signed_in))


def test_times_on_the_receipt_and_history_are_in_the_members_zone(
    app: Flask, signed_in: FlaskClient, clock: Clock, member: Any
) -> None:
    from datetime import UTC, datetime

    clock.set(datetime(2026, 12, 4, 15, 5, 30, tzinfo=UTC))
    with app.app_context():
        found = members.get_member(member.id)
        assert found is not None
        members.update_profile(found, found.display_name, "Europe/Berlin")
        db.session.commit()
        grant, _ = grant_then_revoke(signed_in, clock)
    page = signed_in.get(f"/me/permissions/receipts/{grant}").text
    assert "4 December 2026, 16:05 CET" in page  # the grant, at 15:05 UTC
    assert "4 December 2026, 16:08 CET" in page  # issued at 15:08 UTC
    assert 'datetime="2026-12-04T15:05:30+00:00"' in page
    history = signed_in.get("/me/permissions/history").text
    assert "4 December 2026, 16:05 CET" in history
    assert "4 December 2026, 16:08 CET" in history
    assert "UTC" not in re.sub(r'datetime="[^"]*"', "", history)
    assert receipt_json(signed_in, grant)["consent"]["at"] == "2026-12-04T15:05:30+00:00"


def test_receipts_of_another_member_are_not_found(
    app: Flask, signed_in: FlaskClient, clock: Clock, smtp: Any
) -> None:
    with app.app_context():
        grant, _ = grant_then_revoke(signed_in, clock)
        members.create_member("other@example.com", PASSWORD, now=clock(), verified=True)
        db.session.commit()
    other = app.test_client()
    sign_in(other, "other@example.com", PASSWORD)
    page = other.get("/me/account").text
    from tests.helpers import csrf_token

    token = csrf_token(page)
    assert other.get(f"/me/permissions/receipts/{grant}").status_code == 404
    assert other.get(f"/me/permissions/receipts/{grant}.json").status_code == 404
    response = other.post(f"/me/permissions/receipts/{grant}/mail", data={"csrf_token": token})
    assert response.status_code == 404
    assert app.test_client().post(f"/me/permissions/receipts/{grant}/mail").status_code in (
        302,
        400,
    )  # a visitor: no session, no CSRF token
    assert smtp.messages == []


# --- the README ------------------------------------------------------------------------------


def _readme_snippet() -> str:
    readme = (REPO / "README.md").read_text()
    start = readme.index("### Checking a consent receipt")
    block = re.search(r"```python\n(.*?)```", readme[start:], re.S)
    assert block is not None, "no Python snippet under 'Checking a consent receipt'"
    return block.group(1)


def test_the_readme_snippet_checks_a_receipt_with_only_cryptography_and_json(
    receipt: dict[str, Any], client: FlaskClient, tmp_path: Path
) -> None:
    snippet = _readme_snippet()
    assert len([line for line in snippet.splitlines() if line.strip()]) <= 14
    imports = set(re.findall(r"^(?:from|import) ([\w.]+)", snippet, re.M))
    assert {name.split(".")[0] for name in imports} <= {"base64", "json", "cryptography"}
    (tmp_path / "consent-receipt.json").write_text(json.dumps(receipt, indent=2))
    (tmp_path / "pullfirst-receipt-keys.json").write_bytes(client.get(KEYS_URL).data)
    tampered = copy.deepcopy(receipt)
    tampered["consent"]["wording"] += "!"
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))

    def run(receipt_file: str) -> subprocess.CompletedProcess[str]:
        code = snippet.replace('"consent-receipt.json"', f'"{receipt_file}"')
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": ""},
        )

    good = run("consent-receipt.json")
    assert good.returncode == 0, good.stderr
    assert "valid" in good.stdout
    bad = run("tampered.json")
    assert bad.returncode != 0 and "InvalidSignature" in bad.stderr
