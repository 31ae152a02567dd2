"""The consent ledger and what members chose: append-only grants and revokes, signed
receipts, double opt-in subscriptions, button tokens, pause and quiet hours, and upkeep."""
