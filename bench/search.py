"""Search on the generated corpus: Pullfirst's search beside SQLite FTS5 on the same documents.

    .venv/bin/python bench/corpus.py /tmp/corpus            # once
    .venv/bin/python bench/search.py /tmp/corpus /tmp/bench-instance

Pullfirst's figure is the whole ``search()`` call the /search page makes: every word must match,
ten hits with highlighted snippets, the total, and tag facets with counts over every match.
FTS5's is a top-ten query ranked by bm25 (title weighted 4) with ``snippet()``, on the same plain
text, with porter stemming. Both run the same 1-3 word queries, drawn from the corpus's own words
at every document frequency. The index is built first if the instance has none. The same
queries run again uncached: before each one, the word data the search keeps for reuse is
dropped, so every posting list it needs is read from the index.
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PYTHON, REPO, app_env, load, percentile, summary

BUDGET_MS, BUDGET_RATIO = 60, 4.0


def _words(text: str) -> list[str]:
    return text.split()


STOP = set(
    _words("""
the and for with that this from your you are was were have has not but they their them what
when which who will would can could should into than then there these those about more most
some such only also just like each every""")
)


def _queries(texts: list[str], count: int, seed: int) -> list[str]:
    """1-3 word queries; words chosen from every band of document frequency."""
    frequency: Counter[str] = Counter()
    for text in texts[:1500]:
        frequency.update(
            sorted({w for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in STOP})
        )
    ranked = sorted(frequency, key=lambda w: (-frequency[w], w))
    bands = [
        ranked[: len(ranked) // 20],
        ranked[len(ranked) // 20 : len(ranked) // 4],
        ranked[len(ranked) // 4 :],
    ]
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        size = rng.choice((1, 1, 2, 2, 2, 3))
        queries.append(" ".join(rng.choice(rng.choice(bands)) for _ in range(size)))
    return queries


def _fts(path: Path, documents: list[tuple[str, str]]) -> tuple[sqlite3.Connection, float]:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    started = time.perf_counter()
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter unicode61')")
    db.executemany("INSERT INTO docs (title, body) VALUES (?, ?)", documents)
    db.commit()
    return db, time.perf_counter() - started


def _fts_search(db: sqlite3.Connection, query: str) -> int:
    match = " ".join('"' + w.replace('"', "") + '"' for w in query.split())
    rows = db.execute(
        "SELECT title, snippet(docs, 1, '<mark>', '</mark>', '…', 24) FROM docs "
        "WHERE docs MATCH ? ORDER BY bm25(docs, 4.0, 1.0) LIMIT 10",
        (match,),
    ).fetchall()
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument("instance", type=Path)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=11)
    options = parser.parse_args()
    import os

    os.environ.update(app_env(options.content, options.instance))
    from app import clock, create_app
    from app.site.library import LIBRARY
    from app.site.search import SEARCH
    from app.site.searchdocs import searchable

    app = create_app()
    service = SEARCH.get(app)
    if service.folder.current_dir() is None:
        print("building the index first (content index --rebuild) …", file=sys.stderr)
        subprocess.run(
            [PYTHON, "-m", "flask", "--app", "app", "content", "index", "--rebuild"],
            cwd=REPO,
            env=app_env(options.content, options.instance),
            check=True,
        )
    with app.app_context():
        library = LIBRARY.get(app)
        snapshot = library.current()
        items = list(searchable(snapshot, snapshot.public(clock.now())).values())
        texts = library.texts(items)
    documents = [(item.title, f"{item.description} {texts[item.hash]}") for item in items]
    db, fts_build = _fts(options.instance / "bench-fts5.sqlite3", documents)
    queries = _queries([t for _, t in documents], options.queries, options.seed)
    warm = _queries([t for _, t in documents], 40, options.seed + 1)
    for query in warm:
        service.search(query)
        _fts_search(db, query)

    ours, theirs, totals, ours_hits, fts_hits = [], [], [], 0, 0
    for query in queries:
        started = time.perf_counter()
        results = service.search(query)
        ours.append((time.perf_counter() - started) * 1000)
        totals.append(results.total)
        ours_hits += len(results.hits)
        started = time.perf_counter()
        fts_hits += _fts_search(db, query)
        theirs.append((time.perf_counter() - started) * 1000)

    print(
        f"search on {len(documents):,} documents, {len(queries)} queries of 1-3 words "
        f"(load {load()})"
    )
    print(
        f"  mean matches per query: {sum(totals) / len(totals):,.0f}; hits shown: "
        f"{ours_hits} (Pullfirst) / {fts_hits} (FTS5)"
    )
    print(f"  Pullfirst (10 hits, highlights, total, facets): {summary(ours)}")
    print(f"  SQLite FTS5 (bm25 top 10 with snippet):         {summary(theirs)}")
    ratio = percentile(ours, 0.95) / percentile(theirs, 0.95)
    print(
        f"  p95 ratio Pullfirst / FTS5: {ratio:.2f}x  (FTS5 index built in {fts_build:.1f} s)"
        f"; budget p95 under {BUDGET_MS} ms and at most {BUDGET_RATIO}x: "
        f"{_verdict(ours, ratio)}"
    )

    # Uncached: each query starts with no word's posting data kept from earlier searches.
    cold: list[float] = []
    for query in queries:
        service.forget_cached_terms()
        started = time.perf_counter()
        service.search(query)
        cold.append((time.perf_counter() - started) * 1000)
    cold_ratio = percentile(cold, 0.95) / percentile(theirs, 0.95)
    print(f"  Pullfirst uncached (postings read afresh):       {summary(cold)}")
    print(
        f"  p95 ratio uncached Pullfirst / FTS5: {cold_ratio:.2f}x; budget: "
        f"{_verdict(cold, cold_ratio)}"
    )


def _verdict(times: list[float], ratio: float) -> str:
    met = percentile(times, 0.95) < BUDGET_MS and ratio <= BUDGET_RATIO
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()
