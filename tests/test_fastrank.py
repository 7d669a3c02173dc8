"""``search.rank.fastrank.rank`` ranks as Whoosh's collector does: same documents,
same order, same scores, for every shape of query the query path builds.

The references are Whoosh's own: its collector (``searcher.search`` with the
index's weighting) told to keep only matching documents (its AndNot matcher
can let an excluded one through), and its exhaustive scoring (every match scored, no block skipping): the
collector's own pruning is not exact (``_pruned_wrongly``).

Indexes: the seeds (5 documents), a synthetic corpus of 5,200 documents in
both scripts (one segment above 5,000 documents, where Whoosh's ranked Or is a
tree of union matchers; below, its array matcher), and an index of three
segments with deletions written by Whoosh's own writer.  Pruning (scoring only
the documents that can reach the top) pays on large indexes only; one test
forces it here.
"""

from __future__ import annotations

import random
import time

import pytest
from whoosh import query as wq

from search import build_index, open_index
from search.query.build import build_query
from search.query.expansion import expand
from search.query.parse import parse_query
from search.rank import fastrank
from search.rank.matching import matching_docs
from search.text.script import to_traditional
from tests.helpers import write_jsonl
from tests.synthetic import CITIES, seed_sentences

FAR = 3600.0

# Sentences that give the expansions and the quoted text something to find.
EXTRA = [
    "网络客服中心在洛阳开业，出租车司机也打电话咨询。",
    "台湾的網路公司聘请计程车司机做客服，服务外包越来越普遍。",
    "香港的士司机说呼叫中心的电话很多。",
    "呼叫中心呼叫中心，重复的词也要排好。",
    "软件外包和服务外包都是牡丹江的新产业。",
]


def corpus(count: int, seed: int = 5) -> list[dict]:
    """``count`` records, about half in traditional script; two in three are
    filler (the seeds' characters shuffled) so that common words are not in
    every document."""
    rng = random.Random(seed)
    simp = list(seed_sentences()) + EXTRA * 8
    chars = [c for s in simp for c in s if "\u4e00" <= c <= "\u9fff"]
    out = []
    for n in range(count):
        text = rng.choice(simp) if n % 3 == 0 else \
            "".join(rng.choice(chars) for _ in range(rng.randint(10, 40)))
        if rng.random() < 0.5:
            text = to_traditional(text)
        out.append({"id": f"d/{n:05d}", "title": text[:rng.randint(4, 20)], "text": text,
                    "city": rng.choice(CITIES)})
    return out


@pytest.fixture(scope="module")
def synthetic_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("fastrank")
    source = write_jsonl(root / "corpus.jsonl", corpus(5200))
    report = build_index([source], root / "index")
    assert report.indexed == 5200
    return open_index(root / "index")


@pytest.fixture(scope="module")
def segmented_index(tmp_path_factory):
    """Three segments (Whoosh's writer, no merging) and a few deletions."""
    from whoosh import index as whoosh_index

    from search.store.schema import build_schema
    root = tmp_path_factory.mktemp("segments") / "ix"
    root.mkdir()
    ix = whoosh_index.create_in(str(root), build_schema())
    records = corpus(240, seed=9)
    for part in range(3):
        with ix.writer() as w:
            w.merge = False
            for r in records[part * 80:(part + 1) * 80]:
                w.add_document(id=r["id"], title=r["title"], body=r["text"],
                               grams=f"{r['title']}\n{r['text']}", meta=r["city"])
    with ix.writer() as w:
        w.merge = False
        for n in (3, 90, 91, 200):
            w.delete_by_term("id", records[n]["id"])
    return ix


QUERIES = [
    # words and names, in both scripts
    "呼叫中心", "呼叫中心產業", "牡丹江", "赫明辉", "客服外包", "電話營銷", "洛阳",
    # 2-4 character strings, single characters
    "中心", "叫中", "产业发展", "外包企", "的", "呼",
    # questions full of stop words
    "牡丹江的呼叫中心有哪些企业", "什么是服务外包", "老赫是谁", "關於呼叫中心和人才的新聞是什麼",
    "为什么洛阳要发展呼叫中心产业呢",
    # quoted text, alone and with words
    '"呼叫中心产业"', "「電話銷售團隊」", '"攜"', '客服 "服务外包"', '"没有这样的文字"',
    # exclusions
    "呼叫中心 -洛阳", '客服 -"呼叫中心"', "-牡丹江", '"服务外包" -软件',
    # pinyin and regional words
    "hujiao zhongxin", "mudanjiang", "出租车", "网络 客服", "軟體",
]


