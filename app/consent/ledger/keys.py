"""The key that signs consent receipts, and the public keys that check them.

The signing key is an Ed25519 private key in a PEM file (PKCS#8, unencrypted): the one named by
``RECEIPT_SIGNING_KEY_FILE``, or else ``instance/receipt-signing-key.pem``, generated on first use
with mode 0600 and never overwritten (whoever holds old receipts needs the same key to stay
published). Either file must not be readable by other users. The key is read once per process,
when it is first needed (the start of ``flask serve``, or the first receipt), and kept in
the :data:`RECEIPT_KEY` slot.

The public keys are published as a JSON document (:func:`published_keys`); :func:`keys_from`
reads such a document, a PEM key file or the document at a URL, for checking a receipt.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from flask import current_app

from app.config import SettingError
from app.consent.errors import ReceiptKeyError
from app.consent.ledger.receipts import ALGORITHM, b64url, key_id, unb64url
from app.registry import Slot

RECEIPT_KEY = Slot[Ed25519PrivateKey](
    "receipt_key",
    "the key that signs consent receipts, read on first use",
    set_by="app.consent.ledger.keys.signing_key",
)
INSTANCE_FILE = "receipt-signing-key.pem"
MAX_KEYS_DOCUMENT = 64 * 1024
FETCH_SECONDS = 10


def signing_key() -> Ed25519PrivateKey:
    """The current app's signing key, read (or generated) on first use. Raises
    :class:`~app.consent.errors.ReceiptKeyError` when the file cannot be used."""
    key = RECEIPT_KEY.find()
    if key is None:
        if current_app.config.get("RECEIPT_SIGNING_KEY_FILE"):
            key = read_private_key(key_path())
        else:
            key = instance_key(Path(current_app.instance_path))
        RECEIPT_KEY.set(current_app, key)
    return key


def key_path() -> Path:
    """Where the current app's signing key lives (or will, once generated)."""
    configured = current_app.config.get("RECEIPT_SIGNING_KEY_FILE") or ""
    return Path(configured) if configured else Path(current_app.instance_path) / INSTANCE_FILE


def own_public_keys() -> list[Ed25519PublicKey]:
    """The current app's public key, without generating one: an empty list when this site
    has not signed anything yet."""
    if RECEIPT_KEY.find() is not None or key_path().exists():
        return [signing_key().public_key()]
    return []


def instance_key(instance_path: Path) -> Ed25519PrivateKey:
    """The key in the instance folder, generated there first if there is none."""
    path = instance_path / INSTANCE_FILE
    if not path.exists():
        _create(path)
    return read_private_key(path)


def _create(path: Path) -> None:
    """Write a new key to ``path`` unless a key is there already. The key is written whole to a
    file of its own and then linked into place, which fails if another process won the race:
    no reader ever sees half a key, and no key is ever overwritten."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    draft = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: its key stays
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file ``path``; the file must not be readable by other
    users. Raises :class:`~app.consent.errors.ReceiptKeyError` naming the file."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ReceiptKeyError(
                f"{path} is readable by other users (mode {mode:o}); chmod 600 it"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ReceiptKeyError(f"{path}: {exc.strerror or exc}") from None
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ReceiptKeyError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReceiptKeyError(f"{path}: not an Ed25519 key")
    return key


def published_keys(keys: list[Ed25519PublicKey]) -> dict[str, Any]:
    """The JSON document that publishes ``keys``."""
    return {
        "keys": [
            {
                "key_id": key_id(key),
                "alg": ALGORITHM,
                "public_key": b64url(key.public_bytes(Encoding.Raw, PublicFormat.Raw)),
                "public_key_pem": key.public_bytes(
                    Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
                ).decode("ascii"),
            }
            for key in keys
        ]
    }


def keys_from(source: str) -> list[Ed25519PublicKey]:
    """The public keys named by ``source``: an http(s) URL of a published keys document, or a
    file holding such a document, a PEM public key or a PEM private key. Raises
    :class:`~app.consent.errors.ReceiptKeyError` naming ``source``."""
    if source.startswith(("https://", "http://")):
        return keys_in(_fetch(source), source)
    try:
        with open(source, "rb") as handle:
            data = handle.read(MAX_KEYS_DOCUMENT + 1)
    except OSError as exc:
        raise ReceiptKeyError(f"{source}: {exc.strerror or exc}") from None
    return keys_in(data, source)


def keys_in(data: bytes, source: str) -> list[Ed25519PublicKey]:
    """The public keys in ``data`` (a keys document or a PEM key), read from ``source``."""
    if len(data) > MAX_KEYS_DOCUMENT:
        raise ReceiptKeyError(f"{source}: larger than {MAX_KEYS_DOCUMENT // 1024} KiB")
    if data.lstrip().startswith(b"-----BEGIN"):
        return [_pem_key(data, source)]
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ReceiptKeyError(f"{source}: neither a keys document (JSON) nor a PEM key") from None
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ReceiptKeyError(f'{source}: a keys document is an object with a "keys" list')
    keys = [
        _entry_key(entry, source)
        for entry in entries
        if isinstance(entry, dict) and entry.get("alg", ALGORITHM) == ALGORITHM
    ]
    if not keys:
        raise ReceiptKeyError(f"{source}: holds no {ALGORITHM} key")
    return keys


def _pem_key(data: bytes, source: str) -> Ed25519PublicKey:
    try:
        if b"PRIVATE KEY" in data:
            private = load_pem_private_key(data, password=None)
            if isinstance(private, Ed25519PrivateKey):
                return private.public_key()
        else:
            public = load_pem_public_key(data)
            if isinstance(public, Ed25519PublicKey):
                return public
    except (ValueError, TypeError):
        raise ReceiptKeyError(f"{source}: not a readable PEM key") from None
    raise ReceiptKeyError(f"{source}: not an {ALGORITHM} key")


def _entry_key(entry: dict[str, Any], source: str) -> Ed25519PublicKey:
    raw, pem = entry.get("public_key"), entry.get("public_key_pem")
    if isinstance(raw, str):
        try:
            return Ed25519PublicKey.from_public_bytes(unb64url(raw))
        except ValueError:
            raise ReceiptKeyError(
                f"{source}: public_key {raw[:20]!r} is not base64url of 32 bytes"
            ) from None
    if isinstance(pem, str):
        return _pem_key(pem.encode("ascii", "replace"), source)
    raise ReceiptKeyError(f"{source}: a key without public_key or public_key_pem")


def _fetch(url: str) -> bytes:
    # Only http(s) URLs reach here (see keys_from): no file:// or other scheme is opened.
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=FETCH_SECONDS) as response:  # noqa: S310
            data: bytes = response.read(MAX_KEYS_DOCUMENT + 1)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the connection of the answer
        raise ReceiptKeyError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ReceiptKeyError(f"{url}: cannot be fetched ({reason})") from None
    return data


def ready_key() -> str:
    """The start-up step: read (or generate) the signing key now, so that a key file that cannot
    be used stops ``flask serve`` with one line instead of failing the first receipt."""
    try:
        key = signing_key()
    except ReceiptKeyError as exc:
        raise SettingError("RECEIPT_SIGNING_KEY_FILE", str(exc)) from None
    return f"signed by key {key_id(key.public_key())} ({key_path()})"
