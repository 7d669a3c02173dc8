"""What makes a results page fast keeps it the same page: warming up, the
live link read in two system calls, the stage timings of bench.queries."""

import json
import shutil

import pytest

from bench import queries as bench_queries
from search import IndexDamaged, build_index, open_index
from search.store import vocabulary
from search.store.layout import live_generation
from search.text import segment
from tests.helpers import ids, write_jsonl

POEMS = [
    {"id": "p1", "title": "靜夜思", "text": "床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。",
     "author": "李白", "city": "洛陽", "date": "0726-01-01"},
    {"id": "p2", "title": "春晓", "text": "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
     "author": "孟浩然", "city": "襄阳", "date": "0720-03-01"},
    {"id": "p3", "title": "洛阳道", "text": "洛阳城里见秋风，欲作家书意万重。明月照人归。",
     "author": "张籍", "city": "洛阳", "date": "0800-09-01"},
]


def _build(root, records):
    write_jsonl(root / "poems.jsonl", records)
    report = build_index([root / "poems.jsonl"], root / "index")
    assert report.ok and report.indexed == len(records)
    return root / "index"


@pytest.fixture
def index_dir(tmp_path):
    return _build(tmp_path, POEMS)


def _page(res) -> dict:
    page = res.to_dict()
    page.pop("elapsed_ms")
    return page


def test_warm_up_loads_what_queries_need_and_answers_the_same(index_dir):
    cold, warm = open_index(index_dir), open_index(index_dir)
    seconds = warm.warm_up()
    assert seconds > 0
    # The vocabulary is there without waiting.
    assert vocabulary.vocabulary(warm._current(), timeout=0) is not None
    for q in ("明月", "洛陽", "luoyang", "落阳", "明月 -霜"):
        assert _page(warm.search(q)) == _page(cold.search(q)), q
    assert set(ids(warm.search("明月"))) == {"p1", "p3"}


def test_a_rebuilt_index_is_seen_by_an_open_one(tmp_path):
    index_dir = _build(tmp_path, POEMS)
    ix = open_index(index_dir)
    before = live_generation(index_dir)
    assert ix.search("春眠").total == 1
    _build(tmp_path, [POEMS[0], POEMS[2]])
    assert live_generation(index_dir) != before
    assert ix.search("春眠").total == 0
    assert ix.stats()["documents"] == 2


def test_an_open_index_whose_generation_is_removed_says_it_is_damaged(index_dir):
    ix = open_index(index_dir)
    assert ix.search("明月").total == 2
    gen = live_generation(index_dir)
    shutil.rmtree(gen)
    with pytest.raises(IndexDamaged, match=f"names the generation {gen.name}, which does not exist"):
        ix.search("明月")


def test_bench_queries_times_each_stage_of_each_search(index_dir, tmp_path, capsys):
    qfile = tmp_path / "queries.jsonl"
    qs = [{"qid": "w1", "kind": "word", "q": "明月", "filters": {}},
          {"qid": "f1", "kind": "filtered", "q": "明月", "filters": {"city": "洛阳"}},
          {"qid": "b1", "kind": "browse", "q": "", "filters": {"author": "李白"}}]
    write_jsonl(qfile, qs)
    assert bench_queries.main([str(index_dir), str(qfile), "--rounds", "2", "--stages"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["open_seconds"] >= out["warm_up_seconds"] > 0
    rows = {r["qid"]: r for r in out["queries"]}
    assert [rows[q]["total"] for q in ("w1", "f1", "b1")] == [2, 2, 1]
    for row in rows.values():
        assert len(row["stages"]) == len(row["ms"]) == 2
        for ms, stages in zip(row["ms"], row["stages"]):
            assert {"plan", "match", "facets", "rank", "hits", "other"} <= set(stages)
            assert sum(stages.values()) == pytest.approx(ms)
            assert all(v >= 0 for k, v in stages.items() if k != "other")
    assert "filters" in rows["f1"]["stages"][0] and "filters" not in rows["w1"]["stages"][0]


def test_kept_segmentations_are_jiebas_and_each_caller_gets_its_own_list():
    text = "我来到北京清华大学"
    first = segment.segment(text)
    assert first == segment.segment_reference(text)
    first.append(("乱", 0, 1, False))
    assert segment.segment(text) == segment.segment_reference(text)
    grams = segment.char_grams(text)
    grams.clear()
    assert [g for g, _s, _e in segment.char_grams(text)] == [
        text[i:i + 2] for i in range(len(text) - 1)]


def test_kept_documents_stay_within_their_bound_and_show_the_same_hits(index_dir, monkeypatch):
    import search.searcher as searcher
    sizes = sorted(searcher._text_size(ix_doc) for ix_doc in _stored(index_dir))
    monkeypatch.setattr(searcher, "KEEP_DOCUMENT_CHARS", sizes[0] + sizes[1])
    ix = open_index(index_dir)
    pages = [_page(ix.search(q)) for q in ("明月", "春眠", "洛阳", "明月")]
    kept = searcher._kept_documents(ix._current())
    assert 0 < kept._chars <= searcher.KEEP_DOCUMENT_CHARS
    assert 1 <= len(kept._kept) <= 2
    fresh = open_index(index_dir)
    monkeypatch.setattr(searcher, "KEEP_ONE_DOCUMENT_CHARS", 0)
    assert [_page(fresh.search(q)) for q in ("明月", "春眠", "洛阳", "明月")] == pages


def _stored(index_dir):
    searcher = open_index(index_dir)._current().searcher()
    return [searcher.stored_fields(d) for d in range(len(POEMS))]


@pytest.mark.parametrize("marks_per_lookup", [0, 16, 10_000])
def test_set_membership_is_the_same_by_marks_and_by_binary_search(monkeypatch, marks_per_lookup):
    import numpy as np
    from search.store import docsets
    monkeypatch.setattr(docsets, "MARKS_PER_LOOKUP", marks_per_lookup)
    rng = np.random.default_rng(7)
    for _ in range(300):
        span = int(rng.integers(1, 5000))
        docs = np.unique(rng.integers(0, span, int(rng.integers(1, 3000))))
        ids = rng.integers(0, span + 50, int(rng.integers(1, 3000)))
        assert (docsets.within(ids, docs) == np.isin(ids, docs)).all()
        other = np.unique(rng.integers(0, span, int(rng.integers(1, 3000))))
        assert (docsets.intersection([docs, other]) == np.intersect1d(docs, other)).all()
        assert (docsets.minus(docs, other) == np.setdiff1d(docs, other)).all()
