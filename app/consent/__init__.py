"""Consent: scopes, double opt-in subscriptions, the consent ledger, preferences, the gate."""
