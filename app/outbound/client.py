"""HTTP POSTs to addresses that members chose, without letting them aim us at our own network.

A webhook URL must be https (http only on loopback, and only under the test setting
``WEBHOOK_ALLOW_LOOPBACK``), at most :data:`MAX_URL_LENGTH` characters, without user info or a
fragment. Its host is resolved first and **every** resolved address is checked: loopback,
private, link-local, multicast, reserved, unspecified, shared and cloud-metadata addresses are
refused. An IPv6 address that carries an IPv4 address is judged by the IPv4 address it carries
(IPv4-mapped ``::ffff:0:0/96``, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``, IPv4-compatible
``::/96``), so ``2002:7f00:1::`` is the loopback address it stands for; Teredo ``2001::/32``
(whose client address is the bitwise NOT of its last 32 bits), the local-use NAT64 prefix
``64:ff9b:1::/48`` (where the IPv4 address sits depends on the operator's prefix length) and
IPv4-compatible addresses are refused whatever they carry. The connection is then made to a
checked address (so a DNS answer that changes between the check and the connection cannot move
it), with the original Host header and TLS server name, a :data:`TIMEOUT_SECONDS` deadline, and
no redirects followed.

The resolver is injected (``resolve(host, port) -> [address, …]``) so callers and tests can
supply their own.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.outbound.errors import EndpointUnreachable, UnsafeWebhookURL, WebhookFailed

MAX_URL_LENGTH = 500
TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "100.100.100.200",
        "fd00:ec2::254",
    )
)

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``addresses``) and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address that ``address`` carries, with the name of the form that carries it,
    or None for an IPv6 address of its own."""
    if address.ipv4_mapped is not None:
        return "an IPv4-mapped", address.ipv4_mapped
    if address.sixtofour is not None:
        return "a 6to4", address.sixtofour
    if address.teredo is not None:
        return "a Teredo", address.teredo[1]  # the client: NOT of the last 32 bits
    low = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    if address in NAT64:
        return "a NAT64", low
    if address in IPV4_COMPATIBLE and int(address) > 1:  # not :: and ::1, judged as IPv6
        return "an IPv4-compatible", low
    return None


def address_problem(address: IPAddress, allow_loopback: bool) -> str | None:
    """Why a resolved address may not be used, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in LOCAL_NAT64:
            return "a local-use NAT64 address"
        carried = embedded_ipv4(address)
        if carried is not None:
            form, inner = carried
            mapped = form == "an IPv4-mapped"
            problem = address_problem(inner, allow_loopback and mapped)
            if problem is not None:
                return f"{problem} (inside {form} address)"
            if form in ("a Teredo", "an IPv4-compatible"):
                return f"{form} address"
            if mapped or form == "a NAT64":
                return None
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "a reserved address"
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private network address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


def check_url(
    url: str, *, allow_loopback: bool = False, resolve: Resolver = system_resolver
) -> Target:
    """Check ``url`` and resolve its host; raise :class:`UnsafeWebhookURL` with a message fit
    for the member."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookURL(f"Use an address of at most {MAX_URL_LENGTH} characters.")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeWebhookURL("The address contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeWebhookURL("That is not a valid web address.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeWebhookURL("Use an https:// address.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeWebhookURL("The address must not contain a user name or password.")
    if parts.fragment:
        raise UnsafeWebhookURL("The address must not end with a #fragment.")
    host = parts.hostname
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise UnsafeWebhookURL(f"We could not find the host {host}.") from None
    if not addresses:
        raise UnsafeWebhookURL(f"We could not find the host {host}.")
    parsed = []
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        problem = address_problem(address, allow_loopback)
        if problem is not None:
            raise UnsafeWebhookURL(f"{host} leads to {problem}; use a public https address.")
        parsed.append(address)
    if parts.scheme == "http" and not (allow_loopback and all(a.is_loopback for a in parsed)):
        raise UnsafeWebhookURL("Use an https:// address.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(url, parts.scheme, host, port, path, tuple(str(a) for a in parsed))


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address, self._tls = address, context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _read(response: http.client.HTTPResponse, deadline: float) -> bytes:
    chunks, size = [], 0
    while size < MAX_RESPONSE_BYTES:
        if time.monotonic() > deadline:
            raise WebhookFailed("The endpoint took longer than 10 seconds to answer.")
        chunk = response.read(min(8192, MAX_RESPONSE_BYTES - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allow_loopback: bool = False,
    resolve: Resolver = system_resolver,
    timeout: float = TIMEOUT_SECONDS,
    tls: ssl.SSLContext | None = None,
) -> HttpResult:
    """POST ``body`` to ``url`` after checking it (see the module). Returns the status and at
    most 64 KiB of the answer; a redirect is returned as it is, never followed.

    Raises :class:`UnsafeWebhookURL`; :class:`EndpointUnreachable` when no checked address
    accepted a connection in time; :class:`WebhookFailed` when the endpoint took the connection
    but gave no answer.
    """
    target = check_url(url, allow_loopback=allow_loopback, resolve=resolve)
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            connection = _PinnedHTTPS(
                target.host, target.port, address, remaining, tls or ssl.create_default_context()
            )
        else:
            connection = _PinnedHTTP(target.host, target.port, address, remaining)
        try:
            connection.connect()
        except OSError as exc:  # nobody there: try the host's next address
            last_error = exc
            connection.close()
            continue
        try:
            connection.request("POST", target.path, body=body, headers=dict(headers))
            response = connection.getresponse()
            return HttpResult(response.status, _read(response, deadline))
        except (OSError, http.client.HTTPException) as exc:
            # Connected, so the message may have arrived: a failure of this delivery.
            raise WebhookFailed(f"{target.host} did not answer: {exc}.") from None
        finally:
            connection.close()
    raise EndpointUnreachable(
        f"We could not reach {target.host}: {last_error or 'timed out'}.", target.host
    )
