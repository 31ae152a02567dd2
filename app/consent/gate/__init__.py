"""The gate: its pure rules and cadence, the facts it reads, the contact history, the audience
of a scope, and the words that explain a decision."""
