"""What the search index holds: every public post and page, and every survey, as documents.

Kept apart from :mod:`app.site.search` (querying) and :mod:`app.site.searchindex` (Whoosh
storage) so that both can use it without knowing about the other.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.site.library import Library, Snapshot
from app.site.meta import tag_slug
from app.site.pages import Page, PublicView, Survey
from app.site.searchindex import Document

Searchable = Page | Survey


def searchable(snapshot: Snapshot, view: PublicView) -> dict[str, Searchable]:
    """Key → item for everything the public may find: public posts and pages, surveys."""
    found: dict[str, Searchable] = {f"post:{p.slug}": p for p in view.posts}
    found.update({f"page:{p.slug}": p for p in view.pages.values()})
    found.update({f"survey:{s.slug}": s for s in snapshot.surveys.values() if not s.draft})
    return found


def _document(item: Searchable, text: str) -> Document:
    if isinstance(item, Survey):
        return Document(
            f"survey:{item.slug}",
            item.hash,
            "survey",
            item.url,
            item.title,
            item.description,
            f"{text} {' '.join(item.questions)}".strip(),
        )
    published = item.published_at
    return Document(
        f"{item.kind}:{item.slug}",
        item.hash,
        item.kind,
        item.url,
        item.title,
        item.description,
        text,
        tuple((tag_slug(t), t) for t in item.tags),
        published.date().isoformat() if published else "",
    )


def documents_for(items: Iterable[Searchable], library: Library) -> list[Document]:
    chosen = list(items)
    texts = library.texts(chosen)
    return [_document(item, texts.get(item.hash, "")) for item in chosen]


def iter_documents(
    items: list[Searchable], library: Library, batch: int = 500
) -> Iterable[Document]:
    for start in range(0, len(items), batch):
        yield from documents_for(items[start : start + batch], library)
