"""Token forgery for every kind of signed token (:data:`tests.security.tokens.KINDS`).

For each kind, presented the way a browser presents it (open the link, press its button with a
valid CSRF token): a forged signature, a token of every other kind, an altered payload (another
member, a later expiry) with the old signature, a payload that mixes two members (signed with
the real key, so only the server's own binding check can refuse it), a session-bound token in
another member's session, an expired token, and a single-use token used twice. Each is refused
with a 4xx page and changes no row anywhere. A genuine token of each kind works, so each
refusal is the token's doing.

The purposes are also read from the code: a new ``signing.sign`` purpose without a kind fails.
"""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from app import signing
from app.accounts import links
from app.engage import responses  # noqa: F401 - the survey shelf the world uses
from app.extensions import db
from tests.conftest import REPO, Clock
from tests.security import world
from tests.security.tokens import (
    KINDS,
    Kind,
    payload_of,
    with_bad_signature,
    with_payload,
)
from tests.security.world import Owner

# The forgery sweep: every token kind through every route that takes one, a few seconds a test.
pytestmark = pytest.mark.slow

COUNTS: dict[str, int] = {}
# Presentations of a token the server could have made; the others are refused at every step.
GENUINE_BUT_WRONG = {"used twice", "cross-member", "expired"}


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    app_config["WEBHOOK_ALLOW_LOOPBACK"] = True
    return app_config


def _make(app: Flask, clock: Clock, kind: Kind, holder: Owner) -> str:
    with app.app_context():
        token = kind.make(app, clock, holder)
        db.session.commit()
    return token


def _refused(app: Flask, kind: Kind, holder: Owner, token: str, what: str) -> None:
    """Presenting ``token`` changes nothing and ends on a refusal. A token the server could
    not have made (forged, altered, of another kind) is refused at every step; a genuine one
    that is wrong for its use may show its page first (an address change to a taken address
    asks for confirmation, then answers 409)."""
    before = world.snapshot(app)
    answers: list[TestResponse] = kind.present(holder.client, token)
    assert world.changes(before, world.snapshot(app)) == {}, (kind.purpose, what)
    codes = [a.status_code for a in answers]
    steps = answers[-1:] if what in GENUINE_BUT_WRONG else answers
    for answer in steps:
        code = answer.status_code
        assert 400 <= code < 500 or code in kind.refused, (kind.purpose, what, codes)
    COUNTS[what] = COUNTS.get(what, 0) + 1


def _works(app: Flask, kind: Kind, holder: Owner, token: str) -> None:
    before = world.snapshot(app)
    answers = kind.present(holder.client, token)
    assert answers[-1].status_code in (200, 302, 303), (kind.purpose, answers[-1].status_code)
    assert world.changes(before, world.snapshot(app)) != {}, kind.purpose


# --- the purposes in the code -------------------------------------------------------------------


def _module_constants(tree: ast.Module) -> dict[str, str]:
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def purposes_in_code() -> set[str]:
    """Every purpose given to ``signing.sign`` in app/. ``f"accounts.{purpose}"`` stands for
    each link purpose of :data:`app.accounts.links.LIFETIMES`."""
    found: set[str] = set()
    for path in sorted((REPO / "app").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _module_constants(tree)
        imported = {
            alias.asname or alias.name: node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "sign"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "signing"
            ):
                continue
            found.add(_purpose(node.args[0], constants, imported, path))
    return found


def _purpose(
    arg: ast.expr, constants: dict[str, str], imported: dict[str, str | None], path: Path
) -> str:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.Name) and arg.id in constants:
        return constants[arg.id]
    if isinstance(arg, ast.Name) and imported.get(arg.id):
        module = REPO / (str(imported[arg.id]).replace(".", "/") + ".py")
        return _module_constants(ast.parse(module.read_text(encoding="utf-8")))[arg.id]
    if isinstance(arg, ast.JoinedStr) and path.name == "links.py":
        return "accounts.{purpose}"
    raise AssertionError(f"{path}: a purpose this test cannot read: {ast.unparse(arg)}")


