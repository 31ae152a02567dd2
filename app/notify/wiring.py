"""Binds the notifier to an app: the inbox and link pages, the revoke handler, the data
export, the header's inbox link with its unread count, the CLI, and the worker that runs
beside ``flask serve``."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, has_request_context
from flask_login import current_user

from app import clock, events
from app.accounts.privacy import register_exporter
from app.consent.gate.why import register_why_picks, register_why_reasons
from app.consent.ledger.consents import ConsentRevoked
from app.notify import notices, outbox
from app.notify.cli import notify_cli
from app.notify.digest import why_picks
from app.notify.drafts import draft_from_posts
from app.notify.inbox import unread_count
from app.notify.metrics import outbox_figures
from app.notify.privacy import export_messages
from app.notify.routes import blueprint
from app.notify.states import CampaignState, DeliveryState
from app.notify.why import targeting_reasons
from app.ops.metrics import register_collector
from app.site.checks import register_content_check
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


def _header_count(member_id: int) -> int:
    return unread_count(member_id) + len(notices.unread_notices(member_id, clock.now()))


def _waiting_notice() -> dict[str, Any]:
    """The newest notice the signed-in member has not opened, for the line under the header."""
    if not has_request_context() or not current_user.is_authenticated:
        return {}  # a mail being drawn, or a visitor
    unread = notices.unread_notices(current_user.id, clock.now())
    return {"waiting_notice": unread[0]} if unread else {}


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint())
    app.context_processor(_waiting_notice)
    app.jinja_env.globals.update(CampaignState=CampaignState, DeliveryState=DeliveryState)
    register_content_check(app, "notices", notices.check_notices)
    app.cli.add_command(notify_cli)
    events.subscribe(app, ConsentRevoked, _hold_back)
    register_exporter(app, "messages", export_messages)
    register_member_link(
        app, MemberLink("Inbox", "notify.inbox_page", order=5, count=_header_count)
    )
    register_startup_step(app, "notify", _drafts)
    register_companion(app, "notifier worker", _worker)
    register_collector(app, "outbox", outbox_figures)
    register_why_picks(app, "digest", why_picks)
    register_why_reasons(app, "targeting", targeting_reasons)
