"""Pinyin queries: full pinyin, initials, mixed input; English stays English."""

from __future__ import annotations

import pytest
from pypinyin import Style, lazy_pinyin

from helpers import ids
from reader_corpus import reader_index, rix  # noqa: F401  (fixtures)
from search.text import pinyin

LUOYANG_DOCS = {"trad/luoyang", "simp/luoyang", "simp/luoyang-travel"}


# ---------------------------------------------------------------------------
# Reading words and typed text


@pytest.mark.parametrize("word, reading", [
    ("重庆", ("chong", "qing")), ("洛阳", ("luo", "yang")), ("牡丹江", ("mu", "dan", "jiang")),
    ("银行", ("yin", "hang")), ("行长", ("hang", "zhang")), ("长安", ("chang", "an")),
    ("绿色", ("lv", "se")),
])
def test_words_are_read_in_context(word, reading):
    assert pinyin.word_syllables(word) == reading


def test_word_reading_equals_pypinyin_on_whole_words():
    words = ["重庆市", "银行行长", "长城", "朝阳", "音乐", "快乐", "还原", "还是", "调查", "空调",
             "长安城", "重新", "数据", "数字", "会计", "传记", "石窟", "牡丹花会", "的士"]
    for word in words:
        assert pinyin.word_syllables(word) == tuple(lazy_pinyin(word, style=Style.NORMAL)), word


@pytest.mark.parametrize("typed, key", [
    ("luoyang", "luoyang"), ("Luoyang", "luoyang"), ("luòyáng", "luoyang"),
    ("luo4yang2", "luoyang"), ("xi'an", "xian"), ("nü", "nv"), ("lǜ", "lv"),
])
def test_typed_pinyin_keys(typed, key):
    assert pinyin.latin_key(typed) == key


@pytest.mark.parametrize("typed", ["iPhone", "GDP", "mp3", "2014", "McDonald", "b2b", "", "洛阳"])
def test_not_pinyin_like(typed):
    assert pinyin.latin_key(typed) is None


def test_syllables_and_initials():
    assert pinyin.syllables("luoyang") == ["luo", "yang"]
    assert pinyin.syllables("mudanjiang") == ["mu", "dan", "jiang"]
    assert pinyin.syllables("call") is None and pinyin.syllables("center") is None
    assert pinyin.is_initials("mdj") and pinyin.is_initials("ly")
    assert not pinyin.is_initials("call") and not pinyin.is_initials("ai")
    assert pinyin.prefix_syllables("luoy") and pinyin.prefix_syllables("mudanj")
    assert not pinyin.prefix_syllables("call")


# ---------------------------------------------------------------------------
# Searching by pinyin


@pytest.mark.parametrize("q", ["luoyang", "luo yang", "luòyáng", "Luoyang", "luo4yang2", "luo yáng"])
def test_full_pinyin_finds_the_word_in_both_scripts(rix, q):
    res = rix.search(q)
    assert LUOYANG_DOCS <= set(ids(res)), (q, ids(res))
    [exp] = res.expansions
    assert exp["kind"] == "pinyin" and exp["to"][0] == "洛阳" and exp["from"] == q
    # Labelled: results found through pinyin say so.
    assert f"pinyin {q} → 洛阳" in res.notices[0]
    # The marks land on each document's own spelling.
    by_id = {h.id: h for h in res.hits}
    assert "<mark>洛陽</mark>" in by_id["trad/luoyang"].snippet
    assert "<mark>洛阳</mark>" in by_id["simp/luoyang"].snippet


def test_reading_comes_from_context_chongqing(rix):
    res = rix.search("chongqing")
    assert {"simp/chongqing", "trad/chongqing"} <= set(ids(res))
    assert res.expansions[0]["to"] == ["重庆"]
    # 重 read alone as zhong does not make 重庆 "zhongqing".
    assert not any("重庆" in e["to"] for e in rix.search("zhongqing").expansions)


@pytest.mark.parametrize("q, word", [("mdj", "牡丹江"), ("ly", "洛阳"), ("cq", "重庆"), ("gy", "贵阳")])
def test_initials(rix, q, word):
    res = rix.search(q)
    assert word in res.expansions[0]["to"], res.expansions
    assert res.total > 0 and res.notices


@pytest.mark.parametrize("q", ["牡丹jiang", "mudan江", "牡丹j" + "iang", "洛yang"])
def test_mixed_han_and_pinyin(rix, q):
    res = rix.search(q)
    assert res.expansions and res.expansions[0]["kind"] == "pinyin"
    want = "洛阳" if q.startswith("洛") else "牡丹江"
    assert res.expansions[0]["to"] == [want]
    assert res.hits


@pytest.mark.parametrize("q", ["call", "center", "iPhone", "2014", "call center", "GDP", "mp3"])
def test_english_and_numbers_stay_literal(rix, q):
    res = rix.search(q)
    assert res.expansions == [] and not res.notices, (q, res.expansions)
    if q != "GDP" and q != "mp3":
        assert ids(res)[0] == "en/callcenter"


