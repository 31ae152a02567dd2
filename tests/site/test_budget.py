"""The render budget: hostile Markdown is rendered or refused within ``RENDER_BUDGET_SECONDS``,
never half-shown, reported with its file and line, and never holds other requests."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import markdown
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.serving import make_server

from app.extensions import db
from app.site import budget, library
from app.site.budget import check_shape
from app.site.deadline import DeadlinePool, Overrun
from app.site.errors import OverBudget
from app.site.linear_links import LinearLinks
from app.site.rendering import Rendered, render_markdown
from tests.conftest import REPO
from tests.helpers import csrf_token, post_form
from tests.site.conftest import SITE_TOML, post

BUDGET = 2.0


def rendered_within_budget(body: str) -> tuple[Rendered | OverBudget, float]:
    """Render ``body``; the result (or the refusal) and the seconds of processor time it took,
    shape check included (the budget's own clock: other work on the host does not count)."""
    started = time.thread_time()
    try:
        outcome: Rendered | OverBudget = render_markdown(body, seconds=BUDGET)
    except OverBudget as exc:
        outcome = exc
    return outcome, time.thread_time() - started


PATHOLOGICAL = {
    "5,000 [": "[" * 5_000,
    "50,000 [": "[" * 50_000,
    "100 KB of [": "[" * 100_000,
    "100 KB of [ with text": ("[" * 40 + " word ") * 2_200,
    "50,000 [ over lines": "[\n" * 25_000,
    "nested brackets": "[" * 20_000 + "]" * 20_000 + "(x)",
    "images": "![" * 25_000,
    "footnote marks": "[^" * 25_000,
    "unclosed destinations": "[a](" * 12_500,
    "unclosed titles": '[a](x "' * 7_000,
    "nested emphasis": "*" * 5_000 + "a" + "*" * 5_000,
    "nested emphasis in words": "*a " * 3_000 + "b" + " c*" * 3_000,
    "link reference chain": "[a][b]" * 8_000 + "\n\n[b]: /x\n",
    "link references defined": "".join(f"[r{i}]: /u{i}\n" for i in range(5_000))
    + " ".join(f"[x][r{i}]" for i in range(5_000)),
    "deeply nested list": "\n".join("    " * i + "- a" for i in range(600)),
    "list markers on one line": "- " * 5_000 + "a",
    "deeply nested blockquote": ">" * 50_000 + " a",
    "blockquote per line": "\n".join("> " * i + "a" for i in range(300)),
    "nested admonitions": "\n".join("    " * i + "!!! note" for i in range(400)),
    "html start tags": "<a" * 25_000,
    "code spans": "`a" * 25_000,
    "abbreviations": "".join(f"*[A{i}]: x\n" for i in range(2_000)) + "A1 " * 5_000,
    "many footnotes": "".join(f"x[^{i}]\n\n" for i in range(3_000))
    + "".join(f"[^{i}]: n\n" for i in range(3_000)),
    "many paragraphs": "a\n\n" * 20_000,
    "many fences": "```\na\n```\n" * 3_000,
}


@pytest.mark.parametrize("body", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_markdown_is_rendered_or_refused_within_the_budget(body: str) -> None:
    outcome, seconds = rendered_within_budget(body)
    assert seconds < BUDGET, f"took {seconds:.2f} s"
    assert isinstance(outcome, (Rendered, OverBudget))


def test_a_thousand_brackets_render_as_text_and_more_are_refused_with_the_line() -> None:
    outcome, _ = rendered_within_budget("Intro.\n\n" + "[" * 1_000)
    assert isinstance(outcome, Rendered) and "[" * 1_000 in outcome.html
    with pytest.raises(OverBudget, match="in one paragraph") as refused:
        render_markdown("Intro.\n\nFine.\n\n" + "[" * 5_000)
    assert refused.value.line == 5


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("a\n" + "x" * (budget.MAX_CHARS + 1), 2, "characters"),
        ("ok\n\n" + "    " * 20 + "- deep", 3, "nested 21 levels"),
        ("ok\n" + "> " * 30 + "deep", 2, "nested 30 levels"),
        (
            "```\ncode\n```\n" * (budget.MAX_CODE_BLOCKS + 1),
            3 * budget.MAX_CODE_BLOCKS + 1,
            "code blocks",
        ),
        ("- item\n" * (budget.MAX_BLOCKS + 1), budget.MAX_BLOCKS + 1, "list items"),
        (
            "*[A]: x\n" * (budget.MAX_ABBREVIATIONS + 1),
            budget.MAX_ABBREVIATIONS + 1,
            "abbreviations",
        ),
        ("*a* " * 600 + "\n" + "*b* " * 600, 2, "in one paragraph"),
    ],
)
def test_shape_limits_name_the_line_where_they_are_crossed(
    body: str, line: int, words: str
) -> None:
    with pytest.raises(OverBudget, match=words) as refused:
        check_shape(body)
    assert refused.value.line == line


