"""Consent: scopes, double opt-in subscriptions, the consent ledger, preferences and the gate.

What the areas above (the notifier, admin) call, each documented where it lives:

- the gate: :func:`app.consent.gate.decide` over :func:`app.consent.facts.facts_for` (one member,
  just before sending) or :func:`~app.consent.facts.load_facts`; the whole audience of a scope
  with :func:`app.consent.audience.audience`;
- the contact history the gate reads: :func:`app.consent.contacts.record_contact` (a delivery
  went out), :func:`~app.consent.contacts.record_engagement` (click, inbox read, reply, useful),
  :func:`~app.consent.contacts.not_for_me` and :func:`~app.consent.contacts.record_suppression`
  (hard bounce, complaint, endpoint gone);
- the ledger: :func:`app.consent.ledger.revoke_consent` with ``Origin("unsubscribe-link")`` for
  the one-click unsubscribe, recording the words that :mod:`app.consent.words` renders for the
  control used;
- the link in every message: :func:`app.consent.why.why_url`;
- webhooks: :func:`app.consent.webhooks.deliver` (signed, SSRF-safe POST) and
  :func:`~app.consent.webhooks.disable_endpoint`;
- upkeep: :func:`app.consent.upkeep.tidy` (lapsed permissions, old subscription requests).
"""
