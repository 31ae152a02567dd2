"""A push service: a real local HTTP server that plays the browser vendor's Web Push service
(Mozilla's autopush, Google's FCM…), refuses what such a service refuses, and records what it
accepted, decrypted.

Tests own both ends of a subscription: :meth:`PushService.subscribe` makes the key pair and
auth secret a browser would make, and an endpoint ``http://127.0.0.1:<port>/push/<id>`` on this
server. A POST to an endpoint is checked against the RFCs, in this order:

- the endpoint exists (404) and was not unsubscribed (410 Gone, RFC 8030 §7.3);
- ``Authorization: vapid t=<JWT>, k=<key>`` (RFC 8292 §3): ``k`` a base64url uncompressed P-256
  point, the JWT header ``{"typ": "JWT", "alg": "ES256"}``, its ES256 signature verified with
  ``k``; the claims ``aud`` equal to the endpoint's origin, ``exp`` in the future and at most
  24 hours ahead (§2), ``sub`` a ``mailto:`` or ``https:`` contact (§2.1): 401 otherwise;
- ``k`` the ``applicationServerKey`` the subscription was made with, when one was given to
  :meth:`~PushService.subscribe` (403, RFC 8292 §4.2);
- a ``TTL`` header holding a whole number of seconds (400, RFC 8030 §5.2); ``Urgency``, if
  sent, one of ``very-low``, ``low``, ``normal``, ``high`` (400, §5.3); ``Topic``, if sent, 1-32
  characters of the base64url alphabet (400, §5.4);
- a body of at most 4096 bytes (413, RFC 8030 §7.2) with ``Content-Encoding: aes128gcm``
  (400, RFC 8291 §4) that decrypts with the subscription's keys (400).

An accepted message is answered ``201 Created`` with a ``Location`` header and recorded in
:attr:`PushService.messages`; a refusal is answered with a short text body and recorded in
:attr:`PushService.refusals`. Test controls: :meth:`~PushService.unsubscribe`,
:meth:`~PushService.fail_next` (answer the next valid POST with a given status and
``Retry-After``) and :meth:`~PushService.wait_for`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import http_ece  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from app.outbound.webpush import Subscription

MAX_BODY = 4096
MAX_EXP_AHEAD = 24 * 60 * 60
URGENCIES = ("very-low", "low", "normal", "high")
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class Refused(Exception):
    """A refusal: answered with ``status`` and ``reason`` as the text body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url, as JWTs and VAPID keys use it (RFC 7515 §2)."""
    if not BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError("not base64url") from None


@dataclass
class Endpoint:
    """One subscription as the push service knows it."""

    id: str
    url: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str | None
    gone: bool = False


@dataclass(frozen=True)
class PushMessage:
    """An accepted message: its endpoint's id, the request headers (lower-case names), the
    verified VAPID claims and key, the decrypted bytes and, when they are JSON, the value."""

    endpoint_id: str
    headers: dict[str, str]
    claims: dict[str, Any]
    vapid_key: str
    data: bytes
    payload: Any


@dataclass(frozen=True)
class Refusal:
    endpoint_id: str | None
    status: int
    reason: str


@dataclass
class _Failure:
    status: int
    retry_after: int | None


class PushService:
    """The local push service. Start it with ``with PushService() as service``.

    :attr:`messages` holds the accepted messages, :attr:`refusals` every refused POST and
    :attr:`errors` exceptions raised inside the service itself (a bug in it, not a refusal)."""

    def __init__(self) -> None:
        self.messages: list[PushMessage] = []
        self.refusals: list[Refusal] = []
        self.errors: list[str] = []
        self._endpoints: dict[str, Endpoint] = {}
        self._failures: list[_Failure] = []
        self._state = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life ------------------------------------------------------------------------------

    def start(self) -> PushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 2
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                service._serve(self)

            def do_GET(self) -> None:
                service._answer(self, 405, "push endpoints take POST only")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> PushService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``: the ``aud`` every VAPID JWT for this service needs."""
        assert self._server is not None, "start the service first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- test controls ---------------------------------------------------------------------

    def subscribe(
        self, application_server_key: str | None = None
    ) -> tuple[Subscription, ec.EllipticCurvePrivateKey]:
        """A new subscription, as a browser would make it, and its private key. With
        ``application_server_key``, pushes signed with any other VAPID key are refused (403)."""
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth_secret = os.urandom(16)
        endpoint_id = secrets.token_urlsafe(24)
        url = f"{self.origin}/push/{endpoint_id}"
        with self._state:
            self._endpoints[endpoint_id] = Endpoint(
                endpoint_id, url, private_key, auth_secret, application_server_key
            )
        point = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return Subscription(url, b64url(point), b64url(auth_secret)), private_key

    def unsubscribe(self, endpoint: str) -> None:
        """The member unsubscribed: every later POST to ``endpoint`` gets 410 Gone."""
        with self._state:
            self._endpoints[endpoint.rsplit("/", 1)[-1]].gone = True

    def fail_next(self, status: int, retry_after: int | None = None) -> None:
        """Answer the next valid POST with ``status`` (and ``Retry-After``) instead of taking
        it. Calls queue up, one failure per POST."""
        with self._state:
            self._failures.append(_Failure(status, retry_after))

    def wait_for(self, count: int, timeout: float = 5.0) -> list[PushMessage]:
        """The messages once at least ``count`` were accepted; AssertionError after
        ``timeout`` seconds."""
        with self._state:
            if not self._state.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(
                    f"{len(self.messages)} push messages after {timeout}s, wanted {count}; "
                    f"refusals: {self.refusals}"
                )
            return list(self.messages)

    # --- serving ---------------------------------------------------------------------------

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        text: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = text.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        endpoint_id: str | None = None
        try:
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length) if length else b""
            route = re.fullmatch(r"/push/([A-Za-z0-9_-]+)", urlsplit(handler.path).path)
            if route is None:
                raise Refused(404, "no such endpoint")
            endpoint_id = route.group(1)
            with self._state:
                endpoint = self._endpoints.get(endpoint_id)
            if endpoint is None:
                raise Refused(404, "no such subscription")
            if endpoint.gone:
                raise Refused(410, "subscription expired or unsubscribed")
            headers = {name.lower(): value for name, value in handler.headers.items()}
            claims, key = self._check_vapid(endpoint, headers.get("authorization"))
            self._check_headers(headers)
            data = self._decrypt(endpoint, headers, body)
            with self._state:
                failure = self._failures.pop(0) if self._failures else None
            if failure is not None:
                extra = {}
                if failure.retry_after is not None:
                    extra["Retry-After"] = str(failure.retry_after)
                with self._state:
                    self.refusals.append(Refusal(endpoint_id, failure.status, "fail_next"))
                self._answer(handler, failure.status, "refused as the test asked", extra)
                return
            try:
                payload = json.loads(data.decode("utf-8")) if data else None
            except ValueError:
                payload = None
            message = PushMessage(endpoint_id, headers, claims, key, data, payload)
            with self._state:
                self.messages.append(message)
                self._state.notify_all()
            location = f"{self.origin}/message/{secrets.token_urlsafe(16)}"
            self._answer(handler, 201, "", {"Location": location})
        except Refused as refused:
            with self._state:
                self.refusals.append(Refusal(endpoint_id, refused.status, refused.reason))
            self._answer(handler, refused.status, refused.reason)
        except Exception as error:  # a bug in the service: make it visible to the test
            self.errors.append(repr(error))
            self._answer(handler, 500, repr(error))

    def _check_vapid(
        self, endpoint: Endpoint, authorization: str | None
    ) -> tuple[dict[str, Any], str]:
        """The verified claims and the ``k`` key of a VAPID Authorization header."""
        if not authorization:
            raise Refused(401, "missing Authorization header")
        scheme, _, rest = authorization.strip().partition(" ")
        if scheme.lower() != "vapid":
            raise Refused(401, f"authorization scheme {scheme!r} is not vapid")
        params: dict[str, str] = {}
        for part in rest.split(","):
            name, sep, value = part.strip().partition("=")
            if not sep or name.lower() in params:
                raise Refused(401, "malformed vapid authorization parameters")
            params[name.lower()] = value.strip()
        token, key = params.get("t"), params.get("k")
        if not token or not key:
            raise Refused(401, "vapid authorization needs both t and k")
        try:
            point = b64url_decode(key)
            public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError:
            raise Refused(401, "k is not a base64url uncompressed P-256 public key") from None
        if len(point) != 65:
            raise Refused(401, "k is not an uncompressed P-256 public key")
        pieces = token.split(".")
        if len(pieces) != 3:
            raise Refused(401, "t is not a JWT")
        try:
            header = json.loads(b64url_decode(pieces[0]))
            claims = json.loads(b64url_decode(pieces[1]))
            signature = b64url_decode(pieces[2])
        except ValueError:
            raise Refused(401, "t is not a JWT") from None
        if not isinstance(header, dict) or header.get("alg") != "ES256":
            raise Refused(401, "the JWT is not signed with ES256")
        if header.get("typ", "JWT") != "JWT":
            raise Refused(401, "the JWT header's typ is not JWT")
        if len(signature) != 64:
            raise Refused(401, "an ES256 signature is 64 bytes")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        signed = f"{pieces[0]}.{pieces[1]}".encode("ascii")
        try:
            public_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise Refused(401, "the JWT signature does not verify with k") from None
        if not isinstance(claims, dict):
            raise Refused(401, "the JWT claims are not an object")
        parts = urlsplit(endpoint.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if claims.get("aud") != origin:
            raise Refused(401, f"aud {claims.get('aud')!r} is not {origin!r}")
        exp = claims.get("exp")
        now = time.time()
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise Refused(401, "exp is not a number of seconds")
        if exp <= now:
            raise Refused(401, "the JWT has expired")
        if exp > now + MAX_EXP_AHEAD:
            raise Refused(401, "exp is more than 24 hours ahead")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            raise Refused(401, "sub must be a mailto: or https: contact")
        if endpoint.application_server_key is not None:
            wanted = b64url(b64url_decode(endpoint.application_server_key.rstrip("=")))
            if key != wanted:
                raise Refused(403, "k is not the key this subscription was made with")
        return claims, key

    def _check_headers(self, headers: dict[str, str]) -> None:
        ttl = headers.get("ttl")
        if ttl is None:
            raise Refused(400, "missing TTL header")
        if not ttl.strip().isdigit():
            raise Refused(400, "TTL must be a whole number of seconds")
        urgency = headers.get("urgency")
        if urgency is not None and urgency not in URGENCIES:
            raise Refused(400, f"unknown Urgency {urgency!r}")
        topic = headers.get("topic")
        if topic is not None and not TOPIC.fullmatch(topic):
            raise Refused(400, "Topic must be 1-32 base64url characters")

    def _decrypt(self, endpoint: Endpoint, headers: dict[str, str], body: bytes) -> bytes:
        if len(body) > MAX_BODY:
            raise Refused(413, f"body of {len(body)} bytes is over {MAX_BODY}")
        if not body:
            return b""
        encoding = headers.get("content-encoding")
        if encoding != "aes128gcm":
            raise Refused(400, f"Content-Encoding {encoding!r} is not aes128gcm")
        try:
            data: bytes = http_ece.decrypt(
                body,
                private_key=endpoint.private_key,
                auth_secret=endpoint.auth_secret,
                version="aes128gcm",
            )
        except Exception as error:
            raise Refused(400, f"the body does not decrypt ({type(error).__name__})") from None
        return data
