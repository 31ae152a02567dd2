"""Pack specs: every rule of the spec and of the platforms, each reported with pack, file, rule
and the line of pack.toml."""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.stickers import limits
from app.stickers.spec import read_pack
from tests.conftest import REPO
from tests.stickers.art import shape, toml_value, write_pack

BOT = "PullfirstBot"


def _sticker(n: int, **changes: Any) -> dict[str, Any]:
    return {"file": f"s{n}.png", "emojis": ["🐦"], "alt": f"Shape {n}", **changes}


def _problems(folder: Path) -> list[tuple[str, str, int | None]]:
    _spec, problems = read_pack(folder, BOT)
    assert all(p.pack == folder.name for p in problems)
    return [(p.file, p.rule, p.line) for p in problems]


def test_the_demo_packs_are_valid() -> None:
    for slug in ("spring-birds", "paper-planes"):
        spec, problems = read_pack(REPO / "stickers" / slug, BOT)
        assert problems == [] and spec is not None
        assert limits.MIN_STICKERS <= spec.sticker_count <= limits.MAX_STICKERS
    spec, _ = read_pack(REPO / "stickers" / "spring-birds", BOT)
    assert spec is not None and spec.unlocked_by == ("survey:reader-2026", "code:spring-store")
    assert spec.personal is not None and spec.personal.box == (130, 600, 890, 780)
    assert spec.telegram_name == "spring_birds_by_PullfirstBot"
    spec, _ = read_pack(REPO / "stickers" / "paper-planes", BOT)
    assert spec is not None and spec.unlocked_by == ("referral",)


def test_a_valid_pack_reads_cleanly_with_every_field(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "garden", 3, description="Flowers.", tray="s1.png")
    spec, problems = read_pack(folder, BOT)
    assert problems == []
    assert spec is not None and spec.title == "Garden" and spec.description == "Flowers."
    assert [s.position for s in spec.stickers] == [1, 2, 3]
    assert spec.lines["s2.png"] == 13  # the line of its `file =`
    assert [name for name, _ in spec.source_files()] == ["pack.toml", "s1.png", "s2.png", "s3.png"]


@pytest.mark.parametrize(("count", "ok"), [(2, False), (3, True), (30, True), (31, False)])
def test_whatsapp_takes_3_to_30_stickers(tmp_path: Path, count: int, ok: bool) -> None:
    folder = write_pack(tmp_path, "many", count)
    rules = [rule for _, rule, _ in _problems(folder)]
    assert (rules == []) is ok
    if not ok:
        _spec, problems = read_pack(folder, BOT)
        assert rules == ["sticker-count"]
        assert f"{count} stickers; WhatsApp takes 3 to 30 per pack" in problems[0].message
        assert str(problems[0]).startswith("pack many: pack.toml: ")


def test_the_personalised_sticker_counts_towards_the_30(tmp_path: Path) -> None:
    folder = write_pack(
        tmp_path,
        "full",
        30,
        personal={
            "base": "s1.png",
            "box": [0, 0, 40, 20],
            "color": "#000000",
            "emojis": ["👋"],
            "alt": "Your name",
        },
    )
    _spec, problems = read_pack(folder, BOT)
    assert [p.rule for p in problems] == ["sticker-count"]
    assert "31 stickers (counting the personalised sticker)" in problems[0].message


@pytest.mark.parametrize(
    ("emojis", "fragment"),
    [
        ([], "0 emoji given; each sticker needs 1 to 3"),
        (["🐦", "😊", "🌸", "☕"], "4 emoji given; each sticker needs 1 to 3"),
        (["bird"], "'bird' is not a single emoji"),
        (["🐦🐦"], "is not a single emoji"),
        (["🐦", "🐦"], "the same emoji is listed twice"),
        ("🐦", "emojis must be a list"),
    ],
)
def test_emoji_lists_must_hold_one_to_three_emoji(
    tmp_path: Path, emojis: Any, fragment: str
) -> None:
    folder = write_pack(tmp_path, "moods", [_sticker(1), _sticker(2, emojis=emojis), _sticker(3)])
    for n in (1, 2, 3):
        shape(folder / f"s{n}.png")
    _spec, problems = read_pack(folder, BOT)
    [problem] = problems
    assert (problem.pack, problem.file, problem.rule) == ("moods", "s2.png", "emoji")
    assert fragment in problem.message
    assert problem.line == 12  # `emojis =` of the second [[sticker]]


