"""The security sweep uses the real-browser fixtures of :mod:`tests.browser`, and a page armed
to count script executions (:func:`tests.security.harness.armed_page`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser import LiveServer, app_config, live_port, live_server, page  # noqa: F401
from tests.security.harness import armed_page


@pytest.fixture
def hostile_page(browser: Browser, live_server: LiveServer,  # noqa: F811
                 request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page for hostile input: see :func:`tests.security.harness.armed_page`."""
    with armed_page(browser, live_server, request) as opened:
        yield opened
