"""Every route of the admin area, registered on its blueprint in one place: the URL, the
view that answers it and its methods. ``init_app`` registers :func:`blueprint` on the app."""

from __future__ import annotations

from flask import Blueprint

from app.admin import (
    campaign_screens,
    code_batches,
    content_history,
    dashboard,
    editor,
    editor_api,
    member_screens,
    survey_editor,
    survey_results,
)


def blueprint() -> Blueprint:
    bp = Blueprint("admin", __name__, url_prefix="/admin")
    bp.add_url_rule("/", view_func=dashboard.dashboard, methods=["GET"])
    bp.add_url_rule("/content", view_func=editor.content_list, methods=["GET"])
    bp.add_url_rule("/content/new", view_func=editor.content_new, methods=["POST"])
    bp.add_url_rule(
        "/content/<kind>/<name>", view_func=editor.content_edit, methods=["GET", "POST"]
    )
    bp.add_url_rule("/content/preview", view_func=editor.content_preview, methods=["POST"])
    bp.add_url_rule("/content/surveys/new", view_func=survey_editor.survey_new, methods=["POST"])
    bp.add_url_rule(
        "/content/surveys/<slug>", view_func=survey_editor.survey_edit, methods=["GET", "POST"]
    )
    bp.add_url_rule("/content/check", view_func=editor_api.content_check, methods=["POST"])
    bp.add_url_rule("/content/autosave", view_func=editor_api.content_autosave, methods=["POST"])
    bp.add_url_rule(
        "/content/<kind>/<name>/images", view_func=editor.content_upload, methods=["POST"]
    )
    bp.add_url_rule(
        "/content/<kind>/<name>/history",
        endpoint="content_history",
        view_func=content_history.history,
        methods=["GET"],
    )
    bp.add_url_rule(
        "/content/<kind>/<name>/history/<commit>",
        endpoint="content_diff",
        view_func=content_history.diff,
        methods=["GET"],
    )
    bp.add_url_rule(
        "/content/<kind>/<name>/history/<commit>/restore",
        endpoint="content_restore",
        view_func=content_history.restore,
        methods=["POST"],
    )
    bp.add_url_rule("/campaigns/", view_func=campaign_screens.campaigns, methods=["GET"])
    bp.add_url_rule(
        "/campaigns/drafts-from-posts",
        view_func=campaign_screens.campaigns_from_posts,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/campaigns/new", view_func=campaign_screens.campaign_new, methods=["GET", "POST"]
    )
    bp.add_url_rule(
        "/campaigns/<id:campaign_id>/edit",
        view_func=campaign_screens.campaign_edit,
        methods=["GET", "POST"],
    )
    bp.add_url_rule(
        "/campaigns/<id:campaign_id>", view_func=campaign_screens.campaign, methods=["GET"]
    )
    bp.add_url_rule(
        "/campaigns/<id:campaign_id>.json",
        view_func=campaign_screens.campaign_json,
        methods=["GET"],
    )
    bp.add_url_rule(
        "/campaigns/<id:campaign_id>/send",
        view_func=campaign_screens.campaign_send,
        methods=["GET", "POST"],
    )
    bp.add_url_rule(
        "/campaigns/<id:campaign_id>/test",
        view_func=campaign_screens.campaign_test,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/campaigns/<id:campaign_id>/schedule",
        view_func=campaign_screens.campaign_schedule,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/campaigns/<id:campaign_id>/cancel",
        view_func=campaign_screens.campaign_cancel,
        methods=["GET", "POST"],
    )
    bp.add_url_rule("/conversations/", view_func=campaign_screens.conversations, methods=["GET"])
    bp.add_url_rule(
        "/conversations/<id:campaign_id>/<id:member_id>",
        view_func=campaign_screens.conversation_page,
        methods=["GET", "POST"],
    )
    bp.add_url_rule("/scopes/<slug>", view_func=campaign_screens.scope_stats, methods=["GET"])
    bp.add_url_rule("/members/", view_func=member_screens.members, methods=["GET"])
    bp.add_url_rule("/members/<id:member_id>", view_func=member_screens.member, methods=["GET"])
    bp.add_url_rule(
        "/members/<id:member_id>/<scope>/<channel:channel>/stop",
        view_func=member_screens.member_stop,
        methods=["POST"],
    )
    bp.add_url_rule("/surveys/", view_func=survey_results.surveys, methods=["GET"])
    bp.add_url_rule(
        "/surveys/<slug>", view_func=survey_results.survey_results_page, methods=["GET"]
    )
    bp.add_url_rule(
        "/surveys/<slug>/responses.csv", view_func=survey_results.survey_export, methods=["GET"]
    )
    bp.add_url_rule("/codes", view_func=code_batches.codes, methods=["GET", "POST"])
    bp.add_url_rule("/codes/codes.csv", view_func=code_batches.codes_csv, methods=["POST"])
    return bp
