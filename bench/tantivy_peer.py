"""The fast peer: Tantivy (tantivy-py) with rjieba's words, in one Python process.

    python -m bench.tantivy_peer --corpus PATH [--limit N] [--queries bench/queries.jsonl]
                                 [--rounds 5] [--project-index DIR]

What a developer who wants speed would build instead of this project: each
record's title and text converted to simplified script with this project's
``to_simplified`` (the conversion its build applies before segmenting), cut
into words by ``rjieba.cut``, and indexed by Tantivy through its whitespace
tokenizer, so that the terms are exactly rjieba's words (punctuation left
out).  The original title and text are stored beside them; ``author`` and
``dynasty`` (and ``city`` and the year of ``date`` where records have them)
are raw-tokenized fast fields, the facets this project shows for the poems.
One ``index.writer()`` with Tantivy's defaults, one commit.

It measures the build (wall seconds, the process's peak RSS, the index's
bytes on disk) and then every query of the set as Tantivy would answer a
results page: the query converted and cut the same way, the top ten by BM25
(terms combined with OR, Tantivy's default; a quoted query as a phrase) with
the total, and the counts of the two facets ``author`` and ``dynasty``
(terms aggregations).  The first round is each query seen for the first time
in the process; the warm figure of a query is the median of ``--rounds``
rounds after it.  No snippets, no highlighting, no other facets, no city
filter (the peer has no gazetteer: a query filtered by city runs without it).
With ``--project-index`` it also opens this project's index and reports how
many of its top ten documents Tantivy's top ten shares, per query.

Prints one JSON object.  Needs the ``bench`` extra (``tantivy``, ``rjieba``).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

from bench.naive import corpus_lines
from bench.queries import load_queries, search_args
from bench.run import DEFAULT_CORPUS, DEFAULT_QUERIES, dir_bytes, percentile, sample_corpus

TOKENIZER = "rjieba_words"
COUNTED_FACETS = ("author", "dynasty")
FACET_FIELDS = ("author", "dynasty", "city", "year")
# As many values per facet as this project's results page lists (search.searcher.FACET_LIMIT).
FACET_SIZE = 100
TOP = 10


def available() -> str | None:
    """None when the peer can run, else what is missing."""
    missing = []
    for name in ("tantivy", "rjieba"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    return None if not missing else (
        f"{' and '.join(missing)} not installed (pip install -e '.[bench]')")


def words(text: str) -> list[str]:
    """rjieba's words of the text in simplified script, whitespace and punctuation left out."""
    import rjieba

    from search.text.script import to_simplified
    return [w for w in rjieba.cut(to_simplified(text))
            if w.strip() and not all(unicodedata.category(c)[0] in "PZS" for c in w)]


def facet_values(record: dict) -> dict[str, str]:
    """The record's facet values, in simplified script as this project's facets list them."""
    from search.text.script import to_simplified
    values = {name: record.get(name) for name in ("author", "dynasty", "city")}
    values["year"] = (record.get("date") or "")[:4] or None
    return {k: to_simplified(str(v)) for k, v in values.items() if v}


def schema():
    import tantivy
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", tokenizer_name=TOKENIZER)
    sb.add_text_field("body", tokenizer_name=TOKENIZER)
    # The original text, stored and not indexed.
    sb.add_bytes_field("title_original", stored=True, indexed=False)
    sb.add_bytes_field("text_original", stored=True, indexed=False)
    for name in FACET_FIELDS:
        sb.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    return sb.build()


def open_tantivy(index_dir: Path, create: bool = False):
    import tantivy
    index = tantivy.Index(schema(), path=str(index_dir), reuse=not create)
    index.register_tokenizer(TOKENIZER, tantivy.TextAnalyzerBuilder(
        tantivy.Tokenizer.whitespace()).build())
    return index


