"""Reading the web editor's form back from its page, as a browser would post it."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient

from tests.helpers import csrf_token


def editor_form(client: FlaskClient, url: str) -> dict[str, str]:
    """The editor's fields at ``url``: its CSRF token, the text as shown, the hash it names."""
    page = client.get(url).text
    text = re.search(r"<textarea[^>]*name=\"text\"[^>]*>\r?\n?(.*?)</textarea>", page, re.S)
    digest = re.search(r'id="hash" name="hash" type="hidden" value="([^"]*)"', page)
    assert text and digest, page
    return {
        "csrf_token": csrf_token(page),
        "text": html.unescape(text.group(1)),
        "hash": digest.group(1),
    }
