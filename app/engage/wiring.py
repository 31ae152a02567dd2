"""Binds the engage area to an app: surveys, codes and referrals, and the actions they record.

A verified address is the ``account`` action (and settles a pending referral); a member created
from a referred visit is attached to the referrer; an article read is ``read:<slug>``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app import events
from app.accounts.members import MemberCreated, MemberVerified
from app.accounts.privacy import register_exporter
from app.engage import redemption, referrals, responses
from app.engage.actions import actions_export, record_action
from app.engage.cli import codes_cli
from app.engage.crowd import ensure_demo_crowd
from app.engage.cta import check_surveys, render_survey_cta, survey_exists
from app.engage.dates import last_day, long_date
from app.engage.demo import ensure_demo_codes
from app.engage.reading import on_article_read
from app.engage.routes import blueprint
from app.engage.shelf import SURVEYS, SurveySource
from app.site.checks import register_content_check
from app.site.cta import CtaKind, register_cta_kind
from app.site.events import ArticleRead
from app.startup import register_startup_step


def _on_member_verified(event: MemberVerified) -> None:
    record_action(event.member_id, "account", event.at)
    referrals.settle(event.member_id, event.at)


def _on_member_created(event: MemberCreated) -> None:
    referrals.attach(event.member_id, event.arrived_via, event.at)


def init_app(app: Flask) -> None:
    SURVEYS.set(app, SurveySource(Path(app.config["CONTENT_DIR"]) / "surveys"))
    events.subscribe(app, MemberVerified, _on_member_verified)
    events.subscribe(app, MemberCreated, _on_member_created)
    events.subscribe(app, ArticleRead, on_article_read)
    app.register_blueprint(blueprint())
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["last_day"] = last_day
    app.cli.add_command(codes_cli)
    register_cta_kind(app, CtaKind("survey", survey_exists, render_survey_cta))
    register_content_check(app, "surveys", check_surveys)
    register_exporter(app, "actions", actions_export)
    register_exporter(app, "survey_responses", responses.responses_of)
    register_exporter(app, "code_redemptions", redemption.redemptions_of)
    register_exporter(app, "referrals", referrals.referrals_of)
    register_startup_step(app, "demo codes", ensure_demo_codes)
    register_startup_step(app, "demo readers", ensure_demo_crowd)