@given(
    st.lists(
        st.sampled_from(["🐦", "😊", "🌸", "☕", "👩‍💻", "❤️", "🇬🇧", "1️⃣"]),
        min_size=1,
        max_size=3,
        unique=True,
    )
)
def test_any_one_to_three_distinct_emoji_are_accepted(emojis: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        folder = write_pack(
            Path(scratch), "ok", [_sticker(n, emojis=emojis) for n in (1, 2, 3)], draw=False
        )
        for n in (1, 2, 3):
            (folder / f"s{n}.png").write_bytes(b"")
        assert _problems(folder) == []


@pytest.mark.parametrize(
    ("file", "rule"),
    [
        ("../outside.png", "path"),
        ("/etc/hosts.png", "path"),
        ("sub/../../outside.png", "path"),
        ("art\\robin.png", "path"),
        ("drawing.svg", "format"),
        ("missing.png", "missing"),
        ("nul\u0000.png", "path"),
    ],
)
def test_files_must_stay_inside_the_pack_folder_and_be_images(
    tmp_path: Path, file: str, rule: str
) -> None:
    shape(tmp_path / "outside.png")
    (tmp_path / "stickers").mkdir()
    folder = write_pack(
        tmp_path / "stickers", "escape", [_sticker(1), _sticker(2, file=file), _sticker(3)]
    )
    for n in (1, 3):
        shape(folder / f"s{n}.png")
    (folder / "drawing.svg").write_text("<svg/>")
    problems = _problems(folder)
    shown = repr(file) if "\x00" in file else file
    assert (shown, rule, 11) in problems
    _spec, found = read_pack(folder, BOT)
    message = next(p for p in found if p.rule == rule)
    if rule == "path":
        assert "leaves the pack folder" in str(message) or "contains control characters" in str(
            message
        )


def test_a_symlink_out_of_the_pack_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    shape(secret)
    folder = write_pack(tmp_path / "stickers", "links", 3)
    (folder / "s2.png").unlink()
    os.symlink(secret, folder / "s2.png")
    assert ("s2.png", "path", 11) in _problems(folder)


@pytest.mark.parametrize(
    ("changes", "rule", "line"),
    [
        ({"title": ""}, "field", 1),
        ({"title": "x" * 65}, "length", 1),
        ({"publisher": None}, "field", None),
        ({"publisher": "p" * 129}, "length", 2),
        ({"unlocked_by": "code:*"}, "field", 3),
        ({"unlocked_by": ["dance:tango"]}, "unlocked-by", 3),
        ({"colour_scheme": "dark"}, "field", 4),
    ],
)
def test_pack_fields_are_checked(
    tmp_path: Path, changes: dict[str, Any], rule: str, line: int | None
) -> None:
    folder = write_pack(tmp_path, "fields", 3, **changes)
    assert ("pack.toml", rule, line) in _problems(folder)


def test_unknown_sticker_keys_and_duplicates_are_reported(tmp_path: Path) -> None:
    folder = write_pack(
        tmp_path, "dupes", [_sticker(1), _sticker(2, emoji=["x"]), _sticker(3, file="s1.png")]
    )
    for n in (1, 2):
        shape(folder / f"s{n}.png")
    problems = _problems(folder)
    assert ("pack.toml", "field", 14) in problems  # `emoji =` (sic) of sticker 2
    assert ("s1.png", "duplicate", 17) in problems


def test_stickers_must_be_tables(tmp_path: Path) -> None:
    folder = tmp_path / "flat"
    folder.mkdir()
    (folder / "pack.toml").write_text(
        'title = "Flat"\npublisher = "P"\nsticker = ["a.png", "b.png", "c.png"]\n'
    )
    problems = _problems(folder)
    assert ("pack.toml", "field", 3) in problems
    assert ("pack.toml", "sticker-count", 3) in problems  # the `sticker =` line


def test_invalid_toml_names_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "pack.toml").write_text('title = "Broken"\npublisher = \n')
    spec, problems = read_pack(folder, BOT)
    assert spec is None
    assert [(p.file, p.rule, p.line) for p in problems] == [("pack.toml", "toml", 2)]


