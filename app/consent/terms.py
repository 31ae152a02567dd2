"""The consent area's words as types: channels, campaign kinds, gate reasons, consent sources
and suppression reasons. Each is a ``StrEnum``: its members are the strings stored in the
database and shown in URLs and templates, so ``Channel.EMAIL == "email"``, and a value that is
not one of them is an error where it is parsed (``Channel("fax")`` raises ``ValueError``)."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """Where a member may be reached."""

    EMAIL = "email"
    INBOX = "inbox"
    WEBHOOK = "webhook"
    TELEGRAM = "telegram"
    SMS = "sms"
    PUSH = "push"


class CampaignKind(StrEnum):
    """What a campaign is; the gate applies to every kind a marketer can choose
    (:data:`GATED_KINDS`). ``transactional`` remains only on campaigns sent before every
    campaign was gated; no code makes one any more."""

    EDITORIAL = "editorial"
    PROMOTIONAL = "promotional"
    SENT_OUTSIDE_GATE = "transactional"


GATED_KINDS = frozenset({CampaignKind.EDITORIAL, CampaignKind.PROMOTIONAL})


class GateReason(StrEnum):
    """Why the gate says no (or not now), in the order it checks. See
    :mod:`app.consent.gate.rules` for what each one means."""

    ACCOUNT = "account"
    EARNED = "earned"
    CONSENTED = "consented"
    STALE_CONSENT = "stale-consent"
    EXPIRED = "expired"
    ADDRESS = "address"
    SUPPRESSED = "suppressed"
    COOLDOWN = "cooldown"
    CAP = "cap"
    PAUSED = "paused"
    RESTING = "resting"
    QUIET = "quiet"
    SCHEDULE = "schedule"
    TIMING = "timing"


# Not now, later: not a no.
DEFERRING = frozenset({GateReason.QUIET, GateReason.SCHEDULE, GateReason.TIMING})


class ConsentSource(StrEnum):
    """Where a grant or a revoke was made (a ledger event's ``source``). A custom form may
    also record ``form:<name>``; :func:`app.consent.words.source_words` says it in words."""

    SUBSCRIBE_FORM = "form:subscribe"
    REWARDS_FORM = "form:rewards"
    CTA_FORM = "form:cta"
    PREFERENCES = "preferences"
    UNSUBSCRIBE_LINK = "unsubscribe-link"
    WHY_PAGE = "why-page"
    INBOX = "inbox"
    ADMIN = "admin"
    EXPIRY = "expiry"
    DELETION = "deletion"
    DEMO = "demo"
    TELEGRAM = "telegram"
    SMS = "sms"  # a keyword the member texted (STOP, START …)
    PUSH = "push"  # the yes on the page that asks the browser for notifications


class SuppressionReason(StrEnum):
    """Why an address or endpoint is no longer written to."""

    HARD_BOUNCE = "hard-bounce"
    SOFT_BOUNCES = "soft-bounces"
    COMPLAINT = "complaint"
    ENDPOINT_GONE = "endpoint-gone"
    NUMBER_FAILED = "number-failed"  # the SMS centre reported the number unreachable for good
    MANUAL = "manual"
