"""Events the site emits for the areas above it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app import events


@dataclass(frozen=True)
class ArticleRead(events.Event):
    """A signed-in member opened a public article. Emitted by the article view after the page
    was rendered, at most once per (member, article) per session; the engage area records
    ``read:<slug>``. Handlers own their write: the view's transaction is a read."""

    name = "article-read"
    member_id: int
    slug: str
    at: datetime