@pytest.mark.parametrize(
    ("personal", "fragment"),
    [
        ({"box": [10, 10, 5, 20]}, "box must be [left, top, right, bottom]"),
        ({"color": "red"}, "color must be a colour"),
        ({"font": "font.woff"}, "font must be one of .ttf, .otf"),
        ({"emojis": []}, "0 emoji given"),
        ({"alt": ""}, "alt must be non-empty text"),
        ({"base": "../s1.png"}, "leaves the pack folder"),
    ],
)
def test_the_personal_table_is_checked(
    tmp_path: Path, personal: dict[str, Any], fragment: str
) -> None:
    template = {
        "base": "s1.png",
        "box": [10, 10, 80, 40],
        "color": "#112233",
        "emojis": ["👋"],
        "alt": "Your name on a disc",
    }
    folder = write_pack(tmp_path / "stickers", "named", 3, personal={**template, **personal})
    (folder / "font.woff").write_bytes(b"wOFF")
    _spec, problems = read_pack(folder, BOT)
    assert any(fragment in p.message for p in problems), problems


def test_the_telegram_set_name_must_fit_telegrams_rules(tmp_path: Path) -> None:
    slug = "a" + "-b" * 28  # 57 characters
    folder = write_pack(tmp_path, slug, 3)
    _spec, problems = read_pack(folder, BOT)
    [problem] = problems
    assert problem.rule == "telegram-name"
    assert "Telegram allows at most 64" in problem.message


@given(
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,40}", fullmatch=True),
    st.text(string.ascii_letters + string.digits + "_", min_size=2, max_size=20),
)
def test_telegram_set_names_follow_telegrams_rules_for_any_slug(slug: str, bot_stem: str) -> None:
    bot = "B" + bot_stem.replace("__", "_") + "bot"
    name = limits.telegram_set_name(slug, bot)
    problem = limits.telegram_set_name_problem(name)
    if len(name) <= 64 and "__" not in bot:
        assert problem is None, name
        assert name.endswith(f"_by_{bot}") and name[0].isalpha()
    else:
        assert problem is not None


VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(-5, 600),
    st.booleans(),
    st.lists(
        st.one_of(
            st.text(max_size=6), st.integers(0, 600), st.sampled_from(["🐦", "😊", "s1.png"])
        ),
        max_size=5,
    ),
)
KEYS = st.sampled_from(
    [
        "title",
        "publisher",
        "description",
        "unlocked_by",
        "tray",
        "file",
        "emojis",
        "alt",
        "base",
        "box",
        "color",
        "font",
        "extra",
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    top=st.dictionaries(KEYS, VALUES, max_size=6),
    stickers=st.lists(st.dictionaries(KEYS, VALUES, max_size=4), max_size=5),
    personal=st.none() | st.dictionaries(KEYS, VALUES, max_size=5),
)
def test_any_pack_toml_gives_a_spec_or_problems_never_a_crash(
    top: dict[str, Any], stickers: list[dict[str, Any]], personal: dict[str, Any] | None
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        folder = write_pack(
            Path(scratch),
            "fuzzed",
            stickers,
            personal=personal,
            draw=False,
            **{k: v for k, v in top.items() if k in ("title", "publisher")},
        )
        text = (folder / "pack.toml").read_text()
        extra = "".join(
            f"{k} = {toml_value(v)}\n"
            for k, v in top.items()
            if k not in ("title", "publisher", "unlocked_by")
        )
        (folder / "pack.toml").write_text(extra + text)
        shape(folder / "s1.png")
        spec, problems = read_pack(folder, BOT)
        assert all(p.pack == "fuzzed" and p.rule and p.message for p in problems)
        if spec is not None and not problems:
            assert limits.MIN_STICKERS <= spec.sticker_count <= limits.MAX_STICKERS
            assert all(1 <= len(s.emojis) <= limits.MAX_EMOJI for s in spec.stickers)
