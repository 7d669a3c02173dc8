"""The query path on small corpora: cross-script, phrases, exclusion, ranking, facets."""

import random
from collections import Counter

import pytest

from search import QueryError, build_index, open_index, parse_query
from tests.helpers import ids, write_folder, write_jsonl

DOCS = {
    "simp-luoyang.txt": "洛阳呼叫中心\n洛阳市的呼叫中心产业发展很快，携程也在洛阳设立客服中心。",
    "trad-luoyang.txt": "洛陽經濟開發區\n洛陽的呼叫中心產業正在擴大，攜程客服中心落戶洛陽。",
    "scattered.txt": "分散的词\n我们呼叫朋友。城市中心很热闹。这里的产业很多。",
    "guiyang.txt": "贵阳大数据\n贵阳发展大数据产业，不涉及其他城市。",
    "title-only.txt": "淮安新闻\n今天天气很好，大家出去散步。",
    "body-only.txt": "今日消息\n市民说淮安的天气很好，大家出去散步。",
}


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("q")
    write_folder(root / "docs", DOCS)
    report = build_index([root / "docs"], root / "index")
    assert report.indexed == len(DOCS) and report.ok
    return open_index(root / "index")


def test_either_script_finds_both_scripts(index):
    simp, trad = index.search("洛阳"), index.search("洛陽")
    assert set(ids(simp)) == {"simp-luoyang.txt", "trad-luoyang.txt"}
    assert ids(simp) == ids(trad)
    assert [h.score for h in simp.hits] == [h.score for h in trad.hits]


def test_traditional_query_finds_simplified_text(index):
    res = index.search("攜程")
    assert set(ids(res)) == {"simp-luoyang.txt", "trad-luoyang.txt"}


def test_highlight_shows_the_documents_own_script(index):
    res = index.search("洛阳 呼叫中心产业")
    trad = next(h for h in res.hits if h.id == "trad-luoyang.txt")
    assert "<mark>洛陽</mark>" in trad.snippet
    assert "洛阳" not in trad.snippet
    assert "<mark>洛陽</mark>" in trad.title_html


def test_phrase_matches_only_contiguous_text_in_either_script(index):
    for q in ('"呼叫中心产业"', '"呼叫中心產業"', "“呼叫中心产业”"):
        res = index.search(q)
        assert set(ids(res)) == {"simp-luoyang.txt", "trad-luoyang.txt"}, q
    # The scattered document has every word, but not together.
    assert "scattered.txt" in ids(index.search("呼叫 中心 产业"))


def test_phrase_of_text_jieba_splits_differently(index):
    # 市中心 is not a word of the text (城市 中心 are), yet it is there literally;
    # 中心城市 has the same words but is not there.
    assert ids(index.search('"市中心"')) == ["scattered.txt"]
    missing = index.search('"中心城市"')
    # Nothing holds it exactly: the answer says so and falls back to its words.
    assert missing.notices and "exactly" in missing.notices[0]
    assert "scattered.txt" in ids(missing)
    # With another quoted phrase that does match, the quote stays strict.
    assert ids(index.search('"城市中心" 朋友')) == ["scattered.txt"]


def test_exclusion(index):
    res = index.search("呼叫中心 -洛陽")
    assert "simp-luoyang.txt" not in ids(res) and "trad-luoyang.txt" not in ids(res)
    assert ids(res) == ["scattered.txt"] or "scattered.txt" in ids(res)
    assert all("洛" not in h.snippet for h in res.hits)
    only_excluded = index.search("-洛阳")
    assert only_excluded.total == len(DOCS) - 2


@pytest.mark.parametrize("q", ["洛阳 -中心", "洛陽 -呼叫中心", "洛阳 -產業"])
def test_an_exclusion_that_removes_every_match_leaves_no_hits(index, q):
    res = index.search(q)
    assert res.total == 0 and res.hits == [], (q, ids(res))


def test_more_query_words_rank_higher_and_not_all_are_required(index):
    res = index.search("贵阳的大数据产业怎么样")
    assert ids(res)[0] == "guiyang.txt"
    assert res.total > 1  # 产业 alone matches others: OR, not AND


def test_title_counts_more_than_body(index):
    res = index.search("淮安")
    assert ids(res)[:2] == ["title-only.txt", "body-only.txt"]


def test_question_words_do_not_decide_the_ranking(index):
    res = index.search("哪个城市在发展大数据？")
    assert ids(res)[0] == "guiyang.txt"


def test_paging_and_totals(index):
    first = index.search("产业", per_page=1, page=1)
    second = index.search("产业", per_page=1, page=2)
    assert first.total == second.total >= 2
    assert ids(first) != ids(second)
    assert first.pages == first.total


@pytest.mark.parametrize("kwargs", [
    {"sort": "bogus"}, {"page": 0}, {"page": -1}, {"page": 10**9}, {"per_page": 10**6},
    {"per_page": 0}, {"page": "abc"}, {"filters": {"nosuchfacet": ["x"]}}, {"year": "20x4"},
])
def test_bad_parameters_raise_query_error(index, kwargs):
    with pytest.raises(QueryError):
        index.search("洛阳", **kwargs)


def test_too_long_query_is_refused_with_a_reason(index):
    with pytest.raises(QueryError, match="limit"):
        index.search("洛" * 10_000)


@pytest.mark.parametrize("q", ['"', '"洛阳', "(((", "*", "a*", "title:洛阳", "洛阳^5",
                               "[a TO z]", "！？。", "   ", "-", "--", "\x00"])
def test_syntax_is_plain_text(index, q):
    res = index.search(q)
    assert res.total >= 0


