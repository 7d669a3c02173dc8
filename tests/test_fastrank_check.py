"""``bench.fastrank_check`` finds the results page's ranking identical to its
references, and says so when a ranking is not the page's.

The index is the committed sample (``bench/sample.jsonl``, 400 poems); the
queries have matches holding only part of their concepts (杨万里: its sub-word
万里 alone; 春 雨: one of its words) that outscore the full ones, so ordering by
score alone, as before full matches ranked first, is a difference the check
must report; and matches of equal score (the six poems of 楊萬里), so ties in
the other order are one too.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from whoosh import query as wq

from bench import fastrank_check
from search import build_index, open_index
from search.rank import fastrank
from search.rank.matching import rank_matches
from tests.helpers import write_jsonl

SAMPLE = Path(__file__).resolve().parent.parent / "bench" / "sample.jsonl"

# Queries whose full matches rank first (``QueryPlan.full_first``) with a
# partial match outscoring a full one in the top 10.
TIERED = [
    {"qid": "pieces", "kind": "name", "q": "杨万里"},
    {"qid": "two-words", "kind": "word", "q": "春 雨"},
    {"qid": "name-and-word", "kind": "word", "q": "杨万里 诗"},
    {"qid": "three-words", "kind": "word", "q": "雨 春 花"},
    {"qid": "excluding", "kind": "word", "q": "春 雨 -风"},
    {"qid": "filtered", "kind": "filtered", "q": "春 雨", "filters": {"dynasty": ["宋"]}},
]
# Ranked by score alone: a question, a quoted text, a single word.
BY_SCORE = [
    {"qid": "question", "kind": "question", "q": "谁写了春雨"},
    {"qid": "quoted", "kind": "phrase", "q": "“春雨”"},
    {"qid": "word", "kind": "word", "q": "明月"},
]
QUERIES = TIERED + BY_SCORE

SUMMARY = re.compile(r"(\d+) queries with matches \(of (\d+)\); identical rankings: "
                     r"top 10 (\d+)/(\d+), top 100 (\d+)/(\d+); "
                     r"bulk ranking differing from Whoosh's exhaustive scoring: (\d+)")


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("fastrank_check")
    report = build_index([SAMPLE], root / "index")
    assert report.indexed == 400
    return root / "index"


@pytest.fixture(scope="module")
def queries_file(tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp("queries") / "queries.jsonl", QUERIES)


def check(index, queries, ranking=None) -> tuple[int, str]:
    out = io.StringIO()
    code = fastrank_check.run(str(index), queries, out=out, ranking=ranking)
    return code, out.getvalue()


def test_the_pages_ranking_is_identical(sample_index, queries_file, capsys):
    code = fastrank_check.main([str(sample_index), str(queries_file)])
    printed = capsys.readouterr().out
    summary = SUMMARY.search(printed)
    assert summary, printed
    compared, total, top10, of10, top100, of100, wrong = map(int, summary.groups())
    assert (compared, total) == (len(QUERIES), len(QUERIES)), printed
    assert (top10, of10, top100, of100, wrong) == (compared,) * 4 + (0,), printed
    assert "WRONG" not in printed and code == 0


def score_alone(searcher, matches, within, limit, deadline):
    """The matches by score alone: the order before full matches ranked first."""
    pool = matches.docs if within is None else within
    q = matches.ranked_query
    # The matches hold no excluded document: their score is the positive part's.
    return fastrank.rank(searcher, q.a if isinstance(q, wq.AndNot) else q, pool, limit, deadline)


def test_ranking_by_score_alone_is_caught(sample_index):
    code, printed = check(sample_index, QUERIES, score_alone)
    assert code == 1
    for query in TIERED:
        assert f"{query['qid']} {query['q']!r} top 10: NEW WRONG" in printed, printed
    for query in BY_SCORE:
        assert not re.search(rf"^{query['qid']} ", printed, re.M), printed


def ties_reversed(searcher, matches, within, limit, deadline):
    """The page's ranking with documents of equal score in the other order."""
    top, partial = rank_matches(searcher, matches, within, limit, deadline)
    runs: dict[float, list[int]] = {}
    for docnum, score in top:
        runs.setdefault(score, []).append(docnum)
    flipped = {score: list(reversed(docs)) for score, docs in runs.items()}
    return [(flipped[score].pop(0), score) for _docnum, score in top], partial


def test_ties_in_the_other_order_are_caught(sample_index):
    queries = [TIERED[0]]
    ix = open_index(sample_index)
    searcher, matches, within, _filtered = fastrank_check.prepare(ix, queries[0])
    top, _ = rank_matches(searcher, matches, within, 10, time.monotonic() + 60)
    assert len({score for _d, score in top}) < len(top), "the query has ties to reverse"
    code, printed = check(sample_index, queries, ties_reversed)
    assert code == 1 and "top 10: NEW WRONG" in printed, printed


def test_the_checks_tiers_are_the_pages(sample_index):
    """The concepts a document holds, by Whoosh's matching of each, are those
    the page ranks by (``Matches.held``), for every tiered query."""
    ix = open_index(sample_index)
    for query in TIERED:
        searcher, matches, _within, filtered = fastrank_check.prepare(ix, query)
        keep = set(filtered.tolist())
        held = fastrank_check.concepts_held(searcher, matches, keep)
        assert held is not None, query
        pages = {d: sum(d in set(h.tolist()) for h in matches.held) for d in keep}
        assert held == pages, query
        assert len(set(held.values())) > 1, ("partial and full matches", query)