def build(corpus: Path, index_dir: Path) -> dict:
    """Index every record of the corpus; wall seconds, peak RSS and bytes of the index."""
    import tantivy
    started = time.perf_counter()
    index = open_tantivy(index_dir, create=True)
    writer = index.writer()
    count = 0
    for raw in corpus_lines(str(corpus)):
        record = json.loads(raw)
        title, text = record.get("title") or "", record.get("text") or ""
        doc = tantivy.Document()
        doc.add_text("id", str(record.get("id", count)))
        doc.add_text("title", " ".join(words(title)))
        doc.add_text("body", " ".join(words(text)))
        doc.add_bytes("title_original", title.encode("utf-8"))
        doc.add_bytes("text_original", text.encode("utf-8"))
        for name, value in facet_values(record).items():
            doc.add_text(name, value)
        writer.add_document(doc)
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    seconds = time.perf_counter() - started
    # ru_maxrss (kB on Linux) is the process's peak so far: run in its own process
    # (build_in_child), the build's alone.
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    index.reload()
    size = dir_bytes(index_dir)
    return {"documents": count, "indexed": index.searcher().num_docs,
            "segments": index.searcher().num_segments,
            "seconds": round(seconds, 2), "documents_per_second": round(count / seconds, 1),
            "peak_rss_mb": round(peak_kb / 1024, 1), "index_bytes": size,
            "index_mb": round(size / 1e6, 1),
            "writer": "index.writer() (Tantivy's default heap and threads), one commit"}


def text_query(index, q: str):
    """The query as Tantivy is asked it: a phrase when quoted, else its words with OR."""
    import tantivy
    s = index.schema
    phrase = q.strip().startswith('"')
    terms = words(q.replace('"', " "))
    if not terms:
        return tantivy.Query.empty_query()
    clauses = []
    for field in ("title", "body"):
        if phrase and len(terms) > 1:
            clauses.append(tantivy.Query.phrase_query(s, field, terms))
        else:
            clauses += [tantivy.Query.term_query(s, field, t) for t in terms]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, c) for c in clauses])


def page_query(index, query: dict):
    """The query with its author and dynasty filters (values of one facet OR'ed, facets AND'ed)."""
    import tantivy
    from search.text.script import to_simplified
    q, kwargs = search_args(query)
    must = [text_query(index, q)]
    for name, values in (kwargs.get("filters") or {}).items():
        if name not in FACET_FIELDS:
            continue
        must.append(tantivy.Query.boolean_query([
            (tantivy.Occur.Should, tantivy.Query.term_query(index.schema, name, to_simplified(v)))
            for v in values]))
    if len(must) == 1:
        return must[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, m) for m in must])


def facet_counts(searcher, query, size: int = FACET_SIZE) -> dict[str, dict[str, int]]:
    """The counted facets' values among the query's matches, most frequent first."""
    agg = {name: {"terms": {"field": name, "size": size}} for name in COUNTED_FACETS}
    out = searcher.aggregate(query, agg)
    return {name: {b["key"]: b["doc_count"] for b in out[name]["buckets"]}
            for name in COUNTED_FACETS}


def results_page(index, searcher, query: dict) -> dict:
    """What the page needs: the top ten's ids, the total and the two facet counts."""
    tq = page_query(index, query)
    found = searcher.search(tq, TOP, count=True)
    ids = [searcher.doc(address)["id"][0] for _score, address in found.hits]
    return {"ids": ids, "total": found.count, "facets": facet_counts(searcher, tq)}


def measure_queries(index_dir: Path, queries: list[dict], rounds: int) -> dict:
    started = time.perf_counter()
    index = open_tantivy(index_dir)
    searcher = index.searcher()
    # rjieba reads its dictionary and to_simplified its tables on first use: part of
    # opening, as this project's open_index loads its segmenter before the first query.
    words("開")
    opened = time.perf_counter() - started
    rows = [{"qid": q.get("qid"), "kind": q.get("kind"), "ms": []} for q in queries]
    pages = []
    for query, row in zip(queries, rows):
        t0 = time.perf_counter()
        page = results_page(index, searcher, query)
        row["ms"].append((time.perf_counter() - t0) * 1000)
        row["total"] = page["total"]
        pages.append(page)
    for _ in range(rounds):
        for query, row in zip(queries, rows):
            t0 = time.perf_counter()
            results_page(index, searcher, query)
            row["ms"].append((time.perf_counter() - t0) * 1000)
    first = [r["ms"][0] for r in rows]
    warm = [statistics.median(r["ms"][1:]) for r in rows] if rounds else first

    def summary(values):
        return {f"p{p}": round(percentile(values, p), 3) for p in (50, 95, 99)} | {
            "max": round(max(values), 3), "mean": round(sum(values) / len(values), 3)}

    return {"queries": len(rows), "warm_rounds": rounds, "open_seconds": round(opened, 3),
            "first_round": summary(first) if rows else {}, "warm": summary(warm) if rows else {},
            "zero_hits": sum(1 for r in rows if r["total"] == 0),
            "city_filter_dropped": sum(1 for q in queries if (q.get("filters") or {}).get("city")),
            "per_query": [{"qid": r["qid"], "first_ms": round(r["ms"][0], 3),
                           "warm_ms": round(w, 3), "total": r["total"], "top": p["ids"]}
                          for r, w, p in zip(rows, warm, pages)]}


