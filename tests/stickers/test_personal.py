"""The personalised sticker: the member's name drawn into the pack's base image, rendered on the
first download, cached per member, in that member's zips, and gone with their account."""

from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageChops, ImageStat

from app.accounts import members
from app.accounts.models import Member
from app.accounts.privacy import delete_member, export_member
from app.extensions import db
from app.stickers.build import build_packs
from app.stickers.builds import read_build
from tests.conftest import PASSWORD, Clock
from tests.helpers import sign_in
from tests.stickers.art import alpha_noise, write_pack
from tests.stickers.conftest import make_member, options

URL = "/stickers/spring-birds/download/{}.zip"


def _client(app: Flask, clock: Clock, email: str, name: str) -> tuple[FlaskClient, int]:
    member_id = make_member(app, clock, email, name, ("pack:spring-birds",))
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client, member_id


def _archive(client: FlaskClient, platform: str) -> zipfile.ZipFile:
    with client.get(URL.format(platform)) as response:
        assert response.status_code == 200, response.status_code
        return zipfile.ZipFile(io.BytesIO(response.data))


def _personal(archive: zipfile.ZipFile, name: str = "spring-birds/09_personal.webp") -> Image.Image:
    return Image.open(io.BytesIO(archive.read(name))).convert("RGBA")


