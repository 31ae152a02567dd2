"""Consent receipts: what was shown, when and how, for one ledger event, as data a member can
keep (JSON) and read (HTML), signed so that anyone can check it without trusting our database.

The signature
-------------
A signed receipt is a JSON object with a member ``signature``::

    {"alg": "Ed25519", "key_id": "<16 hex digits>", "value": "<base64url, no padding>"}

``value`` is the Ed25519 signature of the *canonical JSON* of every other member of the receipt
(the object without ``signature``), which is exactly::

    json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

so a receipt may be pretty-printed, re-indented or have its members reordered and still verify,
while any change to a value (a letter of the wording, a second of a time, the scope) does not.
``key_id`` is the first 16 hex digits of the SHA-256 of the raw 32-byte public key; the site
publishes its public keys at :data:`KEYS_PATH`.

``issued_at`` is the moment this copy was issued: every view, download or mail of a receipt is
a new copy with its own ``issued_at``, signed on its own. What it attests (the ``consent``
object) is the same in every copy.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app

from app.accounts.models import Member
from app.consent.errors import BadSignature, MalformedReceipt, UnknownKey, UnsupportedAlgorithm
from app.consent.models import ConsentEvent
from app.consent.scopes import find_scope
from app.consent.words import channel_words, source_words

RECEIPT_VERSION = "pullfirst-consent-receipt/2"
ALGORITHM = "Ed25519"
KEYS_PATH = "/.well-known/pullfirst-receipt-keys.json"
SIGNATURE_BYTES = 64
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def receipt_data(
    event: ConsentEvent, member: Member, site_title: str, postal_address: str, now: datetime
) -> dict[str, Any]:
    """The receipt of ``event`` for ``member``, as JSON values (not yet signed). Times are ISO
    8601 in UTC."""
    scope = find_scope(event.scope)
    base_url = current_app.config["BASE_URL"]
    return {
        "receipt": event.receipt,
        "version": RECEIPT_VERSION,
        "issued_at": now.isoformat(),
        "controller": {
            "name": site_title,
            "postal_address": postal_address,
            "url": base_url,
            "receipt_keys": base_url + KEYS_PATH,
        },
        "subject": {"email": member.email},
        "consent": {
            "action": event.action,
            "scope": event.scope,
            "scope_title": scope.title if scope else event.scope,
            "promise": scope.promise if scope else None,
            "channel": event.channel,
            "channel_words": channel_words(event.channel),
            "at": event.at.isoformat(),
            "source": event.source,
            "source_words": source_words(event.source),
            "page": event.page,
            "wording": event.wording,
            "wording_version": event.wording_version,
            "wording_sha256": event.wording_hash,
            **({"typed": event.typed} if event.typed is not None else {}),
        },
        "client_hash": event.client_hash,
        "client_hash_is": "an HMAC-SHA256 of your IP address and browser, keyed with a salt "
        "that is deleted with your account",
    }


def canonical_json(payload: dict[str, Any]) -> bytes:
    """The bytes a receipt's signature covers: ``payload`` with sorted keys, no whitespace,
    non-ASCII characters as themselves, in UTF-8. Raises ``ValueError`` or ``TypeError`` for
    values JSON cannot hold exactly (a lone surrogate, NaN, a set)."""
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def key_id(public_key: Ed25519PublicKey) -> str:
    """The short name of a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def b64url(raw: bytes) -> str:
    """base64url (RFC 4648 §5) without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """The bytes of base64url ``text``, with or without padding; ``ValueError`` otherwise."""
    if not _BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except binascii.Error:
        raise ValueError("not base64url") from None


def sign_receipt(data: dict[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """A copy of ``data`` with its ``signature`` member (any old one is replaced)."""
    payload = {k: v for k, v in data.items() if k != "signature"}
    value = private_key.sign(canonical_json(payload))
    return {
        **payload,
        "signature": {
            "alg": ALGORITHM,
            "key_id": key_id(private_key.public_key()),
            "value": b64url(value),
        },
    }


def verify_receipt(data: object, public_keys: Iterable[Ed25519PublicKey]) -> str:
    """Check the signature of ``data`` (a parsed JSON receipt) against ``public_keys`` and return
    the id of the key that signed it.

    Raises :class:`~app.consent.errors.MalformedReceipt` when ``data`` is not a signed receipt
    (not an object, no ``signature`` object, a value that is not base64url of 64 bytes),
    :class:`~app.consent.errors.UnsupportedAlgorithm` for another ``alg`` than Ed25519,
    :class:`~app.consent.errors.UnknownKey` when no key given has the receipt's ``key_id`` and
    :class:`~app.consent.errors.BadSignature` when the content is not what was signed.
    """
    if not isinstance(data, dict):
        raise MalformedReceipt(f"a receipt is a JSON object, this is a {_json_type(data)}")
    signature = data.get("signature")
    if signature is None:
        raise MalformedReceipt("it carries no signature")
    if not isinstance(signature, dict):
        raise MalformedReceipt("its signature is not an object with alg, key_id and value")
    alg = signature.get("alg")
    if alg != ALGORITHM:
        raise UnsupportedAlgorithm(f"its signature algorithm is {alg!r}, not {ALGORITHM!r}")
    signer, value = signature.get("key_id"), signature.get("value")
    if not isinstance(signer, str) or not isinstance(value, str):
        raise MalformedReceipt("its signature lacks a key_id or a value")
    try:
        raw = unb64url(value)
    except ValueError:
        raise MalformedReceipt("its signature value is not base64url") from None
    if len(raw) != SIGNATURE_BYTES:
        raise MalformedReceipt(f"its signature value holds {len(raw)} bytes, not {SIGNATURE_BYTES}")
    try:
        message = canonical_json({k: v for k, v in data.items() if k != "signature"})
    except (TypeError, ValueError):
        raise MalformedReceipt("it holds a value JSON cannot carry exactly") from None
    keys = {key_id(key): key for key in public_keys}
    key = keys.get(signer)
    if key is None:
        known = ", ".join(sorted(keys)) or "none"
        raise UnknownKey(f"signed by key {signer}, which is not among the keys given ({known})")
    try:
        key.verify(raw, message)
    except InvalidSignature:
        raise BadSignature(
            f"the signature of key {signer} does not match the content: the "
            "receipt was changed after it was signed"
        ) from None
    return signer


def receipt_file(data: dict[str, Any]) -> str:
    """The receipt as the file a member downloads or gets by mail: indented JSON, keys sorted,
    UTF-8 text (it verifies as it is: the signature covers the canonical form)."""
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise MalformedReceipt(f"the member {name!r} appears twice")
        found[name] = value
    return found


def parse_receipt(raw: bytes) -> object:
    """The JSON value of a receipt file. Raises :class:`~app.consent.errors.MalformedReceipt`
    when it is not UTF-8 JSON, or when an object names a member twice (readers would not agree
    on which one the receipt says)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedReceipt("not UTF-8 text") from None
    try:
        value: object = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise MalformedReceipt(
            f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise MalformedReceipt("not JSON a receipt could be (nested too deeply)") from None
    return value


def _json_type(value: object) -> str:
    names = {
        list: "list",
        str: "string",
        int: "number",
        float: "number",
        bool: "boolean",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
