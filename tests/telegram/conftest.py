"""Fixtures of the Telegram tests.

- ``bot_api``: a fresh Bot API peer (:mod:`tests.telegram.peer`) per test, on a free loopback
  port, stopped afterwards.
- ``app_config`` (overridden here): the app's bot points at the peer, and the content folder is
  a copy in which the weekly letter is offered on Telegram too.
- ``linked``: a member who earned the weekly letter and linked a Telegram user of the peer.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import Clock
from tests.consent import world
from tests.telegram.peer import BotApiPeer

TELEGRAM_CHANNELS = 'channels = ["email", "inbox", "telegram"]'
WEBHOOK_SECRET = "w" * 40


@pytest.fixture
def bot_api() -> Iterator[BotApiPeer]:
    with BotApiPeer() as peer:
        yield peer
    assert not peer.errors, f"the Bot API peer itself failed: {peer.errors}"


@pytest.fixture
def app_config(app_config: dict[str, Any], bot_api: BotApiPeer, tmp_path: Path) -> dict[str, Any]:
    content = tmp_path / "content"
    shutil.copytree(app_config["CONTENT_DIR"], content)
    scopes = content / "scopes.toml"
    text = scopes.read_text()
    scopes.write_text(text.replace('channels = ["email", "inbox"]', TELEGRAM_CHANNELS, 1))
    return {
        **app_config,
        "CONTENT_DIR": str(content),
        "TELEGRAM_BOT_TOKEN": bot_api.token,
        "TELEGRAM_BOT_USERNAME": bot_api.bot["username"],
        "TELEGRAM_API_BASE": bot_api.base,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_MESSAGES_PER_SECOND": 30,
    }


@dataclass
class Linked:
    member_id: int
    user_id: int
    email: str


@pytest.fixture
def linked(app: Flask, clock: Clock, bot_api: BotApiPeer) -> Linked:
    """A member who earned the weekly letter, with a linked chat (Telegram user 5001)."""
    from app.consent.models import TelegramChat
    from app.extensions import db

    user = bot_api.add_user(5001, "Robin", "robin_reads")
    with app.app_context():
        member = world.add_member(1, clock() - timedelta(days=30))
        world.earn(member.id, "newsletter", clock() - timedelta(days=30))
        db.session.add(
            TelegramChat(
                member_id=member.id,
                chat_id=user.id,
                username="robin_reads",
                linked_at=clock() - timedelta(days=1),
            )
        )
        db.session.commit()
        return Linked(member.id, user.id, member.email)


def grant_telegram(app: Flask, member_id: int, at: datetime) -> None:
    """A standing yes to the weekly letter on Telegram, given at ``at``."""
    from app.extensions import db

    with app.app_context():
        world.consent(member_id, "newsletter", "telegram", granted=True, version=1, at=at)
        db.session.commit()
