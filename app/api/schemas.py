"""The shapes of the API, as marshmallow schemas: the same classes validate what comes in,
serialise what goes out, and describe both in the OpenAPI document (through apispec), so the
document cannot drift from the code."""

from __future__ import annotations

from marshmallow import INCLUDE, RAISE, Schema, fields, validate

from app.api.idempotency import MAX_KEY_LENGTH
from app.engage.redemption import BATCH_NAME

MAX_MINT = 50
MAX_PAGE = 100
DEFAULT_PAGE = 20
SKU = r"^purchase:[a-z0-9][a-z0-9._-]{0,99}$"


def _doc(text: str, example: object = None) -> dict[str, object]:
    meta: dict[str, object] = {"description": text}
    if example is not None:
        meta["example"] = example
    return meta


class Strict(Schema):
    class Meta:
        unknown = RAISE


# --- problems -----------------------------------------------------------------------------


class ProblemSchema(Schema):
    """An RFC 9457 problem detail."""

    type = fields.String(required=True, metadata=_doc("A URI naming the kind of problem."))
    title = fields.String(required=True, metadata=_doc("The kind of problem, in words."))
    status = fields.Integer(required=True, metadata=_doc("The HTTP status."))
    detail = fields.String(required=True, metadata=_doc("What happened to this request."))
    instance = fields.String(required=True, metadata=_doc("The path that was asked."))
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata=_doc("For a request that breaks the schema: each field, with what is wrong."),
    )
    permission = fields.String(metadata=_doc("For a 403: the permission the operation needs."))


# --- codes ----------------------------------------------------------------------------------


class BatchPath(Schema):
    batch = fields.String(
        required=True,
        validate=validate.Regexp(BATCH_NAME.pattern),
        metadata=_doc("The name of an existing code batch.", "spring-store"),
    )


class IdempotencyHeader(Schema):
    idempotency_key = fields.String(
        required=True,
        data_key="Idempotency-Key",
        validate=[
            validate.Length(1, MAX_KEY_LENGTH),
            validate.Regexp(r"^[\x21-\x7e]+$", error="Visible ASCII characters only."),
        ],
        metadata=_doc(
            "A key the client makes for this request (a UUID, say): a retry with the same key "
            "and body gets the same codes.",
            "till-7-receipt-20261206-0042",
        ),
    )


class MintRequest(Strict):
    count = fields.Integer(
        strict=True,
        load_default=1,
        validate=validate.Range(1, MAX_MINT),
        metadata=_doc(f"How many codes, 1 to {MAX_MINT}.", 1),
    )


class MintedCode(Schema):
    code = fields.String(required=True, metadata=_doc("The printed code.", "7KQ2-M4XD-9RTB-T"))
    redeem_url = fields.Url(
        required=True, metadata=_doc("Where a member redeems it (for a QR code on the receipt).")
    )


class MintResponse(Schema):
    batch = fields.String(required=True, metadata=_doc("The batch.", "spring-store"))
    uses = fields.Integer(required=True, metadata=_doc("How many times each code works."))
    codes = fields.List(fields.Nested(MintedCode), required=True)
    expires_at = fields.DateTime(
        required=True,
        allow_none=True,
        metadata=_doc("When the codes stop working (exclusive), or null for never."),
    )


# --- actions --------------------------------------------------------------------------------


class ActionRequest(Strict):
    email = fields.Email(
        required=True,
        validate=validate.Length(max=254),
        metadata=_doc("The member's email address (any case).", "reader@example.com"),
    )
    action = fields.String(
        required=True,
        validate=validate.Regexp(SKU, error="Only purchase:<sku> actions, like purchase:sku-123."),
        metadata=_doc("What the member did: purchase:<sku>.", "purchase:sku-123"),
    )


class EarnedReward(Schema):
    reward = fields.String(required=True, metadata=_doc("pack:<slug> or scope:<slug>."))
    kind = fields.String(required=True, metadata=_doc("pack or scope."))
    title = fields.String(required=True, metadata=_doc("The pack's or scope's title."))


class ActionResponse(Schema):
    recorded = fields.Boolean(
        required=True, metadata=_doc("False when the member already had this action.")
    )
    action = fields.String(required=True)
    member_id = fields.Integer(required=True)
    rewards = fields.List(
        fields.Nested(EarnedReward), required=True, metadata=_doc("What was earned just now.")
    )


# --- members --------------------------------------------------------------------------------


class MemberPath(Schema):
    member = fields.String(
        required=True,
        validate=[validate.Length(1, 254), validate.Regexp(r"^[^\x00-\x1f\x7f/]+$")],
        metadata=_doc("The member's email address (any case), or their id.", "reader@example.com"),
    )