def test_what_stays_inside_the_limits_passes() -> None:
    check_shape("* * *\n" + "- - - - - - - - - - - - - - - - - - - -\n")  # rules, not lists
    check_shape("```\n" + "    " * 40 + "code may be indented\n```\n")
    check_shape("- a\n" * (budget.MAX_BLOCKS - 1))
    for path in sorted((REPO / "content").rglob("*.md")):
        check_shape(path.read_text(encoding="utf-8"))


def test_the_clock_refuses_a_render_slower_than_the_budget() -> None:
    body = "- [a](/b) *c* `d`\n" * 300
    assert render_markdown(body, seconds=BUDGET).words == 900
    with pytest.raises(OverBudget, match="budget is 1e-06 s") as refused:
        render_markdown(body, seconds=0.000_001)
    assert refused.value.slow_under == 0.000_001


@pytest.mark.slow
def test_linear_links_alone_make_runs_of_brackets_cheap() -> None:
    md = markdown.Markdown(extensions=["footnotes", LinearLinks()])
    for body in (
        "[" * 50_000,
        "![" * 25_000,
        "[^" * 25_000,
        "[a](" * 12_500,
        "[ " * 25_000,
        "[" * 25_000 + "]" * 25_000,
    ):
        md.reset()
        started = time.thread_time()
        md.convert(body)
        assert time.thread_time() - started < 1.0, body[:6]


LINKS = """\
Plain [link](https://example.com/a "Title") and [parens](https://example.com/a_(b)).
An ![image](/images/a.webp) inside [a ![b](/c.png) link](/d), a [reference][ref], a
[short one] and ![a picture][pic], footnotes[^1] and [unused brackets [a] ].
<https://example.com/auto> and <mail@example.com>.

[ref]: https://example.com/ref "Ref"
[short one]: /short
[pic]: /pic.png
[^1]: The note, with [a link](/note).
"""


def test_within_the_bounds_links_come_out_as_python_markdown_makes_them() -> None:
    extensions: list[Any] = [
        "tables",
        "fenced_code",
        "toc",
        "footnotes",
        "admonition",
        "sane_lists",
        "def_list",
        "abbr",
        "smarty",
    ]
    stock = markdown.Markdown(extensions=extensions)
    linear = markdown.Markdown(extensions=[*extensions, LinearLinks()])
    bodies = [LINKS] + [
        p.read_text(encoding="utf-8") for p in sorted((REPO / "content").rglob("*.md"))
    ]
    for body in bodies:
        stock.reset()
        linear.reset()
        assert linear.convert(body) == stock.convert(body)


# --- the fuzzed corpus -------------------------------------------------------------------------

TOKENS = [
    "[",
    "]",
    "(",
    ")",
    "![",
    "[^",
    "]:",
    "<",
    ">",
    "</",
    "<a ",
    "<!--",
    "`",
    "``",
    "*",
    "**",
    "_",
    "__",
    "\\",
    "&",
    "&#",
    "'",
    '"',
    "--",
    "...",
    "#",
    "- ",
    "1. ",
    "> ",
    "    ",
    "\t",
    "\n",
    "\n\n",
    "|",
    ": ",
    "!!! note\n",
    "```\n",
    "~~~\n",
    "[a]",
    "[a]: /x\n",
    "*[A]: x\n",
    "[^1]: n\n",
    "http://x",
    "a",
    "word ",
    " ",
    "=",
    "-",
    "  \n",
]
FUZZ: dict[str, float] = {"count": 0, "longest": 0.0}


@pytest.mark.slow
@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(
        st.tuples(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=4), st.integers(1, 1_500)),
        min_size=1,
        max_size=8,
    )
)
def test_fuzzed_mixtures_of_metacharacters_render_within_the_budget(
    runs: list[tuple[list[str], int]],
) -> None:
    body = "".join("".join(tokens) * count for tokens, count in runs)
    outcome, seconds = rendered_within_budget(body)
    FUZZ["count"] += 1
    FUZZ["longest"] = max(FUZZ["longest"], seconds)
    assert seconds < BUDGET, f"{seconds:.2f} s for {body[:80]!r}…"
    assert isinstance(outcome, (Rendered, OverBudget))


def test_fuzz_report() -> None:
    """Prints what the fuzzed corpus saw (run with ``-s``)."""
    if FUZZ["count"]:
        print(f"\nfuzzed {FUZZ['count']:.0f} bodies; longest render {FUZZ['longest']:.3f} s")


