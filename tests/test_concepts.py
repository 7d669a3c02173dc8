"""Results that mean the query: full and partial matches, counted and ranked.

Real indexes built with the library; the web page and the JSON API through
the real Flask app.
"""

from __future__ import annotations

import json
import re

import pytest

from search import build_index, open_index
from search.query.concepts import is_question
from search.text.script import to_simplified

from conftest import make_client

# A small collection of command help, where 文件 is everywhere (as in a
# tldr-like collection): a search for 压缩文件 must not call every page a match
# of equal standing.
TLDR = [
    {"id": "tar", "title": "tar", "text": "压缩文件或解压归档：tar -czf 归档.tar.gz 目录"},
    {"id": "zip", "title": "zip", "text": "把文件打包并压缩成 zip 格式。"},
    {"id": "gzip", "title": "gzip", "text": "壓縮檔案，並保留原始檔案。"},
    {"id": "cp", "title": "cp", "text": "复制文件和目录。"},
    {"id": "mv", "title": "mv", "text": "移动或重命名文件。"},
    {"id": "rm", "title": "rm", "text": "删除文件或目录。"},
    {"id": "cat", "title": "cat", "text": "打印文件的内容。"},
    {"id": "ls", "title": "ls", "text": "列出目录的内容。"},
    # Holds 阳市 only inside 貴陽市: no word of a search for 洛阳市.
    {"id": "guiyang", "title": "貴陽", "text": "貴陽市是貴州省的省會。"},
    {"id": "luoyang", "title": "洛阳", "text": "洛阳市位于河南省西部。"},
    {"id": "luoyang-old", "title": "洛陽", "text": "洛陽古稱神都。"},
]


@pytest.fixture(scope="module")
def tldr(tmp_path_factory):
    root = tmp_path_factory.mktemp("tldr")
    source = root / "pages.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in TLDR), encoding="utf-8")
    build_index([source], root / "index")
    return root / "index"


def test_a_few_words_rank_full_matches_first_and_count_both(tldr):
    res = open_index(tldr).search("压缩文件")
    ids = [h.id for h in res.hits]
    # 压缩文件 itself, its parts apart (压缩 … 文件), and its Taiwan form 壓縮檔案.
    full = {"tar", "zip", "gzip"}
    assert set(ids[:3]) == full
    assert res.total_full == 3
    assert res.total_partial == res.total - 3 and res.total_partial >= 4
    assert all(h.match == "full" and not h.missing for h in res.hits[:3])
    assert all(h.match == "partial" for h in res.hits[3:])
    # A partial match says what it lacks, as the reader typed it: the part
    # of 压缩文件 it does not hold.
    assert all(h.missing == ["压缩"] for h in res.hits[3:])
    assert [h.missing for h in open_index(tldr).search("壓縮文件").hits[3:]][0] == ["壓縮"]


def test_words_typed_apart_are_each_a_concept(tldr):
    res = open_index(tldr).search("壓縮 檔案")
    assert {h.id for h in res.hits[:3]} == {"tar", "zip", "gzip"}
    assert res.total_full == 3
    partial = [h for h in res.hits if h.match == "partial"]
    assert partial and all(h.missing == ["壓縮"] for h in partial)


def test_a_pair_crossing_the_query_words_lets_no_document_in(tldr):
    ix = open_index(tldr)
    res = ix.search("洛阳市")
    ids = [h.id for h in res.hits]
    assert "guiyang" not in ids
    assert ids[0] == "luoyang" and res.hits[0].match == "full"
    # 洛陽 alone holds a sub-word of 洛阳市: a partial match, shown after the full one
    # (洛阳市's sub-words do not cover it: the whole word is what it lacks).
    assert ids[1:] == ["luoyang-old"] and res.hits[1].missing == ["洛阳市"]
    assert res.total == 2 and res.total_full == 1


def test_every_listed_result_shows_why_it_matched(tldr, seed_index):
    for index, queries in ((tldr, ["压缩文件", "洛阳市", "压缩 目录", "文件"]),
                           (seed_index, ["洛阳", "呼叫中心", "牡丹花会", "洛陽市 旅游"])):
        ix = open_index(index)
        for q in queries:
            res = ix.search(q, per_page=20)
            assert res.hits, q
            for hit in res.hits:
                marked = "<mark>" in hit.title_html or any("<mark>" in s for s in hit.snippets)
                assert marked, (q, hit.id, hit.snippets)


