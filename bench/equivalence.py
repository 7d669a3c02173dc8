"""The correctness guard of the parallel build: same index, same results as Whoosh's writer.

    python -m bench.equivalence [--corpus PATH] [--limit 5000] [--workers 2]

Builds the same documents twice, with Whoosh's own writer in one process
(``builder="whoosh"``, the build as it was before the parallel one) and with
the parallel build, then checks

* term by term, that both indexes hold the same terms, postings (documents,
  weights, positions), term statistics, field lengths and stored fields
  (``bench.compare``);
* query by query, for every query of ``bench/queries.jsonl`` (and a second
  page, and newest-first), that both give the same ids in the same order,
  the same totals and the same facet counts.

Prints a summary; exits 1 on any difference.  Without the corpus it says so
and exits 0.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpora" / "poetry.jsonl.gz"


def result_key(res) -> tuple:
    return (res.total, [h.id for h in res.hits], [h.score for h in res.hits],
            json.dumps(res.facets, sort_keys=True, ensure_ascii=False))


def compare_queries(index_a, index_b, queries: list[dict], every: int = 1) -> tuple[int, list[str]]:
    """Search both indexes for each query (first page; every ``every``-th query
    also its second page and newest first): (searches, differences)."""
    from bench.queries import search_args
    from search import open_index
    a, b = open_index(index_a), open_index(index_b)
    checked, diffs = 0, []
    for n, query in enumerate(queries):
        q, kwargs = search_args(query)
        variants = ({}, {"page": 2}, {"sort": "newest"}) if n % every == 0 else ({},)
        for extra in variants:
            checked += 1
            try:
                ra = result_key(a.search(q, **kwargs, **extra))
            except Exception as exc:
                ra = ("error", type(exc).__name__, str(exc))
            try:
                rb = result_key(b.search(q, **kwargs, **extra))
            except Exception as exc:
                rb = ("error", type(exc).__name__, str(exc))
            if ra != rb:
                diffs.append(f"{query.get('qid')} {q!r} {extra}: {str(ra)[:200]} != {str(rb)[:200]}")
    return checked, diffs


def check(source: Path, queries: list[dict], work: Path, workers: int = 2) -> dict:
    from bench.compare import differences
    from search.store.build import build_index
    started = time.perf_counter()
    ref = build_index([str(source)], work / "whoosh", builder="whoosh")
    ref_seconds = time.perf_counter() - started
    started = time.perf_counter()
    par = build_index([str(source)], work / "parallel", builder="parallel", workers=workers)
    par_seconds = time.perf_counter() - started
    index_diffs = differences(work / "whoosh", work / "parallel")
    checked, query_diffs = compare_queries(work / "whoosh", work / "parallel", queries)
    return {"documents": (ref.indexed, par.indexed),
            "skipped": (len(ref.skipped), len(par.skipped)),
            "seconds": {"whoosh": round(ref_seconds, 2), "parallel": round(par_seconds, 2)},
            "index_differences": index_diffs, "searches": checked,
            "search_differences": query_diffs}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.equivalence", description=__doc__.split("\n")[0])
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument("--limit", type=int, default=5000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--queries", default=str(HERE / "queries.jsonl"))
    args = p.parse_args(argv)
    corpus = Path(args.corpus)
    if not corpus.exists():
        print(f"equivalence: no corpus at {corpus}; nothing checked")
        return 0
    from bench.queries import load_queries
    from bench.run import sample_corpus
    work = Path(tempfile.mkdtemp(prefix="equivalence-"))
    try:
        source, docs, _chars = sample_corpus(corpus, args.limit, work)
        out = check(source, load_queries(args.queries), work, args.workers)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for d in out["index_differences"][:20] + out["search_differences"][:20]:
        print(d)
    same = not out["index_differences"] and not out["search_differences"]
    print(f"{docs:,} documents of {corpus} (even steps): indexed {out['documents']}, "
          f"skipped {out['skipped']}; Whoosh writer {out['seconds']['whoosh']} s, parallel "
          f"build ({args.workers} workers) {out['seconds']['parallel']} s; index term by term: "
          f"{'same' if not out['index_differences'] else 'DIFFERENT'}; {out['searches']} searches: "
          f"{'same ids, order, scores, totals and facets' if not out['search_differences'] else str(len(out['search_differences'])) + ' differ'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
