"""Webhook addresses: only public https, checked after DNS resolution, whatever the form says;
an unsafe address is refused with its reason and nothing is stored."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.consent.models import ConsentEvent, WebhookEndpoint
from app.extensions import db
from app.outbound import client as outbound
from app.outbound.errors import UnsafeWebhookURL
from tests.conftest import PASSWORD
from tests.helpers import post_form, sign_in


def public(host: str, port: int) -> list[str]:
    """A resolver for names that are not in this machine's DNS."""
    return {
        "hooks.example.com": ["93.184.216.34"],
        "internal.example.com": ["93.184.216.34", "10.0.0.5"],
        "rebind.example.com": ["::ffff:127.0.0.1"],
    }[host]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/x", "https"),
        ("ftp://hooks.example.com/x", "https"),
        ("https://hooks.example.com/" + "a" * 500, "at most 500"),
        ("https://user:secret@hooks.example.com/x", "user name or password"),
        ("https://hooks.example.com/x#frag", "fragment"),
        ("https://hooks.example.com/a b", "spaces"),
        ("https://localhost/x", "loopback"),
        ("https://127.0.0.1/x", "loopback"),
        ("https://[::1]/x", "loopback"),
        ("https://rebind.example.com/x", "loopback"),
        ("https://10.1.2.3/x", "private"),
        ("https://192.168.1.10/x", "private"),
        ("https://[fd12::1]/x", "private"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://[fd00:ec2::254]/x", "metadata"),
        ("https://169.254.10.10/x", "link-local"),
        ("https://224.0.0.1/x", "multicast"),
        ("https://0.0.0.0/x", "reserved"),
        ("https://100.64.0.1/x", "reserved"),
        ("https://internal.example.com/x", "private"),  # one of its addresses is private
        ("https://no-such-host.invalid/x", "could not find"),
    ],
)
def test_unsafe_addresses_are_refused_with_a_reason(url: str, message: str) -> None:
    def resolve(host: str, port: int) -> list[str]:
        try:
            return public(host, port)
        except KeyError:
            return outbound.system_resolver(host, port)

    with pytest.raises(UnsafeWebhookURL, match=message):
        outbound.check_url(url, resolve=resolve)


# 93.184.216.34 is public: 0x5db8d822, and its bitwise NOT (a Teredo client) is 0xa24727dd.
@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("2002:7f00:1::", "loopback address (inside a 6to4"),
        ("2002:a00:1::1", "private network address (inside a 6to4"),
        ("2002:a9fe:a9fe::", "metadata address (inside a 6to4"),
        ("2002:a9fe:a0a::", "link-local address (inside a 6to4"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback address (inside a Teredo"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private network address (inside a Teredo"),
        ("2001:0:4136:e378:8000:63bf:a247:27dd", "a Teredo address"),
        ("64:ff9b::7f00:1", "loopback address (inside a NAT64"),
        ("64:ff9b::a00:1", "private network address (inside a NAT64"),
        ("64:ff9b::a9fe:a9fe", "metadata address (inside a NAT64"),
        ("64:ff9b:1::5db8:d822", "local-use NAT64"),
        ("64:ff9b:1:7f00:1::", "local-use NAT64"),
        ("::ffff:a00:1", "private network address (inside an IPv4-mapped"),
        ("::ffff:a9fe:a9fe", "metadata address (inside an IPv4-mapped"),
        ("::7f00:1", "loopback address (inside an IPv4-compatible"),
        ("::a00:1", "private network address (inside an IPv4-compatible"),
        ("::5db8:d822", "an IPv4-compatible address"),
    ],
)
def test_ipv6_addresses_are_judged_by_the_ipv4_address_they_carry(
    address: str, message: str
) -> None:
    with pytest.raises(UnsafeWebhookURL, match=re.escape(message)):
        outbound.check_url("https://hooks.example.com/x", resolve=lambda host, port: [address])
    with pytest.raises(UnsafeWebhookURL):
        outbound.check_url(f"https://[{address}]/x")


@pytest.mark.parametrize("address", ["2002:5db8:d822::1", "64:ff9b::5db8:d822", "::ffff:5db8:d822"])
def test_ipv6_addresses_that_carry_a_public_ipv4_address_pass(address: str) -> None:
    target = outbound.check_url("https://hooks.example.com/x", resolve=lambda host, port: [address])
    assert target.addresses == (address,)


def test_a_public_https_address_passes_and_is_pinned_to_its_checked_address() -> None:
    target = outbound.check_url("https://hooks.example.com:8443/in?x=1", resolve=public)
    assert (target.host, target.port, target.path) == ("hooks.example.com", 8443, "/in?x=1")
    assert target.addresses == ("93.184.216.34",)


def test_loopback_needs_the_test_setting_and_http_only_on_loopback() -> None:
    with pytest.raises(UnsafeWebhookURL):
        outbound.check_url("http://127.0.0.1:9/x")
    assert outbound.check_url("http://127.0.0.1:9/x", allow_loopback=True).addresses == (
        "127.0.0.1",
    )
    with pytest.raises(UnsafeWebhookURL, match="https"):
        outbound.check_url("http://hooks.example.com/x", allow_loopback=True, resolve=public)


def _endpoints(app: Flask) -> list[WebhookEndpoint]:
    with app.app_context():
        return list(db.session.scalars(select(WebhookEndpoint)))


def _ledger(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(ConsentEvent)) or 0)


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/hook",
        "https://169.254.169.254/latest",
        "http://example.com/hook",
        "https://example.com/" + "x" * 600,
    ],
)
def test_the_page_refuses_unsafe_endpoints_and_stores_nothing(
    app: Flask, client: FlaskClient, member: Any, url: str
) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    response = post_form(
        client, "/me/permissions/webhooks", {"webhook-url": url}, page="/me/permissions"
    )
    assert response.status_code == 400
    assert 'id="webhook-url-error"' in response.text
    assert _endpoints(app) == [] and _ledger(app) == 0
