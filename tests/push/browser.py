"""Web Push in a real Chromium (Playwright, sync API), without a push service.

Debian's Chromium cannot subscribe to a push service here, so tests hand the page a
subscription of their own and deliver pushes through the DevTools protocol instead
(``ServiceWorker.deliverPushMessage``), which runs the real worker's ``push`` handler. A click on
a notification cannot be simulated that way, so :func:`click_target` asks the worker's own
``self.pullfirstTarget`` where the click would lead.

- :func:`grant_notifications`: allow notifications for an origin (before the page asks).
- :func:`install_worker`: register ``/push-worker.js`` for the whole origin and wait until it
  is active (``navigator.serviceWorker.ready``).
- :func:`deliver_push`: deliver a payload and return the notifications then showing.
- :func:`click_target`: where a click on the notification with a tag would go.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, CDPSession, Page, Worker

WORKER_URL = "/push-worker.js"

NOTIFICATIONS_JS = """
() => navigator.serviceWorker.ready
  .then((registration) => registration.getNotifications())
  .then((shown) => shown.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data})))
"""

TARGET_JS = """
async (tag) => {
  const shown = await self.registration.getNotifications({tag});
  if (!shown.length) { throw new Error('no notification with tag ' + tag); }
  return self.pullfirstTarget(shown[0]);
}
"""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def grant_notifications(context: BrowserContext, origin: str) -> None:
    """Let ``origin`` show notifications: ``Notification.requestPermission()`` then answers
    ``"granted"`` without a prompt."""
    context.grant_permissions(["notifications"], origin=origin)


def install_worker(page: Page, worker_url: str = WORKER_URL) -> None:
    """Register the push worker for the page's whole origin and wait until it is active (not
    only activating: a push delivered before then may be dropped)."""
    page.evaluate(
        """(url) => navigator.serviceWorker.register(url, {scope: '/'})
            .then(() => navigator.serviceWorker.ready)
            .then((registration) => new Promise((resolve) => {
              const worker = registration.active;
              if (worker.state === 'activated') { resolve(); return; }
              worker.addEventListener('statechange', () => {
                if (worker.state === 'activated') { resolve(); }
              });
            }))""",
        worker_url,
    )


def service_worker(page: Page, timeout: float = 10.0) -> Worker:
    """The Playwright handle on the page origin's service worker (to evaluate in its realm)."""
    origin = origin_of(page.url)
    deadline = time.monotonic() + timeout
    while True:
        for worker in page.context.service_workers:
            if origin_of(worker.url) == origin:
                return worker
        if time.monotonic() > deadline:
            raise AssertionError(f"no service worker for {origin} after {timeout}s")
        page.wait_for_timeout(50)


def _registration_id(page: Page, session: CDPSession, origin: str, timeout: float) -> str:
    found: dict[str, str] = {}

    def updated(params: dict[str, Any]) -> None:
        for registration in params.get("registrations", []):
            if registration.get("isDeleted"):
                found.pop(registration["registrationId"], None)
            elif origin_of(registration.get("scopeURL", "")) == origin:
                found[registration["registrationId"]] = registration["scopeURL"]

    session.on("ServiceWorker.workerRegistrationUpdated", updated)
    session.send("ServiceWorker.enable")
    deadline = time.monotonic() + timeout
    while not found:
        if time.monotonic() > deadline:
            raise AssertionError(f"no service worker registration for {origin}")
        page.wait_for_timeout(50)  # lets Playwright dispatch the protocol's events
    return next(iter(found))


def notifications(page: Page) -> list[dict[str, Any]]:
    """The notifications the page origin's worker registration shows now."""
    shown: list[dict[str, Any]] = page.evaluate(NOTIFICATIONS_JS)
    return shown


def deliver_push(
    page: Page, payload: Any, timeout: float = 10.0, redeliver_after: float = 3.0
) -> list[dict[str, Any]]:
    """Deliver ``payload`` (JSON-encoded; a ``str`` is sent as it is) to the page origin's
    worker as a push, and return the notifications showing once they differ from before.

    The protocol gives no answer when the browser drops a push (a registration not yet
    stored, say), so one that shows nothing within ``redeliver_after`` seconds is delivered
    again; AssertionError when nothing changed within ``timeout``."""
    origin = origin_of(page.url)
    before = notifications(page)
    session = page.context.new_cdp_session(page)
    try:
        registration_id = _registration_id(page, session, origin, timeout)
        data = payload if isinstance(payload, str) else json.dumps(payload)
        message = {"origin": origin, "registrationId": registration_id, "data": data}
        deadline = time.monotonic() + timeout
        deliveries = 0
        while time.monotonic() < deadline:
            session.send("ServiceWorker.deliverPushMessage", message)
            deliveries += 1
            again = min(deadline, time.monotonic() + redeliver_after)
            while time.monotonic() < again:
                shown = notifications(page)
                if shown and shown != before:
                    return shown
                page.wait_for_timeout(50)
        raise AssertionError(
            f"no new notification after {deliveries} deliveries in {timeout}s "
            f"(registration {registration_id}, showing {notifications(page)})"
        )
    finally:
        session.detach()


def click_target(page: Page, tag: str) -> str:
    """Where a click on the showing notification tagged ``tag`` would lead, as the worker's
    ``notificationclick`` handler decides it (``self.pullfirstTarget``)."""
    target: str = service_worker(page).evaluate(TARGET_JS, tag)
    return target