def _whoosh_not_wanted(*args):
    raise AssertionError("fastrank fell back to Whoosh's collector")


def _rank_all(searcher, q, allowed, limit, fallback=False):
    if fallback:
        new, partial = fastrank.rank(searcher, q, allowed, limit, time.monotonic() + FAR)
    else:
        # The query path's queries are all ranked in bulk, never by Whoosh.
        whoosh_rank, fastrank.whoosh_rank = fastrank.whoosh_rank, _whoosh_not_wanted
        try:
            new, partial = fastrank.rank(searcher, q, allowed, limit, time.monotonic() + FAR)
        finally:
            fastrank.whoosh_rank = whoosh_rank
    assert not partial
    return new


def _old(searcher, q, keep, limit):
    """Whoosh's collector: its top ``limit`` among ``keep``, best first, ties by docnum."""
    return [(h.docnum, round(h.score, 4))
            for h in searcher.search(q, limit=limit, filter=set(keep))]


def _every(searcher, q, keep):
    """Whoosh's exhaustive ranking: every match scored, best first, ties by docnum."""
    return [(h.docnum, round(h.score, 4)) for h in searcher.search(q, limit=None)
            if h.docnum in keep]


def check(ix, text, limits=(1, 10, 100), allowed_sets=(None,)):
    gen = ix._current()
    searcher = gen.searcher()
    parsed = parse_query(text)
    q, _ = build_query(parsed, expand(parsed, gen))
    matched = set(matching_docs(searcher, q).tolist())
    ranked = _every(searcher, q, matched)
    for allowed in allowed_sets:
        keep = matched if allowed is None else matched & allowed
        every = [hit for hit in ranked if hit[0] in keep]
        for limit in limits:
            new = _rank_all(searcher, q, allowed, limit)
            assert new == every[:limit], (text, limit)
            old = _old(searcher, q, keep, limit)
            assert new == old or _pruned_wrongly(old, every[:limit]), (text, limit)


def _pruned_wrongly(old, every):
    """Whoosh's collector, not the exhaustive scoring, is wrong: its pruning
    (``matcher.replace`` turning unions into intersections mid-way) scores
    some document without one of its parts, so it ranks lower or drops out."""
    return old != every and {d for d, _ in old} != {d for d, _ in every} or \
        [s for _, s in old] < [s for _, s in every]


@pytest.mark.parametrize("text", QUERIES)
def test_same_ranking_as_whoosh(synthetic_index, text):
    check(synthetic_index, text)


def test_the_queries_reach_every_shape(synthetic_index):
    kinds = set()

    def walk(q):
        kinds.add(type(q).__name__)
        for child in q.children():
            walk(child)
    for text in QUERIES:
        parsed = parse_query(text)
        walk(build_query(parsed, expand(parsed, synthetic_index._current()))[0])
    assert {"Or", "And", "AndMaybe", "AndNot", "Term", "Phrase", "Every", "Prefix"} <= kinds


def test_same_ranking_within_allowed_documents(synthetic_index):
    rng = random.Random(3)
    count = synthetic_index._current().doc_count
    subsets = [set(range(0, count, 3)), set(rng.sample(range(count), 40)), {7}]
    for text in ["呼叫中心", "牡丹江的呼叫中心有哪些企业", '客服 "服务外包"', "呼叫中心 -洛阳",
                 "出租车", "-牡丹江"]:
        check(synthetic_index, text, limits=(1, 10), allowed_sets=subsets)


def test_limit_beyond_the_index(synthetic_index):
    # Whoosh then collects every match unpruned (UnlimitedCollector).
    check(synthetic_index, "呼叫中心产业", limits=(6000,))


