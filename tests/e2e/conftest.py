"""Browser journeys use the real-browser fixtures of :mod:`tests.browser`; every test here is
marked ``browser`` (``-m "not browser"`` leaves them out)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from app.stickers.builds import read_build
from tests.browser import app_config, live_port, live_server, live_socket, page  # noqa: F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def built_packs(app: Flask) -> Flask:
    """The app with the demo sticker packs built into its instance, the way an operator does it
    before serving (``flask stickers build``), with the app's own settings and links."""
    result = app.test_cli_runner().invoke(args=["stickers", "build"])
    assert result.exit_code == 0, result.output
    assert read_build(Path(app.instance_path) / "stickers", "spring-birds") is not None
    return app
