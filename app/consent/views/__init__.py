"""The consent pages and their forms; :mod:`.routes` adds every route to the blueprint."""
