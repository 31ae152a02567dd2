"""Front matter: every way a file can be broken is reported with its path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.site.frontmatter import SourceError, parse_source


def _write(tmp_path: Path, raw: bytes) -> Path:
    path = tmp_path / "post.md"
    path.write_bytes(raw)
    return path


def test_splits_meta_and_body_keeping_dates_as_text(tmp_path: Path) -> None:
    path = _write(tmp_path, b"---\ntitle: Hello\ndate: 2026-01-05\ntags: [a, b]\n---\nBody\n")
    source = parse_source(path)
    assert source.meta == {"title": "Hello", "date": "2026-01-05", "tags": ["a", "b"]}
    assert source.body == "Body\n" and source.body_line == 6
    assert source.line("date") == 3 and source.line("tags", 1) == 4


@pytest.mark.parametrize(
    ("raw", "line", "message"),
    [
        (b"", 1, "file is empty"),
        (b"   \n\n", 1, "file is empty"),
        (b"title: x\n", 1, "must start with a line of three dashes"),
        (b"---\ntitle: x\n", 1, "not closed"),
        (b"---\ntitle: x\ntags: [a, b\n---\nbody", 4, "invalid YAML"),
        (b"---\ntitle: x\n  bad: indent\n---\n", 3, "invalid YAML"),
        (b"---\n- a\n- b\n---\n", 2, "must be a mapping"),
        (b"---\ntitle: caf\xe9\n---\n", 2, "not UTF-8"),
        (b"---\ntitle: !!python/object:os.system x\n---\n", 2, "invalid YAML"),
    ],
)
def test_broken_files_name_the_line(tmp_path: Path, raw: bytes, line: int, message: str) -> None:
    path = _write(tmp_path, raw)
    with pytest.raises(SourceError) as caught:
        parse_source(path)
    assert caught.value.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_a_file_of_five_megabytes_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = _write(tmp_path, b"---\ntitle: big\n---\n" + b"x" * 5_000_000)
    with pytest.raises(SourceError, match="limit is 1,000,000"):
        parse_source(path)
