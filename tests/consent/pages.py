"""Browser steps shared by the consent tests: subscribe, confirm, and read page forms."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from tests.helpers import csrf_token

HASH = re.compile(r'name="wording_hash" type="hidden" value="(\w+)"')


def wording_hash(html: str) -> str:
    found = HASH.search(html)
    assert found is not None, "no wording hash in the page"
    return found.group(1)


def request_subscription(
    client: FlaskClient,
    email: str,
    scope: str = "newsletter",
    origin: str = "footer",
    agree: bool = True,
) -> Any:
    """Open the subscribe page as a call to action would, and send its form."""
    page = client.get(f"/subscribe/{scope}?email={email}&from={origin}")
    assert page.status_code == 200
    data = {
        "email": email,
        "origin": origin,
        "csrf_token": csrf_token(page.text),
        "wording_hash": wording_hash(page.text),
    }
    if agree:
        data["agree"] = "y"
    return client.post(f"/subscribe/{scope}", data=data)


def confirm(client: FlaskClient, link: str) -> Any:
    """Open a confirmation link and press its button."""
    page = client.get(link)
    assert page.status_code == 200, page.text
    return client.post(
        link, data={"csrf_token": csrf_token(page.text), "wording_hash": wording_hash(page.text)}
    )


def forms(html: str, action: str) -> list[dict[str, str]]:
    """The hidden fields of every form that posts to ``action``."""
    found = []
    for match in re.finditer(
        r'<form method="post" action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', html, re.S
    ):
        found.append(
            dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', match.group(1)))
        )
    return found


def switched_on(html: str, scope: str) -> set[str]:
    """The channels whose switch is on in ``scope``'s one control on the page."""
    action = f"/me/permissions/{scope}/choices"
    start = html.index(f'action="{action}"')
    form = html[start : html.index("</form>", start)]
    return set(re.findall(r'name="channel" value="(\w+)" checked', form))


def save_switches(
    client: FlaskClient,
    scope: str,
    on: tuple[str, ...] = (),
    off: tuple[str, ...] = (),
    page: str = "/me/permissions",
    html: str | None = None,
    **kwargs: Any,
) -> Any:
    """Turn ``on`` and ``off`` the switches of ``scope``'s one control on ``page`` (or in its
    already read ``html``), leave the others as the page shows them, and press its one save."""
    html = html if html is not None else client.get(page).text
    action = f"/me/permissions/{scope}/choices"
    [fields] = forms(html, action)
    channels = sorted((switched_on(html, scope) | set(on)) - set(off))
    return client.post(action, data={**fields, "channel": channels}, **kwargs)


def switch(html: str, scope: str, channel: str) -> str | None:
    """The ``<input>`` of ``channel``'s switch in ``scope``'s one control, or None."""
    start = html.index(f'action="/me/permissions/{scope}/choices"')
    form = html[start : html.index("</form>", start)]
    found = re.search(
        r'<input type="checkbox" role="switch"[^>]*value="' + channel + '"[^>]*>', form
    )
    return found.group(0) if found else None


def can_switch_on(html: str, scope: str, channel: str) -> bool:
    """Whether ``channel``'s switch of ``scope`` is there, off, and not disabled."""
    found = switch(html, scope, channel)
    return found is not None and " disabled" not in found and " checked" not in found
