"""Packs missing a build are built in the background when the site starts; the pages say a
pack is still building until it is ready. A server stopped mid-build leaves no workers behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.stickers.background import BUILD_THREAD, start_background_build
from tests.conftest import REPO, is_postgres
from tests.helpers import free_port
from tests.stickers.art import write_pack


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    stickers = tmp_path / "stickers"
    write_pack(stickers, "garden", 4)
    write_pack(stickers, "broken", 2)
    app_config.update(STICKERS_DIR=str(stickers), STICKERS_WORKERS=2)
    return app_config


def test_the_start_up_step_builds_missing_packs_in_the_background(app: Flask) -> None:
    client = app.test_client()
    assert "This pack is still being built" in client.get("/stickers/garden/").text
    with app.app_context():
        line = start_background_build()
    assert line.startswith(
        "building garden in the background; 0 up to date; 1 with "
        "problems (flask --app app stickers check)"
    )
    thread = BUILD_THREAD.get(app)
    assert isinstance(thread, threading.Thread) and thread.daemon
    thread.join(timeout=120)
    assert not thread.is_alive()
    html = client.get("/stickers/garden/").text
    assert "still being built" not in html and "/stickers/garden/previews/01_s1.webp" in html
    with app.app_context():
        assert (
            start_background_build() == "1 packs up to date; 1 with problems "
            "(flask --app app stickers check)"
        )


def _descendants(pid: int) -> set[int]:
    found, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            for child in task.read_text().split():
                if int(child) not in found:
                    found.add(int(child))
                    frontier.append(int(child))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(is_postgres(), reason="flask serve runs on its embedded SQLite default")
def test_serve_builds_the_demo_packs_and_a_killed_server_leaves_no_workers(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULLFIRST_")}
    env.pop("DATABASE_URL", None)
    env.update(
        PULLFIRST_INSTANCE_PATH=str(tmp_path / "instance"),
        PULLFIRST_BASE_URL=f"http://127.0.0.1:{port}",
    )
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/stickers/spring-birds/", timeout=5) as page:
                    html = page.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        console = log.read_text()
        assert "sticker packs: building paper-planes, spring-birds in the background" in console
        workers = _descendants(process.pid)
        assert "This pack is still being built" in html and workers  # the build is under way
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers), "worker processes outlived the server"


@pytest.mark.slow
@pytest.mark.skipif(is_postgres(), reason="flask serve runs on its embedded SQLite default")
def test_serve_shows_the_built_demo_packs(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULLFIRST_")}
    env.pop("DATABASE_URL", None)
    env.update(
        PULLFIRST_INSTANCE_PATH=str(tmp_path / "instance"),
        PULLFIRST_BASE_URL=f"http://127.0.0.1:{port}",
    )
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        html = ""
        while "The stickers" not in html or "paper-planes/previews" not in html:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/stickers/", timeout=5):
                    pass
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/stickers/spring-birds/", timeout=5
                ) as page:
                    html = page.read().decode()
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/stickers/", timeout=5
                ) as page:
                    html += page.read().decode()
            except (urllib.error.URLError, ConnectionError):
                continue
        assert "spring-birds/previews/01_robin.webp" in html
        # The build's line reaches the console just after the pack is published: wait for it.
        while "sticker pack spring-birds built" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=20)
