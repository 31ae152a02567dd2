"""``flask content new | check | index``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from markupsafe import Markup

from app.site.cta import CTA_KINDS, CtaKind
from tests.site.conftest import post


@pytest.fixture
def app(app: Flask) -> Flask:
    for kind, known in (("survey", {"reader-2026"}), ("scope", {"newsletter"})):
        CTA_KINDS.replace(
            app,
            kind,
            CtaKind(kind, known.__contains__, lambda ref, placement: Markup("<aside>cta</aside>")),
        )
    return app


def test_new_creates_a_draft_with_front_matter(runner: FlaskCliRunner, content_dir: Path) -> None:
    result = runner.invoke(args=["content", "new", "Why rewards beat bribes"])
    assert result.exit_code == 0
    path = content_dir / "posts" / "why-rewards-beat-bribes.md"
    assert result.output.strip() == str(path)
    text = path.read_text()
    assert text.startswith('---\ntitle: "Why rewards beat bribes"\n') and "draft: true" in text
    again = runner.invoke(args=["content", "new", "Why rewards beat bribes"])
    assert again.output.strip().endswith("why-rewards-beat-bribes-2.md")
    page = runner.invoke(args=["content", "new", "Contact", "--page"])
    assert page.output.strip() == str(content_dir / "pages" / "contact.md")
    assert runner.invoke(args=["content", "new", "!!!"]).exit_code != 0


def test_check_passes_on_good_content(runner: FlaskCliRunner, content_dir: Path) -> None:
    (content_dir / "pages" / "hidden-page.md").unlink()
    result = runner.invoke(args=["content", "check"])
    assert result.output.strip().endswith("content is fine"), result.output
    assert result.exit_code == 0


PROBLEMS = [
    ("posts/bad-yaml.md", "---\ntitle: x\ntags: [a, b\n---\nbody", 4, "invalid YAML"),
    ("posts/bad-date.md", post("Bad date", date="2026-02-30"), 3, "is not a date"),
    ("posts/bad-type.md", post("Bad type", draft="maybe"), 3, "draft must be true or false"),
    ("posts/empty.md", "", 1, "file is empty"),
    ("posts/zz-dupe.md", post("Dupe", slug="ledger"), 3, "slug 'ledger' is already used"),
    ("posts/alias-taken.md", post("Alias taken", aliases="[/about/]"), 3, "alias /about collides"),
    (
        "posts/alias-twice.md",
        post("Alias twice", aliases="[/old/why-pull-wins/]"),
        3,
        "alias /old/why-pull-wins is also claimed",
    ),
    (
        "posts/broken-link.md",
        post("Broken link", "Intro.\n\nSee [this](/posts/nowhere/)."),
        8,
        "broken internal link to /posts/nowhere/",
    ),
    (
        "posts/no-description.md",
        "---\ntitle: No description\ndate: 2026-01-01\n---\nx",
        2,
        "description is missing",
    ),
    ("posts/long-title.md", post("A" * 61), 2, "title is 61 characters; keep it to 60"),
    (
        "posts/long-description.md",
        post("Long", description="d" * 161),
        3,
        "description is 161 characters; keep it to 160",
    ),
    (
        "posts/bad-cta.md",
        post("Bad cta", cta="survey:nope"),
        3,
        "call to action 'survey:nope' names no survey",
    ),
    ("posts/odd-cta.md", post("Odd cta", cta="poll:x"), 3, "unknown call-to-action kind"),
    (
        "posts/missing-image.md",
        post("Missing image", image="/images/nope.webp"),
        3,
        "image /images/nope.webp does not exist",
    ),
    (
        "posts/missing-inline-image.md",
        post("Inline", "![x](/images/gone-480.webp)"),
        6,
        "image /images/gone-480.webp does not exist",
    ),
    ("posts/typo.md", post("Typo", titel="x"), 3, "unknown field 'titel'"),
    ("posts/not-utf8.md", "---\ntitle: caf\udce9\n---\n", 2, "not UTF-8"),
]


@pytest.mark.parametrize(("name", "text", "line", "message"), PROBLEMS)
def test_check_reports_each_problem_with_path_and_line(
    runner: FlaskCliRunner, content_dir: Path, name: str, text: str, line: int, message: str
) -> None:
    path = content_dir / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 1
    ours = [row for row in result.output.splitlines() if row.startswith(f"{path}:")]
    assert any(row.startswith(f"{path}:{line}: ") and message in row for row in ours), result.output


def test_check_reports_a_bad_site_toml(runner: FlaskCliRunner, content_dir: Path) -> None:
    (content_dir / "site.toml").write_text('title = "x"\nhome_cta = ["survey:gone"]\n')
    result = runner.invoke(args=["content", "check"])
    assert f"{content_dir / 'site.toml'}:2: home_cta: call to action 'survey:gone'" in result.output
    (content_dir / "site.toml").write_text("title = \n")
    result = runner.invoke(args=["content", "check"])
    assert f"{content_dir / 'site.toml'}:1: invalid TOML" in result.output


def test_index_updates_only_what_changed(runner: FlaskCliRunner, content_dir: Path) -> None:
    first = runner.invoke(args=["content", "index"])
    assert first.exit_code == 0 and "document(s) updated" in first.output
    again = runner.invoke(args=["content", "index"])
    assert "0 document(s) updated" in again.output
    (content_dir / "posts" / "new-one.md").write_text(post("New one"))
    assert "1 document(s) updated" in runner.invoke(args=["content", "index"]).output


def test_index_rebuild_renders_and_indexes_on_every_core(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["content", "index", "--rebuild", "--processes", "2"])
    assert result.exit_code == 0, result.output
    assert re.search(r"rendered 9 in [\d.]+ s, indexed 6 documents", result.output)
    assert "the new index is in use" in result.output
