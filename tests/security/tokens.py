"""Every kind of signed token the app issues (:mod:`app.signing` purposes), how to make a genuine
one for a member, and how a browser presents it.

A :class:`Kind` is one purpose. ``present`` does what a person does with the token: open the
link (and press its button, which posts a form with a valid CSRF token), or press the signed
button of a form. A feature that adds a purpose adds one :class:`Kind` to :data:`KINDS`, and
:func:`tests.security.test_tokens.test_every_purpose_in_the_code_has_a_kind` fails until it does.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import signing
from app.accounts import links
from app.accounts.members import get_member
from app.consent.gate import why
from app.consent.ledger import choices, consents, subscriptions, toggles
from app.consent.ledger.consents import Origin
from app.consent.scopes import find_scope
from app.consent.views.privacy import DELETE_LINK_LIFETIME, DELETE_PURPOSE
from app.extensions import db
from app.notify import tokens as notify_tokens
from tests.conftest import Clock
from tests.helpers import csrf_token
from tests.security.world import Owner

NEW_PASSWORD = "a brand new passphrase 2026"
NEW_ADDRESS = "moved-away@example.com"


def _close(response: TestResponse) -> TestResponse:
    response.get_data()
    response.close()
    return response


def _csrf_of(client: FlaskClient, shown: TestResponse) -> str:
    """The CSRF token of the page shown, or of a form page any browser can open: an attacker
    posts whatever the link's own page said."""
    html = shown.get_data(as_text=True)
    if 'name="csrf_token"' not in html:
        html = _close(client.get("/reset")).get_data(as_text=True)
    return csrf_token(html)


def _link(
    path: str, form: dict[str, str] | None = None, post_to: str | None = None
) -> Callable[[FlaskClient, str], list[TestResponse]]:
    """Open the link, then press its button: post ``form`` to the link (or to ``post_to``),
    whatever the page said."""

    def present(client: FlaskClient, token: str) -> list[TestResponse]:
        url = path.format(token=token)
        shown = _close(client.get(url))
        if form is None:
            return [shown]
        target = (post_to or path).format(token=token)
        data = {**form, "csrf_token": _csrf_of(client, shown)}
        return [shown, _close(client.post(target, data=data))]

    return present


# The wording hash of the newsletter, noted by ``make`` (which runs in an app context).
_WORDING: dict[str, str] = {}


def _newsletter() -> Any:
    scope = find_scope("newsletter")
    assert scope is not None
    _WORDING["newsletter"] = scope.wording_hash
    return scope


def _subscribe_token(app: Flask, clock: Clock, holder: Owner) -> str:
    scope = _newsletter()
    pending = subscriptions.request_subscription(
        holder.email, scope, scope.wording, Origin("form:subscribe", "/subscribe"), clock()
    )
    db.session.flush()
    return subscriptions.confirmation_token(pending)


def _confirm_subscription(client: FlaskClient, token: str) -> list[TestResponse]:
    url = f"/subscriptions/confirm/{token}"
    shown = _close(client.get(url))
    data = {"csrf_token": _csrf_of(client, shown), "wording_hash": _WORDING["newsletter"]}
    return [shown, _close(client.post(url, data=data))]


def _toggle_token(app: Flask, clock: Clock, holder: Owner) -> str:
    """A yes for the inbox, which the holder stopped first (so the yes changes something)."""
    scope = _newsletter()
    consents.revoke_consent(
        holder.member_id,
        "newsletter",
        "inbox",
        Origin("preferences"),
        clock(),
        wording="Stop The weekly letter in your inbox on this site",
    )
    db.session.flush()
    return toggles.tokens_for(holder.member_id, scope)["inbox"][toggles.YES]


def _press_yes(client: FlaskClient, token: str) -> list[TestResponse]:
    page = _close(client.get("/me/permissions"))
    data = {
        "csrf_token": _csrf_of(client, page),
        "token": token,
        "wording_hash": _WORDING["newsletter"],
        "agree": "y",
        "origin": "preferences",
    }
    return [_close(client.post("/me/permissions/newsletter/inbox/yes", data=data))]


def _choices_token(app: Flask, clock: Clock, holder: Owner) -> str:
    """The one control of the letter, after the holder stopped the inbox (so switching the
    inbox on changes something)."""
    _toggle_token(app, clock, holder)
    scope = _newsletter()
    return choices.choices_token(holder.member_id, scope, scope.channels_in_order)


def _save_choices(client: FlaskClient, token: str) -> list[TestResponse]:
    page = _close(client.get("/me/permissions"))
    data = {
        "csrf_token": _csrf_of(client, page),
        "token": token,
        "origin": "rewards",
        "channel": ["inbox", "email"],
    }
    return [_close(client.post("/me/permissions/newsletter/choices", data=data))]


def _member(holder: Owner) -> Any:
    member = get_member(holder.member_id)
    assert member is not None
    return member


def _one_click(client: FlaskClient, token: str) -> list[TestResponse]:
    """Open the unsubscribe link, then make the cookie-less RFC 8058 POST a mail program
    makes (no CSRF token: the token is the authority)."""
    url = f"/u/{token}"
    shown = _close(client.get(url))
    return [shown, _close(client.post(url, data={"List-Unsubscribe": "One-Click"}))]


