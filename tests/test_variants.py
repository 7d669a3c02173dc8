"""Regional vocabulary: 軟體 ↔ 软件, 網路 ↔ 网络, 資訊 ↔ 信息, 隨身碟 ↔ U盘."""

from __future__ import annotations

import pytest

from helpers import ids, write_jsonl
from reader_corpus import reader_index, rix  # noqa: F401  (fixtures)
from search.text import variants


@pytest.mark.parametrize("a, b", [("軟體", "软件"), ("網路", "网络"), ("資訊", "信息"),
                                  ("隨身碟", "U盘"), ("计程车", "出租车")])
def test_table_links_both_ways_in_either_script(a, b):
    from search.text.script import to_simplified
    assert to_simplified(b).lower() in variants.equivalents(a)
    assert to_simplified(a).lower() in variants.equivalents(b)
    # The script the word is typed in does not matter.
    assert variants.equivalents(to_simplified(a)) == variants.equivalents(a)


def test_no_single_characters_and_no_chains():
    assert all(len(k) >= 2 and all(len(v) >= 2 for v in vals) for k, vals in variants.table().items())
    assert variants.equivalents("洛阳") == ()


def test_find_reports_offsets_and_inner_words():
    found = variants.find("我的軟體和資訊技術")
    words = {(w, s, e) for w, s, e, _ in found}
    assert ("软体", 2, 4) in words and ("信息技术", 5, 9) not in words
    assert ("资讯", 5, 7) in words


# Each pair: the query, the document with its own word, the other region's document,
# the mark expected in that other document.
PAIRS = [
    ("软件", "cn/software", "tw/software", "軟體"),
    ("軟體", "tw/software", "cn/software", "软件"),
    ("网络", "cn/software", "tw/software", "網路"),
    ("網路", "tw/software", "cn/software", "网络"),
    ("信息", "cn/software", "tw/software", "資訊"),
    ("資訊", "tw/software", "cn/software", "信息"),
    ("隨身碟", "tw/software", "cn/software", "U盘"),
    ("U盘", "cn/software", "tw/software", "隨身碟"),
]


@pytest.mark.parametrize("q, own, other, mark", PAIRS)
def test_regional_words_find_each_other_own_word_first(rix, q, own, other, mark):
    res = rix.search(q)
    found = ids(res)
    assert found[:2] == [own, other], found
    [exp] = [e for e in res.expansions if e["kind"] == "variant"]
    assert exp["from"] == q and exp["weights"][0] > 0
    # The highlight lands on the other document's own word.
    hit = {h.id: h for h in res.hits}[other]
    assert f"<mark>{mark}</mark>" in hit.snippet, hit.snippet
    view = rix.document(other, q=q)
    assert f"<mark>{mark}</mark>" in view.body_html


def test_variants_are_not_shown_as_pinyin_notices(rix):
    res = rix.search("软件")
    assert not res.notices


def test_phrases_are_not_expanded(rix):
    res = rix.search('"软件"')
    assert ids(res) == ["cn/software"] and res.expansions == []


def test_equivalents_absent_from_the_index_are_not_added(rix):
    # 计程车 ↔ 出租车: neither is in the corpus, nothing to add.
    assert rix.search("出租车").expansions == []


def test_region_of_reads_script_then_vocabulary():
    assert variants.region_of("鎖定資料庫") == "tw"
    assert variants.region_of("锁定数据库") == "cn"
    # Same characters in both scripts: the words tell (字元 is Taiwan's, 字符 the mainland's).
    assert variants.region_of("特殊字元") == "tw" and variants.region_of("特殊字符") == "cn"
    assert variants.region_of("文件") is None
    # 面, 后, 里 are simplified forms that traditional text writes too: no sign
    # of the mainland (使用者 is Taiwan's word for 用户).
    assert variants.region_of("使用者介面") == "tw"
    assert variants.region_of("后来") == "cn" and variants.region_of("後來") == "tw"


def test_false_friends_are_read_in_the_query_region():
    # 文件: a file on the mainland (Taiwan: 檔案), a document in Taiwan (mainland: 文档).
    assert variants.equivalents("文件", "cn") == ("档案",)
    assert variants.equivalents("文件", "tw") == ("文档",)
    assert set(variants.equivalents("文件")) == {"档案", "文档"}
    # A word tagged with its region in regional.txt is that region's only.
    assert "摩托车" in variants.equivalents("機車", "tw")
    assert variants.equivalents("机车", "cn") == ()


def test_a_query_finds_the_other_regions_word_for_what_it_means(tmp_path):
    from search import build_index, open_index
    write_jsonl(tmp_path / "d" / "a.jsonl", [
        {"id": "cn-file", "title": "", "text": "保存密钥文件"},
        {"id": "tw-file", "title": "", "text": "儲存金鑰檔案"},
        {"id": "cn-doc", "title": "", "text": "打开帮助文档"},
        {"id": "tw-doc", "title": "", "text": "開啟說明文件"},
    ])
    build_index([tmp_path / "d"], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    # Typed in simplified script, 文件 is a file: Taiwan's 檔案, not the mainland's 文档.
    res = ix.search("保存这个文件")
    [exp] = [e for e in res.expansions if e["kind"] == "variant" and e["from"] == "文件"]
    assert exp["to"] == ["档案"]
    assert set(ids(res)[:2]) == {"cn-file", "tw-file"} and "cn-doc" not in ids(res)
    # Typed in traditional script, 文件 is a document: the mainland's 文档, not 檔案.
    res = ix.search("說明文件")
    [exp] = [e for e in res.expansions if e["kind"] == "variant" and e["from"] == "文件"]
    assert exp["to"] == ["文档"]
    assert set(ids(res)[:2]) == {"tw-doc", "cn-doc"} and "tw-file" not in ids(res)


def test_interface_words_of_both_regions_find_each_other():
    # Taiwan's 工具列 is the mainland's 工具栏; tagged words stay in their region:
    # 说明 is Taiwan's "help", and on the mainland only an explanation.
    assert "工具栏" in variants.equivalents("工具列")
    assert "资源回收筒" in variants.equivalents("回收站")
    assert "帮助" in variants.equivalents("說明", "tw")
    assert variants.equivalents("说明", "cn") == ()
    assert "套用" in variants.equivalents("应用", "cn")
    assert variants.equivalents("套用", "cn") == ()


def test_a_question_weighs_the_other_regions_word_as_its_own(tmp_path):
    from search import build_index, open_index
    write_jsonl(tmp_path / "d" / "a.jsonl", [
        {"id": "tw", "title": "", "text": "在工具列上按一下設定檔按鈕來變更預設值"},
        {"id": "cn-other", "title": "", "text": "这个按钮的颜色很好看"},
    ])
    build_index([tmp_path / "d"], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    # A whole question in mainland words: every regional word is expanded at
    # the weight of the word itself, however long the question.
    res = ix.search("如何在工具栏上点击配置文件按钮来更改默认值")
    variant = [e for e in res.expansions if e["kind"] == "variant"]
    assert {e["from"] for e in variant} >= {"工具栏", "配置文件", "更改"}
    assert variant and all(e["weights"] and set(e["weights"]) == {1.0} for e in variant)
    assert ids(res)[0] == "tw"
