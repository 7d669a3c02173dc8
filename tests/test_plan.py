"""One query plan: the results page and ``explain`` plan, match and rank a
query the same way.

For every top-10 hit of a set of queries, ``explain`` gives the document the
rank and score the results page gives it, and counts the same matches; the
plan ``SearchIndex.plan`` returns is the one both ran.  Over the seeds (words,
questions, a quoted text no document holds, exclusions, pinyin), and over 200
questions of the relevance collection (``../shared/corpora/relevance-dev``,
built as ``search.eval`` builds it) when that collection is there.
"""

from __future__ import annotations

import json
import time

import pytest

from search import build_index, open_index
from search.eval import DEFAULT_DIR
from search.query import budget
from search.query.expansion import EXPANDERS, Expansion, expand
from search.query.parse import parse_query
from search.query.plan import QueryPlan, plan_query
from search.rank.matching import match

SEED_QUERIES = [
    "呼叫中心",                          # words
    "牡丹江",
    "洛陽 呼叫中心",                      # the other script
    "呼叫中心落户在哪个城市？",            # a question
    "老赫是做什么的",
    '"呼叫中心" 洛阳',                    # quoted text every match holds
    '"呼叫中心在火星" 洛阳',              # quoted text no document holds: its words instead
    "呼叫中心 -洛阳",                     # an exclusion
    '呼叫中心 -"牡丹江"',
    "mudanjiang",                        # pinyin
    "luoyang hujiao",
    "牡丹jiang",
]

RELEVANCE_QUERIES = 200


@pytest.fixture(autouse=True)
def _no_time_limit(monkeypatch):
    # A loaded machine must not cut one reading short and not the other.
    monkeypatch.setattr(budget, "TIME_BUDGET", 60.0)


def assert_explain_agrees(ix, q: str) -> int:
    """``explain`` of each top-10 hit of ``q`` against the results page;
    the number of hits compared."""
    page = ix.search(q, per_page=10)
    assert not page.partial, q
    for rank, hit in enumerate(page.hits, 1):
        info = ix.explain(q, doc_id=hit.id)
        doc = info["document"]
        assert info["matches"] == page.total, (q, hit.id)
        assert info["matches_exact"] == page.total_exact
        assert doc["found"] and doc["matches"], (q, hit.id)
        assert (doc["rank"], doc["score"]) == (rank, hit.score), (q, hit.id)
        assert info["expansions"] == page.expansions
    return len(page.hits)


@pytest.fixture(scope="module")
def seeds(seed_index):
    return open_index(seed_index)


@pytest.mark.parametrize("q", SEED_QUERIES)
def test_explain_ranks_and_scores_as_the_results_page_on_the_seeds(seeds, q):
    assert_explain_agrees(seeds, q)


def test_the_seed_queries_reach_every_kind_of_plan(seeds):
    """The queries above are not vacuous: they find documents, and among
    them are a fallback to quoted text read as words, exclusions and pinyin."""
    pages = {q: seeds.search(q) for q in SEED_QUERIES}
    assert all(pages[q].total for q in SEED_QUERIES if q != "luoyang hujiao")
    assert any("exactly" in n for n in pages['"呼叫中心在火星" 洛阳'].notices)
    assert pages["呼叫中心"].total > pages["呼叫中心 -洛阳"].total
    assert [e["kind"] for e in pages["mudanjiang"].expansions] == ["pinyin"]


@pytest.mark.parametrize("q", SEED_QUERIES)
def test_the_plan_is_what_search_and_explain_ran(seeds, q):
    plan = seeds.plan(q)
    assert isinstance(plan, QueryPlan)
    matches = match(plan, seeds._current().searcher(), time.monotonic() + budget.TIME_BUDGET)
    assert matches.plan_used in (plan, plan.quoted_as_words)
    page = seeds.search(q)
    info = seeds.explain(q)
    assert page.total == info["matches"] == len(matches.docs)
    assert info["whoosh_query"] == str(matches.plan_used.whoosh_query)
    assert info["highlight"] == list(dict.fromkeys(matches.plan_used.needles))
    assert page.expansions == info["expansions"] == [e.to_dict() for e in plan.expansions]
    assert page.query == plan.parsed.text == info["query"]
    for notice in matches.notices:
        assert notice in page.notices and notice in info["notices"]


def test_quoted_text_no_document_holds_is_planned_as_its_words(seeds):
    plan = seeds.plan('"呼叫中心在火星" 洛阳')
    assert plan.parsed.phrases == ["呼叫中心在火星"]
    loose = plan.quoted_as_words
    assert loose is not None and loose.parsed.phrases == []
    assert loose.parsed.words == ["洛阳", "呼叫中心在火星"]
    assert seeds.plan("呼叫中心").quoted_as_words is None


def test_the_plan_carries_the_selected_filters(seeds):
    plan = seeds.plan('"呼叫中心在火星"', city="洛陽", year="2012-01")
    assert plan.filters == {"city": ["洛阳"], "month": ["2012-01"]}
    assert plan.quoted_as_words.filters == plan.filters
    assert seeds.plan("呼叫中心").filters == {}


def test_plan_query_is_the_plan_the_index_gives(seeds):
    gen = seeds._current()
    for q in SEED_QUERIES:
        assert str(plan_query(q, gen).whoosh_query) == str(seeds.plan(q).whoosh_query)


def test_every_expander_keeps_to_the_interface(seeds):
    gen = seeds._current()
    parsed = parse_query("mudanjiang 軟體")
    assert [e.kind for e in EXPANDERS] == ["pinyin", "variant"]
    for expander in EXPANDERS:
        found = expander.expand(parsed.words, parsed, gen)
        assert all(isinstance(e, Expansion) and e.kind == expander.kind for e in found)
    assert [e.kind for e in expand(parsed, gen)] == ["pinyin", "variant"]


def _relevance_queries() -> list[str]:
    lines = (DEFAULT_DIR / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    picked = items[::max(1, len(items) // RELEVANCE_QUERIES)][:RELEVANCE_QUERIES]
    # Every other question in the other script.
    return [item["query"] if i % 2 == 0 else item["query_other_script"]
            for i, item in enumerate(picked)]


@pytest.mark.slow
@pytest.mark.skipif(not (DEFAULT_DIR / "docs.jsonl").exists(),
                    reason=f"the relevance collection is not at {DEFAULT_DIR} "
                           "(it lives in ../shared/corpora/relevance-dev beside the checkout)")
def test_explain_ranks_and_scores_as_the_results_page_on_the_relevance_questions(tmp_path):
    build_index([DEFAULT_DIR / "docs.jsonl"], tmp_path / "index")
    ix = open_index(tmp_path / "index")
    queries = _relevance_queries()
    assert len(queries) == RELEVANCE_QUERIES
    compared = sum(assert_explain_agrees(ix, q) for q in queries)
    assert compared >= 9 * RELEVANCE_QUERIES
