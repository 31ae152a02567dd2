"""The XSS detector itself: markup planted in a live page behind the escaping is reported, so the
XSS tests that pass with it could have failed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from tests.browser import LiveServer
from tests.security.harness import armed_page
from tests.security.inert import assert_inert


@pytest.fixture
def planted_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """The armed page, without failing on the console errors that planted markup causes."""
    with armed_page(browser, live_server, request, check=False) as opened:
        yield opened


PLANTED = [
    ('<img src="/static/missing.png" onerror="alert(1)">', "IMG onerror"),
    ('<a href=" java\tscript:alert(1)">x</a>', "A href"),
    ('<iframe src="about:blank"></iframe>', "iframe"),
    ('<svg><a href="javascript:alert(1)"><text>x</text></a></svg>', "a href"),
    ('<div onmouseover="x()">x</div>', "DIV onmouseover"),
]


def test_a_clean_page_passes(app: Flask, hostile_page: Page) -> None:
    hostile_page.goto("/posts/consent-ledger/")
    assert_inert(hostile_page, "clean article", [])


def test_planted_markup_blocked_script_and_alert_are_reported(
    app: Flask, planted_page: Page
) -> None:
    page = planted_page
    for markup, reported in PLANTED:
        page.goto("/posts/consent-ledger/")
        page.evaluate("(html) => { document.querySelector('.prose').innerHTML = html; }", markup)
        with pytest.raises(AssertionError, match=reported):
            assert_inert(page, "planted", [markup])
    # An inline handler that the CSP blocked: reported even though the markup is gone.
    page.goto("/posts/consent-ledger/")
    page.evaluate("""() => {
        const img = document.createElement('img');
        img.setAttribute('onerror', 'alert(1)');
        img.src = '/static/missing.png';
        document.body.appendChild(img);
    }""")
    page.wait_for_function("window.__pullfirst.violations.length > 0")
    page.evaluate("() => document.querySelector('img[onerror]').remove()")
    with pytest.raises(AssertionError, match="script-src"):
        assert_inert(page, "blocked", [])
    # A call of the watched alert is an execution.
    page.goto("/posts/consent-ledger/")
    page.evaluate("() => window.alert(1)")
    with pytest.raises(AssertionError, match="alert"):
        assert_inert(page, "ran", [])
