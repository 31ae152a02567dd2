"""Every operation of /api/v1, declared once: its route, the view that answers it, the
permission it needs, and the schemas of its parameters, body and answer. The blueprint is
registered from this list and the OpenAPI document is generated from it, so neither can
mention an operation the other lacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema

from app.api import rest_views as views
from app.api import schemas
from app.api.keys import Permission

#: Problems every guarded operation may answer.
GUARDED_PROBLEMS = (401, 403, 405, 429, 500)


@dataclass(frozen=True)
class Operation:
    """``rule`` is the Flask rule under /api/v1 (``/batches/<batch>/codes``); ``path`` is the
    same in OpenAPI's words (``/batches/{batch}/codes``). ``problems`` lists the statuses of the
    problems it may answer besides :data:`GUARDED_PROBLEMS`."""

    name: str
    method: str
    rule: str
    path: str
    view: Callable[..., Any]
    permission: Permission
    summary: str
    description: str
    tag: str
    status: int
    response: type[Schema]
    problems: tuple[int, ...] = ()
    path_params: type[Schema] | None = None
    query: type[Schema] | None = None
    headers: type[Schema] | None = None
    body: type[Schema] | None = None
    example_body: str | None = None
    example_path: str | None = None
    response_headers: tuple[tuple[str, str], ...] = ()

    @property
    def all_problems(self) -> tuple[int, ...]:
        return tuple(sorted(set(GUARDED_PROBLEMS) | set(self.problems)))


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        name="mint_codes",
        method="POST",
        rule="/batches/<batch>/codes",
        path="/batches/{batch}/codes",
        view=views.mint_codes,
        permission=Permission.CODES_MINT,
        summary="Mint single-use codes into a batch",
        description=(
            "Adds 1 to 50 codes to an existing batch, with the batch's own uses and expiry, and "
            "answers them with the address where a member redeems each. The codes exist only "
            "in this answer (only a keyed hash is stored), so the request needs an "
            "Idempotency-Key: a retry with the same key and body gets the same codes (with "
            "Idempotent-Replayed: true) for 24 hours; the same key with another body is a 422; "
            "a retry while the first request is still being answered is a 409."
        ),
        tag="codes",
        status=201,
        response=schemas.MintResponse,
        problems=(400, 404, 409, 413, 415, 422),
        path_params=schemas.BatchPath,
        headers=schemas.IdempotencyHeader,
        body=schemas.MintRequest,
        example_body='{"count": 1}',
        example_path="/batches/spring-store/codes",
        response_headers=(
            ("Idempotent-Replayed", "true when this answer is the stored one of an earlier try"),
        ),
    ),
    Operation(
        name="record_action",
        method="POST",
        rule="/actions",
        path="/actions",
        view=views.record_action,
        permission=Permission.ACTIONS_RECORD,
        summary="Record a member's purchase",
        description=(
            "Records purchase:<sku> for the member with this email address (any case), once "
            "per member and action, and runs the earning rules: the answer lists the rewards "
            "earned just now. An address no member has is a 404: the API never creates a "
            "member, and never grants consent."
        ),
        tag="actions",
        status=201,
        response=schemas.ActionResponse,
        problems=(400, 404, 413, 415, 422),
        body=schemas.ActionRequest,
        example_body='{"email": "reader@example.com", "action": "purchase:sku-123"}',
    ),
    Operation(
        name="member_by_email",
        method="GET",
        rule="/members",
        path="/members",
        view=views.member_by_email,
        permission=Permission.MEMBERS_READ,
        summary="Find a member by email address",
        description="The member with this address (any case): account and earned rewards.",
        tag="members",
        status=200,
        response=schemas.MemberResponse,
        problems=(400, 404),
        query=schemas.MemberQuery,
        example_path="/members?email=reader@example.com",
    ),
    Operation(
        name="member",
        method="GET",
        rule="/members/<member>",
        path="/members/{member}",
        view=views.member,
        permission=Permission.MEMBERS_READ,
        summary="A member",
        description="The member named by email address (any case) or id: account and rewards.",
        tag="members",
        status=200,
        response=schemas.MemberResponse,
        problems=(404,),
        path_params=schemas.MemberPath,
        example_path="/members/reader@example.com",
    ),
    Operation(
        name="member_consent",
        method="GET",
        rule="/members/<member>/consent",
        path="/members/{member}/consent",
        view=views.member_consent,
        permission=Permission.CONSENT_READ,
        summary="A member's consent",
        description=(
            "For each scope the member earned and each of its channels: whether the member "
            "said yes on the current wording (granted), since when, the wording version and "
            "the receipt of the ledger event in force; and the latest 20 ledger events. A CRM "
            "honours this: it sends on a channel only where granted is true."
        ),
        tag="members",
        status=200,
        response=schemas.ConsentResponse,
        problems=(404,),
        path_params=schemas.MemberPath,
        example_path="/members/reader@example.com/consent",
    ),
    Operation(
        name="campaigns",
        method="GET",
        rule="/campaigns",
        path="/campaigns",
        view=views.campaigns,
        permission=Permission.CAMPAIGNS_READ,
        summary="Campaigns, newest first",
        description=(
            "A page of campaigns with their state, scope, kind, dates and results. Pass the "
            "answer's next_cursor as ?cursor= for the next page; it is null on the last."
        ),
        tag="campaigns",
        status=200,
        response=schemas.CampaignPage,
        problems=(400,),
        query=schemas.PageQuery,
        example_path="/campaigns?limit=20",
    ),
    Operation(
        name="campaign",
        method="GET",
        rule="/campaigns/<campaign_id>",
        path="/campaigns/{campaign_id}",
        view=views.campaign,
        permission=Permission.CAMPAIGNS_READ,
        summary="A campaign",
        description=(
            "One campaign: people queued and reached, what they did (opened or read, clicked, "
            "useful, replied, not for me, unsubscribed) and deliveries sent, failed, waiting "
            "and suppressed, counted as the marketers' screens count them."
        ),
        tag="campaigns",
        status=200,
        response=schemas.CampaignSchema,
        problems=(404,),
        path_params=schemas.CampaignPath,
        example_path="/campaigns/1",
    ),
)