class MemberQuery(Strict):
    email = fields.String(
        required=True,
        validate=[validate.Length(1, 254), validate.Regexp(r"^[^\x00-\x1f\x7f]+$")],
        metadata=_doc("The member's email address (any case).", "reader@example.com"),
    )


class HeldReward(Schema):
    reward = fields.String(required=True)
    kind = fields.String(required=True)
    earned_by = fields.String(required=True, metadata=_doc("The action that earned it."))
    earned_at = fields.DateTime(required=True)


class MemberResponse(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    confirmed = fields.Boolean(required=True, metadata=_doc("Whether the address is verified."))
    joined = fields.DateTime(required=True)
    rewards = fields.List(fields.Nested(HeldReward), required=True)
    scopes = fields.List(
        fields.String(), required=True, metadata=_doc("The scopes the member earned (slugs).")
    )


class ConsentStateSchema(Schema):
    scope = fields.String(required=True)
    channel = fields.String(required=True)
    granted = fields.Boolean(
        required=True,
        metadata=_doc("Whether the member said yes on the current wording: honour this."),
    )
    answered = fields.Boolean(required=True, metadata=_doc("Whether the member ever answered."))
    since = fields.DateTime(
        required=True, allow_none=True, metadata=_doc("When the state in force began.")
    )
    wording_version = fields.Integer(
        required=True, allow_none=True, metadata=_doc("The wording version answered.")
    )
    current_wording_version = fields.Integer(required=True)
    receipt = fields.String(
        required=True, allow_none=True, metadata=_doc("The receipt of the event in force.")
    )


class ConsentEventSchema(Schema):
    receipt = fields.String(required=True)
    scope = fields.String(required=True)
    channel = fields.String(required=True)
    action = fields.String(required=True, validate=validate.OneOf(["grant", "revoke"]))
    at = fields.DateTime(required=True)
    source = fields.String(required=True)
    wording = fields.String(required=True, metadata=_doc("The exact sentence, byte for byte."))
    wording_version = fields.Integer(required=True)


class ConsentResponse(Schema):
    member_id = fields.Integer(required=True)
    email = fields.String(required=True)
    states = fields.List(fields.Nested(ConsentStateSchema), required=True)
    events = fields.List(
        fields.Nested(ConsentEventSchema),
        required=True,
        metadata=_doc("The latest ledger events, newest first (at most 20)."),
    )


# --- campaigns ------------------------------------------------------------------------------


class CampaignPath(Schema):
    campaign_id = fields.Integer(
        required=True, validate=validate.Range(1, 2**31 - 1), metadata=_doc("The campaign's id.")
    )


class PageQuery(Strict):
    limit = fields.Integer(
        load_default=DEFAULT_PAGE,
        validate=validate.Range(1, MAX_PAGE),
        metadata=_doc(f"Campaigns per page, 1 to {MAX_PAGE}.", DEFAULT_PAGE),
    )
    cursor = fields.String(
        validate=validate.Regexp(r"^[0-9]{1,10}$"),
        metadata=_doc("The next_cursor of the page before (opaque)."),
    )


class CampaignResults(Schema):
    people_queued = fields.Integer(required=True, metadata=_doc("Members with any delivery."))
    people_reached = fields.Integer(required=True, metadata=_doc("Members sent a message."))
    opened_or_read = fields.Integer(required=True)
    clicked = fields.Integer(required=True)
    useful = fields.Integer(required=True)
    replied = fields.Integer(required=True)
    not_for_me = fields.Integer(required=True)
    unsubscribed = fields.Integer(required=True)
    deliveries_sent = fields.Integer(required=True)
    deliveries_failed = fields.Integer(required=True)
    deliveries_waiting = fields.Integer(required=True)
    deliveries_suppressed = fields.Integer(required=True)


class CampaignSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    scope = fields.String(required=True)
    kind = fields.String(required=True)
    state = fields.String(required=True)
    channels = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    send_at = fields.DateTime(required=True, allow_none=True)
    enqueued_at = fields.DateTime(required=True, allow_none=True)
    finished_at = fields.DateTime(required=True, allow_none=True)
    cancelled_at = fields.DateTime(required=True, allow_none=True)
    results = fields.Nested(CampaignResults, required=True)


class CampaignPage(Schema):
    items = fields.List(fields.Nested(CampaignSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata=_doc("Pass as ?cursor= for the next page; null on the last page."),
    )


class OpenApiDocument(Schema):
    class Meta:
        unknown = INCLUDE

    openapi = fields.String(required=True, metadata=_doc("3.1.0"))