def test_seed_index(seed_index):
    ix = open_index(seed_index)
    for text in ["呼叫中心", "牡丹江的呼叫中心有哪些企业", '"呼叫中心"', "客服 -洛阳", "中心"]:
        check(ix, text, limits=(1, 3, 10))


def test_segments_and_deletions(segmented_index):
    from search.store import scoring as ranking
    with segmented_index.searcher(weighting=ranking.weighting()) as searcher:
        assert len(searcher.leaf_searchers()) == 3 and searcher.reader().has_deletions()
        for text in ["呼叫中心", "牡丹江的呼叫中心有哪些企业", '"呼叫中心产业"', "客服 -洛阳", "-外包"]:
            parsed = parse_query(text)
            q, _ = build_query(parsed)
            matched = set(matching_docs(searcher, q).tolist())
            for allowed in (None, set(range(0, 240, 2))):
                keep = matched if allowed is None else matched & allowed
                every = _every(searcher, q, keep)
                for limit in (1, 10, 100):
                    new = _rank_all(searcher, q, allowed, limit)
                    assert new == every[:limit], (text, limit)
                    old = _old(searcher, q, keep, limit)
                    assert new == old or _pruned_wrongly(old, every[:limit]), (text, limit)


def test_excluded_documents_never_appear(synthetic_index):
    searcher = synthetic_index._current().searcher()
    for text, excluded in [("呼叫中心 -洛阳", wq.Or([wq.Term("grams", "洛阳")])),
                           ('客服 -"呼叫中心"', wq.Phrase("grams", ["呼叫", "叫中", "中心"]))]:
        q, _ = build_query(parse_query(text))
        gone = set(matching_docs(searcher, excluded).tolist())
        assert gone
        ranked = _rank_all(searcher, q, None, 10_000)
        assert ranked and not {d for d, _ in ranked} & gone
        assert {d for d, _ in ranked} == set(matching_docs(searcher, q).tolist())


def test_past_deadline_answers_partial(synthetic_index):
    searcher = synthetic_index._current().searcher()
    for text in ["牡丹江的呼叫中心有哪些企业", '"呼叫中心产业"', "呼叫中心 -洛阳"]:
        q, _ = build_query(parse_query(text))
        ranked, partial = fastrank.rank(searcher, q, None, 10, time.monotonic() - 1)
        assert partial
        assert {d for d, _ in ranked} <= set(matching_docs(searcher, q).tolist())


def test_unsupported_queries_go_through_whoosh(synthetic_index):
    searcher = synthetic_index._current().searcher()
    for q in [wq.DisjunctionMax([wq.Term("body", "呼叫"), wq.Term("title", "中心")]),
              wq.Or([wq.Wildcard("grams", "携*"), wq.Term("body", "客服")])]:
        keep = set(searcher.docs_for_query(q))
        assert _rank_all(searcher, q, None, 10, fallback=True) == _old(searcher, q, keep, 10)


def test_whooshs_path_ranks_within_the_matching_set_given(synthetic_index):
    searcher = synthetic_index._current().searcher()
    q = wq.DisjunctionMax([wq.Term("body", "呼叫"), wq.Term("title", "中心")])
    every = set(searcher.docs_for_query(q))
    matched = set(sorted(every)[::2])
    ranked, partial = fastrank.rank(searcher, q, None, 1000, time.monotonic() + FAR, matched)
    assert not partial and ranked
    assert {d for d, _ in ranked} == matched
    assert ranked == _old(searcher, q, matched, 1000)


def test_empty_allowed_set(synthetic_index):
    searcher = synthetic_index._current().searcher()
    q, _ = build_query(parse_query("呼叫中心"))
    assert fastrank.rank(searcher, q, set(), 10, time.monotonic() + FAR) == ([], False)


