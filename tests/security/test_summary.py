"""The sweep's counts, computed from its own tables and the app's routes, printed at the end of a
run (``tests/security/conftest.py``) and kept equal to what ``tests/security/__init__.py`` says:
a change to the sweep that changes a count fails here until the docstring says it."""

from __future__ import annotations

from flask import Flask

import tests.security as package
from tests.security import test_csrf, test_idor, test_traversal, test_xss_members, tokens
from tests.security.payloads import redirect_payloads, xss_payloads

# Pages (or page kinds) that each payload of the XSS corpus is rendered on, in Chromium.
XSS_SURFACES = (
    "display name: account page",
    "display name: staff member list",
    "Markdown body: article (batched)",
    "Markdown body: article (alone)",
    "front matter: article, listings, topics",
    "search results",
    "web editor preview",
    "survey answer: marketer's results",
    "survey answer: kept in the form",
    "webhook address: permissions page",
    "webhook address: form error (test client)",
    "image alt text: the upload's message",
    "reply: the member's inbox thread",
    "reply: the marketers' conversation page",
    "campaign title: inbox and campaign list",
    "campaign body: inbox message",
    "campaign body: the campaign's channel previews",
    "campaign body: the mail's HTML part",
    *(f"reflected ?{p} on {path}" for path, p in test_xss_members.REFLECTED),
)


def counts(app: Flask) -> dict[str, int]:
    rules = list(app.url_map.iter_rules())
    csrf_pairs = [
        (r.endpoint, m)
        for r in rules
        for m in test_csrf.STATE_CHANGING
        if m in (r.methods or set()) and r.endpoint not in test_csrf.CSRF_EXEMPT
    ]
    kinds = tokens.KINDS
    forgeries = (
        3 * len(kinds)
        + len(kinds) * (len(kinds) - 1)
        + 2 * len(kinds)
        + len(kinds)
        + sum(1 for k in kinds if k.session_bound)
        + sum(1 for k in kinds if k.object_field is not None)
        + sum(1 for k in kinds if k.single_use)
    )
    traversal = 0
    for rule in rules:
        if not rule.arguments:
            continue
        payloads = (
            test_traversal.PAYLOADS
            if rule.endpoint in test_traversal.FILE_SYSTEM
            else test_traversal.CORE
        )
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        traversal += len(rule.arguments) * len(payloads) * len(methods)
    return {
        "xss payloads": len(xss_payloads()),
        "xss surfaces": len(XSS_SURFACES),
        "redirect targets": len(redirect_payloads()),
        "idor objects": len(test_idor.MATRIX),
        "idor requests (objects x 5 verbs)": len(test_idor.MATRIX) * len(test_idor.VERBS),
        "csrf routes x methods": len(csrf_pairs),
        "token kinds": len(kinds),
        "token forgeries": forgeries,
        "traversal payloads": len(test_traversal.PAYLOADS),
        "traversal requests": traversal,
        "rate limits x worker counts": 3 * 2,
    }


def test_the_counts_are_as_stated(app: Flask) -> None:
    found = counts(app)
    assert found["xss payloads"] >= 200
    assert found["redirect targets"] >= 30
    assert package.stated_counts() == found, "update the counts in tests/security/__init__.py"
