"""Binds the site area to an app: site settings in every template, the content library, the
render cache, search, the pull-side pages, the ``content`` commands and the start-up step."""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from app import clock
from app.site import cta
from app.site.cache import RenderCache
from app.site.checks import register_content_check
from app.site.content import SEARCH_SYNC
from app.site.errors import OverBudget
from app.site.images import IMAGES, ImageCatalog
from app.site.library import LIBRARY, Library, Snapshot
from app.site.memo import PageMemo
from app.site.meta import tag_slug
from app.site.pages import PublicView
from app.site.routes import blueprint
from app.site.search import SEARCH, SearchService
from app.site.settings import SITE_SETTINGS, SiteSettings, SiteSettingsSource, current_settings
from app.startup import register_startup_step

log = logging.getLogger("pullfirst.site")


def site_settings() -> SiteSettings:
    return current_settings()


def _sync_search(snapshot: Snapshot, view: PublicView) -> None:
    SEARCH.get().sync(snapshot, view, LIBRARY.get())


def _over_budget(error: OverBudget) -> ResponseReturnValue:
    """A page whose body no longer renders within the budget is not found: never half-shown."""
    log.error("%s: %s", request.path, error)
    return current_app.handle_http_exception(NotFound())


def _content_version(app: Flask) -> Hashable:
    with app.app_context():
        from app.site import content

        return content.version(clock.now())


def prepare_content(app: Flask) -> str:
    """Read the folder (rendering only what changed) and bring the search index up to date;
    returns a line for the console. gunicorn's ``when_ready`` hook (deploy/gunicorn.conf.py)
    runs it in the master so preloaded workers inherit the pages (and the site's compiled
    templates) instead of each reading them on their first request. A missing index of a large
    site is left to ``content index --rebuild`` there, so serving never waits minutes."""
    with app.app_context():
        line = _prepare_content(build_index=False)
    for name in app.jinja_env.list_templates(filter_func=_is_site_template):
        app.jinja_env.get_template(name)  # compiled once here, not again in every worker
    return line


def _is_site_template(name: str) -> bool:
    return name.startswith("site/") or name == "base.html"


def _prepare_content(build_index: bool = True) -> str:
    """``flask serve``: as :func:`prepare_content`, building a missing index on every core."""
    from app.site import content

    library = LIBRARY.get()
    before = library.last_rendered
    snapshot = library.refresh()
    service = SEARCH.get()
    if build_index and service.folder.current_dir() is None:
        view = snapshot.public(clock.now())
        service.rebuild(snapshot, view, library, procs=os.cpu_count() or 1)
    content.public(clock.now())
    rendered = library.last_rendered - before
    problems = (
        f", {len(snapshot.problems)} skipped (run flask content check)" if snapshot.problems else ""
    )
    return (
        f"{len(snapshot.posts)} posts, {len(snapshot.pages)} pages, "
        f"{len(snapshot.surveys)} surveys; {rendered} rendered{problems}"
    )


def init_app(app: Flask) -> None:
    content_dir = Path(app.config["CONTENT_DIR"])
    instance = Path(app.instance_path)
    SITE_SETTINGS.set(app, SiteSettingsSource(content_dir / "site.toml"))
    images = ImageCatalog(content_dir / "images")
    IMAGES.set(app, images)
    LIBRARY.set(
        app,
        Library(
            content_dir,
            RenderCache(instance / "site" / "cache.sqlite3"),
            app.config["CONTENT_RECHECK_SECONDS"],
            images,
            render_seconds=app.config["RENDER_BUDGET_SECONDS"],
        ),
    )
    SEARCH.set(app, SearchService(instance / "search", app.config["CONTENT_RECHECK_SECONDS"]))
    SEARCH_SYNC.set(app, _sync_search)
    app.wsgi_app = PageMemo(  # type: ignore[method-assign]
        app.wsgi_app, lambda: _content_version(app)
    )
    app.jinja_env.globals["site_title"] = lambda: site_settings().title
    app.jinja_env.globals["site_zone"] = lambda: site_settings().time_zone
    app.jinja_env.filters["tag_slug"] = tag_slug
    cta.init_app(app)

    @app.context_processor
    def _site() -> dict[str, Any]:
        return {"site": site_settings()}

    from app.site import cli, gitwiring, problems

    gitwiring.init_app(app)

    app.register_blueprint(blueprint())
    app.register_error_handler(OverBudget, _over_budget)
    app.cli.add_command(cli.content_cli)
    register_content_check(app, "pages", problems.check_pages)
    register_startup_step(app, "content", _prepare_content)
