"""Editor files: every key has its line, every typed reader names file and line, and hostile
files (deep nesting, alias bombs) are refused with a clean error instead of a stack trace."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.editorfiles.documents import load_toml, load_yaml, split_front_matter
from app.editorfiles.errors import (
    BadField,
    EditorFileError,
    MissingField,
    TooLong,
    UnknownField,
    UnreadableFile,
)
from app.editorfiles.fields import Fields

PACK = """\
title = "Birds"   # a comment
publisher = "Pullfirst"

[[sticker]]
file = "s1.png"
emojis = ["🐦"]

[[sticker]]
file = "s2.png"
"emojis" = ["🐦"]
alt = \"\"\"
file = "not a key: inside a string"
\"\"\"

[personal]
base = "base.png"
box.left = 3
"""

SURVEY = """\
title: Reader survey
questions:
  - id: role
    type: single
    options:
      - Marketing
      - Editorial
  - id: wish
    type: text
"""


def test_toml_lines_name_tables_arrays_of_tables_and_keys(tmp_path: Path) -> None:
    doc = load_toml(tmp_path / "pack.toml", PACK)
    assert doc.line("title") == 1 and doc.line("publisher") == 2
    assert doc.line("sticker") == 4  # the first [[sticker]]
    assert doc.line("sticker", 0, "emojis") == 6
    assert doc.line("sticker", 1) == 8
    assert doc.line("sticker", 1, "file") == 9
    assert doc.line("sticker", 1, "emojis") == 10  # a quoted key
    assert doc.line("sticker", 1, "alt") == 11
    assert doc.line("personal", "base") == 16
    assert doc.line("personal", "box", "left") == 17  # a dotted key
    # Not written: the nearest parent, else the first line; find() says it is absent.
    assert doc.line("sticker", 1, "nothing") == 8 and doc.line("nothing") == 1
    assert doc.find("sticker", 0, "alt") is None
    # The `file =` inside the multi-line string is not mistaken for a key.
    assert doc.line("sticker", 1, "file") == 9


def test_yaml_lines_name_nested_keys_and_list_items(tmp_path: Path) -> None:
    doc = load_yaml(tmp_path / "survey.md", SURVEY, first_line=2)
    assert doc.line("title") == 2
    assert doc.line("questions", 0) == 4 and doc.line("questions", 0, "type") == 5
    assert doc.line("questions", 0, "options", 1) == 8
    assert doc.line("questions", 1, "type") == 10
    assert doc.line("questions", 1, "label") == 9  # absent: its question
    assert doc.data["questions"][1] == {"id": "wish", "type": "text"}


def test_yaml_keeps_dates_as_text(tmp_path: Path) -> None:
    doc = load_yaml(tmp_path / "a.md", "date: 2026-01-05\n")
    assert doc.data == {"date": "2026-01-05"}


def test_front_matter_is_split_from_the_body(tmp_path: Path) -> None:
    front = split_front_matter(tmp_path / "a.md", "---\ntitle: A\n---\nBody\n")
    assert (front.yaml, front.body, front.body_line) == ("title: A\n", "Body\n", 4)
    with pytest.raises(EditorFileError, match="not closed"):
        split_front_matter(tmp_path / "a.md", "---\ntitle: A\n")


def _fields(tmp_path: Path, text: str) -> Fields:
    return Fields.of(load_toml(tmp_path / "f.toml", text))


@pytest.mark.parametrize(
    ("text", "read", "error", "line", "message"),
    [
        (
            'a = 1\ntitle = ""',
            lambda f: f.text("title"),
            BadField,
            2,
            "title must be non-empty text",
        ),
        (
            "a = 1\ntitle = 3",
            lambda f: f.text("title"),
            BadField,
            2,
            "title must be non-empty text",
        ),
        ("a = 1", lambda f: f.text("title"), MissingField, 1, "title is missing"),
        (
            'a = 1\ntitle = "abcdef"',
            lambda f: f.text("title", max_length=5),
            TooLong,
            2,
            "title is 6 characters; the limit is 5",
        ),
        (
            "a = 1\nn = 0",
            lambda f: f.integer("n", minimum=1, maximum=9),
            BadField,
            2,
            "n must be between 1 and 9",
        ),
        (
            "a = 1\nn = true",
            lambda f: f.integer("n", minimum=1, maximum=9),
            BadField,
            2,
            "n must be a whole number",
        ),
        ('a = 1\nok = "yes"', lambda f: f.flag("ok"), BadField, 2, "ok must be true or false"),
        (
            'a = 1\nkind = "loud"',
            lambda f: f.choice("kind", ("editorial", "promotional")),
            BadField,
            2,
            "kind must be one of editorial, promotional, got 'loud'",
        ),
        (
            "a = 1\nxs = [1, 2]",
            lambda f: f.texts("xs"),
            BadField,
            2,
            "xs must be a list of text; item 1 is not",
        ),
        ("a = 1\nxs = []", lambda f: f.texts("xs", required=True), BadField, 2, "non-empty list"),
        (
            'a = 1\nxs = ["a", "a"]',
            lambda f: f.texts("xs", unique=True),
            BadField,
            2,
            "xs lists the same value twice",
        ),
        (
            'a = 1\nxs = ["sms"]',
            lambda f: f.texts("xs", choices=("email", "inbox")),
            BadField,
            2,
            "xs: 'sms' is not one of email, inbox",
        ),
        (
            'a = 1\nwhen = "soon"',
            lambda f: f.moment("when"),
            BadField,
            2,
            "when 'soon' is not a date such as 2026-11-01",
        ),
        ("a = 1\nt = 3", lambda f: f.table("t"), BadField, 2, "t must be a table of fields"),
        ("a = 1\n\n[t]\nn = 0", lambda f: f.table("t").flag("n"), BadField, 4, "n must be true"),
        (
            "a = 1\n[[t]]\nx = 1\n[[t]]\nn = 0",
            lambda f: f.tables("t")[1].integer("n", minimum=1, maximum=2),
            BadField,
            5,
            "n must be between 1 and 2",
        ),
    ],
)
def test_each_reader_names_file_line_and_field(
    tmp_path: Path, text: str, read: Any, error: type[EditorFileError], line: int, message: str
) -> None:
    fields = _fields(tmp_path, text)
    with pytest.raises(error) as caught:
        read(fields)
    assert caught.value.line == line
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{tmp_path / 'f.toml'}:{line}: ")


def test_readers_return_plain_values_and_defaults(tmp_path: Path) -> None:
    fields = _fields(
        tmp_path,
        'title = " Hi "\nn = 3\nok = true\nxs = ["a"]\nwhen = "2026-11-01"\n[t]\nk = "v"\n',
    )
    assert fields.text("title") == "Hi" and fields.text("other", default="") == ""
    assert fields.integer("n", minimum=1, maximum=5) == 3
    assert fields.integer("m", minimum=1, maximum=5, default=4) == 4
    assert fields.optional_integer("m", minimum=1, maximum=5) is None
    assert fields.flag("ok") is True and fields.flag("other") is False
    assert fields.texts("xs") == ("a",) and fields.texts("other") == ()
    assert fields.moment("when", end_of_day=True) == datetime(2026, 11, 2, tzinfo=UTC)
    assert fields.table("t").text("k") == "v"


def test_unknown_keys_suggest_a_close_name_or_list_the_known_ones(tmp_path: Path) -> None:
    fields = _fields(tmp_path, 'title = "x"\ntitel = "y"\nzzz = 1\n')
    problems = fields.unknown({"title", "about"})
    assert all(isinstance(p, UnknownField) for p in problems)
    assert [(p.line, p.message) for p in problems] == [
        (2, "unknown field 'titel'; did you mean 'title'?"),
        (3, "unknown field 'zzz' (known: about, title)"),
    ]
    with pytest.raises(UnknownField, match="'titel'"):
        fields.check_known({"title", "about"})


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 100_000,
        "a = " + "{a = " * 25_000,
        "[" * 100_000,
        "{" * 100_000,
    ],
)
def test_deeply_nested_toml_is_a_clean_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(UnreadableFile) as caught:
        load_toml(tmp_path / "deep.toml", text)
    assert "invalid TOML" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 100_000,
        "a: " + "{" * 100_000,
        "[" * 100_000,
        "a: " + "[" * 200 + "]" * 200,  # valid YAML, but deeper than any editor file
        "".join(" " * i + f"k{i}:\n" for i in range(300)),
        "- " * 300 + "x",
    ],
)
def test_deeply_nested_yaml_is_a_clean_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(UnreadableFile) as caught:
        load_yaml(tmp_path / "deep.md", text)
    assert "YAML" in caught.value.message or "nested" in caught.value.message


def test_an_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    with pytest.raises(UnreadableFile, match="more than 100,000 values"):
        load_yaml(tmp_path / "bomb.md", "\n".join(lines) + "\n")


def test_a_few_anchors_still_load(tmp_path: Path) -> None:
    doc = load_yaml(tmp_path / "a.md", "base: &b {x: 1}\nother: *b\n")
    assert doc.data == {"base": {"x": 1}, "other": {"x": 1}}


def test_yaml_errors_name_their_line(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile) as caught:
        load_yaml(tmp_path / "a.md", "title: x\ntags: [a, b\n", first_line=2)
    assert caught.value.line >= 3 and "invalid YAML" in caught.value.message
    with pytest.raises(EditorFileError, match="must be a mapping"):
        load_yaml(tmp_path / "a.md", "- a\n- b\n")


def test_errors_survive_a_trip_to_a_worker_process(tmp_path: Path) -> None:
    fields = _fields(tmp_path, "a = 1\nn = 0\n")
    with pytest.raises(BadField) as caught:
        fields.integer("n", minimum=1, maximum=2)
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own object
    assert type(copy) is BadField and str(copy) == str(caught.value) and copy.key == "n"
