"""The Pillow pipeline: safe opening, EXIF orientation, JPEG draft, fitting, and the search that
keeps every WebP under its limit."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from app.stickers import imaging, limits
from app.stickers.errors import ArtRejected
from tests.stickers.art import photo_jpeg, shape


def test_a_12_megapixel_jpeg_is_decoded_at_a_reduced_scale(tmp_path: Path) -> None:
    path = photo_jpeg(tmp_path / "photo.jpg")
    image, info = imaging.open_art(path, 36_000_000)
    assert (info.format, info.width, info.height) == ("JPEG", 4000, 3000)
    assert image.size == (1000, 750)  # draft(): a quarter of each side, still >= 480
    assert image.mode == "RGBA"


def test_exif_orientation_is_respected(tmp_path: Path) -> None:
    path = photo_jpeg(tmp_path / "portrait.jpg", size=(1200, 800), orientation=6)
    image, info = imaging.open_art(path, 36_000_000)
    assert (info.width, info.height) == (1200, 800)  # as stored
    assert image.height > image.width  # as the camera meant it


def test_the_pixel_cap_refuses_before_decoding(tmp_path: Path) -> None:
    path = shape(tmp_path / "big.png", size=(3000, 2000))
    with pytest.raises(ArtRejected) as caught:
        imaging.open_art(path, 5_000_000)
    assert caught.value.rule == "pixels" and "3000x2000" in caught.value.message


def test_animated_images_are_refused(tmp_path: Path) -> None:
    frames = [Image.new("RGBA", (64, 64), colour) for colour in ("red", "blue")]
    path = tmp_path / "animated.webp"
    frames[0].save(path, "WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(ArtRejected) as caught:
        imaging.open_art(path, 36_000_000)
    assert caught.value.rule == "format" and "animated" in caught.value.message


def test_a_fully_transparent_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(path)
    image, _ = imaging.open_art(path, 36_000_000)
    with pytest.raises(ArtRejected) as caught:
        imaging.trim(image)
    assert caught.value.rule == "empty"


def test_telegram_gets_the_arts_own_shape_with_one_side_of_512(tmp_path: Path) -> None:
    art = Image.new("RGBA", (400, 200), (30, 120, 200, 255))
    tall = imaging.sticker_renderer(art, square=False)(1.0)
    square = imaging.sticker_renderer(art, square=True)(1.0)
    assert tall.size == (512, 272) and square.size == (512, 512)
    assert square.getchannel("A").getbbox() == (16, 136, 496, 376)  # 480 wide, centred


def _noise(side: int, seed: int, alpha: bool) -> Image.Image:
    data = random.Random(seed).randbytes(side * side * 4)
    image = Image.frombytes("RGBA", (side, side), data)
    if not alpha:
        image.putalpha(255)
    return image


def _size(image: Image.Image, quality: int, alpha_quality: int = 100) -> int:
    return len(imaging.webp(image, quality, alpha_quality))


def test_the_search_starts_at_80_and_goes_down_only_as_far_as_needed() -> None:
    image = _noise(160, 1, alpha=False)
    limit = _size(image, 50)
    result = imaging.encode_within(lambda scale: image, limit, "Test")
    assert len(result.data) <= limit and result.quality < 80
    assert _size(image, result.quality + 1) > limit  # the highest quality that fits
    roomy = imaging.encode_within(lambda scale: image, 10**7, "Test")
    assert roomy.quality == 80 and roomy.first_try


def test_alpha_quality_goes_down_before_the_content_shrinks() -> None:
    image = _noise(160, 2, alpha=True)
    floor = _size(image, limits.QUALITY_FLOOR, 100)
    lowered = _size(image, limits.QUALITY_FLOOR, 75)
    assert lowered < floor
    result = imaging.encode_within(lambda scale: image, lowered, "Test")
    assert result.alpha_quality < 100 and result.scale == 1.0


def test_the_content_shrinks_when_nothing_else_is_enough() -> None:
    big = _noise(200, 3, alpha=True)
    small = big.resize((160, 160))
    renders = {1.0: big, 0.9: small, 0.8: small}
    limit = _size(small, limits.QUALITY_FLOOR, 50)
    assert limit < _size(big, limits.QUALITY_FLOOR, 50)
    result = imaging.encode_within(lambda scale: renders[scale], limit, "Test")
    assert result.scale == 0.9 and len(result.data) <= limit


def test_nothing_fits_means_a_bytes_error_naming_the_platform() -> None:
    image = _noise(256, 4, alpha=True)
    with pytest.raises(ArtRejected) as caught:
        imaging.encode_within(lambda scale: image, 2_000, "WhatsApp")
    assert caught.value.rule == "bytes" and "WhatsApp's limit" in caught.value.message


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), limit=st.integers(1_000, 60_000), alpha=st.booleans())
def test_an_encoded_sticker_is_never_over_its_limit(seed: int, limit: int, alpha: bool) -> None:
    image = _noise(96, seed, alpha).resize((192, 192))
    try:
        result = imaging.encode_within(lambda scale: image, limit, "Test")
    except ArtRejected as exc:
        assert exc.rule == "bytes"
        assert _size(image, limits.QUALITY_FLOOR, limits.ALPHA_QUALITIES[-1]) > limit
        return
    assert len(result.data) <= limit
    with Image.open(io.BytesIO(result.data)) as decoded:
        assert decoded.format == "WEBP"
