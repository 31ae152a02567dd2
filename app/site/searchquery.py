"""What a reader typed into the search box, read with Whoosh's own query parser.

Only two pieces of syntax mean anything: ``tag:<name>`` (or ``tag:"two words"``) keeps the
results to one topic, and everything else is words. Whoosh's ``QueryParser`` does the reading
with a short plugin list (whitespace, quotes, ``field:`` prefixes and phrases), so quoting and
field prefixes behave as Whoosh documents them; operators, wildcards, ranges and boosts are left
out on purpose: any other text, syntax garbage included, is just words.

>>> parse_query('tag:consent ledger')
SearchQuery(words='ledger', tags=('consent',))
>>> parse_query('tag:"permission marketing" the')
SearchQuery(words='the', tags=('permission marketing',))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from whoosh import fields, qparser
from whoosh.analysis import LowercaseFilter, RegexTokenizer
from whoosh.query import Query

WORDS, TAG = "words", "tag"
TAG_PREFIX = re.compile(r"\btags?:", re.IGNORECASE)


@dataclass(frozen=True)
class SearchQuery:
    """``words``: the words to look for, space-separated, stop words kept (the caller drops
    them and can tell a query of only stop words from an empty one); ``tags``: the topics named
    with ``tag:``, as typed, in order, each once."""

    words: str
    tags: tuple[str, ...]


@lru_cache(maxsize=1)
def _parser() -> qparser.QueryParser:
    schema = fields.Schema(
        # Every word is kept here; stop words and stemming are the search index's business.
        words=fields.TEXT(analyzer=RegexTokenizer() | LowercaseFilter()),
        tag=fields.ID(),
    )
    return qparser.QueryParser(
        WORDS,
        schema,
        plugins=[
            qparser.WhitespacePlugin(),
            qparser.SingleQuotePlugin(),
            qparser.FieldsPlugin(),
            qparser.PhrasePlugin(),
        ],
    )


def _leaves(query: Query) -> list[Query]:
    if query.is_leaf():
        return [query]
    return [leaf for child in query.children() for leaf in _leaves(child)]


def parse_query(text: str) -> SearchQuery:
    """Split ``text`` into its words and its ``tag:`` filters. Never raises: text the parser
    cannot place is words."""
    text = TAG_PREFIX.sub("tag:", text)  # "Tag:Consent" and "tags:consent" mean the same
    words: list[str] = []
    tags: list[str] = []
    for leaf in _leaves(_parser().parse(text)):
        field = getattr(leaf, "fieldname", None)
        if field == TAG:
            name = " ".join(str(getattr(leaf, "text", "")).split())
            if name and name.lower() not in (t.lower() for t in tags):
                tags.append(name)
        elif field == WORDS:
            if hasattr(leaf, "words"):  # a quoted phrase: its words count one by one
                words.extend(str(w) for w in leaf.words)
            elif hasattr(leaf, "text"):
                words.append(str(leaf.text))
    return SearchQuery(" ".join(words), tuple(tags))


def query_text(words: str, tags: tuple[str, ...]) -> str:
    """The search box text for ``words`` filtered by ``tags`` (a suggestion's link)."""
    filters = [f'tag:"{t}"' if " " in t else f"tag:{t}" for t in tags]
    return " ".join([*filters, words]).strip()
