"""``flask consent …``: explain the gate, list scopes, run the upkeep, check a receipt."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask.cli import AppGroup

from app import clock
from app.accounts.members import find_by_email
from app.consent.errors import InvalidReceipt, MalformedReceipt, ReceiptKeyError, UnknownKey
from app.consent.gate.audience import audience
from app.consent.gate.explain import explain, when
from app.consent.gate.facts import facts_for
from app.consent.gate.rules import Campaign
from app.consent.ledger.keys import key_path, keys_from, own_public_keys
from app.consent.ledger.receipts import parse_receipt, verify_receipt
from app.consent.ledger.upkeep import tidy
from app.consent.scopes import CHANNELS, all_scopes, find_scope
from app.consent.terms import Channel
from app.extensions import db

consent_cli = AppGroup("consent", help="Consent: the gate, scopes, upkeep and receipts.")


def parse_moment(text: str | None) -> datetime:
    """``--at``: an ISO 8601 time, UTC when it carries no offset; now when empty."""
    if not text:
        return clock.now()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            "use a time such as 2026-06-12T09:00 or 2026-06-12T09:00+02:00", param_hint="--at"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@consent_cli.command("explain")
@click.argument("email")
@click.argument("scope")
@click.option(
    "--channel",
    type=click.Choice([c.value for c in CHANNELS]),
    help="One channel (default: all the scope offers).",
)
@click.option("--at", "at", metavar="TIME", help="When to decide for (ISO 8601; default now).")
def explain_command(email: str, scope: str, channel: str | None, at: str | None) -> None:
    """Print every check of the gate for EMAIL and SCOPE: pass or fail, and the fact behind it."""
    moment = parse_moment(at)
    member = find_by_email(email)
    if member is None:
        raise click.ClickException(f"no member with the address {email}")
    found = find_scope(scope)
    if found is None:
        raise click.ClickException(
            f"no scope {scope!r}; the scopes are {', '.join(all_scopes()) or 'none'}"
        )
    facts = facts_for(member.id, moment)
    for name in [Channel(channel)] if channel else list(found.channels):
        decision, checks = explain(facts, Campaign.of(found), member.id, name, moment)
        click.echo(f"{member.email} · {found.title} ({found.slug}) · {name} · {when(moment)}")
        for check in checks:
            mark = {True: "pass", False: "FAIL", None: "  - "}[check.passed]
            click.echo(f"  {mark}  {check.code:<14} {check.fact}")
        if decision.allowed:
            click.echo("  => allowed")
        elif decision.eligible:
            waits = ", ".join(decision.reasons)
            click.echo(f"  => deferred until {when(decision.deferred_until)} ({waits})")
        else:
            click.echo(f"  => not allowed: {', '.join(decision.reasons)}")


@consent_cli.command("scopes")
@click.option("--at", "at", metavar="TIME", help="When to count the audiences for.")
def scopes_command(at: str | None) -> None:
    """List the scopes with their channels, cadence and audience per channel now."""
    moment = parse_moment(at)
    for scope in all_scopes().values():
        sizes = ", ".join(f"{c} {len(audience(scope, c, moment))}" for c in scope.channels)
        click.echo(
            f"{scope.slug}\t{scope.kind}\tv{scope.consent_version}\t"
            f"{scope.max_per_week}/week\taudience: {sizes}"
        )


@consent_cli.command("tidy")
def tidy_command() -> None:
    """Revoke permissions that lapsed (expires_after_days) and drop old subscription
    requests."""
    done = tidy(clock.now())
    db.session.commit()
    click.echo(
        f"{done.lapsed} lapsed permissions revoked, {done.requests} old subscription "
        "requests dropped"
    )


@consent_cli.command("verify")
@click.argument("receipt", metavar="RECEIPT.json")
@click.option(
    "--key",
    "key",
    metavar="FILE_OR_URL",
    help="The public keys to trust: a keys document (JSON, as published at "
    "/.well-known/pullfirst-receipt-keys.json), its URL, or a PEM key file. "
    "Default: this site's own key.",
)
def verify_command(receipt: str, key: str | None) -> None:
    """Check the signature of a consent receipt (a JSON file) and print one line: valid, with
    the key that signed it, or INVALID, with the reason. Exits 0 when valid, 1 otherwise."""
    try:
        with open(receipt, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise click.ClickException(f"{receipt}: cannot be read ({exc.strerror or exc})") from None
    keys: list[Ed25519PublicKey] = []
    try:
        data = parse_receipt(raw)
        keys = keys_from(key) if key else own_public_keys()
        signer = verify_receipt(data, keys)
    except MalformedReceipt as exc:
        raise click.ClickException(f"{receipt}: not a signed consent receipt: {exc}") from None
    except ReceiptKeyError as exc:
        raise click.ClickException(f"no keys to check {receipt} with: {exc}") from None
    except InvalidReceipt as exc:
        if isinstance(exc, UnknownKey) and not keys:
            raise click.ClickException(
                f"no keys to check {receipt} with: this site has no receipt key yet "
                f"({key_path()}); give --key"
            ) from None
        click.echo(f"INVALID: {receipt}: {exc}")
        raise SystemExit(1) from None
    assert isinstance(data, dict)  # verify_receipt accepts nothing else
    click.echo(
        f"valid: signed by key {signer}; receipt {data.get('receipt')}{_what(data)}, "
        f"issued {data.get('issued_at')}"
    )


def _what(data: dict[str, Any]) -> str:
    """`` (grant newsletter email at <time>)``: what a receipt attests, for the verdict line."""
    consent = data.get("consent")
    if not isinstance(consent, dict):
        return ""
    words = " ".join(str(consent[k]) for k in ("action", "scope", "channel") if consent.get(k))
    at = f" at {consent['at']}" if consent.get("at") else ""
    return f" ({words}{at})" if words else ""