def test_every_purpose_in_the_code_has_a_kind() -> None:
    in_code = purposes_in_code()
    expanded = {p for p in in_code if "{" not in p}
    if "accounts.{purpose}" in in_code:
        expanded |= {f"accounts.{name}" for name in links.LIFETIMES}
    assert len(expanded) >= 8
    assert expanded == {k.purpose for k in KINDS}, "add a Kind to tests/security/tokens.py"


# --- genuine tokens, and each used twice ------------------------------------------------------


def test_genuine_tokens_work_and_single_use_ones_only_once(app: Flask, clock: Clock) -> None:
    alice, _ = world.build(app, clock)
    last = ("accounts.email", "consent.delete")  # they move or end the account
    for kind in sorted(KINDS, key=lambda k: k.purpose in last and last.index(k.purpose) + 1):
        token = _make(app, clock, kind, alice)
        _works(app, kind, alice, token)
        if kind.single_use:
            _refused(app, kind, alice, token, "used twice")


# --- forgeries ------------------------------------------------------------------------------


def test_forged_signatures_are_refused(app: Flask, clock: Clock) -> None:
    alice, _ = world.build(app, clock)
    for kind in KINDS:
        token = _make(app, clock, kind, alice)
        _refused(app, kind, alice, with_bad_signature(token), "forged signature")
        _refused(app, kind, alice, token[: len(token) // 2], "cut short")
        _refused(app, kind, alice, "x" * (signing.MAX_TOKEN_LENGTH + 1), "overlong")


def test_a_token_of_another_kind_is_refused(app: Flask, clock: Clock) -> None:
    alice, _ = world.build(app, clock)
    for kind in KINDS:
        for other in KINDS:
            if other is not kind:
                _refused(app, kind, alice, _make(app, clock, other, alice), "wrong purpose")


def test_altered_payloads_are_refused(app: Flask, clock: Clock) -> None:
    alice, bob = world.build(app, clock)
    for kind in KINDS:
        token = _make(app, clock, kind, alice)
        payload = payload_of(token)
        assert kind.member_field in payload, kind.purpose
        other = dict(payload)
        other[kind.member_field] = (
            bob.member_id if kind.member_field == "m" else int(payload[kind.member_field]) + 1
        )
        _refused(app, kind, alice, with_payload(token, other), "altered payload")
        later = dict(payload, x=int(payload.get("x", 0)) + 10**7)
        _refused(app, kind, alice, with_payload(token, later), "altered payload")


def test_tokens_that_mix_two_members_are_refused(app: Flask, clock: Clock) -> None:
    alice, bob = world.build(app, clock)
    mixed = 0
    for kind in KINDS:
        if kind.session_bound:
            # Bob's genuine button, pressed in Alice's session.
            _refused(app, kind, alice, _make(app, clock, kind, bob), "cross-member")
            mixed += 1
        if kind.object_field is None:
            continue
        # Alice's token with Bob's address in it, signed with the real key: only the server's
        # check that the member and the object belong together can refuse it.
        payload = payload_of(_make(app, clock, kind, alice))
        payload[kind.object_field] = bob.email
        for field in ("j", "x"):
            payload.pop(field, None)
        with app.app_context():
            token = signing.sign(kind.purpose, payload, kind.lifetime)
        _refused(app, kind, alice, token, "cross-member")
        mixed += 1
    assert mixed >= 7


def test_expired_tokens_are_refused(app: Flask, clock: Clock) -> None:
    alice, _ = world.build(app, clock)
    start = clock()
    for kind in KINDS:
        token = _make(app, clock, kind, alice)
        clock.advance(seconds=kind.lifetime.total_seconds() + timedelta(minutes=1).seconds)
        try:
            _refused(app, kind, alice, token, "expired")
        finally:
            clock.set(start)
