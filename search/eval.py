"""Relevance evaluation: ``make eval`` / ``python -m search.eval``.

Indexes a passage collection (``docs.jsonl``: id, title, text) with the
product's own ``build_index`` into a temporary folder, runs every question of
``queries.jsonl`` (``query`` and ``query_other_script``) through
``open_index(...).search(q, per_page=10)``, the same path as the web UI, and
reports MRR@10, Recall@1, Recall@10, zero-hit questions and latency.

A second measure, "find what is literally there": random 2-, 3- and
4-character Han strings cut from the passages (fixed seed), searched in the
script they were cut from and in the other script.  Relevant: every passage
whose text, in simplified script, contains the string.  Reported: recall over
all hits (``per_page=100``; strings in more than 50 passages are not used) and
the precision of the top min(10, relevant) hits.

Without arguments it reads ``../shared/corpora/relevance-dev/``; when that is
absent it says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .searcher import open_index
from .store.build import build_index
from .text.chars import BASIC_HAN_RUN
from .text.script import to_simplified, to_traditional

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "relevance-dev"


def _percentile(values, pct):
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def evaluate_questions(ix, queries, field, per_page=10) -> dict:
    rr, r1, r10, zero, times = [], 0, 0, 0, []
    misses = []
    for q in queries:
        started = time.perf_counter()
        res = ix.search(q[field], per_page=per_page)
        times.append((time.perf_counter() - started) * 1000)
        got = [h.id for h in res.hits]
        relevant = set(q["relevant"])
        rank = next((i for i, d in enumerate(got, 1) if d in relevant), None)
        rr.append(1 / rank if rank else 0.0)
        r1 += rank == 1
        r10 += rank is not None
        zero += res.total == 0
        if rank != 1:
            misses.append({"qid": q["qid"], "query": q[field], "rank": rank,
                           "top": got[:3], "relevant": sorted(relevant)})
    n = len(queries)
    return {"questions": n, "mrr@10": round(sum(rr) / n, 4), "recall@1": round(r1 / n, 4),
            "recall@10": round(r10 / n, 4), "zero_hits": zero,
            "latency_ms_p50": round(_percentile(times, 50), 2),
            "latency_ms_p99": round(_percentile(times, 99), 2), "misses": misses}


def literal_samples(docs, per_length=300, seed=20261122, max_relevant=50):
    """Random Han strings cut from the passages, with the passages holding each."""
    rng = random.Random(seed)
    norm_texts = {d["id"]: to_simplified(d["text"]) for d in docs}
    out = {}
    for length in (2, 3, 4):
        samples, tries = [], 0
        while len(samples) < per_length and tries < per_length * 50:
            tries += 1
            doc = rng.choice(docs)
            runs = [r for r in BASIC_HAN_RUN.findall(doc["text"]) if len(r) >= length]
            if not runs:
                continue
            run = rng.choice(runs)
            start = rng.randrange(len(run) - length + 1)
            cut = run[start:start + length]
            norm = to_simplified(cut)
            relevant = {i for i, t in norm_texts.items() if norm in t}
            # Empty when OpenCC converts the cut differently out of its context
            # (a phrase rule such as 乾坤 cut in half): not a fair test.
            if not relevant or len(relevant) > max_relevant:
                continue
            script = doc.get("script", "simp")
            other = to_simplified(cut) if script == "trad" else to_traditional(cut)
            samples.append({"text": cut, "other": other, "relevant": relevant})
        out[length] = samples
    return out


def evaluate_literals(ix, samples) -> dict:
    report = {}
    for length, items in samples.items():
        for key in ("text", "other"):
            recall, precision = [], []
            for item in items:
                res = ix.search(item[key], per_page=100)
                got = [h.id for h in res.hits]
                rel = item["relevant"]
                recall.append(len(rel & set(got)) / len(rel))
                k = min(10, len(rel))
                precision.append(len(rel & set(got[:k])) / k)
            name = f"{length}chars_{'same' if key == 'text' else 'other'}_script"
            report[name] = {"strings": len(items),
                            "recall": round(statistics.mean(recall), 4) if recall else None,
                            "top_precision": round(statistics.mean(precision), 4) if precision else None}
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m search.eval", description=__doc__.split("\n")[0])
    p.add_argument("docs", nargs="?", help="docs.jsonl (default: ../shared/corpora/relevance-dev)")
    p.add_argument("queries", nargs="?", help="queries.jsonl")
    p.add_argument("--out", default="eval-results/relevance.json", help="where to write the JSON")
    p.add_argument("--literal-per-length", type=int, default=300)
    p.add_argument("--show-misses", type=int, default=0, help="print this many missed questions")
    p.add_argument("--reuse-index", metavar="DIR",
                   help="build the collection's index here once and reuse it on later runs "
                        "(for trying query-side changes); by default a temporary index")
    args = p.parse_args(argv)

    docs_path = Path(args.docs) if args.docs else DEFAULT_DIR / "docs.jsonl"
    queries_path = Path(args.queries) if args.queries else docs_path.parent / "queries.jsonl"
    if not docs_path.exists() or not queries_path.exists():
        print(f"relevance collection not found ({docs_path}); nothing to evaluate. "
              "It lives in ../shared/corpora/relevance-dev beside the project checkout.")
        return 0
    docs = [json.loads(l) for l in docs_path.open(encoding="utf-8") if l.strip()]
    queries = [json.loads(l) for l in queries_path.open(encoding="utf-8") if l.strip()]

    with tempfile.TemporaryDirectory(prefix="search-eval-") as tmp:
        index_dir = Path(args.reuse_index) if args.reuse_index else Path(tmp) / "index"
        if args.reuse_index and (index_dir / "current").exists():
            print(f"reusing the index in {index_dir}")
        else:
            report = build_index([docs_path], index_dir)
            print(f"indexed {report.indexed} passages in {report.seconds:.1f} s "
                  f"({len(report.skipped)} skipped)")
        ix = open_index(index_dir)
        ix.search("预热")  # open searchers and caches outside the timings
        results = {"collection": str(docs_path), "documents": ix.stats()["documents"]}
        for field in ("query", "query_other_script"):
            results[field] = evaluate_questions(ix, queries, field)
        samples = literal_samples(docs, per_length=args.literal_per_length)
        results["literal"] = evaluate_literals(ix, samples)

    print(f"\n{'questions':<22}{'MRR@10':>8}{'R@1':>8}{'R@10':>8}{'zero':>6}{'p50 ms':>9}{'p99 ms':>9}")
    for field in ("query", "query_other_script"):
        r = results[field]
        print(f"{field:<22}{r['mrr@10']:>8.4f}{r['recall@1']:>8.4f}{r['recall@10']:>8.4f}"
              f"{r['zero_hits']:>6}{r['latency_ms_p50']:>9.2f}{r['latency_ms_p99']:>9.2f}")
    print(f"\n{'literal strings':<28}{'n':>5}{'recall':>9}{'top prec':>10}")
    for name, r in results["literal"].items():
        print(f"{name:<28}{r['strings']:>5}{r['recall']:>9.4f}{r['top_precision']:>10.4f}")
    for field in ("query", "query_other_script"):
        for miss in results[field]["misses"][:args.show_misses]:
            print(f"  miss [{field}] {miss}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
