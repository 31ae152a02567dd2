"""Downloads: the entitlement is checked on every request, anyone else gets a 404, nothing but
the build folder is ever served, and the headers are fixed."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from app.extensions import db
from app.rewards.models import Entitlement
from app.stickers.builds import read_build
from tests.conftest import PASSWORD, Clock
from tests.helpers import sign_in
from tests.stickers.conftest import make_member

PLATFORMS = ("whatsapp", "telegram", "signal")


def _signed_in(app: Flask, clock: Clock, email: str, rewards: tuple[str, ...]) -> FlaskClient:
    make_member(app, clock, email, email.split("@")[0].title(), rewards)
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_entitled_member_downloads_the_zip_from_the_build_folder(
    built_app: Flask, clock: Clock, platform: str
) -> None:
    client = _signed_in(built_app, clock, "kite@example.com", ("pack:paper-planes",))
    built = read_build(Path(built_app.instance_path) / "stickers", "paper-planes")
    assert built is not None
    with client.get(f"/stickers/paper-planes/download/{platform}.zip") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/zip"
        assert (
            response.headers["Content-Disposition"]
            == f'attachment; filename="paper-planes-{platform}.zip"'
        )
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["ETag"] == f'"{built.hash[:32]}-{platform}"'
        assert "private" in response.headers["Cache-Control"]
        assert response.data == built.path(f"{platform}.zip").read_bytes()
        etag = response.headers["ETag"]
    with client.get(
        f"/stickers/paper-planes/download/{platform}.zip", headers={"If-None-Match": etag}
    ) as again:
        assert again.status_code == 304 and not again.data


def test_anonymous_visitors_and_members_without_the_pack_get_404(
    built_app: Flask, clock: Clock
) -> None:
    anonymous = built_app.test_client()
    other = _signed_in(built_app, clock, "gull@example.com", ("pack:spring-birds",))
    for client in (anonymous, other):
        for platform in PLATFORMS:
            response = client.get(f"/stickers/paper-planes/download/{platform}.zip")
            assert response.status_code == 404
            assert "There is nothing at this address" in response.text  # the usual 404 page
            assert "Content-Disposition" not in response.headers
    # A pack that does not exist answers exactly like a locked one.
    locked = other.get("/stickers/paper-planes/download/whatsapp.zip")
    missing = other.get("/stickers/no-such-pack/download/whatsapp.zip")
    assert (locked.status_code, _main(locked.text)) == (missing.status_code, _main(missing.text))


def _main(html: str) -> str:
    """The page's own content (the layout around it carries per-render form tokens)."""
    return html[html.index("<main") : html.index("</main>")]


def test_the_entitlement_is_checked_on_every_request(built_app: Flask, clock: Clock) -> None:
    client = _signed_in(built_app, clock, "tern@example.com", ("pack:paper-planes",))
    first = client.get("/stickers/paper-planes/download/signal.zip")
    assert first.status_code == 200
    first.close()
    with built_app.app_context():
        db.session.execute(delete(Entitlement).where(Entitlement.reward == "pack:paper-planes"))
        db.session.commit()
    assert client.get("/stickers/paper-planes/download/signal.zip").status_code == 404
    # Even a conditional request for a copy it already has.
    etag = first.headers["ETag"]
    conditional = client.get(
        "/stickers/paper-planes/download/signal.zip", headers={"If-None-Match": etag}
    )
    assert conditional.status_code == 404


TRAVERSALS = [
    "/stickers/../../etc/passwd",
    "/stickers/%2e%2e/",
    "/stickers/%2e%2e/download/whatsapp.zip",
    "/stickers/..%2f..%2finstance/download/whatsapp.zip",
    "/stickers/paper-planes/download/..%2f..%2fsecret_key.zip",
    "/stickers/paper-planes/download/%2e%2e.zip",
    "/stickers/paper-planes/download/whatsapp%00.zip",
    "/stickers/paper-planes/download/WHATSAPP.zip",
    "/stickers/paper-planes/download/pack.json.zip",
    "/stickers/paper-planes/download/../whatsapp.zip",
    "/stickers/paper-planes/previews/..%2f..%2f..%2fsecret_key.webp",
    "/stickers/paper-planes/previews/%2e%2e.webp",
    "/stickers/paper-planes/previews/pack.webp",
    "/stickers/paper-planes/previews/..%2fwhatsapp.zip%00.webp",
    "/stickers/Paper-Planes/",
    "/stickers/paper-planes%2f..%2fspring-birds/",
    "/stickers/_members/",
    "/stickers/_members/download/whatsapp.zip",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_path_traversal_gets_nothing_on_any_route(built_app: Flask, clock: Clock, url: str) -> None:
    secret = Path(built_app.instance_path) / "secret_key"
    secret.write_text("s3cr3t-" * 8)
    client = _signed_in(
        built_app, clock, "owl@example.com", ("pack:paper-planes", "pack:spring-birds")
    )
    response = client.get(url)
    # 400: a path holding a NUL is refused before any route sees it.
    assert response.status_code in (400, 404, 308), (url, response.status_code)
    if response.status_code == 308:  # werkzeug adds the slash; follow it once
        response = client.get(response.headers["Location"])
        assert response.status_code == 404, url
    assert "s3cr3t" not in response.text and response.mimetype == "text/html"


def test_downloads_are_rate_limited(built_app: Flask, clock: Clock) -> None:
    client = _signed_in(built_app, clock, "swift@example.com", ("pack:paper-planes",))
    statuses = []
    for _ in range(61):
        response = client.get(
            "/stickers/paper-planes/download/signal.zip", headers={"If-None-Match": '"nothing"'}
        )
        statuses.append(response.status_code)
        response.close()
    assert statuses[:60] == [200] * 60 and statuses[60] == 429


def test_the_describer_offers_downloads_only_to_an_entitled_member(
    built_app: Flask, clock: Clock
) -> None:
    from app.rewards.catalog import describe

    owner = make_member(built_app, clock, "jay@example.com", "Jay", ("pack:paper-planes",))
    stranger = make_member(built_app, clock, "rook@example.com", "Rook")
    with built_app.test_request_context():
        mine = describe("pack:paper-planes", owner)
        theirs = describe("pack:paper-planes", stranger)
        nobody = describe("pack:paper-planes", None)
        unknown = describe("pack:no-such-pack", owner)
    assert mine is not None and theirs is not None and nobody is not None
    assert (mine.title, mine.url) == ("Paper planes", "/stickers/paper-planes/")
    assert mine.summary.startswith("Seven cheerful stickers")
    assert mine.image_url is not None and mine.image_url.startswith(
        "/stickers/paper-planes/previews/01_plane.webp?v="
    )
    assert mine.offer is not None
    for platform in PLATFORMS:
        assert f'href="/stickers/paper-planes/download/{platform}.zip"' in mine.offer
    assert theirs.offer is None and nobody.offer is None and unknown is None


def _zip(response_data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(response_data))


def test_a_downloaded_zip_parses_and_matches_its_manifest(built_app: Flask, clock: Clock) -> None:
    client = _signed_in(built_app, clock, "crane@example.com", ("pack:paper-planes",))
    with client.get("/stickers/paper-planes/download/telegram.zip") as response:
        archive = _zip(response.data)
    document = json.loads(archive.read("stickerset.json"))
    attached = {s["sticker"].removeprefix("attach://") for s in document["stickers"]}
    assert attached | {"stickerset.json", "thumbnail.png"} == set(archive.namelist())
