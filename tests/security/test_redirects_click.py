"""Open redirects through the click tracker: ``/t/<token>`` redirects only to the one URL its
token was signed for, and only to an http or https address.

For every redirect payload: a token the server signs for it answers 400 unless it is an
absolute web address (and then redirects exactly there); the payload put into another token's
payload with the old signature answers 400; and a campaign body linking to it yields tracked
links that lead only to web addresses the body named.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import Flask

from app.notify.render import delivery_body
from app.notify.tokens import click_token, trackable
from tests.security.payloads import redirect_payloads
from tests.security.tokens import payload_of, with_payload

PAYLOADS = redirect_payloads()


def test_signed_payloads_redirect_only_to_web_addresses(app: Flask) -> None:
    client = app.test_client()
    for target in PAYLOADS:
        with app.test_request_context():
            token = click_token(1, target)
        response = client.get(f"/t/{token}")
        if trackable(target):
            assert response.status_code == 302, target
            assert response.headers["Location"] == target
            assert urlsplit(target).scheme in ("http", "https")
        else:
            assert response.status_code == 400, target
            assert "Location" not in response.headers


def test_payloads_swapped_into_a_genuine_token_are_refused(app: Flask) -> None:
    with app.test_request_context():
        genuine = click_token(1, "https://example.org/article")
    client = app.test_client()
    for target in PAYLOADS:
        forged = with_payload(genuine, dict(payload_of(genuine), u=target))
        response = client.get(f"/t/{forged}")
        assert response.status_code == 400, target
        assert "Location" not in response.headers


def test_links_in_a_campaign_body_are_tracked_only_to_what_it_named(app: Flask) -> None:
    body = "\n\n".join(f"[link {n}]({target})" for n, target in enumerate(PAYLOADS))
    client = app.test_client()
    with app.test_request_context():
        html = delivery_body(body, 7).html
    tracked = [unquote(t) for t in re.findall(r'href="https?://[^/"]+/t/([^"]+)"', html)]
    assert tracked, "some payloads are plain web addresses and must be tracked"
    for token in tracked:
        response = client.get(f"/t/{token}")
        assert response.status_code == 302
        location = response.headers["Location"]
        assert urlsplit(location).scheme in ("http", "https"), location
    # nothing else in the body is a link that leaves for a non-web scheme
    others = re.findall(r'href="([^"]+)"', html)
    assert all(urlsplit(h).scheme in ("http", "https") or h.startswith("#") for h in others)
