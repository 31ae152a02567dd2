"""The baselines of bench/article.py and bench/startup.py: bare Flask apps, no extension, no
session, no database.

Fixed bytes (one path answered with one file's bytes, the work of a page cache)::

    PULLFIRST_BENCH_BODY=/tmp/page.html PULLFIRST_BENCH_PATH=/posts/x/ gunicorn bench.bare_app:app

Rendering (every article's page rendered on each request from Pullfirst's own template,
``site/article.html`` and its layout, with data Pullfirst already computed: the page, its
rendered body, its related posts, its SEO tags and its calls to action, all held in memory)::

    python -m bench.bare_app prepare /tmp/corpus /tmp/bench-instance /tmp/articles.pickle
    PULLFIRST_BENCH_DATA=/tmp/articles.pickle gunicorn bench.bare_app:app

The rendering app answers with the bytes Pullfirst answers (bench/article.py compares them).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, render_template, request
from markupsafe import Markup

REPO = Path(__file__).resolve().parent.parent
STATIC_FILES = ("pullfirst.css", "favicon.svg")


def prepare(content: Path, instance: Path, out: Path) -> int:
    """Compute, with Pullfirst, everything the article template needs for every public post,
    and pickle it to ``out``; returns how many articles."""
    os.environ.update(PULLFIRST_CONTENT_DIR=str(content), PULLFIRST_INSTANCE_PATH=str(instance))
    sys.path.insert(0, str(REPO))
    from app import clock, create_app
    from app.site import content as site_content
    from app.site import seo
    from app.site.cta import render_cta
    from app.site.settings import current_settings
    from app.site.views import base_url, og_image
    from app.web.assets import content_digest

    app = create_app()
    with app.test_request_context("/"):
        view = site_content.public(clock.now())
        site = current_settings()
        articles: dict[str, dict[str, Any]] = {}
        calls: dict[tuple[str, str], str] = {}
        footer = site.extra.get("footer_cta")
        if footer:
            calls[(footer, "footer")] = str(render_cta(footer, "footer"))
        for post in view.posts:
            body = site_content.rendered(post)
            articles[post.slug] = dict(
                page=post,
                body=dataclasses.replace(body, text=""),
                hidden=None,
                related=view.related(post),
                seo=seo.for_page(post, site, base_url(), og_image(post)),
            )
            if post.cta and (post.cta, "article") not in calls:
                calls[(post.cta, "article")] = str(render_cta(post.cta, "article"))
        digests = {name: content_digest(str(app.static_folder), name) for name in STATIC_FILES}
    with out.open("wb") as file:
        pickle.dump(
            {"articles": articles, "site": site, "calls": calls, "digests": digests},
            file,
            protocol=pickle.HIGHEST_PROTOCOL,
        )
    return len(articles)


class _Anonymous:
    is_authenticated = False


def rendering_app(data_file: Path) -> Flask:
    """Every article of ``data_file`` rendered from the template on each request."""
    from app.site.meta import tag_slug  # the filter Pullfirst's templates use

    with data_file.open("rb") as file:
        data = pickle.load(file)  # noqa: S301 - written by prepare() above
    articles: dict[str, dict[str, Any]] = data["articles"]
    calls = {key: Markup(html) for key, html in data["calls"].items()}  # noqa: S704
    digests: dict[str, str | None] = data["digests"]

    app = Flask(
        __name__,
        template_folder=str(REPO / "app" / "templates"),
        static_folder=str(REPO / "app" / "static"),
    )
    app.jinja_env.filters["tag_slug"] = tag_slug
    app.jinja_env.globals.update(
        render_cta=lambda target, placement="article": calls.get((target, placement), Markup("")),
        return_path=lambda: request.full_path.rstrip("?"),
        current_user=_Anonymous(),
    )

    @app.url_defaults
    def _digest(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and digests.get(values.get("filename", "")):
            values["v"] = digests[values["filename"]]

    site = Blueprint("site", __name__)
    accounts = Blueprint("accounts", __name__)

    @site.route("/")
    def home() -> str:
        return ""

    @site.route("/posts/<slug>/")
    def article(slug: str) -> Response:
        found = articles.get(slug)
        if found is None:
            abort(404)
        return Response(
            render_template("site/article.html", site=data["site"], **found), mimetype="text/html"
        )

    @accounts.route("/signin")
    def signin() -> str:
        return ""

    @accounts.route("/signup")
    def signup() -> str:
        return ""

    app.register_blueprint(site)
    app.register_blueprint(accounts)
    return app


def bytes_app(body_file: Path, path: str) -> Flask:
    """One path answered with fixed bytes."""
    app = Flask(__name__)
    body = body_file.read_bytes()

    @app.route(path)
    def page() -> Response:
        return Response(body, mimetype="text/html")

    return app


def _app_from_environment() -> Flask | None:
    if "PULLFIRST_BENCH_DATA" in os.environ:
        return rendering_app(Path(os.environ["PULLFIRST_BENCH_DATA"]))
    if "PULLFIRST_BENCH_BODY" in os.environ:
        return bytes_app(
            Path(os.environ["PULLFIRST_BENCH_BODY"]), os.environ["PULLFIRST_BENCH_PATH"]
        )
    return None


app = _app_from_environment()

if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "prepare":
        raise SystemExit(__doc__)
    print(prepare(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])))
