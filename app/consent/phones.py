"""Members' mobile numbers: the address of the ``sms`` channel, proven by a one-time code.

A member types a number; it is read with ``phonenumbers`` into E.164 (``+14155550123``), and
it must be a number that can receive texts. A six-digit code goes to it by text (a system
message), kept only as a keyed hash, valid for :data:`CODE_LIFETIME`; :data:`MAX_TRIES` wrong
tries void it. Codes are limited per number, per member and per client (:data:`LIMITS`), so
the form cannot be used to text strangers or to guess. Typing the code back makes the number
the member's: one number per member and one member per number. For a number another
member proved, the page answers as for a free number (the limits count it, and no code typed
can prove it) while its owner is told by text that someone asked for it
(:func:`request_code`), so the form does not tell which numbers belong to somebody.

When the SMS centre reports a number unreachable for good, :func:`mark_failed` suppresses it
(a ``suppressions`` row keyed by the number): the gate then sends nothing more to it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from flask import current_app
from sqlalchemy import delete, func, select

from app import signing
from app.consent import texts
from app.consent.errors import PhoneError
from app.consent.models import PhoneCodeSent, PhoneNumber, PhoneProof, SmsMessage, Suppression
from app.consent.terms import SuppressionReason
from app.extensions import db

CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
TEXTABLE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


@dataclass(frozen=True)
class Limit:
    what: str
    count: int
    per: timedelta


# Codes texted: per number (nobody is texted more than this), per member, per client.
LIMITS = {
    "number": (
        Limit("this number", 3, timedelta(hours=1)),
        Limit("this number", 6, timedelta(days=1)),
    ),
    "member": (Limit("your account", 5, timedelta(hours=1)),),
    "client": (Limit("this connection", 10, timedelta(hours=1)),),
}
UNUSABLE = (
    "This number cannot be used here. Check it, or use another mobile number that can "
    "receive texts."
)


def parse_number(text: str, region: str = "") -> str:
    """``text`` as E.164. Without a region, the number must start with + and its country
    code. Raises :class:`PhoneError` with what to fix."""
    typed = text.strip()
    if not typed:
        raise PhoneError("Type your mobile number.")
    if len(typed) > 32:
        raise PhoneError("That is too long for a phone number.")
    try:
        parsed = phonenumbers.parse(typed, region or None)
    except phonenumbers.NumberParseException:
        if not region and not typed.startswith("+"):
            raise PhoneError(
                "Type the number with + and its country code, such as +44 7911 123456."
            ) from None
        raise PhoneError("That does not read as a phone number.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneError("That is not a valid phone number. Check the digits and the country.")
    if phonenumbers.number_type(parsed) not in TEXTABLE:
        raise PhoneError("That number cannot receive texts: use a mobile number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def shown(number: str) -> str:
    """The number as its owner writes it internationally: ``+44 7911 123456``."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def client_key(ip: str) -> str:
    """What the limits count a client by: a keyed hash of its address."""
    return hmac.new(signing.purpose_key("sms-client"), ip.encode(), hashlib.sha256).hexdigest()


def _code_hash(member_id: int, number: str, code: str) -> str:
    message = f"{member_id}:{number}:{code}".encode()
    return hmac.new(signing.purpose_key("sms-code"), message, hashlib.sha256).hexdigest()


def number_of(member_id: int) -> PhoneNumber | None:
    return db.session.get(PhoneNumber, member_id)


def member_of_number(number: str) -> int | None:
    found: int | None = db.session.scalar(
        select(PhoneNumber.member_id).where(PhoneNumber.number == number)
    )
    return found


def pending_proof(member_id: int, now: datetime) -> PhoneProof | None:
    """The code the member may still type, if one is live."""
    proof = db.session.get(PhoneProof, member_id)
    if proof is None or proof.expires_at <= now or proof.attempts >= MAX_TRIES:
        return None
    return proof


