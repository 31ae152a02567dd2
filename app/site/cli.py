"""``flask content …``: create a post, check every content file, build the search index."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app import clock
from app.site import build, editor
from app.site.checks import registered_checks
from app.site.contentgit import CONTENT_GIT, ContentGitError
from app.site.errors import ContentPathError
from app.site.gitwiring import site_person
from app.site.library import LIBRARY, scan
from app.site.search import SEARCH
from app.site.searchdocs import searchable

content_cli = AppGroup("content", help="Posts, pages and the search index.")


@content_cli.command("new")
@click.argument("title")
@click.option("--page", "as_page", is_flag=True, help="Create a page instead of a post.")
@click.option("--description", default="", help="The description (up to 160 characters).")
def new_command(title: str, as_page: bool, description: str) -> None:
    """Create a draft post (or page) called TITLE with its front matter, and print its path."""
    kind = "page" if as_page else "post"
    try:
        path = editor.create(
            Path(current_app.config["CONTENT_DIR"]), kind, title, clock.now(), description
        )
    except ContentPathError as exc:
        raise click.ClickException(str(exc)) from None
    site = site_person(current_app)
    name = path.relative_to(Path(current_app.config["CONTENT_DIR"])).as_posix()
    try:
        CONTENT_GIT.get().commit([path], site, site, f"Create {name}")
    except ContentGitError as exc:
        click.echo(f"created, but not committed to git: {exc}", err=True)
    click.echo(str(path))


@content_cli.command("check")
def check_command() -> None:
    """Report every problem in the content files as path:line: message; exit 1 if any."""
    problems = []
    for check in registered_checks().values():
        problems.extend(check())
    for problem in sorted(problems):
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found", err=True)
        sys.exit(1)
    click.echo("content is fine")


@content_cli.command("index")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Render what the cache lacks and build a new index on every core, then "
    "swap it in (the site keeps serving the old one until then).",
)
@click.option(
    "--jobs",
    "-j",
    "--processes",
    "processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes for --rebuild (default: one per core).",
)
def index_command(rebuild: bool, processes: int | None) -> None:
    """Bring the search index up to date with content/ (only what changed), or --rebuild it."""
    library = LIBRARY.get()
    service = SEARCH.get()
    started = time.monotonic()
    if not rebuild:
        snapshot = library.refresh()
        written = service.sync(snapshot, snapshot.public(clock.now()), library)
        if written is None:
            raise click.ClickException("another process is writing the index; try again")
        click.echo(
            f"search index: {written} document(s) updated in {time.monotonic() - started:.1f} s"
        )
        return
    workers = processes or build.cores()
    total = len(scan(library.content_dir))
    with build.progress_report(f"rendering on {workers} cores", total) as progress:
        rendered = build.prerender(
            library.content_dir, library.cache, workers, progress, library.render_seconds
        )
    rendering = time.monotonic() - started
    snapshot = library.refresh()
    for problem in snapshot.problems:  # the other files are built; these are left out
        click.echo(str(problem), err=True)
    view = snapshot.public(clock.now())
    count = len(searchable(snapshot, view))
    with build.progress_report(f"indexing on {workers} cores", count) as progress:
        indexed = service.rebuild(snapshot, view, library, workers, progress)
    click.echo(
        f"rendered {rendered} in {rendering:.1f} s, indexed {indexed} documents in "
        f"{time.monotonic() - started - rendering:.1f} s; the new index is in use"
    )
