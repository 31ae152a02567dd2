"""IDOR: member B, signed in, against each of member A's objects, with every verb.

Each :data:`MATRIX` row is one route that names an object in its URL: B asks for A's object
with GET, POST, PUT, PATCH and DELETE (with a valid CSRF token, so only ownership can stop it)
and gets the refusal the row names for the verbs the route accepts, 405 (or 404) for the others,
never A's data, and no change anywhere in the database. The same row run by the owner shows
the route works.

Routes whose URL names no object of a member (a public slug, a token, the member's own state)
are listed in :data:`NOT_OBJECTS` with the reason; a test fails when a route with an argument is
in neither list. A feature that adds an owned object adds one :class:`Row` here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.conftest import PASSWORD, Clock
from tests.helpers import sign_in
from tests.security import world
from tests.security.harness import make_member
from tests.security.world import Owner

VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Row:
    """``url(owner)`` names the owner's object; a stranger gets ``refused`` for each verb in
    ``verbs``; the owner gets one of ``owner_gets`` for ``verbs[0]``."""

    endpoint: str
    url: Callable[[Owner], str]
    verbs: tuple[str, ...]
    refused: int
    owner_gets: tuple[int, ...]
    role: str = "member"


MATRIX = [
    Row(
        "consent.receipt_page",
        lambda o: f"/me/permissions/receipts/{o.receipts[0]}",
        ("GET",),
        404,
        (200,),
    ),
    Row(
        "consent.receipt_json",
        lambda o: f"/me/permissions/receipts/{o.receipts[1]}.json",
        ("GET",),
        404,
        (200,),
    ),
    Row(
        "consent.mail_receipt",
        lambda o: f"/me/permissions/receipts/{o.receipts[0]}/mail",
        ("POST",),
        404,
        (302,),
    ),
    Row(
        "consent.verify_webhook",
        lambda o: f"/me/permissions/webhooks/{o.endpoint_ids[0]}/verify",
        ("POST",),
        404,
        (302,),
    ),
    Row(
        "consent.remove_webhook",
        lambda o: f"/me/permissions/webhooks/{o.endpoint_ids[0]}/remove",
        ("POST",),
        404,
        (302,),
    ),
    Row("notify.message", lambda o: f"/inbox/{o.delivery_ids[0]}", ("GET",), 404, (200,)),
    Row("notify.test_message", lambda o: f"/inbox/tests/{o.test_ids[0]}", ("GET",), 404, (200,)),
    Row("notify.useful", lambda o: f"/inbox/{o.delivery_ids[0]}/useful", ("POST",), 404, (302,)),
    Row(
        "notify.not_for_me",
        lambda o: f"/inbox/{o.delivery_ids[0]}/not-for-me",
        ("POST",),
        404,
        (302,),
    ),
    Row("notify.stop", lambda o: f"/inbox/{o.delivery_ids[0]}/stop", ("POST",), 404, (302,)),
    Row("notify.reply", lambda o: f"/inbox/{o.delivery_ids[0]}/reply", ("POST",), 404, (302,)),
    Row(
        "stickers.download",
        lambda o: f"/stickers/{world.PACK}/download/telegram.zip",
        ("GET",),
        404,
        (200, 503),
    ),
    # Staff screens name members, surveys and files: a member is refused whatever the id.
    Row(
        "admin.member",
        lambda o: f"/admin/members/{o.member_id}",
        ("GET",),
        403,
        (200,),
        role="admin",
    ),
    Row(
        "admin.member_stop",
        lambda o: f"/admin/members/{o.member_id}/newsletter/email/stop",
        ("POST",),
        403,
        (302,),
        role="admin",
    ),
    Row(
        "admin.survey_results_page",
        lambda o: f"/admin/surveys/{world.SURVEY}",
        ("GET",),
        403,
        (200,),
        role="marketer",
    ),
    Row(
        "admin.survey_export",
        lambda o: f"/admin/surveys/{world.SURVEY}/responses.csv",
        ("GET",),
        403,
        (200,),
        role="marketer",
    ),
    Row(
        "admin.campaign",
        lambda o: f"/admin/campaigns/{o.campaign_ids[0]}",
        ("GET",),
        403,
        (200,),
        role="marketer",
    ),
    Row(
        "admin.campaign_json",
        lambda o: f"/admin/campaigns/{o.campaign_ids[0]}.json",
        ("GET",),
        403,
        (200,),
        role="marketer",
    ),
    Row(
        "admin.campaign_edit",
        lambda o: f"/admin/campaigns/{o.campaign_ids[0]}/edit",
        ("GET", "POST"),
        403,
        (200,),
        role="marketer",
    ),
    Row(
        "admin.campaign_send",
        lambda o: f"/admin/campaigns/{o.campaign_ids[0]}/send",
        ("GET", "POST"),
        403,
        (200,),
        role="marketer",
    ),
    Row(
        "admin.campaign_test",
        lambda o: f"/admin/campaigns/{o.campaign_ids[0]}/test",
        ("POST",),
        403,
        (302,),
        role="marketer",
    ),
    Row(
        "admin.campaign_schedule",
        lambda o: f"/admin/campaigns/{o.campaign_ids[0]}/schedule",
        ("POST",),
        403,
        (302,),
        role="marketer",
    ),
    Row(
        "admin.campaign_cancel",
        lambda o: f"/admin/campaigns/{o.campaign_ids[0]}/cancel",
        ("GET", "POST"),
        403,
        (200,),
        role="marketer",
    ),
    Row(
        "admin.conversation_page",
        lambda o: f"/admin/conversations/{o.campaign_ids[0]}/{o.member_id}",
        ("GET", "POST"),
        403,
        (200,),
        role="marketer",
    ),
    Row(
        "admin.scope_stats",
        lambda o: "/admin/scopes/newsletter",
        ("GET",),
        403,
        (200,),
        role="marketer",
    ),
    Row(
        "admin.content_edit",
        lambda o: "/admin/content/post/consent-ledger",
        ("GET", "POST"),
        403,
        (200,),
        role="editor",
    ),
    Row(
        "admin.content_upload",
        lambda o: "/admin/content/post/consent-ledger/images",
        ("POST",),
        403,
        (400,),
        role="editor",
    ),
]

# Routes with URL arguments that name no member's object, and why.
NOT_OBJECTS = {
    "notify.notice": "a notice for every member, public by design; opening it marks only the "
    "reader's own copy read",
    "site.alias": "an old public URL; answers 301 or 404",
    "site.page": "a public page by slug",
    "site.article": "a public article by slug",
    "site.tag": "a public topic",
    "site.tag_feed": "a public feed",
    "site.image": "a public content image (traversal: test_traversal)",
    "admin.content_history": "a content file's git history, no member's object; editor role "
    "(tests/admin/test_content_history.py)",
    "admin.content_diff": "a version of a content file, no member's object; editor role",
    "admin.content_restore": "restores a version of a content file, no member's object; "
    "editor role",
    "admin.survey_edit": "a survey file, no member's object; editor role "
    "(tests/admin/test_survey_editor.py)",
    "admin.content_check": "checks posted text, reads no one's object; editor role",
    "admin.content_autosave": "keeps or discards only the signed-in editor's own draft, found by "
    "(member, file) (tests/admin/test_editor_check.py: drafts are per editor)",
    "site.og_card": "a public card image of a public page",
    "site.sitemap_part": "a public sitemap",
    "static": "public assets (traversal: test_traversal)",
    "stickers.pack": "a public pack page",
    "stickers.preview": "a public preview of a pack's build",
    "engage.survey": "a public survey; the response is the signed-in member's own",
    "engage.survey_thanks": "shows what the signed-in member's own response earned",
    "engage.correct_answers": "corrects the signed-in member's own response, found by member",
    "engage.code_redeemed": "shows what the signed-in member's own redemption earned",
    "engage.referral_landing": "a referral code is public by design: it is meant to be shared",
    "consent.subscribe": "a public form by scope",
    "consent.subscription_sent": "a public page by scope",
    "consent.subscribed": "the signed-in member's own welcome page by scope",
    "consent.say_yes": "the signed-in member's own permission; the button's token is theirs",
    "consent.stop": "the signed-in member's own permission; the button's token is theirs",
    "consent.resume": "the signed-in member's own pause of a scope",
    "consent.save_choices": "the signed-in member's own permissions of a scope; the form's "
    "token is signed for them and that scope (tests/consent/test_choices.py posts another "
    "member's token and nothing changes)",
    "consent.push_remove": "deletes only where the id and the signed-in member both match "
    "(tests/consent/test_push.py removes another member's browser and nothing goes)",
    "notify.short_link": "a short code is a keyed hash, not a number to count through; it "
    "records a click and redirects to the campaign's own public link",
    "telegram_stickers.add_to_telegram": "a public pack; the set is made for the signed-in "
    "member's own linked chat, and only when they hold the pack",
    "transfer_import.import_run": "an import run, no member's object; admin role "
    "(tests/transfer/test_import_screens.py)",
    "transfer_import.import_report": "an import run's problems, no member's object; admin role",
    "transfer_import.import_mapping": "an import run's column mapping, no member's object; "
    "admin role",
    "transfer_import.import_apply": "imports an import run's file, no member's object; admin role",
    "transfer_import.import_discard": "discards an import run's upload, no member's object; "
    "admin role",
    "hooks.endpoint": "an event webhook endpoint, no member's object; admin role "
    "(tests/api/test_hooks_screens.py)",
    "hooks.change": "an event webhook endpoint's events, no member's object; admin role",
    "hooks.rotate": "an event webhook endpoint's secret, no member's object; admin role",
    "hooks.disable": "an event webhook endpoint, no member's object; admin role",
    "hooks.enable": "an event webhook endpoint, no member's object; admin role",
    "hooks.delete": "an event webhook endpoint, no member's object; admin role",
    "hooks.test": "sends a test event to an event webhook endpoint; admin role",
    "hooks.replay": "a delivery of an event webhook endpoint, found by (endpoint, delivery) "
    "(another endpoint's delivery is a 404); admin role",
    "api.mint_codes": "a code batch by name, no member's object; only a bearer API key with "
    "codes:mint reaches it, never a session (tests/api/test_keys.py)",
    "api.member": "a member by email or id for a CRM: a bearer API key with members:read is the "
    "authority, never a session (tests/api/test_keys.py: a signed-in admin gets 401)",
    "api.member_consent": "a member's consent for a CRM: a bearer API key with consent:read is "
    "the authority, never a session (tests/api/test_keys.py)",
    "api.campaign": "a campaign, staff data: a bearer API key with campaigns:read, never a session",
    "api.nowhere": "any other path under /api/: answers only 404 and 405 problems, reads nothing",
    "api_keys.key_revoke": "an API key, staff data, no member's object; admin role "
    "(tests/api/test_key_screens.py: marketers, editors and members get 403)",
    # Token routes: the token is the authority (test_tokens forges each kind).
    "accounts.verify": "token",
    "accounts.verify_sign_in": "token (the confirmation link's own, spent once to sign in)",
    "accounts.reset_password": "token",
    "accounts.magic_link": "token",
    "accounts.confirm_email_change": "token",
    "consent.delete_by_link": "token",
    "consent.confirm_subscription": "token",
    "consent.why_page": "token",
    "consent.why_stop": "token",
    "notify.unsubscribe_page": "token",
    "notify.unsubscribe_one_click": "token",
    "notify.click": "token",
    "notify.opened": "token",
}

# Routes without arguments that show or change the signed-in member's own things: B must see
# and touch only B's.
OWN_THINGS = (
    "notify.inbox_page",
    "consent.export",
    "consent.history",
    "consent.permissions_page",
    "accounts.account",
    "rewards.page",
    "accounts.sign_out_everywhere",
)


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    app_config["WEBHOOK_ALLOW_LOOPBACK"] = True
    return app_config


def _secrets_of(owner: Owner) -> list[str]:
    return [
        owner.email,
        *owner.receipts,
        *owner.endpoint_urls,
        world.A_SECRET_ANSWER,
        world.A_AGENT,
    ]


def _send(owner: Owner, verb: str, url: str, token: str) -> TestResponse:
    data = {"csrf_token": token} if verb != "GET" else None
    response = owner.client.open(url, method=verb, data=data, headers={"X-CSRFToken": token})
    response.get_data()
    response.close()  # a streamed response keeps its request context until closed
    return response


def test_every_route_with_an_argument_is_in_the_matrix_or_explained(app: Flask) -> None:
    in_matrix = {row.endpoint for row in MATRIX}
    assert not in_matrix & set(NOT_OBJECTS)
    unclassified = sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.arguments and rule.endpoint not in in_matrix and rule.endpoint not in NOT_OBJECTS
    )
    assert unclassified == [], "add an IDOR row (or a reason) for these routes"
    known = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert in_matrix | set(NOT_OBJECTS) | set(OWN_THINGS) <= known


def test_member_b_gets_nothing_of_member_a_with_any_verb(app: Flask, clock: Clock) -> None:
    alice, bob = world.build(app, clock)
    token = bob.csrf()
    before = world.snapshot(app)
    tried = 0
    for row in MATRIX:
        url = row.url(alice)
        for verb in VERBS:
            response = _send(bob, verb, url, token)
            # A verb the route does not take: 405, or 404 from the catch-all GET of old URLs.
            expected = (row.refused,) if verb in row.verbs else (404, 405)
            assert response.status_code in expected, (row.endpoint, verb, response.status_code)
            body = response.get_data(as_text=True)
            leaked = [s for s in _secrets_of(alice) if s in body]
            assert not leaked, (row.endpoint, verb, leaked)
            tried += 1
    assert tried == len(MATRIX) * len(VERBS)
    assert world.changes(before, world.snapshot(app)) == {}


@pytest.mark.slow
def test_each_route_of_the_matrix_works_for_its_owner(app: Flask, clock: Clock) -> None:
    """Without this the matrix could pass on routes that refuse everyone."""
    alice, _ = world.build(app, clock)
    clients = {}
    for role in ("admin", "marketer", "editor"):
        make_member(app, clock, f"{role}@example.com", role=role)
        client = app.test_client()
        sign_in(client, f"{role}@example.com", PASSWORD)
        clients[role] = Owner(f"{role}@example.com", 0, client)
    for row in MATRIX:
        actor = alice if row.role == "member" else clients[row.role]
        verb = row.verbs[0]
        response = _send(actor, verb, row.url(alice), actor.csrf("/me/account"))
        assert response.status_code in row.owner_gets, (row.endpoint, response.status_code)


@pytest.mark.slow
def test_own_pages_show_only_the_signed_in_members_things(app: Flask, clock: Clock) -> None:
    alice, bob = world.build(app, clock)
    for path in ("/me/permissions", "/me/permissions/history", "/me/account", "/me/rewards"):
        body = bob.client.get(path).get_data(as_text=True)
        leaked = [s for s in _secrets_of(alice) if s in body]
        assert not leaked, (path, leaked)
    export = bob.client.get("/me/permissions/export")
    assert export.status_code == 200
    data = json.loads(export.get_data(as_text=True))
    assert data["account"]["email"] == world.B_EMAIL
    text = json.dumps(data)
    assert "bob-answer" in text and bob.receipts[0] in text  # B's own things are there
    assert not [s for s in _secrets_of(alice) if s in text]
    # B ending "every other device" ends none of A's.
    before = world.snapshot(app)
    response = bob.client.post(
        "/me/account/sign-out-everywhere", data={"csrf_token": bob.csrf("/me/account")}
    )
    assert response.status_code == 302
    assert world.changes(before, world.snapshot(app)) == {}  # B had no other device
    assert alice.client.get("/me/account").status_code == 200
