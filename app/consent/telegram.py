"""Members' Telegram chats: the address of the ``telegram`` channel.

A member links Telegram from the permissions page with a one-time deep link,
``https://t.me/<bot>?start=<token>``: the token is 32 random URL-safe characters (what a
``start`` parameter may hold), kept only as its SHA-256, valid for :data:`LINK_LIFETIME` and
used once. When the bot receives ``/start <token>`` from a chat, :func:`link_chat` binds that
chat to the token's member. A token used twice, expired or never issued links nothing, and a
chat already linked to another member stays theirs (a member unlinks on either side in one
step: the permissions page, or ``/unlink`` in the chat).

When Telegram answers that the member blocked the bot, :func:`mark_blocked` records it: the
gate then counts the channel as suppressed until the member links again.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from app.consent.errors import TelegramLinkError
from app.consent.models import TelegramChat, TelegramLinkToken, TelegramUpdate
from app.extensions import db

LINK_LIFETIME = timedelta(minutes=15)
OPEN_TOKENS = 5  # links a member may hold at once: older ones are dropped
UPDATES_KEPT = timedelta(days=2)  # Telegram retries an update for at most a day


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link_token(member_id: int, now: datetime) -> str:
    """A fresh one-time token for ``t.me/<bot>?start=<token>``. The caller commits."""
    token = secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]
    db.session.add(
        TelegramLinkToken(
            token_hash=_hash(token),
            member_id=member_id,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    db.session.flush()
    stale = select(TelegramLinkToken.token_hash).where(TelegramLinkToken.member_id == member_id)
    keep = stale.order_by(TelegramLinkToken.created_at.desc()).limit(OPEN_TOKENS)
    db.session.execute(
        delete(TelegramLinkToken).where(
            TelegramLinkToken.member_id == member_id,
            TelegramLinkToken.token_hash.not_in(keep.scalar_subquery()),
        )
    )
    return token


def link_chat(token: str, chat_id: int, username: str | None, now: datetime) -> TelegramChat:
    """Bind ``chat_id`` to the member the token was issued to, and use the token up.

    Raises :class:`TelegramLinkError` (with a sentence for the chat) when the token is unknown,
    used or expired, or the chat is linked to another member; nothing is written then. The
    caller commits."""
    found = db.session.get(TelegramLinkToken, _hash(token), with_for_update=True)
    if found is None:
        raise TelegramLinkError(
            "This link is not valid. Open Telegram from your permissions page again."
        )
    if found.used_at is not None:
        raise TelegramLinkError("This link was already used. Each link works once.")
    if found.expires_at <= now:
        raise TelegramLinkError(
            "This link is out of date: links work for 15 minutes. Open Telegram from your "
            "permissions page again."
        )
    other = db.session.scalar(
        select(TelegramChat).where(
            TelegramChat.chat_id == chat_id, TelegramChat.member_id != found.member_id
        )
    )
    if other is not None:
        raise TelegramLinkError(
            "This Telegram account is linked to another account of this site. Send /unlink "
            "here first, then use the link again."
        )
    found.used_at = now
    chat = db.session.get(TelegramChat, found.member_id)
    if chat is None:
        chat = TelegramChat(member_id=found.member_id, chat_id=chat_id, linked_at=now)
        db.session.add(chat)
    chat.chat_id, chat.username, chat.linked_at, chat.blocked_at = chat_id, username, now, None
    db.session.flush()
    return chat


def chat_of(member_id: int) -> TelegramChat | None:
    return db.session.get(TelegramChat, member_id)


def member_of_chat(chat_id: int) -> int | None:
    found: int | None = db.session.scalar(
        select(TelegramChat.member_id).where(TelegramChat.chat_id == chat_id)
    )
    return found


def unlink(member_id: int) -> bool:
    """Forget the member's chat. Their consents stay as they are in the ledger; without a chat
    the gate sends nothing on Telegram. The caller commits."""
    result = db.session.execute(delete(TelegramChat).where(TelegramChat.member_id == member_id))
    return bool(getattr(result, "rowcount", 0))


def mark_blocked(chat_id: int, now: datetime) -> None:
    """Telegram said the member blocked the bot (403). The caller commits."""
    chat = db.session.scalar(select(TelegramChat).where(TelegramChat.chat_id == chat_id))
    if chat is not None and chat.blocked_at is None:
        chat.blocked_at = now


def first_sight(update_id: int, now: datetime) -> bool:
    """Record that the update ``update_id`` is being handled; False when it already was (a
    webhook delivered again, two pollers). The caller commits with the update's effects."""
    if db.session.get(TelegramUpdate, update_id) is not None:
        return False
    db.session.add(TelegramUpdate(update_id=update_id, handled_at=now))
    db.session.flush()
    return True


def forget_old(now: datetime) -> int:
    """Drop used or expired link tokens and the ids of updates handled long ago."""
    tokens = db.session.execute(
        delete(TelegramLinkToken).where(
            (TelegramLinkToken.expires_at < now) | TelegramLinkToken.used_at.is_not(None)
        )
    )
    updates = db.session.execute(
        delete(TelegramUpdate).where(TelegramUpdate.handled_at < now - UPDATES_KEPT)
    )
    return int(getattr(tokens, "rowcount", 0) or 0) + int(getattr(updates, "rowcount", 0) or 0)
