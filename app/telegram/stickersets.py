"""One-tap sticker packs: the bot makes a member's earned pack a Telegram sticker set.

:func:`add_pack_to_telegram` uploads the pack's built Telegram WebPs and the member's
personalised sticker (``uploadStickerFile``), and creates the set
``<pack>_<member hash>_by_<bot>`` (``createNewStickerSet``) owned by the member's linked
Telegram account. A second tap finds the same set (its name is kept per member and pack) and
brings it in line with the current build instead: stickers the pack gained are added, stickers
it lost are deleted, and the rest are put in the pack's order. Which sticker of the set is which
sticker of the pack is kept in ``telegram_set_stickers`` (fingerprint of the WebP and its emoji
→ Telegram's ``file_unique_id``), so an unchanged pack uploads nothing.

The member hash is a keyed hash (HMAC with ``SECRET_KEY``) of the member id: set names are
public (``t.me/addstickers/<name>``), and must not let anyone guess another member's set.

Network calls are made with no transaction open; what Telegram did is committed as it is done
(after the set is created, then at the end), so a failure half-way leaves records that match
Telegram, and the next tap finishes the job.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from html import escape
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from app.accounts.models import Member
from app.consent import telegram as links
from app.extensions import db
from app.outbound.botapi import (
    BadRequest,
    BotApi,
    BotApiError,
    BotApiUnreachable,
    BotBlocked,
    TooManyRequests,
)
from app.rewards.entitlements import holds
from app.stickers import limits, personal
from app.stickers.builds import BuiltPack
from app.stickers.context import library, output_dir
from app.stickers.errors import ArtRejected
from app.telegram.errors import (
    ChatBlocked,
    NotEntitled,
    NotLinked,
    PackNotReady,
    StickerSetRefused,
)
from app.telegram.models import TelegramSetSticker, TelegramStickerSet

log = logging.getLogger("pullfirst.telegram")

ADD_STICKERS_URL = "https://t.me/addstickers/"
MEMBER_HASH_LENGTH = 10  # base32: 50 bits


class SetChange(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class StickerSetResult:
    """The member's set: its ``name``, the one-tap ``url``, what this tap changed, and
    whether the bot could say so in the chat."""

    name: str
    title: str
    change: SetChange
    told: bool

    @property
    def url(self) -> str:
        return ADD_STICKERS_URL + self.name


@dataclass(frozen=True)
class _Wanted:
    """A sticker the set should hold, in the pack's order."""

    fingerprint: str
    path: Path
    emojis: tuple[str, ...]


@dataclass(frozen=True)
class _InSet:
    file_id: str
    file_unique_id: str


def member_hash(member_id: int, secret: str, salt: str = "") -> str:
    """A short keyed hash of the member id, fit for a set name (``[a-z2-7]``)."""
    message = f"telegram-sticker-set\0{int(member_id)}\0{salt}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:MEMBER_HASH_LENGTH]


def set_name(slug: str, member_id: int, bot: str, secret: str, salt: str = "") -> str:
    """``<pack>_<member hash>_by_<bot>``, at most 64 characters: the pack part follows
    :func:`app.stickers.limits.telegram_set_name` and is shortened when the name would be long."""
    suffix = f"_{member_hash(member_id, secret, salt)}_by_{bot}"
    base = limits.telegram_set_name(slug, bot).removesuffix(f"_by_{bot}")
    base = base[: limits.TELEGRAM_SET_NAME_MAX - len(suffix)].rstrip("_")
    return base + suffix


def fingerprint(data: bytes, emojis: tuple[str, ...]) -> str:
    """What identifies a sticker of the set: its image and its emoji."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(emojis).encode())
    digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


def _wanted(pack: BuiltPack, member_id: int, member_name: str) -> list[_Wanted]:
    platform = limits.TELEGRAM.name
    files = [(pack.path(s.files[platform].file), s.emojis) for s in pack.stickers]
    if pack.personal is not None:
        try:
            extra = personal.personal_sticker(pack, output_dir(current_app), member_id, member_name)
        except ArtRejected as exc:  # the set is still worth having without it
            log.warning("personalised sticker of %s not made for %s: %s", pack.slug, member_id, exc)
        else:
            files.append((extra.files[platform], extra.emojis))
    wanted: dict[str, _Wanted] = {}
    for path, emojis in files:
        found = _Wanted(fingerprint(path.read_bytes(), emojis), path, emojis)
        wanted.setdefault(found.fingerprint, found)  # the same sticker twice is one sticker
    return list(wanted.values())


def _read_set(api: BotApi, name: str) -> list[_InSet] | None:
    """The set's stickers in order, or None when Telegram has no set of that name."""
    try:
        found = api.get_sticker_set(name)
    except BadRequest as exc:
        text = exc.description.lower()
        if "stickerset_invalid" in text or "not found" in text or "not occupied" in text:
            return None
        raise
    return [_InSet(str(s["file_id"]), str(s["file_unique_id"])) for s in found.get("stickers", [])]


