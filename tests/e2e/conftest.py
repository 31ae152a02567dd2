"""Browser journeys use the real-browser fixtures of :mod:`tests.browser`; every test here is
marked ``browser`` (``-m "not browser"`` leaves them out)."""

from __future__ import annotations

import pytest

from tests.browser import app_config, live_port, live_server, page  # noqa: F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.browser)
