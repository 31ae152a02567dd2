"""Checking that hostile text stayed text in a real browser.

:func:`watch` arms a browser context: every ``alert``, ``confirm``, ``prompt`` or ``print`` and
every call of ``window.__pwned`` (the marker some payloads call) counts as an execution. After a
page loaded, :func:`assert_inert` fails on any execution, any Content-Security-Policy violation
(the escaping must stop a payload before the CSP has to) and any live markup a payload could
have planted: event-handler attributes, ``javascript:``/``vbscript:``/``data:`` URLs, script,
frame, object, embed and base elements, meta refreshes and ``srcdoc``.

Payloads are batched many to a page; each batch carries markers, so a test also proves that
every payload of the batch reached the page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from playwright.sync_api import BrowserContext, Page

from tests.browser import csp_violations

T = TypeVar("T")

# Runs before any script of the page, outside its CSP (added through the DevTools protocol).
WATCH_EXECUTIONS = """
(function () {
  var record = function (what) {
    return function () {
      window.__pullfirstExecutions = (window.__pullfirstExecutions || 0) + 1;
      window.__pullfirstWhat = (window.__pullfirstWhat || []).concat([what]);
    };
  };
  window.__pullfirstExecutions = 0;
  window.alert = record('alert');
  window.confirm = record('confirm');
  window.prompt = record('prompt');
  window.print = record('print');
  window.__pwned = record('__pwned');
})();
"""

# Live markup anywhere in the document. The site's own pages have none of it: its scripts are
# external files from /static/, and it uses no inline handlers, frames or objects.
SCAN = """
() => {
  const found = [];
  const bad = /^(javascript|vbscript|data):$/i;
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'background',
                    'poster', 'srcset', 'lowsrc', 'dynsrc', 'codebase', 'cite'];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) found.push(el.tagName + ' ' + name);
      if (name === 'srcdoc') found.push(el.tagName + ' srcdoc');
      if (urlAttrs.includes(name)) {
        // The scheme as the browser's own URL parser reads it.
        let scheme = '';
        try { scheme = new URL(attr.value, document.baseURI).protocol; } catch (e) { scheme = ''; }
        const dataImage = el.tagName === 'IMG'
          && /^data:image\\/(png|webp|gif|jpeg)[;,]/i.test(attr.value.trim());
        if (bad.test(scheme) && !dataImage)
          found.push(el.tagName + ' ' + name + '=' + attr.value.slice(0, 60));
      }
    }
    const tag = el.tagName.toLowerCase();
    if (['iframe', 'frame', 'object', 'embed', 'base', 'applet', 'frameset'].includes(tag))
      found.push(tag);
    if (tag === 'meta' && (el.getAttribute('http-equiv') || '').toLowerCase() === 'refresh')
      found.push('meta refresh');
    if (tag === 'script') {
      const type = (el.getAttribute('type') || '').toLowerCase();
      const src = el.getAttribute('src') || '';
      const data = type === 'application/ld+json' || type === 'application/json';
      if (!data && !src.startsWith('/static/')) found.push('script ' + (src || 'inline'));
    }
  }
  return found;
}
"""


def watch(context: BrowserContext) -> None:
    """Count executions in every page of ``context`` from its next navigation on."""
    context.add_init_script(WATCH_EXECUTIONS)


def executions(page: Page) -> list[str]:
    found = page.evaluate("window.__pullfirstWhat || []")
    return [str(item) for item in found]


def live_markup(page: Page) -> list[str]:
    return [str(item) for item in page.evaluate(SCAN)]


def assert_inert(page: Page, where: str, payloads: Sequence[str]) -> None:
    """The page now shown ran nothing, violated no CSP rule and holds no live markup."""
    problems: dict[str, Any] = {
        "executions": executions(page),
        "csp": csp_violations(page),
        "live markup": live_markup(page),
    }
    if any(problems.values()):
        listed = "\n".join(repr(p) for p in payloads)
        raise AssertionError(f"{where}: {problems}\npayloads of this batch:\n{listed}")


def batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def marker(index: int) -> str:
    """A word that must show on the page next to payload ``index``."""
    return f"xssmark{index:04d}"
