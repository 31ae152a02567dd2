"""``flask consent verify``: one line and exit 0 for a valid receipt, ``INVALID:`` and exit 1
for a changed one or another key's, a one-line error naming the file for what is not a signed
receipt; keys from this site, a keys document, a PEM file or a URL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.consent.ledger.receipts import sign_receipt
from tests.conftest import PASSWORD, Clock
from tests.consent.receipt_steps import KEYS_URL, grant_then_revoke, receipt_json
from tests.helpers import sign_in


@pytest.fixture
def receipt(app: Flask, client: FlaskClient, member: Any, clock: Clock) -> dict[str, Any]:
    sign_in(client, "reader@example.com", PASSWORD)
    with app.app_context():
        grant, _ = grant_then_revoke(client, clock)
    return receipt_json(client, grant)


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return str(path)


def verify(runner: FlaskCliRunner, *args: str) -> Any:
    return runner.invoke(args=["consent", "verify", *args])


def one_line(result: Any) -> str:
    """The command's whole output, which must be a single line and no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return str(lines[0])


def test_a_valid_receipt(runner: FlaskCliRunner, receipt: dict[str, Any], tmp_path: Path) -> None:
    path = write(tmp_path, "receipt.json", json.dumps(receipt, indent=2))
    result = verify(runner, path)
    line = one_line(result)
    assert result.exit_code == 0
    key = receipt["signature"]["key_id"]
    assert line.startswith(
        f"valid: signed by key {key}; receipt {receipt['receipt']} "
        f"(grant newsletter email at {receipt['consent']['at']})"
    )


@pytest.mark.parametrize("where", ["wording", "at", "scope"])
def test_a_changed_receipt_is_invalid(
    runner: FlaskCliRunner, receipt: dict[str, Any], tmp_path: Path, where: str
) -> None:
    receipt["consent"][where] = receipt["consent"][where].replace("e", "E", 1).replace("0", "1", 1)
    path = write(tmp_path, "tampered.json", json.dumps(receipt))
    result = verify(runner, path)
    assert result.exit_code == 1
    assert one_line(result) == (
        f"INVALID: {path}: the signature of key "
        f"{receipt['signature']['key_id']} does not match the content: "
        "the receipt was changed after it was signed"
    )


def test_another_keys_receipt_is_invalid(
    runner: FlaskCliRunner, receipt: dict[str, Any], tmp_path: Path
) -> None:
    path = write(
        tmp_path, "forged.json", json.dumps(sign_receipt(receipt, Ed25519PrivateKey.generate()))
    )
    result = verify(runner, path)
    assert result.exit_code == 1
    line = one_line(result)
    assert line.startswith(f"INVALID: {path}: signed by key ")
    assert f"not among the keys given ({receipt['signature']['key_id']})" in line


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            b"<html>not json</html>",
            "not a signed consent receipt: not JSON (Expecting value at line 1, column 1)",
        ),
        (b"\xff\xfe\x00", "not a signed consent receipt: not UTF-8 text"),
        (b"", "not a signed consent receipt: not JSON"),
        (
            b'{"receipt": "abc", "consent": {}}',
            "not a signed consent receipt: it carries no signature",
        ),
        (
            b'{"signature": {"alg": "HS256", "key_id": "k", "value": "AA"}}',
            "not a signed consent receipt: its signature algorithm is 'HS256', not 'Ed25519'",
        ),
        (b'{"a": 1, "a": 2, "signature": {}}', "the member 'a' appears twice"),
        (b"[" * 100_000, "not a signed consent receipt: not JSON"),
    ],
)
def test_what_is_not_a_signed_receipt_gets_one_line_naming_the_file(
    runner: FlaskCliRunner, tmp_path: Path, content: bytes, words: str
) -> None:
    path = write(tmp_path, "bad.json", content)
    result = verify(runner, path)
    assert result.exit_code == 1
    line = one_line(result)
    assert line.startswith(f"Error: {path}: ")
    assert words in line


def test_a_missing_file_is_named(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = verify(runner, str(tmp_path / "nowhere.json"))
    assert result.exit_code == 1
    assert (
        one_line(result) == f"Error: {tmp_path / 'nowhere.json'}: cannot be read (No such "
        "file or directory)"
    )


def test_a_site_without_a_key_asks_for_one(runner: FlaskCliRunner, tmp_path: Path) -> None:
    forged = sign_receipt({"receipt": "x"}, Ed25519PrivateKey.generate())
    path = write(tmp_path, "r.json", json.dumps(forged))
    result = verify(runner, path)
    assert result.exit_code == 1
    assert "this site has no receipt key yet" in one_line(result) and "--key" in result.output


# --- --key -----------------------------------------------------------------------------------


def test_key_as_a_keys_document_or_pem(
    runner: FlaskCliRunner, app: Flask, receipt: dict[str, Any], tmp_path: Path
) -> None:
    path = write(tmp_path, "receipt.json", json.dumps(receipt))
    document = app.test_client().get(KEYS_URL).data
    keys_file = write(tmp_path, "keys.json", document)
    pem_file = write(tmp_path, "key.pem", json.loads(document)["keys"][0]["public_key_pem"])
    for key in (keys_file, pem_file):
        result = verify(runner, path, "--key", key)
        assert result.exit_code == 0 and one_line(result).startswith("valid: "), result.output

    stranger = Ed25519PrivateKey.generate().public_key()
    other_pem = write(
        tmp_path,
        "other.pem",
        stranger.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
    )
    result = verify(runner, path, "--key", other_pem)
    assert result.exit_code == 1 and one_line(result).startswith("INVALID: ")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"nonsense", "neither a keys document (JSON) nor a PEM key"),
        (b'{"keys": "x"}', 'a keys document is an object with a "keys" list'),
        (b'{"keys": [{"alg": "RS256", "public_key": "AA"}]}', "holds no Ed25519 key"),
        (b'{"keys": [{"alg": "Ed25519", "public_key": "AAAA"}]}', "is not base64url of 32 bytes"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a readable PEM key"),
    ],
)
def test_unusable_keys_are_named(
    runner: FlaskCliRunner, receipt: dict[str, Any], tmp_path: Path, content: bytes, words: str
) -> None:
    path = write(tmp_path, "receipt.json", json.dumps(receipt))
    keys = write(tmp_path, "keys.json", content)
    result = verify(runner, path, "--key", keys)
    assert result.exit_code == 1
    line = one_line(result)
    assert line.startswith(f"Error: no keys to check {path} with: {keys}: ")
    assert words in line


@pytest.fixture
def keys_server(app: Flask) -> Iterator[str]:
    """The site's keys document over real HTTP, as a third party would fetch it."""
    document = app.test_client().get(KEYS_URL).data

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == KEYS_URL
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document if found else b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_key_from_the_well_known_url(
    runner: FlaskCliRunner, receipt: dict[str, Any], tmp_path: Path, keys_server: str
) -> None:
    path = write(tmp_path, "receipt.json", json.dumps(receipt))
    result = verify(runner, path, "--key", keys_server + KEYS_URL)
    assert result.exit_code == 0 and one_line(result).startswith("valid: "), result.output
    result = verify(runner, path, "--key", keys_server + "/missing.json")
    assert result.exit_code == 1
    assert "the server answered 404" in one_line(result)
