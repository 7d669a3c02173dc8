"""The naive peer: Whoosh with jieba's ``ChineseAnalyzer``, one writer, default settings.

    python -m bench.naive CORPUS.jsonl[.gz] INDEX_DIR [--limit N]

What a developer gets by following jieba's README for Whoosh: ``id``, ``title``
and ``body`` (the record's ``text``) with ``ChineseAnalyzer``, ``author`` and
``dynasty`` as stored IDs, one ``ix.writer()`` with its defaults, one
``commit()``.  No script normalisation, no bigrams, no facets: less than this
project's index holds.  Prints one JSON object: documents, seconds adding,
seconds committing, index bytes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import time


def corpus_lines(path: str):
    """The records' lines of a JSON-lines corpus, gzipped (``.gz``) or not; blank lines skipped."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        for raw in fh:
            if raw.strip():
                yield raw


def dir_bytes(path: str) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(dirpath, name))
    return total


def build(corpus: str, index_dir: str, limit: int | None = None) -> dict:
    import logging

    import jieba
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index
    from whoosh.fields import ID, TEXT, Schema

    jieba.setLogLevel(logging.WARNING)
    started = time.perf_counter()
    shutil.rmtree(index_dir, ignore_errors=True)
    os.makedirs(index_dir)
    analyzer = ChineseAnalyzer()
    schema = Schema(id=ID(stored=True, unique=True), title=TEXT(stored=True, analyzer=analyzer),
                    body=TEXT(stored=True, analyzer=analyzer), author=ID(stored=True),
                    dynasty=ID(stored=True))
    ix = index.create_in(index_dir, schema)
    writer = ix.writer()
    count = 0
    for raw in corpus_lines(corpus):
        record = json.loads(raw)
        writer.add_document(id=str(record.get("id", count)), title=record.get("title") or "",
                            body=record.get("text") or "", author=record.get("author") or "",
                            dynasty=record.get("dynasty") or "")
        count += 1
        if limit and count >= limit:
            break
    added = time.perf_counter()
    writer.commit()
    done = time.perf_counter()
    return {"documents": count, "seconds": round(done - started, 3),
            "add_seconds": round(added - started, 3), "commit_seconds": round(done - added, 3),
            "index_bytes": dir_bytes(index_dir)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.naive", description=__doc__.split("\n")[0])
    p.add_argument("corpus")
    p.add_argument("index_dir")
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args(argv)
    print(json.dumps(build(args.corpus, args.index_dir, args.limit)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
