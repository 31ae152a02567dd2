"""Fixtures of the sticker tests: one worker pool for the session, the demo packs built once,
apps whose instance holds those builds, and members who hold (or lack) a pack."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.accounts import members
from app.extensions import db
from app.rewards.entitlements import grant
from app.stickers.build import BuildOptions, build_packs
from app.stickers.manifests import SiteLinks
from app.stickers.pool import worker_pool
from tests.conftest import REPO, Clock

DEMO = REPO / "stickers"


def options(stickers_dir: Path, output_dir: Path, **changes: Any) -> BuildOptions:
    """The options the ``app`` fixture's settings give (BASE_URL http://localhost)."""
    values: dict[str, Any] = {
        "stickers_dir": stickers_dir,
        "output_dir": output_dir,
        "telegram_bot": "PullfirstBot",
        "max_pixels": 36_000_000,
        "workers": 2,
        "links": SiteLinks("http://localhost/", "http://localhost/privacy/"),
    }
    values.update(changes)
    return BuildOptions(**values)


@pytest.fixture(scope="session")
def pool() -> Iterator[ProcessPoolExecutor]:
    executor = worker_pool(2)
    yield executor
    executor.shutdown()


@pytest.fixture(scope="session")
def demo_output(tmp_path_factory: pytest.TempPathFactory, pool: ProcessPoolExecutor) -> Path:
    """``instance/stickers`` with the demo packs built (once per session)."""
    output = tmp_path_factory.mktemp("demo-builds")
    report = build_packs(options(DEMO, output), executor=pool)
    assert not report.failed, report.failed
    return output


@pytest.fixture
def built_app(app: Flask, demo_output: Path) -> Flask:
    """The app, its instance holding the demo packs' builds."""
    shutil.copytree(demo_output, Path(app.instance_path) / "stickers")
    return app


def make_member(
    app: Flask, clock: Clock, email: str, name: str = "", rewards: tuple[str, ...] = ()
) -> int:
    """A verified member (password ``tests.conftest.PASSWORD``) holding ``rewards``."""
    from tests.conftest import PASSWORD

    with app.app_context():
        member = members.create_member(
            email, PASSWORD, now=clock(), display_name=name, verified=True
        )
        for reward in rewards:
            grant(member.id, reward, "code:test", clock())
        db.session.commit()
        return member.id