def _check_limits(number: str, member_id: int, client: str, now: datetime) -> None:
    columns = {
        "number": (PhoneCodeSent.number, number),
        "member": (PhoneCodeSent.member_id, member_id),
        "client": (PhoneCodeSent.client_key, client),
    }
    for key, limits in LIMITS.items():
        column, value = columns[key]
        for limit in limits:
            sent = db.session.scalar(
                select(func.count())
                .select_from(PhoneCodeSent)
                .where(column == value, PhoneCodeSent.sent_at > now - limit.per)
            )
            if (sent or 0) >= limit.count:
                hours = int(limit.per.total_seconds() // 3600)
                span = "hour" if hours == 1 else f"{hours} hours"
                raise PhoneError(
                    f"Too many codes were sent for {limit.what} in the last {span}. "
                    "Wait a while, then ask again."
                )


def start_proof(member_id: int, number: str, client: str, now: datetime) -> str | None:
    """Make a new code for ``number`` (E.164) and return it, for the caller to text. Raises
    :class:`PhoneError` when the number is already this member's or a limit is reached.

    A number another member proved gets no code (None): the caller texts its owner that the
    number is in use instead. Everything else happens as for a free number (the limits count
    it, a code the member can never guess stands in the form), so the answer on the page does
    not tell whether a number belongs to somebody here. The caller commits."""
    holder = member_of_number(number)
    if holder == member_id:
        raise PhoneError("This number is already yours here.")
    _check_limits(number, member_id, client, now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    proof = db.session.get(PhoneProof, member_id)
    if proof is None:
        proof = PhoneProof(member_id=member_id)
        db.session.add(proof)
    proof.number, proof.code_hash = number, _code_hash(member_id, number, code)
    if holder is not None:
        proof.code_hash = secrets.token_hex(32)  # matches no code
    proof.sent_at, proof.expires_at, proof.attempts = now, now + CODE_LIFETIME, 0
    db.session.add(
        PhoneCodeSent(number=number, member_id=member_id, client_key=client, sent_at=now)
    )
    db.session.flush()
    return code if holder is None else None


def code_text(code: str) -> str:
    """The text that carries a one-time code."""
    return (
        f"{texts.program()}: your code is {code}. It works for 10 minutes. If you did not ask "
        "for it, ignore this text."
    )


def in_use_text() -> str:
    """The text to a number's owner when somebody asked to add it to another account."""
    return (
        f"{texts.program()}: someone asked to add this number to an account, but it is already "
        "on another one. If that was you, remove it from the other account first. Nothing "
        "changed."
    )


def request_code(member_id: int, number: str, client: str, now: datetime) -> SmsMessage:
    """:func:`start_proof`, and the text it calls for queued: the code to the member, or to a
    number somebody else holds, a note to its owner (nothing of which is the asking member's).
    Raises :class:`PhoneError`. The caller commits, then sends the text
    (:func:`app.consent.texts.send_now`)."""
    code = start_proof(member_id, number, client, now)
    if code is None:
        return texts.queue(number, None, "code", in_use_text(), now)
    return texts.queue(number, member_id, "code", code_text(code), now)


def prove(member_id: int, code: str, now: datetime) -> PhoneNumber:
    """The member typed ``code``: on a match the number becomes theirs (replacing the one
    they had). Raises :class:`PhoneError`; a wrong code still counts its try, so the caller
    commits in both cases."""
    proof = db.session.get(PhoneProof, member_id, with_for_update=True)
    if proof is None:
        raise PhoneError("Ask for a code first.")
    if proof.attempts >= MAX_TRIES:
        raise PhoneError("Too many wrong codes: ask for a new one.")
    if proof.expires_at <= now:
        raise PhoneError("This code is out of date (codes work for 10 minutes): ask for a new one.")
    typed = "".join(ch for ch in code if not ch.isspace())
    if not (typed.isascii() and typed.isdigit() and len(typed) == 6) or not hmac.compare_digest(
        proof.code_hash, _code_hash(member_id, proof.number, typed)
    ):
        proof.attempts += 1
        left = MAX_TRIES - proof.attempts
        if left <= 0:
            raise PhoneError("That code is not right, and it was the last try: ask for a new one.")
        raise PhoneError(f"That code is not right. {left} tr{'y' if left == 1 else 'ies'} left.")
    if member_of_number(proof.number) not in (None, member_id):
        db.session.delete(proof)
        raise PhoneError(UNUSABLE)
    number = db.session.get(PhoneNumber, member_id)
    if number is None:
        number = PhoneNumber(member_id=member_id, number=proof.number, verified_at=now)
        db.session.add(number)
    number.number, number.verified_at = proof.number, now
    db.session.delete(proof)
    db.session.flush()
    return number


def remove_number(member_id: int) -> bool:
    """Forget the member's number. Their consents stay as the ledger has them; without a
    number the gate sends no text. The caller commits."""
    db.session.execute(delete(PhoneProof).where(PhoneProof.member_id == member_id))
    result = db.session.execute(delete(PhoneNumber).where(PhoneNumber.member_id == member_id))
    return bool(getattr(result, "rowcount", 0))


def mark_failed(number: str, now: datetime) -> None:
    """The SMS centre said the number cannot be reached, for good. The caller commits."""
    if db.session.scalar(select(Suppression.id).where(Suppression.address_key == number)):
        return
    db.session.add(Suppression(address_key=number, reason=SuppressionReason.NUMBER_FAILED, at=now))
    db.session.flush()


def is_failed(number: str) -> bool:
    return (
        db.session.scalar(select(Suppression.id).where(Suppression.address_key == number))
        is not None
    )


def forget_old(now: datetime) -> int:
    """Drop codes long expired and the count of codes sent over a day ago."""
    proofs = db.session.execute(
        delete(PhoneProof).where(PhoneProof.expires_at < now - timedelta(days=1))
    )
    sent = db.session.execute(
        delete(PhoneCodeSent).where(PhoneCodeSent.sent_at < now - timedelta(days=2))
    )
    return int(getattr(proofs, "rowcount", 0) or 0) + int(getattr(sent, "rowcount", 0) or 0)


def default_region() -> str:
    return str(current_app.config["SMS_DEFAULT_REGION"])