# --- hard deadlines ----------------------------------------------------------------------------


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@pytest.mark.slow
def test_a_call_past_its_deadline_is_killed_and_the_others_go_on() -> None:
    # A deadline with room for a process to start on a busy two-core machine.
    pool = DeadlinePool(nap, 2, deadline=3.0)
    started = time.monotonic()
    results = dict(pool.map([0.01, 60.0, 0.02, 0.01, 0.03]))
    assert time.monotonic() - started < 15
    assert results[60.0] == Overrun(3.0) and pool.killed == 1
    assert [results[s] for s in (0.01, 0.02, 0.03)] == [0.01, 0.02, 0.03]


# --- the site, the check, the editor -----------------------------------------------------------


def test_a_file_over_the_budget_is_skipped_and_content_check_names_its_line(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, content_dir: Path
) -> None:
    path = content_dir / "posts" / "brackets.md"
    path.write_text(post("Brackets", "Intro line.\n\n" + "[" * 110_000))
    assert client.get("/posts/brackets/").status_code == 404
    assert "Brackets" not in client.get("/").text
    started = time.monotonic()
    result = runner.invoke(args=["content", "check"])
    assert time.monotonic() - started < 30
    assert f"{path}:8: over the render budget: more than 2,000 links" in result.output
    assert result.exit_code == 1


@pytest.fixture
def slow_content(tmp_path: Path) -> Path:
    root = tmp_path / "slow-content"
    (root / "posts").mkdir(parents=True)
    (root / "site.toml").write_text(SITE_TOML)
    heavy = "- [a](/b) *c* `d`\n" * 400
    (root / "posts" / "slow.md").write_text(post("Slow", "A first paragraph.\n\n" + heavy))
    return root


def test_content_check_finds_the_slowest_paragraph_of_a_file_over_the_time_budget(
    app_config: dict[str, Any],
    slow_content: Path,
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from app import create_app

    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path / "slow-instance"))
    slow = create_app(
        {**app_config, "CONTENT_DIR": str(slow_content), "RENDER_BUDGET_SECONDS": 0.01}
    )
    result = slow.test_cli_runner().invoke(args=["content", "check"])
    path = slow_content / "posts" / "slow.md"
    assert f"{path}:8: over the render budget: rendering took" in result.output, result.output
    assert "the budget is 0.01 s" in result.output
    with slow.app_context():
        db.engine.dispose()


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_other_pages_are_answered_while_a_file_is_being_rendered(
    served: str, content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _get(served + "/about/") == 200
    rendering, release = threading.Event(), threading.Event()
    real = library.render_markdown

    def busy_render(body: str, *args: Any) -> Rendered:
        """Stands for a render that uses the processor up to the end of its budget."""
        rendering.set()
        deadline = time.monotonic() + 60
        while not release.is_set() and time.monotonic() < deadline:
            sum(range(1_000))
        return real(body, *args)

    monkeypatch.setattr(library, "render_markdown", busy_render)
    (content_dir / "posts" / "heavy.md").write_text(post("Heavy", "[" * 1_500))
    statuses: list[int] = []
    slow = threading.Thread(target=lambda: statuses.append(_get(served + "/posts/heavy/")))
    slow.start()
    try:
        assert rendering.wait(10)
        for path in ("/about/", "/posts/ledger/", "/search?q=ledger"):
            started = time.monotonic()
            assert _get(served + path) == 200
            assert time.monotonic() - started < 10, path  # not after the render: it spins on
        assert slow.is_alive()  # the heavy file was still being rendered all along
    finally:
        release.set()
        slow.join(timeout=20)
    assert statuses == [200]


def test_the_editor_reports_a_body_over_the_budget_with_its_line_and_saves_nothing(
    editor: FlaskClient, content_dir: Path
) -> None:
    text = post("Quiet hours", "Fine.\n\n" + "[" * 5_000)
    preview = post_form(editor, "/admin/content/preview", {"text": text}, page="/admin/content")
    assert "Line 8: over the render budget" in preview.text
    path = content_dir / "posts" / "quiet-hours.md"
    before = path.read_text()
    page = editor.get("/admin/content/post/quiet-hours").text
    digest = page.split('name="hash" type="hidden" value="', 1)[1].split('"', 1)[0]
    saved = editor.post(
        "/admin/content/post/quiet-hours",
        data={"csrf_token": csrf_token(page), "text": text, "hash": digest, "action": "save"},
    )
    assert saved.status_code == 400 and "over the render budget" in saved.text
    assert path.read_text() == before


def test_a_survey_introduction_over_the_budget_is_reported_and_not_served(
    client: FlaskClient, runner: FlaskCliRunner, content_dir: Path
) -> None:
    path = content_dir / "surveys" / "reader-2026.md"
    head, _ = path.read_text().rsplit("---\n", 1)
    path.write_text(head + "---\nWelcome.\n\n" + "[" * 3_000 + "\n")
    line = head.count("\n") + 4
    assert client.get("/surveys/reader-2026/").status_code == 404
    result = runner.invoke(args=["content", "check"])
    assert f"{path}:{line}: over the render budget" in result.output, result.output
