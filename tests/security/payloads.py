"""Hostile input for the security sweep: XSS payloads and open-redirect targets.

Every XSS payload, if it ever ran, would call ``alert`` (a dialog the browser reports), and most
also try to run inline script, which the Content-Security-Policy would report as a violation. A
sweep counts both: escaping or sanitising must stop a payload before the CSP has to.
"""

from __future__ import annotations

import html
import urllib.parse

# Ways to run script, each written once; the corpus below multiplies them by context.
_SCRIPTS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//xss.example/x.js></SCRIPT>",
    "<script>alert(String.fromCharCode(88,83,83))</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script/src=data:,alert(1)></script>",
    '<script\x20type="text/javascript">alert(1);</script>',
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "'\"><script>alert(1)</script>",
    "<script>/*</script><svg onload=alert(1)>*/</script>",
]

_HANDLERS = [
    "<img src=x onerror=alert(1)>",
    '<img src=x onerror="alert(1)">',
    "<IMG SRC=x oNeRrOr=alert(1)>",
    "<img/src=x/onerror=alert(1)>",
    "<img src=x onerror=&#97;lert(1)>",
    "<body onload=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<select autofocus onfocus=alert(1)>",
    "<textarea autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>",
    "<div onmouseover=alert(1)>hover</div>",
    "<a onmouseover=alert(1)>x</a>",
    "<iframe onload=alert(1)>",
    "<object data=x onerror=alert(1)>",
    "<style onload=alert(1)></style>",
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    "<isindex type=image src=1 onerror=alert(1)>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<body onpageshow=alert(1)>",
    '<img src="x" onerror="&#x61;&#x6c;&#x65;&#x72;&#x74;(1)">',
    "<img src=x:alert(1) onerror=eval(src)>",
    '"><img src=x onerror=alert(1)>',
    "'><img src=x onerror=alert(1)>",
    "<image src=x onerror=alert(1)>",
    "<embed src=x onerror=alert(1)>",
]

_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "javascript&colon;alert(1)",
    "java\tscript:alert(1)",
    "java&#x09;script:alert(1)",
    "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)",
    "vbscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "javascript://%0Aalert(1)",
    "jav&#x0A;ascript:alert(1)",
    "\x01javascript:alert(1)",
]

_ELEMENTS_WITH_URLS = [
    '<a href="{u}">link</a>',
    "<a href={u}>link</a>",
    '<iframe src="{u}"></iframe>',
    '<embed src="{u}">',
    '<object data="{u}"></object>',
    '<form action="{u}"><button>go</button></form>',
    '<img src="{u}">',
    '<svg><a xlink:href="{u}"><text x="0" y="20">x</text></a></svg>',
    '<base href="{u}">',
    '<meta http-equiv="refresh" content="0;url={u}">',
]

_MARKDOWN = [
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](<javascript:alert(1)>)",
    "![image](javascript:alert(1))",
    '![image](x "onerror=alert(1)")',
    "<javascript:alert(1)>",
    "[ref][1]\n\n[1]: javascript:alert(1)",
    "[click](data:text/html,<script>alert(1)</script>)",
    "[a](vbscript:alert(1))",
    "```html\n<script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "**<img src=x onerror=alert(1)>**",
    "> <svg onload=alert(1)>",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | x |",
    "[^1]\n\n[^1]: <img src=x onerror=alert(1)>",
    '!!! note "<img src=x onerror=alert(1)>"\n    body',
    "# Heading <script>alert(1)</script>",
    '<div markdown="1">[x](javascript:alert(1))</div>',
    '[x](#" onmouseover="alert(1))',
]

_CSS = [
    "<style>@import 'javascript:alert(1)';</style>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<div style="width:expression(alert(1))">x</div>',
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<style>*{x:expression(alert(1))}</style>",
    '<p style="behavior:url(x.htc)">x</p>',
    '<style>@keyframes x{}</style><div style="animation-name:x" onanimationstart=alert(1)>',
]

