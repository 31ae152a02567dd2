"""Web Push: messages to a member's browser through the push service its vendor runs.

Three RFCs make up the channel:

- RFC 8030 (the push protocol): the browser's ``PushSubscription`` names an *endpoint* URL at
  the vendor's push service; we POST one message to it with a ``TTL`` header (seconds the
  service may hold the message while the browser is offline), optionally ``Urgency``
  (``very-low``, ``low``, ``normal``, ``high``) and ``Topic`` (a message with the same topic
  replaces one still waiting). The service answers 201 Created; 404 or 410 when the
  subscription is gone (the member unsubscribed or cleared the site's data), 413 for a body over
  4096 bytes, 429 when we send too much.
- RFC 8291 (message encryption, ``Content-Encoding: aes128gcm`` of RFC 8188): the body is
  encrypted to the subscription's ``p256dh`` key (a P-256 public key) with its 16-byte ``auth``
  secret, so the push service cannot read it.
- RFC 8292 (VAPID): every request carries ``Authorization: vapid t=<JWT>, k=<public key>``, an
  ES256 JWT whose ``aud`` is the endpoint's origin, ``exp`` at most 24 hours ahead and ``sub`` a
  ``mailto:`` or ``https:`` contact. The public key is the ``applicationServerKey`` the page gave
  ``pushManager.subscribe``; the service refuses a JWT signed with any other key.

pywebpush's :class:`~pywebpush.WebPusher` does the encryption and py-vapid signs the JWT; the
request itself goes through httpx (the client the rest of :mod:`app.outbound` uses), which gives
the status and the ``Retry-After`` header directly and keeps one keep-alive pool per sender.
The claims are a new dict on every send: pywebpush and py-vapid fill ``aud``/``exp`` into a
dict they are given, so a shared one would carry the first endpoint's origin to the next.

Errors (``str(error)`` is safe to log: it names the push service's host, never the endpoint,
whose path is the subscription's secret)::

    PushError            the message was not delivered (``status``: the HTTP status, or None)
    ├── PushGone         404/410: the subscription no longer exists; forget it
    └── PushFailed       any other refusal; ``retry`` says whether trying later may help
                         (429, 5xx, no answer) and ``retry_after`` how long to wait, if said
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02  # type: ignore[import-untyped]
from pywebpush import WebPusher  # type: ignore[import-untyped]

from app.outbound.http import KeepAlive

KEY_FILE = "vapid-private.pem"
MAX_PAYLOAD_BYTES = 3000
MAX_ENDPOINT_LENGTH = 1000
URGENCIES = ("very-low", "low", "normal", "high")
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
#: How far ahead the VAPID JWT expires; RFC 8292 allows at most 24 hours.
JWT_LIFETIME_SECONDS = 12 * 60 * 60
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Subscription:
    """Where and to whom a push goes: the browser's ``PushSubscription.toJSON()`` as stored.
    ``p256dh`` and ``auth`` are base64url (without padding)."""

    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class VapidKeys:
    """The site's VAPID key pair: the private key as PKCS#8 PEM, and the public key as the
    base64url uncompressed P-256 point (65 bytes) that pages pass to ``pushManager.subscribe``
    as ``applicationServerKey``."""

    private_pem: bytes
    public_key: str


class PushError(Exception):
    """A push was not delivered. ``status`` is the push service's HTTP status, or ``None`` when
    no answer came."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PushGone(PushError):
    """404 or 410: the subscription no longer exists (the member unsubscribed in the browser,
    or the browser dropped it). Sending to it again can never succeed."""


