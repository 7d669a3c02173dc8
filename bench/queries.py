"""Query latency: complete results pages, as the web UI asks for them, in one fresh process.

    python -m bench.queries INDEX_DIR QUERIES.jsonl [--rounds 2] [--limit N] [--stages]

For each query of the set, ``open_index(INDEX_DIR).search(q, city=...,
filters=..., per_page=10)``: top ten, total, facets and snippets in one call,
which is everything the search page shows.  The index is opened and warmed
up (``SearchIndex.warm_up``, as a server does before answering; both in
``open_seconds``, ``--no-warm-up`` to leave it out); in the first round each
query is asked for the first time in the process; every round is timed.
Prints one JSON object with each query's milliseconds per round, and with
``--stages`` per stage of the search (``StageTimer``).
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


# The stages of ``SearchIndex.search``, as the functions and methods it calls
# for each: (module or class, attribute, stage).
STAGES = (
    ("search.searcher:SearchIndex", "_current", "index"),
    ("search.searcher:SearchIndex", "_plan", "plan"),
    ("search.searcher", "match", "match"),
    ("search.searcher:SearchIndex", "_allowed", "filters"),
    ("search.searcher:SearchIndex", "_count", "facets"),
    ("search.searcher", "rank_matches", "rank"),
    ("search.searcher", "by_date", "rank"),
    ("search.searcher:SearchIndex", "_hit", "hits"),
    ("search.searcher", "did_you_mean", "did_you_mean"),
)


class StageTimer:
    """Milliseconds per stage of each search (``--stages``): the stages'
    functions timed where ``search.searcher`` calls them; ``other`` is the
    rest of the call (the page's model, notices, set operations)."""

    def __init__(self):
        import importlib
        self.spent: dict[str, float] = {}
        self._timed_ones = []
        for target, name, stage in STAGES:
            module, _, cls = target.partition(":")
            owner = importlib.import_module(module)
            owner = getattr(owner, cls) if cls else owner
            self._timed_ones.append((owner, name, getattr(owner, name)))
            setattr(owner, name, self._timed(getattr(owner, name), stage))

    def close(self) -> None:
        """The stages' functions as they were."""
        for owner, name, fn in reversed(self._timed_ones):
            setattr(owner, name, fn)
        self._timed_ones = []

    def _timed(self, fn, stage):
        def timed(*args, **kwargs):
            t0 = time.perf_counter_ns()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[stage] = self.spent.get(stage, 0.0) + (
                    time.perf_counter_ns() - t0) / 1e6
        return timed


def run(index_dir: str, queries: list[dict], rounds: int = 2, warm_up: bool = True,
        stages: bool = False) -> dict:
    started = time.perf_counter()
    from search import open_index
    ix = open_index(index_dir)
    warmed = ix.warm_up() if warm_up else 0.0
    opened = time.perf_counter()
    timer = StageTimer() if stages else None
    out = []
    for query in queries:
        out.append({"qid": query.get("qid"), "kind": query.get("kind"), "ms": [],
                    "total": None, "partial": False, "error": None}
                   | ({"stages": []} if stages else {}))
    for _ in range(rounds):
        for query, row in zip(queries, out):
            q, kwargs = search_args(query)
            if timer:
                timer.spent = {}
                row["stages"].append(timer.spent)
            t0 = time.perf_counter()
            try:
                res = ix.search(q, **kwargs)
            except Exception as exc:          # a failing query is a finding, not a crash
                row["error"] = f"{type(exc).__name__}: {exc}"
                row["ms"].append((time.perf_counter() - t0) * 1000)
                continue
            row["ms"].append((time.perf_counter() - t0) * 1000)
            if timer:
                timer.spent["other"] = row["ms"][-1] - sum(timer.spent.values())
            row["total"] = res.total
            row["partial"] = row["partial"] or res.partial
    if timer:
        timer.close()
    return {"open_seconds": round(opened - started, 3), "warm_up_seconds": round(warmed, 3),
            "rounds": rounds, "queries": out,
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
    p.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                   help="time the first queries with what they load on first use "
                        "(by default SearchIndex.warm_up runs first, timed in open_seconds)")
    p.add_argument("--stages", action="store_true",
                   help="each query's milliseconds per stage of the search, per round")
    args = p.parse_args(argv)
    print(json.dumps(run(args.index_dir, load_queries(args.queries, args.limit), args.rounds,
                         warm_up=args.warm_up, stages=args.stages), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
