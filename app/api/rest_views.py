"""The views of /api/v1: parse through the schemas, call the domain, answer JSON. Errors are
raised as problems (:mod:`app.api.errors`) and answered by :mod:`app.api.problems`."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from marshmallow import Schema

from app import clock
from app.api import campaign_results, idempotency, minting, parsing, people
from app.api.auth import current_key
from app.api.idempotency import Replay
from app.api.schemas import (
    ActionRequest,
    ActionResponse,
    BatchPath,
    CampaignPage,
    CampaignPath,
    CampaignSchema,
    ConsentResponse,
    IdempotencyHeader,
    MemberPath,
    MemberQuery,
    MemberResponse,
    MintRequest,
    MintResponse,
    PageQuery,
)
from app.extensions import db

REPLAYED = "Idempotent-Replayed"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        mimetype="application/json",
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _dumped(schema: Schema, value: Any) -> Any:
    return schema.dump(value)


def mint_codes(batch: str) -> Response:
    name = parsing.path(BatchPath(), {"batch": batch}, "There is no code batch by that name.")
    key_text = parsing.headers(IdempotencyHeader())["idempotency_key"]
    body = parsing.json_body(MintRequest(), parsing.raw_body())
    key = current_key()
    now = clock.now()
    canonical = json.dumps(body, sort_keys=True).encode()
    claimed = idempotency.claim(
        key.id, key_text, idempotency.fingerprint(request.method, request.path, canonical), now
    )
    if isinstance(claimed, Replay):
        return json_response(claimed.body, claimed.status, {REPLAYED: "true"})
    try:
        answer = _dumped(MintResponse(), minting.mint(name["batch"], body["count"], now))
        idempotency.complete(claimed, key.id, key_text, 201, answer, now)
        db.session.commit()
    except BaseException:
        idempotency.release(claimed)
        raise
    return json_response(answer, 201)


def record_action() -> Response:
    body = parsing.json_body(ActionRequest(), parsing.raw_body())
    answer = people.record_purchase(body["email"], body["action"], clock.now())
    db.session.commit()
    return json_response(_dumped(ActionResponse(), answer), 201)


def _member_reference(member: str) -> str:
    found: str = parsing.path(MemberPath(), {"member": member}, "No member by that reference.")[
        "member"
    ]
    return found


def member(member: str) -> Response:
    found = people.find_member(_member_reference(member))
    return json_response(_dumped(MemberResponse(), people.member_summary(found)))


def member_by_email() -> Response:
    email: str = parsing.query(MemberQuery())["email"]
    found = people.find_member_by_email(email)
    return json_response(_dumped(MemberResponse(), people.member_summary(found)))


def member_consent(member: str) -> Response:
    found = people.find_member(_member_reference(member))
    return json_response(_dumped(ConsentResponse(), people.consent_summary(found)))


def campaigns() -> Response:
    page = parsing.query(PageQuery())
    body = campaign_results.campaign_page(page["limit"], page.get("cursor"))
    return json_response(_dumped(CampaignPage(), body))


def campaign(campaign_id: str) -> Response:
    number: int = parsing.path(CampaignPath(), {"campaign_id": campaign_id}, "No such campaign.")[
        "campaign_id"
    ]
    return json_response(_dumped(CampaignSchema(), campaign_results.one_campaign(number)))