def overlap(project_index: Path, queries: list[dict], per_query: list[dict]) -> dict:
    """How many of this project's top ten (same query, same filters) Tantivy's top ten holds."""
    from search import open_index
    ix = open_index(str(project_index))
    shared = []
    for query, row in zip(queries, per_query):
        q, kwargs = search_args(query)
        ours = [h.id for h in ix.search(q, **kwargs, snippet_count=0).hits]
        row["project_top"] = ours
        row["overlap"] = len(set(ours) & set(row["top"]))
        # A city filter the peer cannot apply makes the two answer different questions.
        if ours and "city" not in kwargs:
            shared.append(row["overlap"])
    return {"overlap_at_10_median": statistics.median(shared) if shared else None,
            "overlap_at_10_mean": round(sum(shared) / len(shared), 2) if shared else None,
            "compared": len(shared),
            "identical_top_sets": sum(1 for r in per_query
                                      if r["project_top"] and set(r["project_top"]) == set(r["top"])),
            "note": "over the queries this project finds something for, city-filtered ones left out"}


def run(corpus: Path, queries: list[dict], rounds: int = 5, project_index: Path | None = None,
        work: Path | None = None, keep: bool = False) -> dict:
    """Build the Tantivy index of ``corpus`` (whole) under ``work``, then time the queries."""
    own_work = work is None
    work = Path(work or tempfile.mkdtemp(prefix="tantivy-peer-"))
    index_dir = work / "tantivy"
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    try:
        result = {"build": build_in_child(corpus, index_dir)}
        result["queries"] = measure_queries(index_dir, queries, rounds)
        if project_index:
            result["overlap"] = overlap(project_index, queries, result["queries"]["per_query"])
        result["versions"] = {"tantivy": _version("tantivy"),
                              "rjieba": _version("rjieba")}
        result["index_dir"] = str(index_dir) if keep else None
        return result
    finally:
        if not keep:
            shutil.rmtree(work if own_work else index_dir, ignore_errors=True)


def build_in_child(corpus: Path, index_dir: Path) -> dict:
    """``build`` in a fresh process, so that its peak RSS is the build's alone (not the
    sampling's, nor the queries')."""
    import subprocess
    cmd = [sys.executable, "-m", "bench.tantivy_peer", "--corpus", str(corpus),
           "--build-into", str(index_dir)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if out.returncode != 0:
        raise RuntimeError(f"the Tantivy build failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.tantivy_peer", description=__doc__.split("\n")[0])
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="JSON-lines corpus (.gz or not)")
    p.add_argument("--limit", type=int, default=None,
                   help="N records at even steps through the corpus, as bench.run --limit takes")
    p.add_argument("--queries", default=str(DEFAULT_QUERIES))
    p.add_argument("--query-limit", type=int, default=None)
    p.add_argument("--rounds", type=int, default=5, help="warm rounds after the first")
    p.add_argument("--project-index", default=None,
                   help="this project's index of the same records: report overlap@10 with it")
    p.add_argument("--work-dir", default=None, help="where the index is built (default: a temp dir)")
    p.add_argument("--per-query", action="store_true", help="print each query's figures too")
    p.add_argument("--build-into", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    missing = available()
    if missing:
        print(json.dumps({"skipped": missing}))
        return 0
    if args.build_into:
        print(json.dumps(build(Path(args.corpus), Path(args.build_into))))
        return 0
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="tantivy-peer-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        source, docs, chars = sample_corpus(Path(args.corpus), args.limit, work)
        result = run(source, load_queries(args.queries, args.query_limit), args.rounds,
                     Path(args.project_index) if args.project_index else None, work)
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    result["corpus"] = {"path": args.corpus, "limit": args.limit, "documents": docs,
                        "characters": chars}
    if not args.per_query:
        result["queries"].pop("per_query")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
