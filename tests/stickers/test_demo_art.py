"""The demo packs' art is drawn by ``stickers/draw_demo_art.py``: every image the packs name comes
from the script, and the committed files are what it draws."""

from __future__ import annotations

import importlib.util
import tomllib
from types import ModuleType

import pytest
from PIL import Image, ImageChops, ImageStat

from tests.conftest import REPO

SCRIPT = REPO / "stickers" / "draw_demo_art.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("draw_demo_art", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_demo_image_is_drawn_by_the_script() -> None:
    drawn = set(_script().DRAWINGS)
    named = set()
    for pack in ("spring-birds", "paper-planes"):
        data = tomllib.loads((REPO / "stickers" / pack / "pack.toml").read_text())
        named |= {(pack, s["file"]) for s in data["sticker"]}
        if "personal" in data:
            named.add((pack, data["personal"]["base"]))
        committed = {p.name for p in (REPO / "stickers" / pack).glob("*.png")}
        assert committed == {name for p, name in drawn if p == pack}
    assert named == drawn


@pytest.mark.slow
@pytest.mark.parametrize("key", [("spring-birds", "robin.png"), ("paper-planes", "rainbow.png")])
def test_the_committed_art_is_what_the_script_draws(key: tuple[str, str]) -> None:
    drawn = _script().DRAWINGS[key]()
    with Image.open(REPO / "stickers" / key[0] / key[1]) as committed:
        assert committed.size == drawn.size == (1024, 1024) and committed.mode == "RGBA"
        difference = ImageChops.difference(committed.convert("RGBA"), drawn)
        assert max(ImageStat.Stat(difference).mean) < 1.0
