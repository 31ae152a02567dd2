"""Binds the content repository to an app: who commits (the site, by ``MAIL_FROM``), and, with
``CONTENT_GIT_REMOTE``, the sync whose pull loop starts on each process's first request."""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path

from flask import Flask

from app.site.contentgit import CONTENT_GIT, ContentRepo, Person
from app.site.contentsync import CONTENT_SYNC, ContentSync

SITE_PERSON = "pullfirst.content_committer"


def site_person(app: Flask) -> Person:
    """The committer of every commit the site makes: the name and address of MAIL_FROM."""
    name, address = parseaddr(app.config["MAIL_FROM"])
    return Person(name or "Pullfirst", address)


def init_app(app: Flask) -> None:
    repo = ContentRepo(Path(app.config["CONTENT_DIR"]), enabled=app.config["CONTENT_GIT"])
    CONTENT_GIT.set(app, repo)
    remote = app.config["CONTENT_GIT_REMOTE"]
    if not (remote and app.config["CONTENT_GIT"]):
        return
    sync = ContentSync(repo, remote, app.config["CONTENT_GIT_PULL_SECONDS"], site_person(app))
    CONTENT_SYNC.set(app, sync)

    @app.before_request
    def _pull_loop() -> None:
        sync.ensure_running()
