"""The JSON API for tills and CRMs (``/api/v1``), its keys, and the event webhooks that tell
other systems what happened."""