def _input(api: BotApi, owner: int, wanted: _Wanted) -> dict[str, Any]:
    uploaded = api.upload_sticker_file(owner, wanted.path.read_bytes(), "static")
    return {"sticker": uploaded["file_id"], "format": "static", "emoji_list": list(wanted.emojis)}


def _save(
    member_id: int, slug: str, name: str, owner: int, mapping: dict[str, str], now: datetime
) -> None:
    """Keep the set and which sticker is which, and commit."""
    record = db.session.get(TelegramStickerSet, (member_id, slug))
    if record is None:
        record = TelegramStickerSet(
            member_id=member_id, pack=slug, name=name, owner_id=owner, created_at=now
        )
        db.session.add(record)
    record.name, record.owner_id, record.updated_at = name, owner, now
    db.session.flush()
    db.session.execute(
        delete(TelegramSetSticker).where(
            TelegramSetSticker.member_id == member_id, TelegramSetSticker.pack == slug
        )
    )
    db.session.add_all(
        TelegramSetSticker(member_id=member_id, pack=slug, fingerprint=fp, file_unique_id=uid)
        for fp, uid in mapping.items()
    )
    db.session.commit()


def _known(member_id: int, slug: str) -> dict[str, str]:
    """file_unique_id → fingerprint of the stickers we put in the member's set."""
    rows = db.session.execute(
        select(TelegramSetSticker.file_unique_id, TelegramSetSticker.fingerprint).where(
            TelegramSetSticker.member_id == member_id, TelegramSetSticker.pack == slug
        )
    )
    return {uid: fp for uid, fp in rows}


@dataclass(frozen=True)
class _Plan:
    """What a tap works from, read before any network call."""

    owner: int
    name: str
    pack: BuiltPack
    wanted: list[_Wanted]
    known: dict[str, str]


def _plan(member_id: int, slug: str) -> _Plan:
    if not holds(member_id, f"pack:{slug}"):
        raise NotEntitled("This pack is not yours yet: earn it first.")
    listed = library().pack(slug)
    if listed is None or listed.build is None:
        raise PackNotReady("This pack is still being built: try again in a minute or two.")
    chat = links.chat_of(member_id)
    if chat is None:
        raise NotLinked("Link Telegram on your permissions page first.")
    if chat.blocked_at is not None:
        raise ChatBlocked(
            "You blocked our bot in Telegram, so it cannot add the pack. Link Telegram again "
            "on your permissions page, then try again."
        )
    owner = int(chat.chat_id)
    config = current_app.config
    bot, secret = config["TELEGRAM_BOT_USERNAME"], config["SECRET_KEY"]
    record = db.session.get(TelegramStickerSet, (member_id, slug))
    if record is not None and record.owner_id != owner:
        # Linked to another Telegram account since: the old set stays with the old account.
        db.session.delete(record)
        db.session.commit()
        record = None
    if record is not None:
        name = record.name
    else:
        first = set_name(slug, member_id, bot, secret)
        taken = db.session.scalar(
            select(TelegramStickerSet.member_id).where(TelegramStickerSet.name == first)
        )
        name = first if taken is None else set_name(slug, member_id, bot, secret, str(owner))
    member = db.session.get_one(Member, member_id)
    wanted = _wanted(listed.build, member_id, member.name)
    known = _known(member_id, slug)
    db.session.rollback()  # no transaction stays open while Telegram is asked
    return _Plan(owner, name, listed.build, wanted, known)


