"""The floor: what segmentation and script conversion alone cost, in one process.

    python -m bench.floor CORPUS.jsonl[.gz] [--limit N]

Over the title and text of every record, one process, nothing else:

* ``jieba``: ``list(jieba.cut(text))`` (jieba's default mode, HMM on, its
  default dictionary plus this project's user dictionary);
* ``opencc``: ``OpenCC("t2s").convert(text)`` (opencc-python-reimplemented);
* for comparison, this project's equivalents on the same text:
  ``search.text.segment.segment`` (jieba's words and search-mode sub-words, per
  run of Han text) and ``search.text.script.to_simplified``; and how many records'
  ``to_simplified`` differs from OpenCC's ``t2s`` followed by the full-width
  folding ``to_simplified`` documents (it must be none; see
  ``bench/verify_t2s.py``).

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time


def texts(path: str, limit: int | None = None) -> list[str]:
    opener = gzip.open if path.endswith(".gz") else open
    out = []
    with opener(path, "rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            record = json.loads(raw)
            out.append(f"{record.get('title') or ''}\n{record.get('text') or ''}")
            if limit and len(out) >= limit:
                break
    return out


def measure(corpus: str, limit: int | None = None) -> dict:
    import jieba
    import opencc

    from search.text.segment import load_jieba, segment
    from search.text.script import to_simplified

    docs = texts(corpus, limit)
    load_jieba()
    result = {"documents": len(docs), "characters": sum(map(len, docs))}

    started = time.perf_counter()
    for text in docs:
        list(jieba.cut(text))
    result["jieba_seconds"] = round(time.perf_counter() - started, 3)

    converter = opencc.OpenCC("t2s")
    started = time.perf_counter()
    reference = [converter.convert(text) for text in docs]
    result["opencc_seconds"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    ours = [to_simplified(text) for text in docs]
    result["to_simplified_seconds"] = round(time.perf_counter() - started, 3)
    from bench.verify_t2s import fold
    result["to_simplified_differs_from_opencc"] = sum(1 for a, b in zip(ours, reference)
                                                      if a != fold(b))

    started = time.perf_counter()
    for text in ours:
        segment(text)
    result["segment_seconds"] = round(time.perf_counter() - started, 3)
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split("\n")[0])
    p.add_argument("corpus")
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args(argv)
    print(json.dumps(measure(args.corpus, args.limit)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
