"""The security sweep: hostile input and forged requests against every surface of the app.

- ``test_xss_*``: the payload corpus of ``payloads.py`` through every field a member or an
  editor writes, and every query parameter a page shows back, rendered in Chromium under the
  real CSP: no dialog, no execution, no CSP violation, no live markup (``inert.py``), and the
  text shown as typed. ``test_inert_detector`` shows the detector catches what it should.
- ``test_redirects``: hostile ``next`` targets never leave the site; ``test_redirects_click``:
  the click tracker redirects only to the web address its token was signed for.
- ``test_idor``: member B against each of member A's objects, with every verb.
- ``test_csrf``: every state-changing route without a valid CSRF token; cookie flags.
- ``test_sessions``: session fixation; replay of old cookies.
- ``test_tokens``: forgeries of every kind of signed token (``tokens.py``).
- ``test_traversal``: path traversal on every route that takes a path or a slug.
- ``test_uploads``: hostile file names and alt texts of image uploads.
- ``test_hostile_values``: NULs, line breaks in names, huge numbers: never a 500.
- ``test_ratelimits``: sign-in and redemption limits under gunicorn with 1 and 4 workers
  sharing Redis.

A new surface plugs in with one entry each: a token kind in ``tokens.py``, an object in
``test_idor.MATRIX``, an exempt view in ``test_csrf.CSRF_EXEMPT``, a field in the XSS lists
(the notifier's replies and campaigns are in ``test_xss_notify``).

Counts (``test_summary`` keeps them true; a run prints them at the end):

- xss payloads: 204
- xss surfaces: 25
- redirect targets: 35
- idor objects: 27
- idor requests (objects x 5 verbs): 135
- csrf routes x methods: 80
- token kinds: 12
- token forgeries: 218
- traversal payloads: 96
- traversal requests: 6864
- rate limits x worker counts: 6
"""

from __future__ import annotations

import re


def stated_counts() -> dict[str, int]:
    """The counts above, by name."""
    return {
        m.group(1): int(m.group(2)) for m in re.finditer(r"^- (.+?): (\d+)$", __doc__ or "", re.M)
    }