def _sync(api: BotApi, member_id: int, slug: str, plan: _Plan, now: datetime) -> SetChange:
    """Create the set, or add, delete and move stickers until it holds what the pack holds."""
    owner, name, wanted = plan.owner, plan.name, plan.wanted
    existing = _read_set(api, name)
    created, touched = existing is None, False
    tags: list[str | None]
    if existing is None:
        first = wanted[: limits.TELEGRAM_INITIAL_STICKERS]
        api.create_new_sticker_set(
            owner, name, plan.pack.title, [_input(api, owner, w) for w in first]
        )
        existing = _read_set(api, name) or []
        # a new set holds the stickers in the order they were given
        made = {w.fingerprint: s.file_unique_id for w, s in zip(first, existing, strict=False)}
        _save(member_id, slug, name, owner, made, now)
        tags = list(made)
    else:
        tags = [plan.known.get(s.file_unique_id) for s in existing]
    present = set(tags)
    missing = [w for w in wanted if w.fingerprint not in present]
    for adding in missing:
        api.add_sticker_to_set(owner, name, _input(api, owner, adding))
    if missing:
        # added stickers come last, in the order they were added
        existing = _read_set(api, name) or []
        tags += [w.fingerprint for w in missing]
        touched = True
    want = {w.fingerprint for w in wanted}
    kept: dict[str, _InSet] = {}
    for in_set, tag in zip(existing, (tags + [None] * len(existing))[: len(existing)], strict=True):
        if tag is not None and tag in want and tag not in kept:
            kept[tag] = in_set
        else:  # no longer in the pack, a copy, or not one of ours
            api.delete_sticker_from_set(in_set.file_id)
            touched = True
    order = list(kept)
    target = [w.fingerprint for w in wanted if w.fingerprint in kept]
    for position, fp in enumerate(target):
        if order[position] != fp:
            api.set_sticker_position_in_set(kept[fp].file_id, position)
            order.remove(fp)
            order.insert(position, fp)
            touched = True
    if touched or not created:
        _save(member_id, slug, name, owner, {fp: s.file_unique_id for fp, s in kept.items()}, now)
    if created:
        return SetChange.CREATED
    return SetChange.UPDATED if touched else SetChange.UNCHANGED


def ready_message(title: str, url: str) -> str:
    """What the bot says in the chat (Telegram HTML)."""
    return f"Your pack <b>{escape(title, quote=False)}</b> is ready: {escape(url, quote=False)}"


def add_pack_to_telegram(api: BotApi, member_id: int, slug: str, now: datetime) -> StickerSetResult:
    """Make (or bring up to date) the member's Telegram sticker set of the pack ``slug``, and
    say so in their chat.

    Raises :class:`~app.telegram.errors.NotEntitled` when the member does not hold the pack,
    :class:`~app.telegram.errors.PackNotReady` while it has no build,
    :class:`~app.telegram.errors.NotLinked` / :class:`~app.telegram.errors.ChatBlocked` when the
    bot cannot reach the member, and :class:`~app.telegram.errors.StickerSetRefused` when
    Telegram refuses or cannot be reached; in each case nothing was asked of Telegram, or what
    it did is recorded. Commits."""
    plan = _plan(member_id, slug)
    try:
        change = _sync(api, member_id, slug, plan, now)
    except BotBlocked as exc:
        _blocked(plan.owner, now, exc)
        raise ChatBlocked(
            "Telegram says you blocked our bot. Link Telegram again on your permissions page, "
            "then try again."
        ) from None
    except TooManyRequests as exc:
        db.session.rollback()
        wait = f"{exc.retry_after} seconds" if exc.retry_after else "a minute"
        raise StickerSetRefused(f"Telegram asks us to slow down: try again in {wait}.") from None
    except BotApiUnreachable as exc:
        db.session.rollback()
        log.warning("telegram: sticker set of %s for %s: %s", slug, member_id, exc)
        raise StickerSetRefused(
            "Telegram cannot be reached right now: try again in a few minutes."
        ) from None
    except BotApiError as exc:
        db.session.rollback()
        log.error("telegram: sticker set of %s for %s refused: %s", slug, member_id, exc)
        raise StickerSetRefused(
            "Telegram refused the pack. We have been told; the downloads below still work."
        ) from None
    result = StickerSetResult(plan.name, plan.pack.title, change, told=False)
    try:
        api.send_message(plan.owner, ready_message(result.title, result.url))
    except BotBlocked as exc:
        _blocked(plan.owner, now, exc)
        return result
    except BotApiError as exc:
        log.warning("telegram: %s", exc)
        return result
    return StickerSetResult(result.name, result.title, change, told=True)


def sticker_sets_of(member_id: int) -> list[dict[str, Any]]:
    """The member's sticker sets, for their data export."""
    records = db.session.scalars(
        select(TelegramStickerSet)
        .where(TelegramStickerSet.member_id == member_id)
        .order_by(TelegramStickerSet.pack)
    )
    return [
        {
            "pack": r.pack,
            "url": ADD_STICKERS_URL + r.name,
            "created_at": r.created_at.isoformat(),
            "updated_at": r.updated_at.isoformat(),
        }
        for r in records
    ]


def _blocked(chat_id: int, now: datetime, exc: BotApiError) -> None:
    log.warning("telegram: %s", exc)
    db.session.rollback()
    links.mark_blocked(chat_id, now)
    db.session.commit()