def test_english_words_that_spell_pinyin_stay_english(rix):
    # "women" reads wo men (我们, in the index) but is English when typed alone.
    res = rix.search("women")
    assert res.expansions == [] and res.total == 0
    # Typed with a space it is plainly pinyin.
    res = rix.search("wo men")
    assert res.expansions[0]["to"] == ["我们"] and ids(res)[0] == "simp/women"


def test_latin_text_in_the_index_is_taken_literally(tmp_path):
    from helpers import write_jsonl
    from search import build_index, open_index
    write_jsonl(tmp_path / "d" / "a.jsonl", [
        {"id": "en", "title": "Luoyang", "text": "Luoyang is an old capital."},
        {"id": "zh", "title": "洛阳", "text": "洛阳是古都。"},
    ])
    build_index([tmp_path / "d"], tmp_path / "ix")
    res = open_index(tmp_path / "ix").search("luoyang")
    assert res.expansions == [] and ids(res) == ["en"]


def test_pinyin_that_maps_to_nothing_is_left_alone(rix):
    res = rix.search("zhuangzhuang")
    assert res.expansions == [] and res.total == 0


def test_quoted_and_excluded_pinyin_is_not_expanded(rix):
    assert rix.search('"luoyang"').expansions == []
    res = rix.search("洛阳 -chongqing")
    assert res.expansions == []


def test_pinyin_in_the_json_api(reader_index):
    from conftest import make_client
    data = make_client(reader_index).get("/api/search?q=luoyang").get_json()
    assert data["expansions"][0]["to"][0] == "洛阳"
    assert any(n.startswith("pinyin luoyang") for n in data["notices"])


def test_pinyin_and_variants_are_labelled_in_the_page(reader_index):
    from conftest import make_client
    from test_webui import get_page, hit_ids, params
    client = make_client(reader_index)
    page = get_page(client, "/?q=luoyang")
    [line] = page.text("expansion-pinyin")
    assert "按拼音" in line and "luoyang" in line and "洛阳" in line
    [word] = page.links_with("expansion-word")
    assert params(word["href"])["q"] == ["洛阳"]
    assert not page.texts.get("notices")          # said once, in Chinese
    assert set(hit_ids(page)) >= LUOYANG_DOCS and "洛陽" in page.marks
    page = get_page(client, "/?q=軟體")
    [line] = page.text("expansion-variant")
    assert "軟體" in line and "软件" in line and "其他地区" in line
    assert {"軟體", "软件"} <= set(page.marks)


def test_mixed_input_with_uppercase_or_units_stays_literal(rix):
    for q in ["B超", "X光", "U盘", "km", "GB"]:
        assert not [e for e in rix.search(q).expansions if e["kind"] == "pinyin"], q


def test_fast_reading_equals_lazy_pinyin_on_an_index_vocabulary(rix, seed_index):
    from search import open_index
    from search.store.vocabulary import vocabulary
    for ix in (rix, open_index(seed_index)):
        vocab = vocabulary(ix._current())
        words = [w for w in vocab.words if pinyin.has_han(w)]
        assert words
        for word in words:
            assert pinyin.word_syllables(word) == tuple(lazy_pinyin(word, style=Style.NORMAL)), word


# ---------------------------------------------------------------------------
# Slips


def test_near_keys_are_neighbours_both_ways():
    from search.text.pinyin import near_keys
    near = near_keys()
    assert set(near) == set("abcdefghijklmnopqrstuvwxyz")
    assert "h" in near["g"] and "q" not in near["g"]
    assert all(a in near[b] for a in near for b in near[a])


def test_slips_of_a_syllable():
    from search.text.pinyin import CONFUSION_COST, SLIP_COST, slips
    got = slips("yang")
    assert got["yng"] == SLIP_COST          # a letter missing
    assert got["yagn"] == SLIP_COST         # two swapped
    assert got["yanh"] == SLIP_COST         # the key next to g
    assert got["yangg"] == SLIP_COST        # doubled
    assert got["yan"] == CONFUSION_COST     # an / ang
    assert slips("zhong")["zong"] == CONFUSION_COST
    assert "yang" not in got


@pytest.mark.parametrize("typed, meant", [
    ("luoyng", ("luo", "yang")), ("louyang", ("luo", "yang")), ("mudanjang", ("mu", "dan", "jiang")),
    ("luyoang", ("luo", "yang")), ("zongguo", ("zhong", "guo")),
])
def test_syllables_near_reads_the_word_meant(typed, meant):
    from search.text.pinyin import syllables_near
    readings = dict(syllables_near(typed))
    assert 0 < readings[meant] <= 1


def test_syllables_near_exact_first_and_nothing_for_gibberish():
    from search.text.pinyin import syllables_near
    assert syllables_near("luoyang")[0] == (("luo", "yang"), 0.0)
    assert syllables_near("xyzqwk") == [] and syllables_near("") == []
    assert syllables_near("Luoyang") == [] and syllables_near("a" * 100) == []
    # Two letters: taken as typed.
    assert all(cost == 0 for _, cost in syllables_near("ba"))
    # A test of each reading's start prunes the readings no word has.
    kept = syllables_near("luoyng", keep=lambda start: "luoyang".startswith(start))
    assert {"".join(r) for r, _ in kept} == {"luoyang"}
