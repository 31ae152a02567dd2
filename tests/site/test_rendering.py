"""Markdown rendering and the allow-list: features work, hostile input renders inert."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.site.rendering import ImageSize, render_markdown


def test_tables_code_toc_footnotes_admonitions_and_anchors() -> None:
    rendered = render_markdown("""\
## Plan

| a | b |
|:--|--:|
| 1 | 2 |

```python
print("hi")  # greet
```

!!! note "Mind this"
    Inside.

Text[^n].

[^n]: The note.
""")
    html = rendered.html
    assert '<th align="left">a</th>' in html and "style=" not in html
    assert '<div class="highlight"><pre>' in html and '<span class="nb">print</span>' in html
    assert '<div class="admonition note">' in html and "Mind this" in html
    assert 'class="footnote-ref" href="#fn:n"' in html and '<li id="fn:n">' in html
    assert '<h2 id="plan">Plan<a class="headerlink" href="#plan"' in html
    assert [h.anchor for h in rendered.headings] == ["plan"]
    assert rendered.text.startswith("Plan a b 1 2")


def test_reading_time_counts_words() -> None:
    assert render_markdown("word " * 230).reading_minutes == 1
    assert render_markdown("word " * 231).reading_minutes == 2


def test_local_images_get_their_size_and_sources() -> None:
    def lookup(src: str) -> ImageSize | None:
        return (
            ImageSize(960, 540, "/images/a-480.webp 480w, /images/a-960.webp 960w")
            if src == "/images/a-960.webp"
            else None
        )

    html = render_markdown("![A harbour](/images/a-960.webp)", lookup).html
    assert 'width="960"' in html and 'height="540"' in html
    assert 'srcset="/images/a-480.webp 480w, /images/a-960.webp 960w"' in html
    assert 'loading="lazy"' in html and 'alt="A harbour"' in html


XSS = [
    "<script>alert(1)</script>",
    "[](<script>&#x6A;avascript:)",  # found by the property below: no scheme, but reads as one
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert(1)><circle/></svg>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<object data="x.swf"></object><embed src=x>',
    '<form action="https://evil.example"><input name=x></form>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "![x](javascript:alert(1))",
    '<p onmouseover="alert(1)">hover</p>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "```html\n<script>alert(1)</script>\n```",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
]

SAFE_SCHEMES = {"", "http", "https", "mailto"}
LIVE_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "form",
    "svg",
    "math",
    "style",
    "base",
    "meta",
    "input",
    "link",
    "frame",
    "frameset",
    "template",
    "textarea",
    "button",
}


class _Audit(HTMLParser):
    """Collects what a browser would treat as live: tags, event handlers, styles, schemes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in LIVE_TAGS:
            self.live.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.live.append(f"{tag}[{name}]")
            if name in {"href", "src", "srcset", "action", "formaction"} and value:
                head = value.strip().split("/", 1)[0]
                scheme = head.split(":", 1)[0].lower() if ":" in head else ""
                if scheme not in SAFE_SCHEMES:
                    self.live.append(f"{tag}[{name}={value}]")


def live_markup(html: str) -> list[str]:
    audit = _Audit()
    audit.feed(html)
    audit.close()
    return audit.live


@pytest.mark.parametrize("payload", XSS)
def test_hostile_markdown_renders_inert(payload: str) -> None:
    html = render_markdown(f"Before\n\n{payload}\n\nAfter").html
    assert live_markup(html) == [], html
    assert "Before" in html  # an unclosed <style> may swallow the rest: still inert


FRAGMENTS = st.sampled_from(
    [
        "<script>",
        "</script>",
        "<img src=x onerror=",
        "javascript:",
        "<iframe>",
        " onload=",
        '<a href="',
        '">',
        "[",
        "](",
        ")",
        "<svg",
        "<style>",
        "`",
        "```",
        "\n",
        "!!! note",
        '<div style="',
        "&#x6A;avascript:",
        "<!--",
        "-->",
        "<math>",
        "*",
        "#",
        "|",
        "alert(1)",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=40).map("".join))
def test_no_generated_markdown_produces_live_markup(source: str) -> None:
    html = render_markdown(source).html
    assert live_markup(html) == [], (source, html)
