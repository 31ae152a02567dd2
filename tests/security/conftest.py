"""The security sweep uses the real-browser fixtures of :mod:`tests.browser`, and a page armed
to count script executions (:func:`tests.security.harness.armed_page`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser import (  # noqa: F401
    LiveServer,
    app_config,
    live_port,
    live_server,
    live_socket,
    page,
)
from tests.security.harness import armed_page


@pytest.fixture
def hostile_page(
    browser: Browser,
    live_server: LiveServer,  # noqa: F811
    request: pytest.FixtureRequest,
) -> Iterator[Page]:
    """A page for hostile input: see :func:`tests.security.harness.armed_page`."""
    with armed_page(browser, live_server, request) as opened:
        yield opened


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the sweep's counts after a run that included it."""
    if not any(
        r.nodeid.startswith("tests/security/")
        for rs in terminalreporter.stats.values()
        for r in rs
        if hasattr(r, "nodeid")
    ):
        return
    from tests.security import stated_counts

    terminalreporter.section("security sweep")
    for name, number in stated_counts().items():
        terminalreporter.write_line(f"{name}: {number}")
