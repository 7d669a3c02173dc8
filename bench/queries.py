"""Query latency: complete results pages, as the web UI asks for them, in one fresh process.

    python -m bench.queries INDEX_DIR QUERIES.jsonl [--rounds 2] [--limit N]

For each query of the set, ``open_index(INDEX_DIR).search(q, city=...,
filters=..., per_page=10)``: top ten, total, facets and snippets in one call,
which is everything the search page shows.  The first round starts cold (the
facet tables are built by the first query); every round is timed.  Prints one
JSON object with each query's milliseconds per round.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def load_queries(path: str, limit: int | None = None) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        queries = [json.loads(line) for line in fh if line.strip()]
    return queries[:limit] if limit else queries


def search_args(query: dict) -> tuple[str, dict]:
    """``search()`` keyword arguments for one query of the set."""
    filters = dict(query.get("filters") or {})
    kwargs: dict = {"per_page": 10}
    city = filters.pop("city", None)
    if city:
        kwargs["city"] = city
    if filters:
        kwargs["filters"] = filters
    return query["q"], kwargs


def run(index_dir: str, queries: list[dict], rounds: int = 2) -> dict:
    started = time.perf_counter()
    from search import open_index
    ix = open_index(index_dir)
    opened = time.perf_counter()
    out = []
    for query in queries:
        out.append({"qid": query.get("qid"), "kind": query.get("kind"), "ms": [],
                    "total": None, "partial": False, "error": None})
    for _ in range(rounds):
        for query, row in zip(queries, out):
            q, kwargs = search_args(query)
            t0 = time.perf_counter()
            try:
                res = ix.search(q, **kwargs)
            except Exception as exc:          # a failing query is a finding, not a crash
                row["error"] = f"{type(exc).__name__}: {exc}"
                row["ms"].append((time.perf_counter() - t0) * 1000)
                continue
            row["ms"].append((time.perf_counter() - t0) * 1000)
            row["total"] = res.total
            row["partial"] = row["partial"] or res.partial
    return {"open_seconds": round(opened - started, 3), "rounds": rounds, "queries": out,
            "keystrokes": keystrokes(ix, queries),
            "documents": ix.stats()["documents"]}


def typed_prefixes(queries: list[dict], limit: int = 100) -> list[str]:
    """What a reader's search box holds keystroke by keystroke: every prefix of
    the first ``limit`` queries' text, and of their toneless pinyin."""
    from search.text.pinyin import word_syllables
    from search.text.script import to_simplified
    out: list[str] = []
    for query in queries[:limit]:
        text = query["q"].replace('"', "").strip()
        out += [text[:n] for n in range(1, min(len(text), 8) + 1)]
        head = "".join(c for c in to_simplified(text[:4]) if "\u4e00" <= c <= "\u9fff")
        spelled = "".join(word_syllables(head)) if head else ""
        out += [spelled[:n] for n in range(2, min(len(spelled), 12) + 1)]
    return out


def keystrokes(ix, queries: list[dict]) -> dict:
    """Milliseconds of ``suggest`` per keystroke, each prefix once, once the
    vocabulary (built in the background on a large index's first keystroke,
    answering empty until then) is ready; its build time is reported apart."""
    from search.store.vocabulary import titles, vocabulary
    prefixes = typed_prefixes(queries)
    t0 = time.perf_counter()
    gen = ix._current()
    vocabulary(gen)
    titles(gen)
    ready = time.perf_counter() - t0
    ms = []
    for prefix in prefixes:
        t0 = time.perf_counter()
        ix.suggest(prefix)
        ms.append((time.perf_counter() - t0) * 1000)
    return {"prefixes": len(prefixes), "ms": ms, "vocabulary_seconds": round(ready, 2)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.queries", description=__doc__.split("\n")[0])
    p.add_argument("index_dir")
    p.add_argument("queries")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args(argv)
    print(json.dumps(run(args.index_dir, load_queries(args.queries, args.limit), args.rounds),
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
