"""Helpers of the security sweep: a browser page armed to count script executions, members made
in bulk, a client signed in with a role, signing in through the browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page

from app.accounts import members
from app.extensions import db
from tests.browser import ARTIFACTS, WATCH_SCRIPT, LiveServer, PageProblems
from tests.conftest import PASSWORD, Clock
from tests.helpers import sign_in
from tests.security.inert import watch

# A payload may name an image or a stylesheet that does not exist: the browser logs the failed
# load, which is not a problem of the page.
RESOURCE_ERROR = re.compile(r"^console: Failed to load resource")


@contextmanager
def armed_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest, check: bool = True
) -> Iterator[Page]:
    """A page armed with :func:`tests.security.inert.watch`; with ``check``, fails on a dialog,
    an uncaught exception or a console error other than a failed load of a resource a payload
    names."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_SCRIPT)
    watch(context)
    problems = PageProblems()
    opened = context.new_page()
    opened.on("console", problems.console)
    opened.on("pageerror", problems.page_error)
    opened.on("dialog", problems.dialog)
    opened.set_default_timeout(10_000)
    yield opened
    folder = ARTIFACTS / Path(str(request.node.fspath)).parent.name
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:120]
    try:
        opened.screenshot(path=str(folder / f"{name}.png"), full_page=False)
    finally:
        context.close()
    if check:
        assert not problems.dialogs, "\n".join(problems.dialogs)
        errors = [e for e in problems.errors if not RESOURCE_ERROR.match(e)]
        assert not errors, "\n".join(errors)


def make_member(
    app: Flask,
    clock: Clock,
    email: str,
    *,
    role: str = "member",
    password: str | None = PASSWORD,
    display_name: str = "",
) -> int:
    """A verified member; returns its id."""
    with app.app_context():
        created = members.create_member(
            email, password, now=clock(), role=role, display_name=display_name, verified=True
        )
        db.session.commit()
        return int(created.id)


def staff_client(app: Flask, clock: Clock, role: str) -> FlaskClient:
    """A test client signed in as a new verified ``<role>@example.com`` with that role."""
    email = f"{role}@example.com"
    make_member(app, clock, email, role=role)
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client


def sign_in_page(tab: Page, email: str, password: str = PASSWORD) -> None:
    tab.goto("/signin")
    tab.get_by_label("Email", exact=True).fill(email)
    tab.get_by_label("Password", exact=True).fill(password)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_load_state()
    assert "/signin" not in tab.url, f"could not sign in as {email}"
