"""Bulk ranking against Whoosh's: same top documents, and how long each takes.

    python -m bench.fastrank_check INDEX [QUERIES.jsonl] [--limit N] [--rounds R]

For each query of the set (``bench/queries.jsonl`` by default), plans and
matches the query as ``SearchIndex.search`` does (``SearchIndex.plan`` and
``search.rank.matching.match``: expansions, quoted text found nowhere read as
words; filters as the allowed documents; matching is given a minute, so no
query is cut short) and ranks the matches with Whoosh's collector
(``fastrank.whoosh_rank``, the path for queries the bulk ranker does not
reproduce) and with the results page's ranking step
(``search.rank.matching.rank_matches``, which ranks with
``search.rank.fastrank.rank``), one after the other, for the top 10 and the
top 100.  Whoosh's collector is told to keep only matching documents (its
AndNot matcher can let an excluded one through).  Where they differ, both are
compared with Whoosh's exhaustive scoring (every match scored, no block
skipping), which says which one is right.

Both references order documents as the results page does: for a query of a
few words (``QueryPlan.full_first``, see ``search.query.concepts``) by how
many of the query's concepts a document holds, most first, then by score;
otherwise by score alone.  A document's concepts are counted by Whoosh's own
matching of each concept (``searcher.docs_for_query(holds(concept))``), not by
the page's ``Matches.held``, so the tiers are checked too; the collector
ranks each tier on its own.  Equal scores go by document number, as the
page orders them (Whoosh's collectors and the bulk ranker both do): two
documents of equal rounded score in the other order are a difference.
Scores are compared rounded to 4 places, as the page gives them.

Prints the number of identical rankings, every difference with its scores,
and the median/p95/p99/max milliseconds of both paths (ranking alone, top 10,
best of ``--rounds``).  Exits 1 if the bulk ranking ever differs from
Whoosh's exhaustive one.

``python -m bench.fastrank_check /tmp/ix50k`` (50,000 poems): identical
rankings, top 10 236/237, top 100 237/237; bulk ranking differing from the
exhaustive scoring: 0 (10,001 poems: 248/249, 249/249, 0).  The one top 10
apart is the collector's error, not the bulk ranker's: once its heap is full,
Whoosh's ``matcher.replace(minscore)`` rebuilds the query's union and scores
a document without some of its terms (即事 on 50,000 poems, “年游太学” on
10,001: the document the exhaustive scoring ranks first, or eighth, is left
out; ``TopCollector(replace=0)`` keeps it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIMITS = (10, 100)
# Seconds matching and ranking may take: the check is of the order, not of
# what the time budget cuts short.
UNHURRIED = 60


def prepare(ix, query: dict):
    """``(searcher, matches, within or None, filtered)`` as ``search()`` ranks:
    the plan's ``Matches``, the filtered matches to rank within when filters
    are selected, and the filtered matches (``search.store.docsets`` arrays)."""
    from search.store import docsets
    from bench.queries import search_args
    from search.rank.matching import match
    q, kwargs = search_args(query)
    gen = ix._current()
    searcher = gen.searcher()
    plan = ix.plan(q, city=kwargs.get("city"), filters=kwargs.get("filters"))
    matches = match(plan, searcher, time.monotonic() + UNHURRIED)
    if not plan.filters:
        return searcher, matches, None, matches.docs
    filtered = docsets.intersection(
        [matches.docs] + [ix._allowed(gen, name, values) for name, values in plan.filters.items()])
    return searcher, matches, filtered, filtered


def concepts_held(searcher, matches, keep: set[int]) -> dict[int, int] | None:
    """Per document of ``keep``, how many of the query's concepts it holds, by
    Whoosh's own matching of each (``search.query.concepts.holds``); None when
    the page ranks by score alone."""
    from search.query.concepts import holds
    plan = matches.plan_used
    if not plan.full_first:
        return None
    held = dict.fromkeys(keep, 0)
    for concept in plan.concepts:
        for docnum in searcher.docs_for_query(holds(concept)):
            if docnum in held:
                held[docnum] += 1
    return held


def tiers(keep: set[int], held: dict[int, int] | None) -> list[set[int]]:
    """``keep`` by concepts held, most first (one group when ``held`` is None)."""
    if held is None:
        return [keep]
    return [{d for d in keep if held[d] == n}
            for n in sorted({held[d] for d in keep}, reverse=True)]


def exhaustive(searcher, q, keep: set[int], held: dict[int, int] | None, limit: int):
    """Whoosh's scores for every match (no block-quality skipping), best first
    as the page orders them: by concepts held when ``held`` is given, then by
    score, then by document number."""
    # Whoosh's exhaustive collector orders by score, then document number;
    # the sort is stable, so within a tier that order stays.
    hits = [(h.docnum, round(h.score, 4)) for h in searcher.search(q, limit=None)
            if h.docnum in keep]
    if held is not None:
        hits.sort(key=lambda hit: -held[hit[0]])
    return hits[:limit]


def collector_ranking(searcher, q, keep: set[int], held: dict[int, int] | None, limit: int):
    """Whoosh's collector's top ``limit`` of ``keep``, tier by tier as the page
    ranks (``tiers``); and whether its deadline cut it short."""
    from search.rank import fastrank
    top: list[tuple[int, float]] = []
    for tier in tiers(keep, held):
        more, partial = fastrank.whoosh_rank(searcher, q, tier, limit - len(top),
                                             time.monotonic() + UNHURRIED)
        top += more
        if partial or len(top) >= limit:
            return top, partial
    return top, False


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(index_dir: str, queries: list[dict], rounds: int = 1, out=None,
        ranking=None) -> int:
    """Compare and time every query (see the module); 1 if the bulk ranking
    ever differs from the exhaustive one.  ``ranking``: the ranking step
    checked, ``rank_matches`` unless given (another shows what the check
    catches)."""
    from search.rank.matching import rank_matches
    from search import open_index
    ranking = ranking or rank_matches
    out = out or sys.stdout
    ix = open_index(index_dir)
    old_ms, new_ms, kinds = [], [], []
    identical = {limit: 0 for limit in LIMITS}
    wrong = 0
    compared = 0
    for query in queries:
        searcher, matches, within, filtered = prepare(ix, query)
        q = matches.ranked_query
        matched = set(filtered.tolist())
        if not len(matched):
            continue
        compared += 1
        held = concepts_held(searcher, matches, matched)
        for limit in LIMITS:
            old_t, new_t = [], []
            for _ in range(rounds):
                t0 = time.perf_counter()
                old, _ = collector_ranking(searcher, q, matched, held, limit)
                t1 = time.perf_counter()
                new, new_partial = ranking(searcher, matches, within, limit,
                                           time.monotonic() + UNHURRIED)
                t2 = time.perf_counter()
                old_t.append((t1 - t0) * 1000)
                new_t.append((t2 - t1) * 1000)
            if limit == 10:
                old_ms.append(min(old_t))
                new_ms.append(min(new_t))
                kinds.append((query.get("kind") or "?", query["q"], len(matched)))
            if new == old and not new_partial:
                identical[limit] += 1
                continue
            truth = exhaustive(searcher, q, matched, held, limit)
            verdict = "new right" if new == truth else "NEW WRONG"
            if new != truth:
                wrong += 1
            print(f"{query.get('qid')} {query['q']!r} top {limit}: {verdict}"
                  f"{' (old right)' if old == truth else ''}", file=out)
            print(f"  old only: {[x for x in old if x not in new][:5]}", file=out)
            print(f"  new only: {[x for x in new if x not in old][:5]}", file=out)
    print(f"{compared} queries with matches (of {len(queries)}); identical rankings: "
          + ", ".join(f"top {limit} {identical[limit]}/{compared}" for limit in LIMITS)
          + f"; bulk ranking differing from Whoosh's exhaustive scoring: {wrong}", file=out)
    if old_ms:
        print("ranking ms, top 10   median    p95    p99    max", file=out)
        for name, ms in (("old (Whoosh)", old_ms), ("new (fastrank)", new_ms)):
            print(f"  {name:<16} {percentile(ms, 50):8.1f} {percentile(ms, 95):6.1f} "
                  f"{percentile(ms, 99):6.1f} {max(ms):6.1f}", file=out)
        ratios = sorted((o / n, k) for o, n, k in zip(old_ms, new_ms, kinds) if n > 0)
        print(f"  old/new per query: median {percentile([r for r, _ in ratios], 50):.1f}x, "
              f"min {ratios[0][0]:.1f}x ({ratios[0][1][1]!r}, {ratios[0][1][2]} matches)", file=out)
        print("by kind (top 10)   queries  matches(median)  old median/p95/max   new median/p95/max",
              file=out)
        for kind in sorted({k for k, _, _ in kinds}):
            rows = [(o, n, m) for o, n, (k, _, m) in zip(old_ms, new_ms, kinds) if k == kind]
            old_k, new_k = [o for o, _, _ in rows], [n for _, n, _ in rows]
            print(f"  {kind:<16} {len(rows):7d} {percentile([m for _, _, m in rows], 50):16d}  "
                  f"{percentile(old_k, 50):6.1f} {percentile(old_k, 95):6.1f} {max(old_k):6.1f}   "
                  f"{percentile(new_k, 50):6.1f} {percentile(new_k, 95):6.1f} {max(new_k):6.1f}",
                  file=out)
    return 1 if wrong else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fastrank_check",
                                description=__doc__.split("\n")[0])
    p.add_argument("index_dir")
    p.add_argument("queries", nargs="?", default=str(HERE / "queries.jsonl"))
    p.add_argument("--limit", type=int, default=None, help="only the first N queries")
    p.add_argument("--rounds", type=int, default=1, help="time each ranking N times, keep the best")
    args = p.parse_args(argv)
    from bench.queries import load_queries
    return run(args.index_dir, load_queries(args.queries, args.limit), args.rounds)


if __name__ == "__main__":
    sys.exit(main())