def test_unbalanced_quote_runs_to_the_end():
    parsed = parse_query('贵阳 "呼叫中心')
    assert parsed.phrases == ["呼叫中心"] and parsed.words == ["贵阳"]


def test_a_quote_mark_ends_a_word():
    # The quotes hold a blank (a placeholder): the text after them is free
    # words, not a phrase required to the end.
    parsed = parse_query("已收到创建新群组“ ”的请求。 确认要创建群组吗？")
    assert parsed.phrases == []
    assert parsed.words == ["已收到创建新群组", "的请求。", "确认要创建群组吗？"]
    assert parse_query("附件「說明」已存在").phrases == ["說明"]


def test_json_record_fields_become_facets_and_filters(tmp_path):
    write_jsonl(tmp_path / "poems.jsonl", [
        {"id": "p1", "title": "靜夜思", "author": "李白", "dynasty": "唐", "text": "床前明月光，疑是地上霜。"},
        {"id": "p2", "title": "月夜", "author": "杜甫", "dynasty": "唐", "text": "今夜鄜州月，閨中只獨看。明月"},
        {"id": "p3", "title": "水调歌头", "author": "苏轼", "dynasty": "宋", "text": "明月几时有，把酒问青天。"},
    ])
    build_index([tmp_path / "poems.jsonl"], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    assert {"author", "dynasty"} <= set(ix.facet_names)
    res = ix.search("明月", filters={"author": ["李白", "杜甫"]})
    assert set(ids(res)) == {"p1", "p2"}
    # The author facet still lists 苏轼: a facet's own selection doesn't hide its values.
    assert {f["value"] for f in res.facets["author"]} == {"李白", "杜甫", "苏轼"}
    assert ids(ix.search("明月", filters={"author": "李白", "dynasty": "宋"})) == []
    # Metadata is searchable too.
    assert ids(ix.search("蘇軾")) == ["p3"]
    assert res.hits[0].source.endswith(("poems.jsonl:1", "poems.jsonl:2"))


def _poems_with_many_authors(count=400, seed=4):
    rng = random.Random(seed)
    authors = [f"作者{n:03d}" for n in range(60)]
    lines = ["明月照高楼", "春风又绿江南岸", "白日依山尽", "明月几时有", "江南好风景"]
    records = []
    for n in range(count):
        # Skewed: a few authors write most poems, ties in the tail.
        author = authors[min(int(rng.expovariate(0.08)), 59)]
        records.append({"id": f"m{n}", "title": rng.choice(lines), "author": author,
                        "dynasty": rng.choice(["唐", "宋", "元"]),
                        "date": f"{rng.randint(1990, 2020)}-{rng.randint(1, 12):02d}-01",
                        "text": rng.choice(lines) + "，" + rng.choice(lines)})
    return records


def test_facets_list_their_top_values_and_count_the_rest(tmp_path):
    records = _poems_with_many_authors()
    write_jsonl(tmp_path / "poems.jsonl", records)
    build_index([tmp_path / "poems.jsonl"], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    everything = ix.search("明月", per_page=100, facet_limit=10_000)
    full = everything.facets["author"]
    # Counts as the stored records give them, for the documents that match.
    matched = set()
    for page in range(1, everything.pages + 1):
        matched |= set(ids(ix.search("明月", per_page=100, page=page)))
    expected = Counter(r["author"] for r in records if r["id"] in matched)
    assert {f["value"]: f["count"] for f in full} == expected
    assert [(-f["count"], f["value"]) for f in full] == sorted((-c, v) for v, c in expected.items())
    assert "author" not in everything.facets_more

    res = ix.search("明月", facet_limit=5)
    assert res.facets["author"] == full[:5]
    assert res.facets_more["author"] == len(full) - 5
    # Years: the latest first, cut the same way.
    years = everything.facets["year"]
    assert len(years) > 5
    assert [y["value"] for y in years] == sorted((y["value"] for y in years), reverse=True)
    assert res.facets["year"] == years[:5]
    # A selected value is listed even when it is not among the top ones.
    rare = full[-1]["value"]
    picked = ix.search("明月", facet_limit=5, filters={"author": [rare]})
    listed = {f["value"]: f["count"] for f in picked.facets["author"]}
    assert listed[rare] == expected[rare] and len(listed) == 6
    assert picked.facets_more["author"] == len(full) - 6
    # And across the API boundary the limit is checked.
    for bad in (-1, "many", 10_001):
        with pytest.raises(QueryError):
            ix.search("明月", facet_limit=bad)


def test_date_order_pages_through_every_document_once(tmp_path):
    records = _poems_with_many_authors(300, seed=8)
    for r in records[::7]:
        del r["date"]           # undated: last, newest or oldest first
    write_jsonl(tmp_path / "poems.jsonl", records)
    build_index([tmp_path / "poems.jsonl"], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    for sort in ("newest", "oldest"):
        seen = []
        for page in range(1, 5):
            seen += [(h.id, h.date) for h in ix.search("明月", sort=sort, per_page=100, page=page).hits]
        total = ix.search("明月").total
        assert len(seen) == total == len({i for i, _ in seen})
        dates = [d for _, d in seen]
        dated = [d for d in dates if d]
        assert dates == dated + [None] * (len(dates) - len(dated))
        assert dated == sorted(dated, reverse=sort == "newest")
        # Pages cut anywhere agree with the whole order.
        assert [h.id for h in ix.search("明月", sort=sort, per_page=7, page=3).hits] == \
            [i for i, _ in seen[14:21]]
    # Only words to leave out: nothing to rank by, so browsing order.
    only_not = ix.search("-明月")
    assert only_not.sort == "newest" and only_not.total == len(records) - total
