"""What the head of a page tells search engines and link previews: one description on every
page, including the ones kept out of search results."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

DESCRIPTION = re.compile(r'<meta name="description" content="([^"]+)">')


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/redeem", 200),
        ("/no/such/page", 404),
        ("/signin", 200),
        ("/", 200),
    ],
)
def test_every_page_has_one_description(client: FlaskClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert len(DESCRIPTION.findall(response.text)) == 1, path


@pytest.mark.parametrize("path", ["/redeem", "/no/such/page"])
def test_pages_kept_out_of_search_results_still_describe_the_site(
    client: FlaskClient, path: str
) -> None:
    html = client.get(path).text
    assert '<meta name="robots" content="noindex">' in html
    [description] = DESCRIPTION.findall(html)
    assert "permission marketing" in description