def test_a_question_is_ranked_by_its_score_not_by_words_held(tldr):
    ix = open_index(tldr)
    assert is_question("怎么压缩文件？") and is_question("哪个命令可以压缩文件")
    assert not is_question("压缩文件") and not is_question("洛阳 牡丹")
    assert not ix.plan("怎么压缩文件？").full_first
    assert ix.plan("压缩 文件").full_first
    # Counted all the same.
    res = ix.search("怎么压缩文件？")
    assert res.total_full is not None and res.total_full <= res.total


def test_exact_text_holds_the_words_however_they_were_cut(tmp_path):
    # 几年来 is one word in the document; the query's only content word is 来.
    source = tmp_path / "d.jsonl"
    source.write_text(json.dumps({"id": "a", "text": "这几年来变化很大。"}, ensure_ascii=False),
                      encoding="utf-8")
    build_index([source], tmp_path / "ix")
    res = open_index(tmp_path / "ix").search("幾年來")
    assert [h.id for h in res.hits] == ["a"]
    assert res.hits[0].match == "full"


def test_browsing_has_no_full_or_partial(tldr):
    res = open_index(tldr).search("")
    assert res.total == len(TLDR)
    assert res.total_full is None and res.total_partial is None
    assert all(h.match is None and h.missing == [] for h in res.hits)


def test_filters_narrow_both_counts(tmp_path):
    records = [{"id": f"d{i}", "text": text, "city": city}
               for i, (text, city) in enumerate([("压缩文件", "洛阳"), ("压缩文件", "贵阳"),
                                                  ("打开文件", "洛阳"), ("打开文件", "贵阳")])]
    source = tmp_path / "d.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records),
                      encoding="utf-8")
    build_index([source], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    every = ix.search("压缩文件")
    assert (every.total, every.total_full) == (4, 2)
    one_city = ix.search("压缩文件", city="洛阳")
    assert (one_city.total, one_city.total_full) == (2, 1)
    assert [h.match for h in one_city.hits] == ["full", "partial"]


def test_the_page_and_the_json_say_how_many_match_fully(tldr):
    client = make_client(tldr)
    data = client.get("/api/search?q=压缩文件").get_json()
    assert data["total_full"] == 3 and data["total_partial"] == data["total"] - 3
    assert [h["match"] for h in data["hits"][:3]] == ["full"] * 3
    assert data["hits"][-1]["missing"] == ["压缩"]
    html = client.get("/?q=压缩文件").get_data(as_text=True)
    summary = re.search(r'<p class="summary".*?</p>', html, re.S).group(0)
    assert "3</span> 条含全部查询词" in summary
    assert f'{data["total_partial"]}</span> 条只含部分' in summary
    assert html.count('class="hit-missing"') == data["total"] - 3
    assert "<s>压缩</s>" in html


def test_other_regions_words_make_a_full_match(tldr):
    # 檔案 is the Taiwan word for 文件: gzip's page holds 压缩文件 in Taiwan's words.
    res = open_index(tldr).search("压缩文件")
    gzip = next(h for h in res.hits if h.id == "gzip")
    assert gzip.match == "full"
    assert "<mark>" in gzip.snippet and "檔案" in re.sub(r"</?mark>", "", gzip.snippet)
    assert to_simplified("壓縮檔案") == "压缩档案"


def test_explain_tells_the_concepts_and_what_a_document_lacks(tldr):
    ix = open_index(tldr)
    out = ix.explain("压缩文件", "cp")
    concept = out["concepts"][0]
    assert concept["word"] == "压缩文件" and concept["parts"][0] == ["压缩"]
    assert "档案" in concept["parts"][1]
    assert out["full_matches"] == 3 and out["full_first"] is True
    assert out["document"]["match"] == "partial" and out["document"]["lacks"] == ["压缩文件"]
    assert ix.explain("压缩文件", "gzip")["document"]["holds"] == ["压缩文件"]
