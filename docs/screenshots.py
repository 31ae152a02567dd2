"""Take the README's screenshots: the demo site served from a copy of the content, in Chromium at
1280 and 390 px, into ``docs/screens/`` (what the window shows, not the whole page).

    .venv/bin/python docs/screenshots.py            # every screen
    .venv/bin/python docs/screenshots.py editor     # the screens whose name starts with "editor"

It runs ``flask serve`` on a free port with a fresh instance folder in a temporary directory (the
demo admin, readers, codes and campaign drafts are made there), signs in as the demo admin and as a
member made for the occasion, and writes one PNG per screen and width. Nothing in the repository's
``content/`` or ``instance/`` is touched.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screens"
FLASK = [sys.executable, "-m", "flask", "--app", "app"]
MEMBER = "maya@example.com"
MEMBER_PASSWORD = "a long walk by the river"  # noqa: S105 - a throwaway demo account


@dataclass(frozen=True)
class Screen:
    name: str
    who: str  # "admin", "member" or "visitor"
    widths: tuple[int, ...]
    show: Callable[[Page, str], None]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def demo_site() -> Iterator[tuple[str, Path]]:
    """The demo served from a copy of content/ and stickers/: yields (base URL, instance)."""
    with tempfile.TemporaryDirectory(prefix="pullfirst-shots-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "content", root / "content")
        shutil.copytree(REPO / "stickers", root / "stickers")
        port = _free_port()
        env = {
            **os.environ,
            "PULLFIRST_INSTANCE_PATH": str(root / "instance"),
            "CONTENT_DIR": str(root / "content"),
            "STICKERS_DIR": str(root / "stickers"),
            "BASE_URL": f"http://127.0.0.1:{port}",
        }
        server = subprocess.Popen(  # noqa: S603 - our own flask, fixed arguments
            [*FLASK, "serve", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            assert server.stdout is not None
            deadline = time.monotonic() + 300
            for line in server.stdout:
                sys.stdout.write("  serve: " + line)
                if line.startswith("serving on"):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("flask serve did not start within 5 minutes")
            create = subprocess.run(  # noqa: S603 - our own flask, fixed arguments
                [*FLASK, "users", "create", MEMBER, "--name", "Maya", "--password-stdin"],
                input=MEMBER_PASSWORD + "\n" + MEMBER_PASSWORD + "\n",
                text=True,
                env=env,
                cwd=REPO,
                capture_output=True,
                check=False,
            )
            if create.returncode != 0:
                raise SystemExit(create.stdout + create.stderr)
            # Keep reading the server's output, so its pipe never fills and blocks it.
            threading.Thread(target=server.stdout.read, daemon=True).start()
            yield f"http://127.0.0.1:{port}", root / "instance"
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/signin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


def redeem_a_code(page: Page, base: str, instance: Path) -> None:
    """The member redeems the first demo code, so their rewards page has something on it."""
    lines = (instance / "demo-codes.txt").read_text().split()
    code = next(word for word in lines if word.count("-") == 3)
    page.goto(base + "/redeem")
    page.fill("input[name=code]", code)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


def _goto(path: str) -> Callable[[Page, str], None]:
    def show(page: Page, base: str) -> None:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")

    return show


def _first_campaign(suffix: str = "") -> Callable[[Page, str], None]:
    def show(page: Page, base: str) -> None:
        # The worker drafts the post's campaign within 30 s of start-up: wait for it.
        for _ in range(60):
            page.goto(base + "/admin/campaigns/")
            hrefs = page.locator("main a").evaluate_all("links => links.map(a => a.pathname)")
            found = [
                h
                for h in hrefs
                if re.fullmatch(r"/admin/campaigns/[^/.]+", h) and not h.endswith("/new")
            ]
            if found:
                break
            time.sleep(1)
        else:
            raise SystemExit("no campaign drafted from the demo post within a minute")
        href = found[0]
        page.goto(base + href + suffix)
        page.wait_for_load_state("networkidle")

    return show


def _menu_open(page: Page, base: str) -> None:
    page.goto(base + "/me/rewards")
    page.click("label[for=menu-toggle]")


def _choices(page: Page, base: str) -> None:
    page.goto(base + "/me/rewards")
    form = page.locator("form.consent-choices").first
    form.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -120)")


def _cards(page: Page, base: str) -> None:
    page.goto(base + "/admin/codes")
    page.fill("input[name=batch]", "market-day")
    page.fill("input[name=count]", "6")
    page.click("input[name=cards], button[name=cards]")
    page.wait_for_load_state("networkidle")


def _editor_problem(page: Page, base: str) -> None:
    page.goto(base + "/admin/content/post/quiet-hours")
    text = page.locator("textarea[name=text]")
    value = text.input_value().replace("title:", "authr: Someone\ntitle:", 1)
    text.fill(value)
    text.dispatch_event("input")
    page.wait_for_selector("#problem-list li.problem-error", timeout=10_000)


def _import_dry_run(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/import")
    page.set_input_files(
        "input[name=file]", str(REPO / "tests/fixtures/imports/mailchimp-audience.csv")
    )
    page.fill("input[name=old_list]", "the Mailchimp newsletter")
    page.click("main form button[type=submit], main form input[type=submit]")
    page.wait_for_load_state("networkidle")


def _export(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/export")
    with page.expect_download():
        page.click("main form input[type=submit], main form button[type=submit]")
    page.goto(f"{base}/admin/export")
    top = page.locator("#download-heading").evaluate("h => h.getBoundingClientRect().top")
    page.evaluate(f"window.scrollTo(0, {top} - 24)")  # the download form and the list of downloads


SCREENS: list[Screen] = [
    Screen("home", "visitor", (1280, 390), _goto("/")),
    Screen("search-tag", "visitor", (1280,), _goto("/search?q=tag%3Aconsent")),
    Screen("member-menu", "member", (390,), _menu_open),
    Screen("rewards", "member", (1280, 390), _goto("/me/rewards")),
    Screen("rewards-choices", "member", (1280, 390), _choices),
    Screen("welcome", "member", (1280, 390), _goto("/welcome")),
    Screen("permissions", "member", (1280, 390), _goto("/me/permissions")),
    Screen("editor", "admin", (1280, 390), _goto("/admin/content/post/quiet-hours")),
    Screen("editor-problem", "admin", (1280,), _editor_problem),
    Screen("editor-survey", "admin", (1280,), _goto("/admin/content/surveys/reader-2026")),
    Screen("editor-history", "admin", (1280,), _goto("/admin/content/post/quiet-hours/history")),
    Screen("campaign", "admin", (1280, 390), _first_campaign()),
    Screen("campaign-confirm", "admin", (1280,), _first_campaign("/send")),
    Screen("codes", "admin", (1280,), _goto("/admin/codes")),
    Screen("code-cards", "admin", (1280,), _cards),
    Screen("api-docs", "visitor", (1280, 390), _goto("/api/docs")),
    Screen("api-keys", "admin", (1280,), _goto("/admin/api-keys/")),
    Screen("event-webhooks", "admin", (1280,), _goto("/admin/event-webhooks/")),
    Screen("import-dry-run", "admin", (1280,), _import_dry_run),
    Screen("export", "admin", (1280,), _export),
]


def main(prefixes: list[str]) -> None:
    chosen = [s for s in SCREENS if not prefixes or any(s.name.startswith(p) for p in prefixes)]
    OUT.mkdir(parents=True, exist_ok=True)
    with demo_site() as (base, instance), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        admin_password = (instance / "demo-admin.txt").read_text().split()[-1]
        accounts = {
            "admin": ("admin@example.com", admin_password),
            "member": (MEMBER, MEMBER_PASSWORD),
        }
        # One sign-in per account (the sign-in form is rate-limited), reused by every screen.
        states: dict[str, Any] = {}
        for who, (email, password) in accounts.items():
            setup = browser.new_context()
            page = setup.new_page()
            sign_in(page, base, email, password)
            if who == "member":
                redeem_a_code(page, base, instance)
            states[who] = setup.storage_state()
            setup.close()
        for screen in chosen:
            for width in screen.widths:
                context = browser.new_context(
                    viewport={"width": width, "height": 844 if width < 600 else 900},
                    storage_state=states.get(screen.who),
                )
                page = context.new_page()
                screen.show(page, base)
                target = OUT / f"{screen.name}-{width}.png"
                page.screenshot(path=str(target))
                print(f"{target.relative_to(REPO)}")
                context.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
