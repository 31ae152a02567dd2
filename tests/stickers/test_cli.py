"""``flask stickers check`` and ``flask stickers build`` as an operator runs them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from app.stickers.builds import current_hash
from tests.stickers.art import text_as_png, write_pack


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    stickers = tmp_path / "stickers"
    write_pack(stickers, "garden", 3, description="Round shapes.")
    write_pack(stickers, "meadow", 4)
    app_config.update(STICKERS_DIR=str(stickers), STICKERS_WORKERS=2)
    return app_config


def _output(app: Flask) -> Path:
    return Path(app.instance_path) / "stickers"


def test_check_prints_one_row_per_sticker(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["stickers", "check"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "PACK",
        "#",
        "FILE",
        "SOURCE",
        "WHATSAPP",
        "TELEGRAM",
        "SIGNAL",
        "STATUS",
        "EMOJI",
    ]
    rows = [line.split() for line in lines[1:] if line.startswith(("garden", "meadow"))]
    assert [(r[0], r[1], r[2]) for r in rows] == (
        [("garden", str(n), f"s{n}.png") for n in (1, 2, 3)]
        + [("meadow", str(n), f"s{n}.png") for n in (1, 2, 3, 4)]
    )
    assert all(r[3:5] == ["PNG", "96x96"] and "not built" in " ".join(r) for r in rows)
    assert "limits per sticker: WhatsApp 100 KiB, Telegram 512 KiB, Signal 300 KiB" in result.output


def test_build_then_check_shows_each_platforms_bytes(app: Flask, runner: FlaskCliRunner) -> None:
    built = runner.invoke(args=["stickers", "build"])
    assert built.exit_code == 0, built.output
    assert "building 2 packs with 2 workers" in built.output
    assert "garden: built" in built.output and "(3 stickers," in built.output
    assert "meadow: built" in built.output and "peak worker memory:" in built.output
    checked = runner.invoke(args=["stickers", "check", "--pack", "garden"])
    assert checked.exit_code == 0
    rows = [line.split() for line in checked.output.splitlines() if line.startswith("garden")]
    assert len(rows) == 3 and all(row[-2] == "ok" for row in rows)
    assert all(row[6] == "KiB" and float(row[5]) < 100 for row in rows)
    again = runner.invoke(args=["stickers", "build"])
    assert again.exit_code == 0
    assert "garden: up to date" in again.output and "building" not in again.output


def test_build_one_pack_only(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["stickers", "build", "--pack", "meadow"])
    assert result.exit_code == 0, result.output
    assert current_hash(_output(app), "meadow") is not None
    assert current_hash(_output(app), "garden") is None
    unknown = runner.invoke(args=["stickers", "build", "--pack", "nowhere"])
    assert unknown.exit_code == 1
    assert "nowhere: FAILED" in unknown.output and "no folder nowhere/" in unknown.output


def test_force_rebuilds_an_unchanged_pack(app: Flask, runner: FlaskCliRunner) -> None:
    runner.invoke(args=["stickers", "build", "--pack", "garden"])
    first = current_hash(_output(app), "garden")
    forced = runner.invoke(args=["stickers", "build", "--pack", "garden", "--force"])
    assert forced.exit_code == 0 and "garden: built" in forced.output
    assert current_hash(_output(app), "garden") == first


def test_problems_name_the_file_and_line_and_fail_the_command(
    app: Flask, runner: FlaskCliRunner
) -> None:
    stickers = Path(app.config["STICKERS_DIR"])
    text_as_png(stickers / "meadow" / "s3.png")
    spec = stickers / "garden" / "pack.toml"
    spec.write_text(spec.read_text().replace('emojis = ["🐦"]', "emojis = []", 1))
    checked = runner.invoke(args=["stickers", "check"])
    assert checked.exit_code == 1
    garden = (
        f"{stickers}/garden/pack.toml:8: pack garden: s1.png: 0 emoji given; each "
        "sticker needs 1 to 3 (WhatsApp's limit) (rule: emoji)"
    )
    assert garden in checked.output
    assert (
        f"{stickers}/meadow/pack.toml:16: pack meadow: s3.png: is not a PNG, JPEG or WebP"
        in checked.output
    )
    meadow_row = next(
        line
        for line in checked.output.splitlines()
        if line.startswith("meadow") and " s3.png " in line
    )
    assert "format" in meadow_row

    built = runner.invoke(args=["stickers", "build"])
    assert built.exit_code == 1
    assert "garden: FAILED, nothing was changed" in built.output
    assert "meadow: FAILED, nothing was changed" in built.output
    assert f"{stickers}/meadow/pack.toml:16: pack meadow: s3.png:" in built.output


def test_check_with_no_packs_says_so(app: Flask, runner: FlaskCliRunner) -> None:
    shutil.rmtree(app.config["STICKERS_DIR"])
    Path(app.config["STICKERS_DIR"]).mkdir()
    result = runner.invoke(args=["stickers", "check"])
    assert result.exit_code == 0 and "no packs in" in result.output
