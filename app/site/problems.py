"""The site's own ``content check``: every problem in posts, pages and ``site.toml``, as
``path:line: message``.

Reported: files that cannot be used (bad YAML, a bad field type or date, not UTF-8, empty, too
big), duplicate slugs, aliases that collide, broken internal links, missing descriptions, titles
over 60 and descriptions over 160 characters, unknown fields, calls to action that name nothing,
and images that do not exist.

:func:`check_text` runs the same checks on a text that is not saved yet (the web editor asks
before every save); a missing or long description, a long title and a broken link are warnings
there, every other problem stops the save.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from app.editorfiles.documents import load_toml
from app.editorfiles.errors import EditorFileError
from app.site import build, content, cta
from app.site.cache import content_hash
from app.site.checks import ContentProblem
from app.site.errors import OverBudget, SourceOverBudget
from app.site.frontmatter import SourceError, parse_source
from app.site.images import IMAGES
from app.site.library import Snapshot
from app.site.meta import FieldError, normalize_path, tag_slug, validate
from app.site.pages import Page
from app.site.rendering import render_markdown
from app.site.settings import parse_site_settings

MAX_TITLE = 60
MAX_DESCRIPTION = 160
CONTENT_ENDPOINTS = {"site.article", "site.page", "site.alias", "site.tag", "site.image"}


class _Lines:
    """Finds the line of a field or of a link in one file (read once, only when needed), or
    in ``text`` when the file is not saved yet."""

    def __init__(self, page: Page, text: str | None = None) -> None:
        self.page = page
        self._raw = None if text is None else text.encode("utf-8")
        self._text: list[str] | None = None if text is None else text.splitlines()

    def field(self, name: str) -> int:
        try:
            return parse_source(self.page.path, self._raw).line(name)
        except SourceError:
            return 1

    def containing(self, needle: str) -> int:
        if self._text is None:
            try:
                self._text = self.page.path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self._text = []
        for number, line in enumerate(self._text, start=1):
            if needle in line:
                return number
        return self.page.body_line


def _known_urls(snapshot: Snapshot) -> set[str]:
    urls = {p.url for p in snapshot.all_pages} | {s.url for s in snapshot.surveys.values()}
    urls |= {f"/tags/{tag_slug(t)}/" for p in snapshot.posts.values() for t in p.tags}
    return urls


def _route_exists(path: str) -> bool:
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return endpoint not in CONTENT_ENDPOINTS


def _link_problem(link: str, snapshot: Snapshot, known: set[str]) -> str | None:
    base = str(current_app.config["BASE_URL"])
    if link.startswith(base + "/"):
        link = link[len(base) :]
    if not link.startswith("/") or link.startswith("//"):
        return None
    path = urlsplit(link).path
    images = IMAGES.get()
    if path.startswith("/images/"):
        return None if images.exists(path) else f"image {path} does not exist"
    if path in known or path + "/" in known:
        return None
    if normalize_path(path) in snapshot.aliases:
        target = snapshot.aliases[normalize_path(path)]
        return f"link to {path} goes through an alias; link to {target} instead"
    if _route_exists(path):
        return None
    return f"broken internal link to {path}"


def _image_problem(image: str) -> str | None:
    if image.startswith("https://"):
        return None
    if image.startswith("/images/"):
        exists = IMAGES.get().exists(image)
    else:
        exists = (Path(current_app.root_path) / image.lstrip("/")).is_file() and image.startswith(
            "/static/"
        )
    return None if exists else f"image {image} does not exist"


def _page_problems(
    page: Page,
    snapshot: Snapshot,
    known: set[str],
    claims: dict[str, list[Path]],
    text: str | None = None,
    links: tuple[str, ...] | None = None,
) -> list[ContentProblem]:
    lines, meta, found = _Lines(page, text), page.meta, []

    def add(line: int, message: str, warning: bool = False) -> None:
        found.append(ContentProblem(page.path, line, message, warning))

    for name in meta.unknown:
        add(lines.field(name), f"unknown field {name!r} (is it misspelt?)")
    if not meta.description:
        add(
            lines.field("title"),
            "description is missing (search engines show it under the title)",
            warning=True,
        )
    elif len(meta.description) > MAX_DESCRIPTION:
        add(
            lines.field("description"),
            f"description is {len(meta.description)} characters; keep it to {MAX_DESCRIPTION}",
            warning=True,
        )
    if len(meta.title) > MAX_TITLE:
        add(
            lines.field("title"),
            f"title is {len(meta.title)} characters; keep it to {MAX_TITLE}",
            warning=True,
        )
    if meta.cta:
        problem = cta.target_problem(meta.cta)
        if problem:
            add(lines.field("cta"), problem)
    if meta.image:
        problem = _image_problem(meta.image)
        if problem:
            add(lines.field("image"), problem)
    for alias in meta.aliases:
        others = [str(p) for p in claims.get(alias, []) if p != page.path]
        if {alias, alias + "/"} & known or _route_exists(alias) or _route_exists(alias + "/"):
            add(lines.field("aliases"), f"alias {alias} collides with a page that exists")
        elif others:
            add(lines.field("aliases"), f"alias {alias} is also claimed by {', '.join(others)}")
    if page.kind == "page" and _route_exists(page.url):
        add(
            lines.field("slug"),
            f"{page.url} is taken by another part of the site; choose another slug",
        )
    for link in content.rendered(page).links if links is None else links:
        problem = _link_problem(link, snapshot, known)
        if problem:
            add(lines.containing(urlsplit(link).path or link), problem, warning=True)
    return found


def _site_problems() -> list[ContentProblem]:
    path = Path(current_app.config["CONTENT_DIR"]) / "site.toml"
    if not path.exists():
        return [ContentProblem(path, 1, "site.toml is missing")]
    try:
        settings = parse_site_settings(path)
        doc = load_toml(path)
    except EditorFileError as exc:
        return [ContentProblem(path, exc.line, exc.message)]
    found = []
    for key in ("home_cta", "footer_cta"):
        value = settings.extra.get(key)
        targets = value if isinstance(value, list) else [value] if value else []
        line = doc.line(key)
        for target in targets:
            problem = cta.target_problem(str(target))
            if problem:
                found.append(ContentProblem(path, line, f"{key}: {problem}"))
    return found


def check_pages() -> list[ContentProblem]:
    """Every problem in posts, pages and site.toml, sorted by path and line. Files the render
    cache lacks are rendered first in worker processes, each under a hard deadline, so a file
    over the render budget is reported, never rendered here."""
    library = content.library()
    build.prerender(library.content_dir, library.cache, seconds=library.render_seconds)
    snapshot = library.refresh()
    surveys = Path(current_app.config["CONTENT_DIR"]) / "surveys"
    found = [p for p in snapshot.problems if p.path.parent != surveys] + _site_problems()
    known, claims = _known_urls(snapshot), dict[str, list[Path]]()
    for page in snapshot.all_pages:
        for alias in page.meta.aliases:
            claims.setdefault(alias, []).append(page.path)
    for page in snapshot.all_pages:
        found.extend(_page_problems(page, snapshot, known, claims))
    return sorted(found)


def check_text(path: Path, kind: str, text: str) -> list[ContentProblem]:
    """Every problem ``flask content check`` would report for ``path`` (a ``post`` or a
    ``page``) if it held ``text``, sorted by line; nothing is written. A file that cannot be read,
    a field that is not valid or a body over the render budget is the one problem reported."""
    raw = text.encode("utf-8")
    try:
        source = parse_source(path, raw)
    except SourceError as exc:
        return [ContentProblem(path, exc.line, exc.message)]
    try:
        meta = validate(source.meta, path.stem, is_post=kind == "post")
    except FieldError as exc:
        return [ContentProblem(path, source.line(exc.field), str(exc))]
    library = content.library()
    try:
        rendered = render_markdown(source.body, IMAGES.get(), library.render_seconds)
    except OverBudget as exc:
        problem = SourceOverBudget.of(path, source.body_line, exc)
        return [ContentProblem(path, problem.line, problem.message)]
    page = Page(kind, str(path), content_hash(raw), rendered.words, source.body_line, meta)
    snapshot = library.current()
    known, claims = _known_urls(snapshot), dict[str, list[Path]]()
    for other in snapshot.all_pages:
        if other.path != path:
            for alias in other.meta.aliases:
                claims.setdefault(alias, []).append(other.path)
    found = _page_problems(page, snapshot, known, claims, text=text, links=rendered.links)
    return sorted(found, key=lambda p: (p.line, p.message))