class PushFailed(PushError):
    """Any other refusal. ``retry`` is true when the same message may go through later (429,
    a 5xx, no answer at all); ``retry_after`` is the wait in seconds the service asked for."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        *,
        retry: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status)
        self.retry = retry
        self.retry_after = retry_after


def b64url(data: bytes) -> str:
    """``data`` as base64url without padding, the form Web Push uses for keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; :class:`ValueError` for anything else
    (including the ``+``/``/`` alphabet of plain base64)."""
    if not BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    bare = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def _private_key(private_pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("The VAPID key must be a P-256 (secp256r1) private key.")
    return key


def _public_key(private_pem: bytes) -> str:
    point = (
        _private_key(private_pem)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return b64url(point)


def vapid_keys(folder: Path) -> VapidKeys:
    """The site's VAPID keys from ``folder/vapid-private.pem``, created on first use.

    The key must never change while subscriptions made with it exist (the push services refuse
    a JWT signed with another key), so creation is careful: the new key is written to a private
    temporary file (mode 0600) and hard-linked to its name, which fails if the name exists. Two
    processes starting together therefore both end up using the one key that was linked first,
    and no reader ever sees a half-written file."""
    path = folder / KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        handle, temporary = tempfile.mkstemp(prefix=".vapid-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(pem)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o600)
            with contextlib.suppress(FileExistsError):  # another process was first: use its key
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    private_pem = path.read_bytes()
    return VapidKeys(private_pem=private_pem, public_key=_public_key(private_pem))


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


class PushSender(KeepAlive):
    """Sends Web Push messages signed with the site's VAPID keys (one keep-alive connection
    pool; :meth:`close` it, or use it as a context manager).

    ``subject`` is the VAPID ``sub`` claim: a ``mailto:`` address or an ``https:`` URL where the
    push service's operator can reach the site's operator."""

    def __init__(self, keys: VapidKeys, subject: str, timeout: float = 10.0) -> None:
        if not (subject.startswith("mailto:") or subject.startswith("https://")):
            raise ValueError("The VAPID subject must be a mailto: address or an https:// URL.")
        self._keys = keys
        self._subject = subject
        self._vapid = Vapid02(private_key=_private_key(keys.private_pem))
        super().__init__(timeout)

    def __repr__(self) -> str:
        return f"PushSender(public_key={self._keys.public_key!r}, subject={self._subject!r})"

    def _authorization(self, endpoint: str) -> str:
        claims = {
            "sub": self._subject,
            "aud": _origin(endpoint),
            "exp": int(time.time()) + JWT_LIFETIME_SECONDS,
        }
        headers: dict[str, str] = self._vapid.sign(claims)
        return headers["Authorization"]

    def send(
        self,
        subscription: Subscription,
        payload: Mapping[str, Any],
        *,
        ttl: int = 86400,
        urgency: str = "normal",
        topic: str | None = None,
    ) -> None:
        """Encrypt ``payload`` (as compact UTF-8 JSON) to ``subscription`` and hand it to its
        push service, which keeps it up to ``ttl`` seconds for an offline browser.

        Raises :class:`ValueError` for a payload over :data:`MAX_PAYLOAD_BYTES` (the service's
        4096-byte limit applies after encryption, which adds 86 bytes and padding), a negative
        ``ttl``, an unknown ``urgency`` or a ``topic`` that is not 1-32 base64url characters;
        :class:`PushGone` or :class:`PushFailed` when the service does not accept it."""
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if len(data) > MAX_PAYLOAD_BYTES:
            raise ValueError(
                f"The push payload is {len(data)} bytes; at most {MAX_PAYLOAD_BYTES} fit."
            )
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0:
            raise ValueError("The TTL must be a whole number of seconds, 0 or more.")
        if urgency not in URGENCIES:
            raise ValueError(f"The urgency must be one of {', '.join(URGENCIES)}.")
        if topic is not None and not TOPIC.fullmatch(topic):
            raise ValueError("A topic is 1 to 32 characters of A-Z, a-z, 0-9, '-' and '_'.")
        pusher = WebPusher(
            {
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            }
        )
        body: bytes = pusher.encode(data, "aes128gcm")["body"]
        headers = {
            "Authorization": self._authorization(subscription.endpoint),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(ttl),
            "Urgency": urgency,
        }
        if topic is not None:
            headers["Topic"] = topic
        host = urlsplit(subscription.endpoint).hostname or "the push service"
        try:
            response = self._client.post(subscription.endpoint, content=body, headers=headers)
        except httpx.TimeoutException:
            raise PushFailed(f"{host} did not answer in time", retry=True) from None
        except httpx.HTTPError as error:
            kind = type(error).__name__
            raise PushFailed(f"{host} is not reachable ({kind})", retry=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = f"{host} answered {status} {response.reason_phrase}".rstrip()
        if status in (404, 410):
            raise PushGone(f"{reason}: the subscription no longer exists", status)
        raise PushFailed(
            reason,
            status,
            retry=status == 429 or status >= 500,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )


def check_subscription(data: Mapping[str, Any], *, allow_loopback: bool = False) -> Subscription:
    """The :class:`Subscription` in what a browser posted (``PushSubscription.toJSON()``:
    ``{"endpoint": …, "keys": {"p256dh": …, "auth": …}}``), or :class:`ValueError` with a
    plain message saying what is wrong.

    The endpoint must be an https URL of at most :data:`MAX_ENDPOINT_LENGTH` characters without
    user info or fragment (http only for 127.0.0.1/localhost, and only with
    ``allow_loopback``, which tests use); ``p256dh`` must be an uncompressed point on P-256 and
    ``auth`` 16 bytes, both base64url. Keys are returned without padding."""
    if not isinstance(data, Mapping):
        raise ValueError("The subscription must be a JSON object.")
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise ValueError("The subscription has no endpoint.")
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        raise ValueError(f"The endpoint is longer than {MAX_ENDPOINT_LENGTH} characters.")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in endpoint):
        raise ValueError("The endpoint contains spaces or control characters.")
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError("The endpoint is not a valid URL.") from None
    if not parts.hostname:
        raise ValueError("The endpoint is not a valid URL.")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise ValueError("The endpoint must not hold a user name, password or #fragment.")
    loopback = allow_loopback and parts.hostname in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValueError("The endpoint must be an https:// URL.")
    keys = data.get("keys")
    if not isinstance(keys, Mapping):
        raise ValueError("The subscription has no keys.")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str):
        raise ValueError("The subscription needs both keys, p256dh and auth.")
    try:
        point = b64url_decode(p256dh)
    except ValueError:
        raise ValueError("The p256dh key is not base64url.") from None
    if len(point) != 65 or point[0] != 0x04:
        raise ValueError("The p256dh key is not an uncompressed P-256 public key (65 bytes).")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise ValueError("The p256dh key is not a point on the P-256 curve.") from None
    try:
        secret = b64url_decode(auth)
    except ValueError:
        raise ValueError("The auth secret is not base64url.") from None
    if len(secret) != 16:
        raise ValueError("The auth secret must be 16 bytes.")
    return Subscription(endpoint=endpoint, p256dh=b64url(point), auth=b64url(secret))
