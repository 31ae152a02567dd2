"""Consent: scopes, double opt-in subscriptions, the consent ledger, preferences and the gate.

Three rooms, each with its own small shape, and the area's own modules beside them:

- ``ledger/``: what members said and chose. :mod:`~app.consent.ledger.consents` (append-only
  grants and revokes), receipts and their signing keys, subscriptions, the tokens of the yes and
  stop buttons, preferences (pause, quiet hours) and the upkeep that lapses old permissions;
- ``gate/``: whether a message may go. :mod:`~app.consent.gate.rules` (the pure
  :func:`~app.consent.gate.rules.decide`), the cadence, the facts it reads
  (:func:`~app.consent.gate.facts.facts_for` for one member just before sending), the audience
  of a whole scope (:func:`~app.consent.gate.audience.audience`), the contact history
  (:mod:`~app.consent.gate.contacts`: record a contact, an engagement, "not for me", a
  suppression), explain and the "why did I get this?" link (:func:`~app.consent.gate.why.why_url`);
- ``views/``: the pages (permissions, subscribe, record and receipts, webhooks, why) and their
  forms; :mod:`app.consent.views.routes` registers every route on the area's blueprint.

Members' webhook endpoints are :mod:`app.consent.webhooks`; the signed, SSRF-safe POST they
share with the notifier is :mod:`app.outbound`.
"""
