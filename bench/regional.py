"""Across regions: regional-dev, each translation finding the other region's.

    python -m bench.regional [DIR] [--out FILE] [--show-misses N]

``../shared/corpora/regional-dev/`` (by default): 1,595 interface strings
translated independently by mainland (``zh_CN``, simplified) and Taiwan
(``zh_TW``, traditional) translators; each translation, as a query, must
find the other region's translation of the same string, its own document
left out (``exclude``).  Reported per direction (``zh_TW->zh_CN``,
``zh_CN->zh_TW``): MRR@10, R@1, R@10, for

* this project: ``build_index`` and ``open_index(...).search(q)``, the path
  of the web UI;
* the conventional build, in the same run: Whoosh with OpenCC ``t2s``, then
  jieba words and character bigrams of the same text in two fields, the
  query's words and bigrams OR-ed, BM25F as Whoosh ships it (what a
  developer builds from Whoosh's and jieba's documentation).

An absent folder is said, and the exit status is 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from whoosh.analysis import Token, Tokenizer

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO.parent / "shared" / "corpora" / "regional-dev"
TOP = 10


def load(folder: Path) -> tuple[list[dict], list[dict]]:
    def lines(name):
        with open(folder / name, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    return lines("docs.jsonl"), lines("queries.jsonl")


def direction(query: dict) -> str:
    return query["qid"].split(":", 1)[0]


def score(queries: list[dict], ranked) -> dict:
    """MRR@10, R@1, R@10 per direction, of ``ranked(query) -> [ids]`` (best
    first, the excluded ids already left out)."""
    sums: dict[str, list] = defaultdict(lambda: [0, 0.0, 0, 0])    # n, rr, r1, r10
    misses = []
    for q in queries:
        got = ranked(q)[:TOP]
        relevant = set(q["relevant"])
        rank = next((i for i, d in enumerate(got, 1) if d in relevant), None)
        s = sums[direction(q)]
        s[0] += 1
        s[1] += 1 / rank if rank else 0.0
        s[2] += rank == 1
        s[3] += rank is not None
        if rank != 1:
            misses.append({"qid": q["qid"], "query": q["query"], "rank": rank, "top": got[:3]})
    out = {name: {"queries": n, "mrr@10": round(rr / n, 4), "recall@1": round(r1 / n, 4),
                  "recall@10": round(r10 / n, 4)}
           for name, (n, rr, r1, r10) in sorted(sums.items())}
    return {"directions": out, "misses": misses}


class JiebaWords(Tokenizer):
    """jieba's words for search (``cut_for_search``), lowercased."""

    def __call__(self, value, **kwargs):
        import jieba

        token = Token(**kwargs)
        pos = 0
        for word in jieba.cut_for_search(value):
            if word.strip():
                token.text, token.pos = word.lower(), pos
                pos += 1
                yield token


def ours(docs_path: Path, work: Path):
    from search import build_index, open_index

    build_index([docs_path], work / "ours")
    ix = open_index(work / "ours")

    def ranked(q):
        excluded = set(q.get("exclude", ()))
        hits = ix.search(q["query"], per_page=TOP + len(excluded)).hits
        return [h.id for h in hits if h.id not in excluded]
    return ranked


def conventional(docs: list[dict], work: Path):
    """The conventional build (see the module docstring)."""
    from opencc import OpenCC
    from whoosh import index as whoosh_index
    from whoosh.analysis import NgramTokenizer
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.query import Or, Term

    t2s = OpenCC("t2s").convert
    schema = Schema(id=ID(stored=True, unique=True), words=TEXT(analyzer=JiebaWords()),
                    grams=TEXT(analyzer=NgramTokenizer(2, 2)))
    folder = work / "conventional"
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), schema)
    with ix.writer() as writer:
        for doc in docs:
            text = t2s(f"{doc.get('title', '')}\n{doc['text']}")
            writer.add_document(id=doc["id"], words=text, grams=text)
    searcher = ix.searcher()
    words = JiebaWords()
    grams = NgramTokenizer(2, 2)

    def ranked(q):
        text = t2s(q["query"])
        terms = {("words", t.text) for t in words(text)}
        terms |= {("grams", t.text) for t in grams(text)}
        if not terms:
            return []
        excluded = set(q.get("exclude", ()))
        hits = searcher.search(Or([Term(f, t) for f, t in sorted(terms)]),
                               limit=TOP + len(excluded))
        return [h["id"] for h in hits if h["id"] not in excluded]
    return ranked


def evaluate(folder: Path) -> dict:
    docs, queries = load(folder)
    with tempfile.TemporaryDirectory(prefix="regional-eval-") as tmp:
        work = Path(tmp)
        results = {"collection": str(folder), "documents": len(docs), "queries": len(queries),
                   "this project": score(queries, ours(folder / "docs.jsonl", work)),
                   "conventional": score(queries, conventional(docs, work))}
    return results


def render(results: dict) -> str:
    lines = [f"regional-dev: {results['documents']:,} strings, {results['queries']:,} queries",
             f"{'':16}{'direction':<16}{'MRR@10':>8}{'R@1':>8}{'R@10':>8}"]
    for system in ("this project", "conventional"):
        for name, r in results[system]["directions"].items():
            lines.append(f"{system:<16}{name:<16}{r['mrr@10']:>8.4f}{r['recall@1']:>8.4f}"
                         f"{r['recall@10']:>8.4f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.regional", description=__doc__.split("\n")[0])
    p.add_argument("folder", nargs="?", default=str(DEFAULT_DIR))
    p.add_argument("--out", default="eval-results/regional.json")
    p.add_argument("--show-misses", type=int, default=0)
    args = p.parse_args(argv)
    folder = Path(args.folder)
    if not (folder / "docs.jsonl").exists() or not (folder / "queries.jsonl").exists():
        print(f"regional collection not found ({folder}); nothing to evaluate. "
              "It lives in ../shared/corpora/regional-dev beside the project checkout.")
        return 0
    results = evaluate(folder)
    print(render(results))
    for miss in results["this project"]["misses"][:args.show_misses]:
        print(f"  miss {miss}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
