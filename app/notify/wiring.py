"""Binds the notifier to an app: the inbox and link pages, the revoke handler, the data
export, the header's inbox link with its unread count, the CLI, and the worker that runs
beside ``flask serve``."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from app import clock, events
from app.accounts.privacy import register_exporter
from app.consent.ledger import ConsentRevoked
from app.notify import outbox
from app.notify.cli import notify_cli
from app.notify.drafts import draft_from_posts
from app.notify.inbox import unread_count
from app.notify.privacy import export_messages
from app.notify.views import bp
from app.startup import register_companion, register_startup_step
from app.web.nav import MemberLink, register_member_link

log = logging.getLogger("pullfirst.notify")


def _hold_back(event: ConsentRevoked) -> None:
    outbox.hold_back(event.member_id, event.scope, event.channel, "consented", event.at)


def _drafts() -> str:
    created = draft_from_posts(clock.now())
    return f"{len(created)} new campaign drafts from posts" if created else "ready"


def _worker(app: Flask, stopping: threading.Event) -> None:
    from app.notify.worker import Worker

    with app.app_context():
        worker = Worker(name="serve")
        worker.stopping = stopping
        try:
            worker.run()
        except Exception:  # the dev server keeps serving; the log says why delivery stopped
            log.exception("the notifier worker stopped")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(notify_cli)
    events.subscribe(app, ConsentRevoked, _hold_back)
    register_exporter(app, "messages", export_messages)
    register_member_link(app, MemberLink("Inbox", "notify.inbox_page", order=5,
                                         count=unread_count))
    register_startup_step(app, "notify", _drafts)
    register_companion(app, "notifier worker", _worker)
