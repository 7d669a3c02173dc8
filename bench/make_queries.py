"""Generate the benchmark's fixed inputs from the poetry corpus, once, with a fixed seed.

    python -m bench.make_queries [--corpus ../shared/corpora/poetry.jsonl.gz]

Writes (both committed; rerunning gives the same files):

* ``bench/queries.jsonl``: 300 queries, one JSON object a line:
  ``{"qid", "kind", "script", "q", "filters"}``.  Kinds: ``word`` (common
  words of the corpus), ``name`` (authors and places), ``string`` (2-4
  characters cut from a poem line), ``phrase`` (a quoted line or part of
  one), ``question`` (a reader's question built from authors, titles,
  words and lines), and ``filtered`` (a word, name or string with an author,
  dynasty or city filter).  About half are in traditional script and half
  in simplified (``script``), filters in the query's script.
* ``bench/sample.jsonl``: 400 poems taken at even steps through the corpus
  (Tang and Song shi in traditional script, Song ci in simplified), for the
  small benchmark run of ``make test`` (``tests/test_bench.py``), which must
  not need ``../shared``.

The poems are from the chinese-poetry project
(github.com/chinese-poetry/chinese-poetry), MIT licence.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpora" / "poetry.jsonl.gz"
SEED = 20261122
SAMPLE_SIZE = 400
COUNTS = {"word": 50, "name": 50, "string": 50, "phrase": 40, "question": 50, "filtered": 60}

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


def read_records(path: Path) -> list[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _lines(record) -> list[str]:
    return [m.group(0) for m in _HAN_RUN.finditer(record.get("text", ""))]


def cut_string(line: str, rng: random.Random) -> str:
    """Two to four characters of ``line`` at a random place (the whole of a shorter line)."""
    n = rng.randint(2, 4)
    if len(line) <= n:
        return line
    start = rng.randrange(0, len(line) - n + 1)
    return line[start:start + n]


def corpus_frequencies(records: list[dict]) -> tuple[Counter, Counter]:
    """Words (of two characters or more, not stop words) and cities, counted
    in simplified script over an even sample of about 20,000 of ``records``."""
    from search.ingest.metadata import document_from_record
    from search.text.script import to_simplified
    from search.text.segment import segment
    from search.text.stopwords import STOP_WORDS

    probe = records[::max(1, len(records) // 20000)]
    words: Counter = Counter()
    places: Counter = Counter()
    for r in probe:
        text = to_simplified(f"{r.get('title', '')}\n{r.get('text', '')}")
        for w, _s, _e, sub in segment(text):
            if not sub and len(w) >= 2 and w not in STOP_WORDS:
                words[w] += 1
        doc = document_from_record(str(r.get("id")), "probe", r)
        places.update(getattr(doc, "cities", []) or [])
    return words, places


def generate(records: list[dict], seed: int = SEED) -> tuple[list[dict], list[dict]]:
    from search.text.script import to_simplified, to_traditional

    rng = random.Random(seed)
    step = max(1, len(records) // SAMPLE_SIZE)
    sample = records[::step][:SAMPLE_SIZE]

    probe = records[::max(1, len(records) // 20000)]
    words, places = corpus_frequencies(records)
    authors = Counter(to_simplified(r.get("author") or "") for r in records if r.get("author"))
    common = [w for w, _ in words.most_common(600)[10:]]
    top_authors = [a for a, _ in authors.most_common(120)]
    rare_authors = [a for a, n in authors.items() if 3 <= n <= 30]
    rare_authors.sort()
    top_places = [p for p, _ in places.most_common(40)]
    with_lines = [r for r in probe if _lines(r)]

    def script(text: str, trad: bool) -> str:
        return to_traditional(text) if trad else to_simplified(text)

    def a_line() -> str:
        r = rng.choice(with_lines)
        return to_simplified(rng.choice(_lines(r)))

    def a_string() -> str:
        return cut_string(a_line(), rng)

    queries: list[dict] = []

    def add(kind: str, q: str, filters: dict | None = None):
        trad = rng.random() < 0.5
        out_filters = {k: [script(v, trad) for v in vs] for k, vs in (filters or {}).items()}
        queries.append({"qid": f"{kind}-{sum(1 for x in queries if x['kind'] == kind) + 1:03d}",
                        "kind": kind, "script": "trad" if trad else "simp",
                        "q": script(q, trad), "filters": out_filters})

    for w in rng.sample(common, COUNTS["word"]):
        add("word", w)
    names = rng.sample(top_authors, 25) + rng.sample(rare_authors, 10) + rng.sample(top_places, 15)
    for n in names:
        add("name", n)
    for _ in range(COUNTS["string"]):
        add("string", a_string())
    for _ in range(COUNTS["phrase"]):
        line = a_line()
        if rng.random() < 0.5 and len(line) > 4:
            start = rng.randrange(0, len(line) - 3)
            line = line[start:start + 4]
        open_q, close_q = rng.choice([('"', '"'), ("“", "”"), ("「", "」")])
        add("phrase", f"{open_q}{line}{close_q}")
    titles = [to_simplified(r["title"]) for r in probe if 2 <= len(r.get("title") or "") <= 8]
    templates = [
        lambda: f"{rng.choice(top_authors)}写过哪些关于{rng.choice(common)}的诗",
        lambda: f"谁写了{rng.choice(titles)}",
        lambda: f"{rng.choice(titles)}是谁写的",
        lambda: f"描写{rng.choice(common)}的诗句有哪些",
        lambda: f"{a_line()}的下一句是什么",
        lambda: f"{rng.choice(['唐', '宋'])}代诗人写{rng.choice(common)}的诗",
        lambda: f"{rng.choice(top_authors)}在{rng.choice(top_places)}写的诗",
        lambda: f"关于{rng.choice(common)}和{rng.choice(common)}的诗",
    ]
    for _ in range(COUNTS["question"]):
        add("question", rng.choice(templates)())
    for i in range(COUNTS["filtered"]):
        what = i % 3
        if what == 0:
            author = rng.choice(top_authors)
            add("filtered", rng.choice(common), {"author": [author]})
        elif what == 1:
            add("filtered", rng.choice([rng.choice(common), a_string()]),
                {"dynasty": [rng.choice(["唐", "宋"])]})
        else:
            add("filtered", rng.choice([rng.choice(common), rng.choice(top_places)]),
                {"city": [rng.choice(top_places)]})
    return queries, sample


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.make_queries",
                                description=__doc__.split("\n")[0])
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument("--out-dir", default=str(HERE))
    args = p.parse_args(argv)
    corpus = Path(args.corpus)
    if not corpus.exists():
        print(f"no corpus at {corpus}: the query set is generated from the poetry corpus "
              f"of ../shared (see bench/README in BENCHMARKS.md); nothing written")
        return 0
    records = read_records(corpus)
    queries, sample = generate(records)
    out = Path(args.out_dir)
    with open(out / "queries.jsonl", "w", encoding="utf-8") as fh:
        for q in queries:
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")
    with open(out / "sample.jsonl", "w", encoding="utf-8") as fh:
        for r in sample:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(queries)} queries and {len(sample)} sample poems to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
