"""Open redirects: no ``next`` value sends a browser off the site after signing in or up."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask

from app.accounts.models import Member
from app.web.urls import safe_next
from tests.conftest import PASSWORD
from tests.helpers import post_form
from tests.security.payloads import redirect_payloads

PAYLOADS = redirect_payloads()


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # One sign-in per payload: lift the limits that would otherwise stop this sweep.
    app_config.update(RATELIMIT_AUTH_IP="1000 per minute", RATELIMIT_AUTH_ACCOUNT="1000 per minute")
    return app_config


def _browser_resolves(location: str, base: str = "http://localhost/signin") -> str:
    """Where a browser goes for ``location`` (the WHATWG URL parser strips leading C0 controls
    and spaces, drops tabs and newlines, and reads backslashes as slashes in http URLs)."""
    cleaned = re.sub(r"[\t\r\n]", "", location.lstrip("\x00\x01 \x1f")).replace("\\", "/")
    return urljoin(base, cleaned)


def _stays_here(location: str) -> bool:
    parts = urlsplit(_browser_resolves(location))
    return parts.scheme == "http" and parts.hostname == "localhost"


@pytest.mark.parametrize("target", PAYLOADS)
def test_safe_next_refuses_or_keeps_the_browser_on_this_site(target: str) -> None:
    kept = safe_next(target)
    assert kept is None or _stays_here(kept), kept


@pytest.mark.slow
def test_sign_in_with_a_hostile_next_lands_on_this_site(app: Flask, member: Member) -> None:
    for target in PAYLOADS:
        client = app.test_client()
        url = "/signin?" + "next=" + target.replace("&", "%26").replace("#", "%23")
        response = post_form(
            client, url, {"email": "reader@example.com", "password": PASSWORD, "next": target}
        )
        assert response.status_code == 302, target
        assert _stays_here(response.headers["Location"]), (target, response.headers["Location"])


def test_pages_already_signed_in_ignore_a_hostile_next(app: Flask, member: Member) -> None:
    client = app.test_client()
    post_form(client, "/signin", {"email": "reader@example.com", "password": PASSWORD})
    for target in PAYLOADS:
        for path in ("/signin", "/signup"):
            response = client.get(path, query_string={"next": target})
            assert response.status_code == 302
            assert _stays_here(response.headers["Location"]), (path, target)
