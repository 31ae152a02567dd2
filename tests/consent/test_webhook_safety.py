"""Webhook addresses: only public https, checked after DNS resolution, whatever the form says;
an unsafe address is refused with its reason and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.consent import outbound
from app.consent.errors import UnsafeWebhookURL
from app.consent.models import ConsentEvent, WebhookEndpoint
from app.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import post_form, sign_in


def public(host: str, port: int) -> list[str]:
    """A resolver for names that are not in this machine's DNS."""
    return {"hooks.example.com": ["93.184.216.34"],
            "internal.example.com": ["93.184.216.34", "10.0.0.5"],
            "rebind.example.com": ["::ffff:127.0.0.1"]}[host]


@pytest.mark.parametrize(("url", "message"), [
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
])
def test_unsafe_addresses_are_refused_with_a_reason(url: str, message: str) -> None:
    def resolve(host: str, port: int) -> list[str]:
        try:
            return public(host, port)
        except KeyError:
            return outbound.system_resolver(host, port)

    with pytest.raises(UnsafeWebhookURL, match=message):
        outbound.check_url(url, resolve=resolve)


def test_a_public_https_address_passes_and_is_pinned_to_its_checked_address() -> None:
    target = outbound.check_url("https://hooks.example.com:8443/in?x=1", resolve=public)
    assert (target.host, target.port, target.path) == ("hooks.example.com", 8443, "/in?x=1")
    assert target.addresses == ("93.184.216.34",)


def test_loopback_needs_the_test_setting_and_http_only_on_loopback() -> None:
    with pytest.raises(UnsafeWebhookURL):
        outbound.check_url("http://127.0.0.1:9/x")
    assert outbound.check_url("http://127.0.0.1:9/x", allow_loopback=True).addresses == (
        "127.0.0.1",)
    with pytest.raises(UnsafeWebhookURL, match="https"):
        outbound.check_url("http://hooks.example.com/x", allow_loopback=True, resolve=public)


def _endpoints(app: Flask) -> list[WebhookEndpoint]:
    with app.app_context():
        return list(db.session.scalars(select(WebhookEndpoint)))


def _ledger(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(ConsentEvent)) or 0)


@pytest.mark.parametrize("url", [
    "https://localhost/hook", "https://169.254.169.254/latest", "http://example.com/hook",
    "https://example.com/" + "x" * 600,
])
def test_the_page_refuses_unsafe_endpoints_and_stores_nothing(
    app: Flask, client: FlaskClient, member: Any, url: str
) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    response = post_form(client, "/me/permissions/webhooks", {"webhook-url": url},
                         page="/me/permissions")
    assert response.status_code == 400
    assert 'id="webhook-url-error"' in response.text
    assert _endpoints(app) == [] and _ledger(app) == 0


