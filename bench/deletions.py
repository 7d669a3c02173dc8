"""How far scores drift before a merge: deleted documents still count in Whoosh's statistics.

    python -m bench.deletions [--corpus PATH] [--documents 20000] [--shares 0.01,0.1]

Builds an index of ``--documents`` records taken at even steps through the
corpus, deletes a share of them in one change (no merge), and compares every
query of ``bench/queries.jsonl`` with a fresh build of the remaining
records: the totals must be equal (the same documents match); prints per
share how many top tens are in the same order and the same set, and the
largest relative difference of a score.  Without the corpus it says so and
exits 0.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import tempfile
from pathlib import Path

from bench.queries import load_queries, search_args
from bench.run import DEFAULT_CORPUS, DEFAULT_QUERIES


def _records(corpus: Path, count: int) -> list[dict]:
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        lines = fh.readlines()
    step = max(1, len(lines) // count)
    return [json.loads(line) for line in lines[::step][:count]]


def _write(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def drift(records: list[dict], share: float, work: Path, queries: list[dict], seed: int = 1):
    from search import IndexWriter, build_index, open_index
    base = work / "base"
    if not base.exists():
        build_index([_write(work / "all.jsonl", records)], base)
    live = work / f"live-{share}"
    shutil.rmtree(live, ignore_errors=True)
    shutil.copytree(base, live, symlinks=True)
    gone = set(random.Random(seed).sample([r["id"] for r in records], int(share * len(records))))
    with IndexWriter(live, merge=False) as w:
        for doc_id in gone:
            w.delete(doc_id)
    full = work / f"full-{share}"
    build_index([_write(work / f"rest-{share}.jsonl",
                        [r for r in records if r["id"] not in gone])], full)
    a, b = open_index(live), open_index(full)
    worst, same_order, same_set, compared = 0.0, 0, 0, 0
    for query in queries:
        q, kwargs = search_args(query)
        ra, rb = a.search(q, **kwargs), b.search(q, **kwargs)
        assert ra.total == rb.total, (q, ra.total, rb.total)
        if not rb.hits or rb.hits[0].score is None:
            continue
        compared += 1
        sa = {h.id: h.score for h in ra.hits}
        sb = {h.id: h.score for h in rb.hits}
        same_order += [h.id for h in ra.hits] == [h.id for h in rb.hits]
        same_set += set(sa) == set(sb)
        for d in set(sa) & set(sb):
            worst = max(worst, abs(sa[d] - sb[d]) / max(abs(sb[d]), 1e-9))
    return {"deleted_share": share, "deleted": len(gone), "ranked_queries": compared,
            "same_top10_order": same_order, "same_top10_set": same_set,
            "max_relative_score_difference": round(worst, 4)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument("--queries", default=str(DEFAULT_QUERIES))
    p.add_argument("--documents", type=int, default=20_000)
    p.add_argument("--shares", default="0.01,0.1")
    args = p.parse_args(argv)
    corpus = Path(args.corpus)
    if not corpus.exists():
        print(f"no corpus at {corpus}: nothing measured")
        return 0
    records = _records(corpus, args.documents)
    queries = load_queries(args.queries)
    with tempfile.TemporaryDirectory(prefix="bench-deletions-") as tmp:
        for share in (float(s) for s in args.shares.split(",")):
            print(json.dumps(drift(records, share, Path(tmp), queries)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
