"""Fixtures of the engage tests: a content folder of their own (a copy of the repository's, so
tests may add surveys), a sticker pack whose rule names the demo survey and batch, and helpers to
make members and sign them in."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts import members
from app.extensions import db
from tests.conftest import PASSWORD, REPO, Clock
from tests.helpers import copy_pack, sign_in


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    return folder


@pytest.fixture
def stickers(tmp_path: Path) -> Path:
    folder = tmp_path / "stickers"
    copy_pack(folder, "spring-birds", "Spring birds", ["survey:reader-2026", "code:spring-store"])
    return folder


@pytest.fixture
def app_config(app_config: dict[str, Any], content: Path, stickers: Path) -> dict[str, Any]:
    app_config.update(CONTENT_DIR=str(content), STICKERS_DIR=str(stickers))
    return app_config


MakeMember = Callable[..., int]


@pytest.fixture
def make_member(app: Flask, clock: Clock) -> MakeMember:
    """``make_member(email, password=None, role="member")`` → the id of a verified member."""

    def make(email: str, password: str | None = None, role: str = "member") -> int:
        with app.app_context():
            created = members.create_member(email, password, now=clock(), role=role, verified=True)
            db.session.commit()
            return created.id

    return make


SignedIn = Callable[..., FlaskClient]


@pytest.fixture
def signed_in(app: Flask, make_member: MakeMember) -> SignedIn:
    """``signed_in(email, role="member")`` → a test client signed in as a new member."""

    def make(email: str, role: str = "member") -> FlaskClient:
        make_member(email, PASSWORD, role)
        client = app.test_client()
        sign_in(client, email, PASSWORD)
        return client

    return make


def write_survey(content: Path, slug: str, text: str) -> Path:
    path = content / "surveys" / f"{slug}.md"
    path.write_text(text)
    return path
