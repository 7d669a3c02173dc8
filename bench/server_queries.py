"""The server load's query set: tens of thousands of distinct searches, each sent once.

    python -m bench.server_queries [--corpus ../shared/corpora/poetry.jsonl.gz] [--count 30000]

The 300 queries of ``bench/queries.jsonl`` looped for 30 s make nearly every
request a repeat, which is not what a server sees.  This set is large enough
that no worker sees a search twice in a run: ``bench/server_queries.jsonl.gz``
(committed; rerunning gives the same file), generated with a fixed seed from
the poetry corpus, of the same kinds and in about the same shares as the 300
(``bench.make_queries``): ``word`` (words of the corpus, common and rare),
``name`` (authors and places), ``string`` (2-4 characters cut from a line),
``phrase`` (a quoted line or part of one), ``question`` (a reader's question
made of authors, titles, words and lines) and ``filtered`` (a word, name or
string with an author, dynasty or city filter), each in traditional or
simplified script at random.  No two have the same simplified text and
filters, so a search is new to the server however its script is written.

``from_index(DIR)`` makes a set the same way from the documents of any index
(what ``bench.server_load --queries from-index`` sends): for an index that is
not of the poetry corpus (the seeds, a test's), so that its filters name its
own facets and values.

One JSON object a line: ``{"kind", "script", "q", "filters"}``, as
``bench/queries.jsonl`` without the ``qid``.
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
DEFAULT_SET = HERE / "server_queries.jsonl.gz"
SEED = 20261208
COUNT = 30_000
# The shares of bench/queries.jsonl (50, 50, 50, 40, 50, 60 of 300).
SHARES = {"word": 50, "name": 50, "string": 50, "phrase": 40, "question": 50, "filtered": 60}
# Facets a filtered search names, when the records have them.
FILTER_FACETS = ("author", "dynasty")

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_QUOTES = "\"“”「」"


def _lines(record: dict) -> list[str]:
    return _HAN_RUN.findall(record.get("text", ""))


def generate(records: list[dict], count: int = COUNT, seed: int = SEED) -> list[dict]:
    """``count`` distinct searches made from ``records`` (``{"text", "title",
    "author", "dynasty", "city"...}``), fewer when the records cannot make
    that many different ones."""
    from bench.make_queries import corpus_frequencies, cut_string
    from search.text.script import to_simplified, to_traditional

    rng = random.Random(seed)
    probe = records[::max(1, len(records) // 20000)]
    words, places = corpus_frequencies(records)
    ranked = [w for w, _ in words.most_common()]
    # Past the ten commonest, which every search engine answers alike.
    common = ranked[10:600] or ranked
    vocabulary = ranked[10:] or ranked
    facet_values = {}
    for name in FILTER_FACETS:
        counted = Counter(to_simplified(str(r[name])) for r in records if r.get(name))
        if counted:
            facet_values[name] = [v for v, _ in counted.most_common(120)]
    authors = Counter(to_simplified(r.get("author") or "") for r in records if r.get("author"))
    names = sorted(authors) + [p for p, _ in places.most_common()]
    top_authors = facet_values.get("author") or []
    top_places = [p for p, _ in places.most_common(40)]
    with_lines = [r for r in records if _lines(r)]
    titles = sorted({to_simplified(r["title"]) for r in probe
                     if 2 <= len(r.get("title") or "") <= 8})
    if not with_lines or not vocabulary:
        return []

    def a_line() -> str:
        return to_simplified(rng.choice(_lines(rng.choice(with_lines))))

    def a_string() -> str:
        return cut_string(a_line(), rng)

    def a_word() -> str:
        # Half from the common words, half from the whole vocabulary (rare ones).
        return rng.choice(common if rng.random() < 0.5 else vocabulary)

    def a_phrase() -> str:
        line = a_line()
        if rng.random() < 0.5 and len(line) > 4:
            start = rng.randrange(0, len(line) - 3)
            line = line[start:start + 4]
        open_q, close_q = rng.choice([('"', '"'), ("“", "”"), ("「", "」")])
        return f"{open_q}{line}{close_q}"

    templates = [
        lambda: f"{rng.choice(top_authors or names)}写过哪些关于{a_word()}的诗",
        lambda: f"谁写了{rng.choice(titles or common)}",
        lambda: f"{rng.choice(titles or common)}是谁写的",
        lambda: f"描写{a_word()}的诗句有哪些",
        lambda: f"{a_line()}的下一句是什么",
        lambda: f"{rng.choice(['唐', '宋'])}代诗人写{a_word()}的诗",
        lambda: f"{rng.choice(names or common)}在{rng.choice(top_places or common)}写的诗",
        lambda: f"关于{a_word()}和{a_word()}的诗",
    ]

    def a_filtered() -> tuple[str, dict]:
        choices = [name for name in FILTER_FACETS if name in facet_values]
        if top_places:
            choices.append("city")
        if not choices:
            return a_word(), {}
        name = rng.choice(choices)
        if name == "city":
            return rng.choice([a_word(), rng.choice(top_places)]), \
                {"city": [rng.choice(top_places)]}
        q = a_word() if name == "author" else rng.choice([a_word(), a_string()])
        return q, {name: [rng.choice(facet_values[name])]}

    makers = {
        "word": lambda: (a_word(), {}),
        "name": lambda: (rng.choice(names) if names else a_word(), {}),
        "string": lambda: (a_string(), {}),
        "phrase": lambda: (a_phrase(), {}),
        "question": lambda: (rng.choice(templates)(), {}),
        "filtered": a_filtered,
    }
    kinds = list(SHARES)
    weights = [SHARES[k] for k in kinds]
    seen: set[tuple] = set()
    out: list[dict] = []
    attempts = 0
    while len(out) < count and attempts < count * 3:
        attempts += 1
        kind = rng.choices(kinds, weights)[0]
        q, filters = makers[kind]()
        key = (q.strip(_QUOTES), tuple(sorted((k, tuple(v)) for k, v in filters.items())))
        if not q or key in seen:
            continue
        seen.add(key)
        trad = rng.random() < 0.5
        shown = to_traditional if trad else to_simplified
        out.append({"kind": kind, "script": "trad" if trad else "simp", "q": shown(q),
                    "filters": {k: [shown(v) for v in vs] for k, vs in filters.items()}})
    return out


def records_of_index(index_dir) -> list[dict]:
    """The documents of an index as corpus records: text, title and every stored facet."""
    from search import open_index
    ix = open_index(index_dir)
    searcher = ix._current().searcher()
    try:
        records = []
        for stored in searcher.all_stored_fields():
            record = {"id": stored.get("id"), "title": stored.get("title") or "",
                      "text": stored.get("body") or ""}
            record.update({k: v for k, v in (stored.get("extra") or {}).items()
                           if isinstance(v, str)})
            if stored.get("city"):
                record["city"] = stored["city"].split(",")
            records.append(record)
        return records
    finally:
        searcher.close()


def from_index(index_dir, count: int = COUNT, seed: int = SEED) -> list[dict]:
    return generate(records_of_index(index_dir), count, seed)


def load(path=DEFAULT_SET) -> list[dict]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write(queries: list[dict], path) -> None:
    data = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries).encode("utf-8")
    # mtime 0: the same queries make the same bytes.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                 filename="") as fh:
        fh.write(data)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.server_queries",
                                description=__doc__.split("\n")[0])
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument("--count", type=int, default=COUNT)
    p.add_argument("--out", default=str(DEFAULT_SET))
    args = p.parse_args(argv)
    corpus = Path(args.corpus)
    if not corpus.exists():
        print(f"no corpus at {corpus}: the set is generated from the poetry corpus of "
              f"../shared; nothing written (bench.server_load --queries from-index makes "
              f"one from an index instead)")
        return 0
    from bench.make_queries import read_records
    queries = generate(read_records(corpus), args.count)
    write(queries, args.out)
    print(f"wrote {len(queries):,} distinct searches to {args.out}: "
          + ", ".join(f"{k} {n}" for k, n in Counter(q["kind"] for q in queries).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
