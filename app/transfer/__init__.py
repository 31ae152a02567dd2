"""Members in and out: the importer (Ghost, listmonk, Mailchimp and plain CSV, with a dry run)
and the export of members, earned scopes, consent state and the ledger."""
