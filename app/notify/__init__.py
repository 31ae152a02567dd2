"""The notifier: campaigns, the outbox and its worker, channels, tracking and conversations."""