def test_pruned_ranking_is_the_same(synthetic_index, monkeypatch):
    # Scoring only the documents that can reach the top (and reading the other
    # parts only in the blocks that hold them) pays on large indexes only:
    # here it is forced, and must not change a single score.
    pruned = []
    candidates = fastrank._Ranker._candidates

    def spy(self, seg, root, keep):
        got = candidates(self, seg, root, keep)
        pruned.append(self.pruning)
        return got
    monkeypatch.setattr(fastrank, "PRUNE_FROM", 0)
    monkeypatch.setattr(fastrank, "_pays", lambda sizes, need: True)
    monkeypatch.setattr(fastrank._Ranker, "_candidates", spy)
    count = synthetic_index._current().doc_count
    for text in ["呼叫中心", "牡丹江的呼叫中心有哪些企业", "老赫是谁", "客服外包 洛阳",
                 '客服 "服务外包"', "呼叫中心 -洛阳", "产业发展", "hujiao zhongxin", "出租车"]:
        check(synthetic_index, text, limits=(1, 10),
              allowed_sets=(None, set(range(0, count, 3))))
    assert sum(pruned) > len(pruned) // 2


def test_terms_kept_across_queries_rank_the_same(synthetic_index):
    # Decoded postings and scores are kept for the next queries: the second
    # ranking of each query (and of others sharing its terms) reads them.
    fastrank.clear_caches()
    for text in QUERIES[:12]:
        check(synthetic_index, text, limits=(10,))
    kept = [t for t in fastrank._TERMS.values() if t.whole is not None or t.parts]
    assert kept, "nothing was kept"
    # Matching sets read kept postings too: the same documents as Whoosh's.
    reader = synthetic_index._current().searcher().reader()
    decoded = list(fastrank._DECODED)
    assert decoded
    for _segment, field, btext in decoded:
        text = btext.decode("utf-8")
        assert set(fastrank.doc_ids(reader, field, text).tolist()) == set(reader.postings(field, text).all_ids())
    for text in QUERIES[:12]:
        check(synthetic_index, text, limits=(1, 10, 100))


def test_kept_terms_stay_within_their_bound(synthetic_index, monkeypatch):
    monkeypatch.setattr(fastrank, "TERM_CACHE_POSTINGS", 400)
    fastrank.clear_caches()
    for text in QUERIES:
        check(synthetic_index, text, limits=(10,))
        assert fastrank._terms_held <= 400
        assert sum(t.cost for t in fastrank._TERMS.values()) == fastrank._terms_held
    fastrank.clear_caches()


def test_kept_terms_never_outlive_their_index(tmp_path):
    # Same folder, same ids, other text: nothing ranked from the first build.
    records = corpus(300, seed=11)
    source = write_jsonl(tmp_path / "a.jsonl", records)
    build_index([source], tmp_path / "index")
    ix = open_index(tmp_path / "index")
    for text in QUERIES[:8]:
        check(ix, text, limits=(10,))
    shuffled = corpus(300, seed=12)
    for a, b in zip(records, shuffled):
        b["id"] = a["id"]
    build_index([write_jsonl(tmp_path / "b.jsonl", shuffled)], tmp_path / "index")
    for text in QUERIES[:8]:
        check(ix, text, limits=(1, 10))


def test_doc_ids_are_whooshs_postings(synthetic_index):
    reader = synthetic_index._current().searcher().reader()
    sizes = set()
    for field in ("body", "grams", "title"):
        common = [t for _, t in reader.most_frequent_terms(field, 10)]
        for text in list(reader.lexicon(field))[:400:7] + common:
            text = text.decode("utf-8")
            got = fastrank.doc_ids(reader, field, text)
            assert got.tolist() == list(reader.postings(field, text).all_ids()), (field, text)
            sizes.add(len(got) > 128)
    assert sizes == {True, False}     # terms of one block (or inlined) and of many
    assert len(fastrank.doc_ids(reader, "body", "没有这个词")) == 0
    assert len(fastrank.doc_ids(reader, "no_such_field", "中心")) == 0


def test_doc_ids_leave_out_deleted_documents(segmented_index):
    seen = 0
    with segmented_index.searcher() as searcher:
        for reader, _ in searcher.reader().leaf_readers():
            if reader.has_deletions():
                seen += 1
                want = sorted(reader.postings("body", "中心").all_ids())     # Whoosh's, without them
                got = fastrank.doc_ids(reader, "body", "中心")
                assert got.tolist() == want
                assert not set(got.tolist()) & set(reader.deleted_docs_set)
                raw = fastrank.prefix_doc_ids(reader, "body", "中")
                assert not set(raw.tolist()) & set(reader.deleted_docs_set)
    assert seen
