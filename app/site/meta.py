"""Front matter fields of a page or post, validated once, with messages that name the field.

Known fields and their types::

    title: text (required)          description: text          author: text
    date: date or date-time         updated: date or date-time
    publish_at: date or date-time   expires_at: date or date-time
    tags: list of text (or "a, b")  aliases: list of paths ("/old/url/")
    draft: true/false               noindex: true/false
    slug: a-z, 0-9 and dashes       image: a path under /images/ or an https URL
    cta: survey:<slug> or scope:<slug>
    notify: <scope slug> (a published post with it becomes a draft campaign)

Times without a zone are UTC; a bare date is midnight UTC. Unknown fields are reported by
``content check`` but do not stop the page from being served.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ALIAS = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-")
MAX_TAGS = 12
MAX_TAG_LENGTH = 40

KNOWN_FIELDS = frozenset(
    {
        "title",
        "description",
        "date",
        "updated",
        "tags",
        "draft",
        "publish_at",
        "expires_at",
        "slug",
        "aliases",
        "image",
        "author",
        "cta",
        "noindex",
        "notify",
    }
)


class FieldError(ValueError):
    """One field is not valid; ``field`` names it so the caller can find its line."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class PageMeta:
    """The validated front matter of one file."""

    title: str
    slug: str
    description: str = ""
    date: datetime | None = None
    updated: datetime | None = None
    tags: tuple[str, ...] = ()
    draft: bool = False
    publish_at: datetime | None = None
    expires_at: datetime | None = None
    aliases: tuple[str, ...] = ()
    image: str | None = None
    author: str | None = None
    cta: str | None = None
    noindex: bool = False
    notify: str | None = None
    unknown: tuple[str, ...] = ()


@functools.lru_cache(maxsize=65_536)
def slugify(text: str) -> str:
    """``"Why Pull Wins!"`` → ``"why-pull-wins"``; empty when nothing usable is left."""
    lowered = text.lower().replace("&", " and ")
    return "-".join(re.findall(r"[a-z0-9]+", lowered.encode("ascii", "ignore").decode()))[:80]


def tag_slug(tag: str) -> str:
    return slugify(tag)


def parse_moment(value: Any, field: str) -> datetime:
    """A date or date-time from YAML text: ``2026-01-05``, ``2026-01-05 09:30``,
    ``2026-01-05T09:30:00+02:00``. Returned aware, in UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), UTC)
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                moment = datetime.combine(date.fromisoformat(text), time(), UTC)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise FieldError(
                field, f"{field} {value!r} is not a date such as 2026-01-05 or 2026-01-05 09:30"
            ) from None
    else:
        raise FieldError(
            field, f"{field} must be a date such as 2026-01-05, not {type(value).__name__}"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _text(meta: dict[str, Any], field: str, required: bool = False) -> str | None:
    value = meta.get(field)
    if value is None or value == "":
        if required:
            raise FieldError(field, f"{field} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(field, f"{field} must be text, not {type(value).__name__}")
    text = " ".join(str(value).split())
    if required and not text:
        raise FieldError(field, f"{field} is required")
    return text


def _flag(meta: dict[str, Any], field: str) -> bool:
    value = meta.get(field, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise FieldError(field, f"{field} must be true or false, not {value!r}")
    return value


def _moment(meta: dict[str, Any], field: str) -> datetime | None:
    value = meta.get(field)
    return None if value is None or value == "" else parse_moment(value, field)


def _tags(meta: dict[str, Any]) -> tuple[str, ...]:
    value = meta.get("tags")
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise FieldError("tags", "tags must be a list such as [strategy, email]")
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise FieldError("tags", f"each tag must be text, not {item!r}")
        tag = " ".join(str(item).split())
        if not tag_slug(tag):
            raise FieldError("tags", f"tag {item!r} has no letters or digits")
        if len(tag) > MAX_TAG_LENGTH:
            raise FieldError("tags", f"tag {tag!r} is longer than {MAX_TAG_LENGTH} characters")
        if tag_slug(tag) not in {tag_slug(t) for t in tags}:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise FieldError("tags", f"at most {MAX_TAGS} tags, found {len(tags)}")
    return tuple(tags)


def _aliases(meta: dict[str, Any]) -> tuple[str, ...]:
    value = meta.get("aliases")
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise FieldError("aliases", "aliases must be a list of old paths such as /old-post/")
    aliases = []
    for item in items:
        if not isinstance(item, str) or not ALIAS.match(item) or item.startswith("//"):
            raise FieldError(
                "aliases", f"alias {item!r} must be a path on this site that starts with /"
            )
        aliases.append(normalize_path(item))
    return tuple(aliases)


def normalize_path(path: str) -> str:
    """``/Old-Post`` and ``/Old-Post/`` are the same alias: strip the trailing slash."""
    return path.rstrip("/") or "/"


def _image(meta: dict[str, Any]) -> str | None:
    image = _text(meta, "image")
    if image is None:
        return None
    if not (image.startswith("/") or image.startswith("https://")) or image.startswith("//"):
        raise FieldError(
            "image", "image must be a path such as /images/cover.webp or an https:// address"
        )
    return image


def _reference(
    meta: dict[str, Any], field: str, shape: re.Pattern[str], example: str
) -> str | None:
    value = _text(meta, field)
    if value is not None and not shape.match(value):
        raise FieldError(field, f"{field} {value!r} must look like {example}")
    return value


CTA_SHAPE = re.compile(r"^[a-z]+:[a-z0-9][a-z0-9-]*$")


def default_slug(file_stem: str) -> str:
    """The slug a file gets without a ``slug`` field: its name without a leading date."""
    return slugify(DATE_PREFIX.sub("", file_stem))


def validate(meta: dict[str, Any], file_stem: str, is_post: bool) -> PageMeta:
    """Check every known field of ``meta``; raise :class:`FieldError` for the first bad one."""
    slug = _reference(meta, "slug", SLUG, "why-pull-wins (a-z, 0-9 and dashes)")
    slug = slug or default_slug(file_stem)
    if not slug:
        raise FieldError("slug", f"the file name {file_stem!r} gives no slug; add slug:")
    title = _text(meta, "title", required=True)
    assert title is not None
    published = _moment(meta, "date")
    if is_post and published is None:
        raise FieldError("date", "date is required for a post (for example 2026-01-05)")
    return PageMeta(
        title=title,
        slug=slug,
        description=_text(meta, "description") or "",
        date=published,
        updated=_moment(meta, "updated"),
        tags=_tags(meta),
        draft=_flag(meta, "draft"),
        publish_at=_moment(meta, "publish_at"),
        expires_at=_moment(meta, "expires_at"),
        aliases=_aliases(meta),
        image=_image(meta),
        author=_text(meta, "author"),
        cta=_reference(meta, "cta", CTA_SHAPE, "survey:reader-2026 or scope:newsletter"),
        noindex=_flag(meta, "noindex"),
        notify=_reference(meta, "notify", SLUG, "newsletter (a scope's slug)"),
        unknown=tuple(sorted(str(k) for k in meta if k not in KNOWN_FIELDS)),
    )