def _difference(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    diff = ImageChops.difference(a.crop(box), b.crop(box)).convert("L")
    return float(ImageStat.Stat(diff).mean[0])


def _base(app: Flask) -> tuple[Image.Image, tuple[int, int, int, int]]:
    built = read_build(Path(app.instance_path) / "stickers", "spring-birds")
    assert built is not None and built.personal is not None
    return Image.open(built.path(built.personal.base)).convert("RGBA"), built.personal.box


def test_the_sticker_shows_the_members_name(built_app: Flask, clock: Clock) -> None:
    robin, _ = _client(built_app, clock, "robin@example.com", "Robin Reader")
    wren, _ = _client(built_app, clock, "wren@example.com", "Wren Sharp")
    base, box = _base(built_app)
    first, second = _personal(_archive(robin, "whatsapp")), _personal(_archive(wren, "whatsapp"))
    assert first.size == second.size == (512, 512)
    outside = (0, 0, 512, box[1] - 8)  # above the text box: the same art as the base
    assert _difference(first, base, box) > 8  # the name is drawn in the box
    assert _difference(first, base, outside) < 2
    assert _difference(first, second, box) > 4  # and it is each member's own name


def test_the_sticker_is_in_each_of_the_members_zips(built_app: Flask, clock: Clock) -> None:
    client, _ = _client(built_app, clock, "robin@example.com", "Robin Reader")
    whatsapp = _archive(client, "whatsapp")
    [pack] = json.loads(whatsapp.read("contents.json"))["sticker_packs"]
    assert len(pack["stickers"]) == 9 and pack["stickers"][-1] == {
        "image_file": "09_personal.webp",
        "emojis": ["👋"],
        "accessibility_text": "A robin holding up a banner with your name on it",
    }
    assert whatsapp.getinfo("spring-birds/09_personal.webp").file_size <= 100 * 1024
    telegram = _archive(client, "telegram")
    stickerset = json.loads(telegram.read("stickerset.json"))
    assert stickerset["stickers"][-1]["sticker"] == "attach://09_personal.webp"
    assert len(stickerset["stickers"]) == 9 and "09_personal.webp" in telegram.namelist()
    signal = _archive(client, "signal")
    manifest = json.loads(signal.read("manifest.json"))
    assert manifest["stickers"][-1] == {
        "id": 8,
        "file": "09_personal.webp",
        "emoji": "👋",
        "contentType": "image/webp",
    }
    for archive in (whatsapp, telegram, signal):
        for info in archive.infolist():
            assert info.compress_type == (
                zipfile.ZIP_DEFLATED if info.filename.endswith(".json") else zipfile.ZIP_STORED
            )
    # The same pixels on every platform: one rendering, within every limit.
    assert _personal(whatsapp).tobytes() == _personal(signal, "09_personal.webp").tobytes()


def test_the_rendering_is_cached_per_member(built_app: Flask, clock: Clock) -> None:
    client, member_id = _client(built_app, clock, "robin@example.com", "Robin Reader")
    folder = (
        Path(built_app.instance_path) / "stickers" / "_members" / str(member_id) / "spring-birds"
    )
    with client.get(URL.format("whatsapp")) as first:
        etag = first.headers["ETag"]
    [rendering] = list(folder.iterdir())
    stamp = (rendering / "whatsapp.webp").stat().st_mtime_ns
    with client.get(URL.format("signal")) as other_platform:
        assert other_platform.status_code == 200
    assert (rendering / "whatsapp.webp").stat().st_mtime_ns == stamp  # not rendered again
    with client.get(URL.format("whatsapp"), headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    # A new display name is a new sticker; the old rendering goes.
    with built_app.app_context():
        member = db.session.get(Member, member_id)
        assert member is not None
        member.display_name = "Robin Redbreast"
        db.session.commit()
    with client.get(URL.format("whatsapp")) as renamed:
        assert renamed.headers["ETag"] != etag
    assert [p.name for p in folder.iterdir()] != [rendering.name]
    assert len(list(folder.iterdir())) == 1


def test_a_member_without_a_display_name_gets_their_address_name(
    built_app: Flask, clock: Clock
) -> None:
    client, _member_id = _client(built_app, clock, "nightingale@example.com", "")
    base, box = _base(built_app)
    assert _difference(_personal(_archive(client, "whatsapp")), base, box) > 8


def test_deleting_a_member_removes_their_stickers(built_app: Flask, clock: Clock) -> None:
    client, member_id = _client(built_app, clock, "robin@example.com", "Robin Reader")
    _archive(client, "whatsapp")
    folder = Path(built_app.instance_path) / "stickers" / "_members" / str(member_id)
    assert folder.is_dir()
    with built_app.app_context():
        member = members.find_by_email("robin@example.com")
        assert member is not None
        assert export_member(member, clock())["stickers"] == {
            "personalised_packs": ["spring-birds"]
        }
        delete_member(member, clock())
        db.session.commit()
    assert not folder.exists()
    assert (Path(built_app.instance_path) / "stickers" / "spring-birds").is_dir()


def test_a_build_removes_the_stickers_of_members_deleted_on_another_host(
    built_app: Flask, clock: Clock
) -> None:
    client, member_id = _client(built_app, clock, "robin@example.com", "Robin Reader")
    _archive(client, "whatsapp")
    members_dir = Path(built_app.instance_path) / "stickers" / "_members"
    elsewhere = members_dir / "4242" / "spring-birds" / "0123456789abcdef01234567"
    elsewhere.mkdir(parents=True)  # a member this host never saw deleted
    (elsewhere / "whatsapp.webp").write_bytes(b"RIFF")
    result = built_app.test_cli_runner().invoke(args=["stickers", "build"])
    assert "removed the personalised stickers of 1 deleted member" in result.output
    assert not (members_dir / "4242").exists()
    assert (members_dir / str(member_id)).is_dir()


def test_a_base_no_sticker_can_be_made_from_fails_the_build(
    tmp_path: Path, pool: ProcessPoolExecutor
) -> None:
    stickers = tmp_path / "stickers"
    folder = write_pack(
        stickers,
        "noisy",
        3,
        personal={
            "base": "noise.png",
            "box": [40, 200, 470, 300],
            "color": "#000000",
            "emojis": ["👋"],
            "alt": "Your name on noise",
        },
    )
    alpha_noise(folder / "noise.png")
    [outcome] = build_packs(options(stickers, tmp_path / "out"), executor=pool).outcomes
    assert outcome.state == "failed"
    [problem] = outcome.problems
    assert (problem.file, problem.rule) == ("noise.png", "bytes")


@pytest.mark.slow
def test_a_sticker_that_cannot_be_made_leaves_the_download_without_it(
    built_app: Flask, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = _client(built_app, clock, "static@example.com", "Static")
    built = read_build(Path(built_app.instance_path) / "stickers", "spring-birds")
    assert built is not None and built.personal is not None
    alpha_noise(built.path(built.personal.base))  # a base that lost its way on disk
    with client.get(URL.format("whatsapp")) as response:
        assert response.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    [pack] = json.loads(archive.read("contents.json"))["sticker_packs"]
    assert len(pack["stickers"]) == 8  # the pack's own stickers, whole and valid
    assert "personalised sticker of spring-birds not made" in caplog.text
