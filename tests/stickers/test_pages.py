"""The sticker pages: every pack with its cover, locked packs showing what earns them, the
preview grid with alt text, and the how-to for an entitled member."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from flask import Flask

from app.stickers.builds import read_build
from tests.conftest import PASSWORD, Clock
from tests.helpers import sign_in
from tests.stickers.conftest import make_member


def test_the_index_lists_every_pack_with_its_cover(built_app: Flask) -> None:
    page = built_app.test_client().get("/stickers/")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Sticker packs</h1>" in html
    assert 'href="/stickers/spring-birds/"' in html and 'href="/stickers/paper-planes/"' in html
    covers = re.findall(r'<img class="sticker-cover" src="([^"]+)" alt="([^"]+)"', html)
    assert len(covers) == 2 and all(alt for _, alt in covers)
    assert "/stickers/spring-birds/previews/01_robin.webp?v=" in covers[1][0] + covers[0][0]


def test_locked_packs_say_what_earns_them(built_app: Flask) -> None:
    html = built_app.test_client().get("/stickers/").text
    assert (
        "Locked. To earn it: answer the survey “Reader survey 2026”; or redeem an in-store code "
        "(spring store)." in html
    )
    assert "invite a friend who joins" in html
    pack = built_app.test_client().get("/stickers/spring-birds/").text
    assert "How to earn this pack" in pack and "Answer the survey “Reader survey 2026”" in pack
    assert "Join to start collecting" in pack
    assert "/download/" not in pack  # no download links for a visitor


def test_the_pack_page_shows_a_preview_grid_with_alt_text(built_app: Flask) -> None:
    html = built_app.test_client().get("/stickers/spring-birds/").text
    grid = html.split('<ul class="sticker-grid">', 1)[1].split("</ul>", 1)[0]
    images = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', grid)
    assert len(images) == 9  # eight stickers and the personalised one
    assert all(alt.strip() for _, alt in images)
    assert "A robin holding up a banner with your name on it (shown with a sample name)" in grid
    assert "🐦 😊" in grid  # the emoji of each sticker, for the apps that ask for them
    assert "<h1>Spring birds</h1>" in html and "<h2" in html and "<h3" not in grid


def test_previews_are_served_by_name_from_the_build(built_app: Flask) -> None:
    client = built_app.test_client()
    built = read_build(Path(built_app.instance_path) / "stickers", "spring-birds")
    assert built is not None
    with client.get("/stickers/spring-birds/previews/01_robin.webp") as response:
        assert response.status_code == 200 and response.mimetype == "image/webp"
        assert response.data == built.path("previews/01_robin.webp").read_bytes()
        assert response.headers["ETag"] and "public" in response.headers["Cache-Control"]
        etag = response.headers["ETag"]
    with client.get(
        "/stickers/spring-birds/previews/01_robin.webp", headers={"If-None-Match": etag}
    ) as again:
        assert again.status_code == 304
    with client.get("/stickers/spring-birds/previews/personal.webp") as personal:
        assert personal.status_code == 200
    assert client.get("/stickers/spring-birds/previews/99_nothing.webp").status_code == 404


def test_an_entitled_member_gets_downloads_and_a_how_to_for_each_app(
    built_app: Flask, clock: Clock
) -> None:
    make_member(built_app, clock, "robin@example.com", "Robin", ("pack:spring-birds",))
    client = built_app.test_client()
    sign_in(client, "robin@example.com", PASSWORD)
    html = client.get("/stickers/spring-birds/").text
    assert "Add the pack to your messenger" in html
    for platform, label in (
        ("whatsapp", "WhatsApp"),
        ("telegram", "Telegram"),
        ("signal", "Signal"),
    ):
        assert f'href="/stickers/spring-birds/download/{platform}.zip"' in html
        assert f">Download for {label}</a>" in html
    assert "@Stickers" in html and "/newpack" in html  # Telegram
    assert "Create/upload sticker pack" in html  # Signal
    assert "Add to favourites" in html and "contents.json" in html  # WhatsApp
    assert "one sticker with your name, “Robin”" in html
    assert "How to earn this pack" not in html
    index = client.get("/stickers/").text
    assert "Yours: open the pack to download it." in index


def test_a_member_without_the_pack_sees_how_to_earn_it(built_app: Flask, clock: Clock) -> None:
    make_member(built_app, clock, "wren@example.com", "Wren", ("pack:paper-planes",))
    client = built_app.test_client()
    sign_in(client, "wren@example.com", PASSWORD)
    html = client.get("/stickers/spring-birds/").text
    assert "How to earn this pack" in html and "Join to start collecting" not in html
    assert "/download/" not in html


def test_a_pack_without_a_build_says_it_is_still_building(app: Flask, clock: Clock) -> None:
    client = app.test_client()  # a fresh instance: nothing is built yet
    index = client.get("/stickers/").text
    assert index.count("Still being built") == 2
    html = client.get("/stickers/spring-birds/").text
    assert "This pack is still being built" in html and 'role="status"' in html
    make_member(app, clock, "early@example.com", "Early", ("pack:spring-birds",))
    sign_in(client, "early@example.com", PASSWORD)
    assert "Your pack is still being built" in client.get("/stickers/spring-birds/").text
    response = client.get("/stickers/spring-birds/download/whatsapp.zip")
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert (
        "is still being built" in response.text and '<header class="site-header">' in response.text
    )


def test_a_pack_whose_build_failed_says_it_is_unavailable(app: Flask, tmp_path: Path) -> None:
    output = Path(app.instance_path) / "stickers" / "paper-planes"
    output.mkdir(parents=True)
    (output / "failed.json").write_text('{"hash": null, "problems": []}')
    html = app.test_client().get("/stickers/paper-planes/").text
    assert "This pack is not available right now" in html


def test_a_broken_spec_leaves_the_pack_out_and_the_site_up(app: Flask, tmp_path: Path) -> None:
    stickers = tmp_path / "stickers"
    shutil.copytree(Path(app.config["STICKERS_DIR"]), stickers)
    (stickers / "paper-planes" / "pack.toml").write_text('title = "x"\n[[sticker]]\nfile = 1\n')
    app.config["STICKERS_DIR"] = str(stickers)
    from app.stickers.context import PACK_LIBRARY, make_library

    PACK_LIBRARY.set(app, make_library(app))
    client = app.test_client()
    index = client.get("/stickers/")
    assert index.status_code == 200 and "Spring birds" in index.text
    assert "Paper planes" not in index.text
    assert client.get("/stickers/paper-planes/").status_code == 404
