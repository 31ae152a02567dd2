"""Messages to addresses that others chose: the SSRF-safe HTTP client (:mod:`.client`) and
Standard Webhooks signing (:mod:`.signing`). Shared by the areas that send webhooks (members'
endpoints in consent, the notifier's webhook channel); it knows no area."""
