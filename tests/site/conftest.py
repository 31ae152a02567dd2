"""A small content folder per test: posts, pages, a survey and site.toml, checked on every
request (``CONTENT_RECHECK_SECONDS = 0``) so edits show at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SITE_TOML = """\
title = "Test Journal"
description = "Notes on permission marketing for the tests."
language = "en"
author = "The test editors"
footer_cta = "scope:newsletter"
home_cta = ["survey:reader-2026"]

[[navigation]]
title = "Articles"
url = "/"
"""

FILES = {
    "posts/why-pull-wins.md": """\
---
title: Why pull wins
description: Readers who come on their own are worth ten who were pushed.
date: 2026-01-05
tags: [Strategy, Permission marketing]
aliases: [/old/why-pull-wins/, /2026/pull]
cta: survey:reader-2026
author: Maya Lind
---
# Start here

Permission marketing begins with **content worth finding**. Read [the ledger](/posts/ledger/).

## Why it works

Because people choose. Permissions granted freely last longer.

## What to measure

Replies, not opens.

## The end

Thanks for reading[^1].

[^1]: A footnote.
""",
    "posts/ledger.md": """\
---
title: Keep a consent ledger
description: Every yes and every no, recorded as an event.
date: 2026-01-12
updated: 2026-02-01
tags: [Consent, Strategy]
---
A ledger of consent events beats a boolean column. Granted, revoked, granted again.

```python
def latest(events):
    return events[-1]
```

| event | meaning |
|:--|--:|
| grant | yes |
""",
    "posts/quiet-hours.md": """\
---
title: Quiet hours
description: Nobody wants a 3 a.m. ping.
date: 2026-01-20
tags: [Messaging]
---
Messages wait until the reader's quiet hours end.
""",
    "posts/draft-idea.md": """\
---
title: A draft idea
description: Not ready yet.
date: 2026-01-21
draft: true
tags: [Strategy]
---
Secret draft about zeppelins.
""",
    "posts/future-post.md": """\
---
title: From the future
description: Scheduled for much later.
date: 2026-01-22
publish_at: 2999-01-01 09:00
tags: [Strategy]
---
Scheduled text about zeppelins.
""",
    "posts/expired-offer.md": """\
---
title: An expired offer
description: It was only valid for a while.
date: 2026-01-02
expires_at: 2026-01-03
tags: [Offers]
---
Expired text about zeppelins.
""",
    "pages/about.md": """\
---
title: About
description: Who writes this journal.
---
We write about permission and rewards.
""",
    "pages/hidden-page.md": """\
---
title: Hidden page
description: Not for search engines.
noindex: true
---
This page is public but not for search engines.
""",
    "surveys/reader-2026.md": """\
---
title: Reader survey 2026
description: Tell us what you read and what you would like next.
questions:
  - id: topics
    label: Which topics do you read most?
    type: multi
    options: [Strategy, Messaging, Rewards]
  - id: recommend
    label: How likely are you to recommend us?
    type: nps
---
Five questions, two minutes. Your answers shape the next articles about stickers.
""",
}


def write_content(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    root.mkdir()
    (root / "site.toml").write_text(SITE_TOML)
    write_content(root, FILES)
    return root


@pytest.fixture
def app_config(app_config: dict[str, Any], content_dir: Path) -> dict[str, Any]:
    return {**app_config, "CONTENT_DIR": str(content_dir), "CONTENT_RECHECK_SECONDS": 0}


def post(title: str, body: str = "Body text.", **fields: Any) -> str:
    """The text of a post file with ``title`` and ``fields`` as front matter."""
    fields.setdefault("description", f"About {title.lower()}.")
    fields.setdefault("date", "2026-01-30")
    lines = ["---", f"title: {title}"] + [f"{k}: {v}" for k, v in fields.items()]
    return "\n".join([*lines, "---", body, ""])
