"""Browser journeys use the real-browser fixtures of :mod:`tests.browser`."""

from __future__ import annotations

from tests.browser import app_config, live_port, live_server, page  # noqa: F401