_SVG = [
    "<svg><script>alert(1)</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<svg><set attributeName=onmouseover to=alert(1)>",
    "<svg><foreignObject><iframe src=javascript:alert(1)></iframe></foreignObject></svg>",
    "<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'>"
    "<image href='1' onerror='alert(1)'/></svg>#x\"></use></svg>",
    "<svg><a><animate attributeName=href values=javascript:alert(1) /><text x=20 y=20>x</text>"
    "</a></svg>",
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "<svg><desc><![CDATA[</desc><script>alert(1)</script>]]></svg>",
]

_MUTATION = [
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    '<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style>'
    '<img src onerror=alert(1)>"></style></h1>',
    "<listing>&lt;img src=x onerror=alert(1)&gt;</listing>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<template><img src=x onerror=alert(1)></template>",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    '<a title="`"><img src=x onerror=alert(1)>`">',
    '<img src="x` `<script>alert(1)</script>"` `>',
    '<p id="</p><script>alert(1)</script>">',
    "<title><img src=x onerror=alert(1)></title>",
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    "<object><param name=src value=javascript:alert(1)></object>",
    '<a href="&#x6A;avascript:alert(1)">x</a>',
]

_TEMPLATES = [
    "{{ 7*7 }}{{ config }}",
    "{% raw %}{{ self.__init__ }}{% endraw %}",
    "${alert(1)}",
    "#{alert(1)}",
    "{{constructor.constructor('alert(1)')()}}",
]


def _contexts(payload: str) -> list[str]:
    """The payload as typed, and breaking out of the attribute and text contexts it may land
    in."""
    return [payload, f'"{payload}', f"'>{payload}", f"</p>{payload}"]


def xss_payloads() -> list[str]:
    """At least 200 distinct payloads, script, handlers, URLs, SVG, CSS, mutation XSS and
    Markdown."""
    corpus: list[str] = []
    corpus += [c for p in _SCRIPTS for c in _contexts(p)]
    corpus += _HANDLERS
    corpus += [element.format(u=url) for url in _URLS for element in _ELEMENTS_WITH_URLS[:4]]
    corpus += [element.format(u=_URLS[0]) for element in _ELEMENTS_WITH_URLS[4:]]
    corpus += _MARKDOWN + _CSS + _SVG + _MUTATION + _TEMPLATES
    corpus += [html.escape(p) for p in _HANDLERS[:10]]  # double-decoding bugs
    corpus += [urllib.parse.quote(p) for p in _SCRIPTS[:5]]
    unique = list(dict.fromkeys(corpus))
    assert len(unique) >= 200, len(unique)
    return unique


def redirect_payloads(host: str = "evil.example") -> list[str]:
    """At least 30 targets that must never send a browser off the site."""
    targets = [
        f"https://{host}/",
        f"http://{host}",
        f"//{host}",
        f"///{host}",
        f"////{host}",
        f"/\\{host}",
        f"\\\\{host}",
        f"\\/{host}",
        f"/\t/{host}",
        f"/%09/{host}",
        f"/%2F%2F{host}",
        f"%2F%2F{host}",
        f"https:{host}",
        f"https:/{host}",
        f"http:/\\{host}",
        f"javascript:alert(1)//{host}",
        "javascript:alert(1)",
        "data:text/html,hi",
        f"{host}",
        f"@{host}",
        f"/@{host}",
        f"https://localhost@{host}/",
        f"https://{host}%2F@localhost/",
        f"/%5C{host}",
        f"/.{host}",
        f"\x00//{host}",
        f" //{host}",
        f"\r\n//{host}",
        f"//{host}/%2F..",
        f"https://{host}:443\\@localhost",
        f"/{chr(0x3000)}/{host}",
        "//%65vil.example",
        f"ftp://{host}/",
        f"https://{host}#/",
        f"?next=//{host}",
    ]
    unique = list(dict.fromkeys(targets))
    assert len(unique) >= 30, len(unique)
    return unique
