"""Web Push: a local push service (:mod:`.service`) and browser helpers (:mod:`.browser`)."""
