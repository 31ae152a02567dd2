"""A content file's history and a version's difference fit a phone and a laptop, long lines
wrap instead of pushing the page sideways, and "restore this version" works from the page."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, Clock
from tests.site.conftest import FILES, SITE_TOML, write_content

HISTORY = "/admin/content/post/ledger/history"
LONG = "https://example.com/" + "a-very-long-address-without-any-break-" * 6


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    content = tmp_path / "content"
    content.mkdir()
    (content / "site.toml").write_text(SITE_TOML)
    write_content(content, FILES)
    return {
        **app_config,
        "CONTENT_DIR": str(content),
        "CONTENT_RECHECK_SECONDS": 0,
        "CONTENT_GIT": True,
    }


def _overflow(page: Page) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


@pytest.mark.parametrize("width", [390, 1280])
def test_history_and_difference_fit_the_window(
    page: Page, app: Flask, clock: Clock, width: int
) -> None:
    from app.accounts import members
    from app.extensions import db

    content = Path(app.config["CONTENT_DIR"])
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=content, check=True)
    subprocess.run(["git", "add", "-A"], cwd=content, check=True)
    subprocess.run(
        ["git", "-c", "user.name=Maya", "-c", "user.email=m@example.com", "commit", "-qm", "Go"],
        cwd=content,
        check=True,
    )
    path = content / "posts" / "ledger.md"
    path.write_text(path.read_text() + f"\nRead more at {LONG}\n")
    with app.app_context():
        members.create_member(
            "editor@example.com", PASSWORD, now=clock(), role="editor", verified=True
        )
        db.session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/signin")
    page.get_by_label("Email", exact=True).fill("editor@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/signin)"))
    page.goto(HISTORY)
    assert _overflow(page) == 0, f"the history is wider than {width}px"
    page.locator("ol.history-list a").first.click()
    expect(page.locator(".diff-line.diff-add", has_text="a-very-long-address")).to_be_visible()
    assert _overflow(page) == 0, f"the difference is wider than {width}px"
    page.get_by_role("button", name="Restore this version").click()
    expect(page.locator(".flash-success")).to_contain_text("Restored that version")
    assert LONG not in path.read_text()