def _click_token(app: Flask, clock: Clock, holder: Owner) -> str:
    return notify_tokens.click_token(holder.delivery_ids[0], "https://example.org/read?x=1")


@dataclass(frozen=True)
class Kind:
    """One purpose. ``make`` runs in an app context and returns a genuine token for the holder;
    ``present`` shows it to the app in the holder's browser. A refused token answers one of
    ``refused`` (the toggle's yes answers a stale page by showing the permissions page again,
    a redirect, and changes nothing)."""

    purpose: str
    make: Callable[[Flask, Clock, Owner], str]
    present: Callable[[FlaskClient, str], list[TestResponse]]
    lifetime: timedelta
    single_use: bool
    refused: tuple[int, ...] = (400,)
    # Whether the token only works in the session of the member it names (a bearer link
    # works in any browser: whoever holds it acts for the member it names).
    session_bound: bool = False
    # The payload fields naming the member and the object, when the token has both. Every
    # object field holds an address (or its folded key): the other member's is their email.
    member_field: str = "m"
    object_field: str | None = "o"


KINDS: list[Kind] = [
    Kind(
        "accounts.verify",
        lambda a, c, h: links.make_link("verify", _member(h)),
        _link("/verify/{token}"),
        links.LIFETIMES["verify"],
        True,
    ),
    Kind(
        "accounts.reset",
        lambda a, c, h: links.make_link("reset", _member(h)),
        _link("/reset/{token}", {"password": NEW_PASSWORD}),
        links.LIFETIMES["reset"],
        True,
    ),
    Kind(
        "accounts.signin",
        lambda a, c, h: links.make_link("signin", _member(h)),
        _link("/signin/link/{token}", {}),
        links.LIFETIMES["signin"],
        True,
    ),
    Kind(
        "accounts.email",
        lambda a, c, h: links.make_link("email", _member(h), NEW_ADDRESS),
        _link("/me/account/email/{token}", {}),
        links.LIFETIMES["email"],
        True,
        refused=(400, 409),
    ),
    Kind(
        DELETE_PURPOSE,
        lambda a, c, h: signing.sign(
            DELETE_PURPOSE, {"m": h.member_id, "o": _member(h).email_key}, DELETE_LINK_LIFETIME
        ),
        _link("/me/permissions/delete/{token}", {}),
        DELETE_LINK_LIFETIME,
        True,
    ),
    Kind(
        subscriptions.LINK_PURPOSE,
        _subscribe_token,
        _confirm_subscription,
        subscriptions.REQUEST_LIFETIME,
        True,
        member_field="r",
        object_field="a",
    ),
    Kind(
        why.WHY_PURPOSE,
        lambda a, c, h: why.why_token(h.member_id, "newsletter", "email", c()),
        _link("/why/{token}", {}, post_to="/why/{token}/stop"),
        why.WHY_LIFETIME,
        False,
        object_field=None,
    ),
    Kind(
        toggles.TOGGLE_PURPOSE,
        _toggle_token,
        _press_yes,
        toggles.TOGGLE_LIFETIME,
        False,
        refused=(400, 302),
        session_bound=True,
        object_field=None,
    ),
    Kind(
        choices.CHOICES_PURPOSE,
        _choices_token,
        _save_choices,
        choices.CHOICES_LIFETIME,
        False,
        refused=(400, 302),
        session_bound=True,
        object_field=None,
    ),
    Kind(
        notify_tokens.UNSUBSCRIBE_PURPOSE,
        lambda a, c, h: notify_tokens.unsubscribe_token(
            h.member_id, "newsletter", "inbox", h.delivery_ids[0]
        ),
        _one_click,
        notify_tokens.LIFETIME,
        False,
        object_field=None,
    ),
    # A click token names a delivery and a URL, no member: the altered payload names
    # another delivery.
    Kind(
        notify_tokens.CLICK_PURPOSE,
        _click_token,
        _link("/t/{token}"),
        notify_tokens.LIFETIME,
        False,
        member_field="d",
        object_field=None,
    ),
    # The open pixel always answers with the image (a broken image would tell nothing more);
    # a token it refuses records nothing.
    Kind(
        notify_tokens.OPEN_PURPOSE,
        lambda a, c, h: notify_tokens.open_token(h.delivery_ids[0]),
        _link("/o/{token}.gif"),
        notify_tokens.LIFETIME,
        False,
        refused=(200,),
        member_field="d",
        object_field=None,
    ),
]


def kind(purpose: str) -> Kind:
    return next(k for k in KINDS if k.purpose == purpose)


# --- taking tokens apart ----------------------------------------------------------------------


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def payload_of(token: str) -> dict[str, Any]:
    """The JSON payload of an itsdangerous token (``payload.signature``, the payload
    zlib-compressed when it starts with a dot)."""
    body = token.rsplit(".", 1)[0]
    raw = zlib.decompress(_b64decode(body[1:])) if body.startswith(".") else _b64decode(body)
    data: dict[str, Any] = json.loads(raw)
    return data


def with_payload(token: str, payload: dict[str, Any]) -> str:
    """``token`` with its payload replaced and its old signature kept."""
    signature = token.rsplit(".", 1)[1]
    body = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{signature}"


def with_bad_signature(token: str) -> str:
    body, signature = token.rsplit(".", 1)
    flipped = "".join("B" if c == "A" else "A" for c in signature[:6]) + signature[6:]
    return f"{body}.{flipped}"
