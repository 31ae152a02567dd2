"""The build: every output inside its platform's limits, manifests in their layouts, zips that
store images and deflate JSON, atomic builds, and unchanged packs skipped by content hash."""

from __future__ import annotations

import json
import os
import zipfile
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.stickers import limits
from app.stickers.build import build_packs, plan_build, release, run_build
from app.stickers.builds import current_hash, read_build
from tests.stickers.art import listing, shape, truncated_png, write_pack
from tests.stickers.conftest import DEMO, options

INPUT_STICKER_KEYS = {"sticker", "format", "emoji_list"}
CREATE_SET_KEYS = {"user_id", "name", "title", "stickers", "sticker_type", "needs_repainting"}


class NoWork(Executor):
    """An executor that fails the test if the build gives it anything to do."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        raise AssertionError("the build converted an image although nothing changed")


def _pack(demo_output: Path, slug: str) -> Any:
    built = read_build(demo_output, slug)
    assert built is not None
    return built


@pytest.mark.parametrize("slug", ["spring-birds", "paper-planes"])
def test_every_output_is_within_its_platforms_limits(demo_output: Path, slug: str) -> None:
    built = _pack(demo_output, slug)
    assert limits.MIN_STICKERS <= built.sticker_count <= limits.MAX_STICKERS
    for sticker in built.stickers:
        for platform in limits.PLATFORMS:
            path = built.path(sticker.files[platform.name].file)
            size = path.stat().st_size
            assert size <= platform.max_sticker_bytes, (sticker.name, platform.name, size)
            with Image.open(path) as image:
                assert image.format == "WEBP" and not getattr(image, "is_animated", False)
                width, height = image.size
                assert image.mode == "RGBA"  # the alpha is kept
            if platform.square:
                assert (width, height) == (512, 512)
            else:
                assert max(width, height) == 512 and min(width, height) <= 512
    with Image.open(built.path(built.tray.file)) as tray:
        assert tray.format == "PNG" and tray.size == (96, 96)
    assert built.path(built.tray.file).stat().st_size <= 50_000
    with Image.open(built.path(built.thumbnail.file)) as thumbnail:
        assert thumbnail.format == "PNG" and thumbnail.size == (100, 100)
    assert built.path(built.thumbnail.file).stat().st_size <= 128_000


def test_art_is_fitted_with_a_margin_and_keeps_its_transparency(demo_output: Path) -> None:
    built = _pack(demo_output, "spring-birds")
    with Image.open(built.path(built.stickers[0].files["whatsapp"].file)) as image:
        alpha = image.getchannel("A")
        left, top, right, bottom = alpha.getbbox() or (0, 0, 0, 0)
        assert left >= 14 and top >= 14 and right <= 498 and bottom <= 498  # 16 px, give or take
        assert max(right - left, bottom - top) >= 470  # and the art fills the rest
        assert alpha.getpixel((2, 2)) == 0 and alpha.getpixel((256, 256)) == 255


def test_whatsapp_contents_json_follows_the_sample_apps_layout(demo_output: Path) -> None:
    built = _pack(demo_output, "spring-birds")
    with zipfile.ZipFile(built.path("whatsapp.zip")) as archive:
        names = archive.namelist()
        contents = json.loads(archive.read("contents.json"))
    assert names[0] == "contents.json"
    [pack] = contents["sticker_packs"]
    assert set(contents) == {"android_play_store_link", "ios_app_store_link", "sticker_packs"}
    assert pack["identifier"] == "spring-birds" and pack["name"] == "Spring birds"
    assert pack["publisher"] == "Pullfirst demo"
    assert pack["tray_image_file"] == "tray.png" and "spring-birds/tray.png" in names
    assert pack["image_data_version"] == built.hash[:16] and pack["avoid_cache"] is False
    assert pack["animated_sticker_pack"] is False
    assert pack["publisher_website"] == "http://localhost/"
    assert len(pack["identifier"]) <= 128 and len(pack["name"]) <= 128
    assert len(pack["stickers"]) == 8
    for entry in pack["stickers"]:
        assert f"spring-birds/{entry['image_file']}" in names
        assert 1 <= len(entry["emojis"]) <= 3
        assert 0 < len(entry["accessibility_text"]) <= 125


def test_telegram_stickerset_json_holds_exactly_the_bot_api_parameters(demo_output: Path) -> None:
    built = _pack(demo_output, "paper-planes")
    with zipfile.ZipFile(built.path("telegram.zip")) as archive:
        names = set(archive.namelist())
        document = json.loads(archive.read("stickerset.json"))
    assert set(document) == CREATE_SET_KEYS
    assert document["user_id"] is None  # the future owner fills it in
    assert document["name"] == "paper_planes_by_PullfirstBot" and len(document["name"]) <= 64
    assert document["title"] == "Paper planes" and document["sticker_type"] == "regular"
    assert 1 <= len(document["stickers"]) <= limits.TELEGRAM_INITIAL_STICKERS
    for sticker in document["stickers"]:
        assert set(sticker) == INPUT_STICKER_KEYS
        assert sticker["format"] == "static" and 1 <= len(sticker["emoji_list"]) <= 20
        assert sticker["sticker"].removeprefix("attach://") in names
    assert "thumbnail.png" in names


def test_signal_manifest_has_title_author_cover_and_one_emoji_each(demo_output: Path) -> None:
    built = _pack(demo_output, "spring-birds")
    with zipfile.ZipFile(built.path("signal.zip")) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["title"] == "Spring birds" and manifest["author"] == "Pullfirst demo"
    assert manifest["cover"] == manifest["stickers"][0]  # the tray's art, robin.png
    assert [s["id"] for s in manifest["stickers"]] == list(range(8))
    for sticker in manifest["stickers"]:
        assert sticker["file"] in names and sticker["contentType"] == "image/webp"
        assert len(sticker["emoji"]) >= 1 and isinstance(sticker["emoji"], str)


@pytest.mark.parametrize("platform", ["whatsapp", "telegram", "signal"])
def test_zips_store_images_and_deflate_only_json(demo_output: Path, platform: str) -> None:
    built = _pack(demo_output, "spring-birds")
    folder = built.path(platform)
    with zipfile.ZipFile(built.path(f"{platform}.zip")) as archive:
        infos = archive.infolist()
        assert archive.testzip() is None
        for info in infos:
            expected = (
                zipfile.ZIP_DEFLATED if info.filename.endswith(".json") else zipfile.ZIP_STORED
            )
            assert info.compress_type == expected, info.filename
            assert archive.read(info) == (folder / info.filename).read_bytes()
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert {i.filename for i in infos} == on_disk


def test_a_rebuild_gives_byte_identical_zips(
    tmp_path: Path, pool: ProcessPoolExecutor, demo_output: Path
) -> None:
    build_packs(options(DEMO, tmp_path), slugs=["paper-planes"], executor=pool)
    for platform in ("whatsapp", "telegram", "signal"):
        ours = read_build(tmp_path, "paper-planes")
        theirs = _pack(demo_output, "paper-planes")
        assert ours is not None and ours.hash == theirs.hash
        assert (
            ours.path(f"{platform}.zip").read_bytes() == theirs.path(f"{platform}.zip").read_bytes()
        )


def test_unchanged_packs_are_skipped_by_content_hash(
    tmp_path: Path, pool: ProcessPoolExecutor
) -> None:
    stickers, output = tmp_path / "stickers", tmp_path / "out"
    folder = write_pack(stickers, "garden", 3)
    first = build_packs(options(stickers, output), executor=pool)
    [outcome] = first.outcomes
    assert outcome.state == "built"
    before = listing(output)

    again = build_packs(options(stickers, output), executor=NoWork())
    assert [(o.slug, o.state, o.hash) for o in again.outcomes] == [
        ("garden", "up-to-date", outcome.hash)
    ]
    assert listing(output) == before

    os.utime(folder / "s1.png", ns=(1, 1))  # touched, same bytes: still the same pack
    assert (
        build_packs(options(stickers, output), executor=NoWork()).outcomes[0].state == "up-to-date"
    )

    shape(folder / "s1.png", colour="#000000")  # new art: a new build, the old one goes
    changed = build_packs(options(stickers, output), executor=pool)
    assert changed.outcomes[0].state == "built" and changed.outcomes[0].hash != outcome.hash
    assert current_hash(output, "garden") == changed.outcomes[0].hash
    assert not (output / "garden" / str(outcome.hash)).exists()


def test_a_changed_setting_rebuilds(tmp_path: Path, pool: ProcessPoolExecutor) -> None:
    stickers, output = tmp_path / "stickers", tmp_path / "out"
    write_pack(stickers, "garden", 3)
    first = build_packs(options(stickers, output), executor=pool).outcomes[0]
    second = build_packs(
        options(stickers, output, telegram_bot="OtherBot"), executor=pool
    ).outcomes[0]
    assert second.state == "built" and second.hash != first.hash
    built = read_build(output, "garden")
    assert built is not None and built.telegram_name == "garden_by_OtherBot"


def test_a_build_is_invisible_until_complete(tmp_path: Path, pool: ProcessPoolExecutor) -> None:
    stickers, output = tmp_path / "stickers", tmp_path / "out"
    write_pack(stickers, "garden", 5)
    seen: list[tuple[str | None, set[str]]] = []

    def observe(_: int) -> None:
        seen.append(
            (
                current_hash(output, "garden"),
                {p.name for p in (output / "garden").iterdir() if p.is_dir()},
            )
        )

    report = build_packs(options(stickers, output), executor=pool, on_task=observe)
    assert len(seen) == 6  # five stickers and the icons
    for hash_now, folders in seen:
        assert hash_now is None  # nothing is current before the last task is in
        assert all(name.startswith(".tmp-") for name in folders)
    assert current_hash(output, "garden") == report.outcomes[0].hash
    assert not list((output / "garden").glob(".tmp-*"))


def test_a_failed_rebuild_keeps_the_previous_build(
    tmp_path: Path, pool: ProcessPoolExecutor
) -> None:
    stickers, output = tmp_path / "stickers", tmp_path / "out"
    folder = write_pack(stickers, "garden", 3)
    good = build_packs(options(stickers, output), executor=pool).outcomes[0]
    truncated_png(folder / "s2.png")
    failed = build_packs(options(stickers, output), executor=pool).outcomes[0]
    assert failed.state == "failed" and failed.problems[0].rule == "decode"
    assert current_hash(output, "garden") == good.hash
    assert (output / "garden" / str(good.hash) / "whatsapp.zip").is_file()
    assert not list((output / "garden").glob(".tmp-*"))
    record = json.loads((output / "garden" / "failed.json").read_text())
    assert record["problems"][0]["file"] == "s2.png"
    # The same broken content is not converted again: the recorded failure answers.
    remembered = build_packs(options(stickers, output), executor=NoWork()).outcomes[0]
    assert remembered.state == "failed" and remembered.problems == failed.problems


def test_leftovers_of_a_killed_build_are_cleared(tmp_path: Path, pool: ProcessPoolExecutor) -> None:
    stickers, output = tmp_path / "stickers", tmp_path / "out"
    write_pack(stickers, "garden", 3)
    leftover = output / "garden" / ".tmp-deadbeef0000-0000"
    leftover.mkdir(parents=True)
    (leftover / "half.webp").write_bytes(b"RIFF")
    build_packs(options(stickers, output), executor=pool)
    assert not leftover.exists()


def test_two_builders_never_build_the_same_pack_at_once(
    tmp_path: Path, pool: ProcessPoolExecutor
) -> None:
    stickers, output = tmp_path / "stickers", tmp_path / "out"
    write_pack(stickers, "garden", 3)
    first = plan_build(options(stickers, output))
    try:
        second = build_packs(options(stickers, output), executor=NoWork())
        assert [o.state for o in second.outcomes] == ["busy"]
        report = run_build(first, pool)
        assert [o.state for o in report.outcomes] == ["built"]
    finally:
        release(first)


class Recording(Executor):
    """Runs each task at once, in this process, and remembers the order they came in."""

    def __init__(self) -> None:
        self.sources: list[str] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.sources.append(args[0].source.name)
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_the_largest_conversions_are_handed_out_first(tmp_path: Path) -> None:
    from tests.stickers.art import photo_jpeg

    stickers = tmp_path / "stickers"
    folder = write_pack(
        stickers,
        "mixed",
        [
            {"file": "small.png", "emojis": ["🐦"], "alt": "Small"},
            {"file": "photo.jpg", "emojis": ["🐦"], "alt": "Photo"},
            {"file": "large.png", "emojis": ["🐦"], "alt": "Large"},
        ],
        draw=False,
    )
    shape(folder / "small.png")
    photo_jpeg(folder / "photo.jpg")  # 12 MP, decoded at a quarter of each side
    shape(folder / "large.png", size=(1600, 1600))
    executor = Recording()
    report = build_packs(options(stickers, tmp_path / "out"), executor=executor)
    assert [o.state for o in report.outcomes] == ["built"]
    # The icons come from the first sticker: the same small work as that sticker.
    assert executor.sources == ["large.png", "photo.jpg", "small.png", "small.png"]


def test_a_file_rewritten_within_one_clock_tick_is_read_again(tmp_path: Path) -> None:
    """Same size, same times, same inode: only the bytes changed. A stamp taken while the file
    was that fresh is not trusted, so the new bytes give a new hash."""
    from app.stickers.fingerprint import pack_hash
    from app.stickers.spec import read_pack

    folder = write_pack(tmp_path / "stickers", "ticks", 3)
    spec, problems = read_pack(folder, "PullfirstBot")
    assert spec is not None and not problems
    first, stamps = pack_hash(spec, {}, {})
    art = folder / "s1.png"
    before = art.stat()
    data = bytearray(art.read_bytes())
    data[-5] ^= 0xFF  # same length, other bytes
    art.write_bytes(bytes(data))
    os.utime(art, ns=(before.st_atime_ns, before.st_mtime_ns))
    # the recorded stamp now matches the file again, except that it was fresh when read
    stamps["s1.png"]["stamp"] = [
        art.stat().st_size,
        art.stat().st_mtime_ns,
        art.stat().st_ctime_ns,
        art.stat().st_ino,
    ]
    second, _ = pack_hash(spec, {}, stamps)
    assert second != first
    # a settled file's stamp is trusted: no read when nothing changed
    settled = {
        name: {**value, "read_ns": max(value["stamp"][1], value["stamp"][2]) + 10**10}
        for name, value in stamps.items()
    }
    settled["s1.png"]["sha256"] = "0" * 64  # would show if the file were read again
    third, _ = pack_hash(spec, {}, settled)
    assert third not in (first, second)
