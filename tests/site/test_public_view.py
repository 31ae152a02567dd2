"""The public view's precomputed index: related articles, tags and dates, built once per view,
give what the straightforward algorithms give on any set of posts and tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.site.meta import PageMeta, tag_slug
from app.site.pages import RELATED_COUNT, Page, PublicView

NOW = datetime(2026, 3, 1, tzinfo=UTC)
# Names that share slugs ("Email", "email", " EMAIL") and names that do not.
TAG_NAMES = [
    "Email",
    "email",
    "EMAIL",
    "Strategy",
    "Consent",
    "Privacy",
    "Search",
    "Retail",
    "Writing",
    "Case study",
    "case-study",
]


def _post(
    number: int, tags: list[str], day: int, draft: bool = False, updated: int | None = None
) -> Page:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    meta = PageMeta(
        title=f"Post {number}",
        slug=f"post-{number}",
        tags=tuple(tags),
        date=start + timedelta(days=day),
        draft=draft,
        updated=start + timedelta(days=updated) if updated is not None else None,
    )
    return Page("post", f"posts/post-{number}.md", f"hash{number}", 500, 5, meta)


def related_by_scores(view: PublicView, page: Page) -> tuple[Page, ...]:
    """The algorithm the index replaced: score every post sharing a tag, sort them all."""
    scores: dict[str, int] = {}
    for name in page.tags:
        tag = view.tags.get(tag_slug(name))
        for other in tag.posts if tag is not None else ():
            if other.slug != page.slug:
                scores[other.slug] = scores.get(other.slug, 0) + 1
    order = {p.slug: i for i, p in enumerate(view.posts)}
    best = sorted(scores, key=lambda slug: (-scores[slug], order[slug]))[:RELATED_COUNT]
    by_slug = {p.slug: p for p in view.posts}
    return tuple(by_slug[slug] for slug in best)


posts_strategy = st.lists(
    st.tuples(
        st.lists(st.sampled_from(TAG_NAMES), max_size=5),
        st.integers(0, 40),  # the day: many posts share one, so the slug breaks ties
        st.booleans() | st.just(False),
        st.none() | st.integers(0, 60),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(posts_strategy, st.lists(st.sampled_from(TAG_NAMES), max_size=6))
def test_related_posts_are_those_of_the_scoring_algorithm(
    drawn: list[tuple[list[str], int, bool, int | None]], other_tags: list[str]
) -> None:
    posts = [
        _post(n, tags, day, draft, updated) for n, (tags, day, draft, updated) in enumerate(drawn)
    ]
    view = PublicView.build(posts, [], NOW)
    for post in posts:  # public or not, as the view is asked
        assert view.related(post) == related_by_scores(view, post)
        assert view.related(post) == related_by_scores(view, post)  # and when remembered
    # A page that is not a post of this view, with tags of its own
    outsider = _post(999, other_tags, 3)
    assert view.related(outsider) == related_by_scores(view, outsider)


@settings(max_examples=100, deadline=None)
@given(posts_strategy)
def test_tags_dates_and_orders_are_those_computed_from_the_posts(
    drawn: list[tuple[list[str], int, bool, int | None]],
) -> None:
    posts = [
        _post(n, tags, day, draft, updated) for n, (tags, day, draft, updated) in enumerate(drawn)
    ]
    view = PublicView.build(posts, [], NOW)

    def newest(items: tuple[Page, ...]) -> datetime | None:
        return max((p.modified_at for p in items if p.modified_at), default=None)

    assert view.modified_at == newest(view.posts)
    for tag in view.tags.values():
        assert tag.modified_at == newest(tag.posts)
        assert tag.posts == tuple(
            p for p in view.posts for name in p.tags if tag_slug(name) == tag.slug
        )
    assert view.by_name == tuple(sorted(view.tags.values(), key=lambda t: t.name.lower()))
    assert view.by_count == tuple(
        sorted(view.tags.values(), key=lambda t: (-len(t.posts), t.name.lower()))
    )


def test_related_on_a_large_site_prefers_more_shared_tags_then_the_newest() -> None:
    posts = [
        _post(n, ["Email"] + (["Strategy"] if n % 97 == 0 else []), n % 300) for n in range(3_000)
    ]
    view = PublicView.build(posts, [], NOW)
    page = next(p for p in view.posts if "Strategy" in p.tags)
    found = view.related(page)
    assert found == related_by_scores(view, page)
    assert all("Strategy" in p.tags for p in found)
    assert page not in found
