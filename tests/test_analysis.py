"""The analyzers: offsets into the original script, positions, normalisation."""

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.store.analyzers import gram_analyzer, word_analyzer
from search.text.script import to_simplified

MIXED = "中國移動(洛陽)呼叫中心在洛陽經濟技術開發區舉行簽約儀式，携程在上海。COVID-19 ｗｉｆｉ"


@pytest.mark.parametrize("make", [word_analyzer, gram_analyzer])
def test_offsets_point_into_the_original_text(make):
    tokens = [(t.text, t.startchar, t.endchar)
              for t in make()(MIXED, positions=True, chars=True)]
    assert tokens
    for text, start, end in tokens:
        original = MIXED[start:end]
        assert to_simplified(original).lower() == text


def test_traditional_word_is_indexed_in_simplified_with_its_own_offsets():
    text = "全球最大呼叫中心落戶河南洛陽"
    tokens = {t.text: text[t.startchar:t.endchar]
              for t in word_analyzer()(text, chars=True, positions=True)}
    assert tokens["洛阳"] == "洛陽"
    assert tokens["落户"] == "落戶"


def test_simplified_and_traditional_give_the_same_terms():
    simp = "呼叫中心产业是贵阳发展的新动能"
    trad = "呼叫中心產業是貴陽發展的新動能"
    for make in (word_analyzer, gram_analyzer):
        assert [t.text for t in make()(simp)] == [t.text for t in make()(trad)]


def test_subwords_share_the_position_of_their_word():
    tokens = [(t.text, t.pos) for t in word_analyzer()("呼叫中心产业", positions=True)]
    positions = dict(tokens)
    assert positions["呼叫"] == positions["中心"] == positions["呼叫中心"]
    assert positions["产业"] == positions["呼叫中心"] + 1


def test_bigrams_are_consecutive_and_latin_words_whole():
    tokens = [(t.text, t.pos) for t in gram_analyzer()("呼叫中心 iPhone", positions=True)]
    assert tokens == [("呼叫", 0), ("叫中", 1), ("中心", 2), ("iphone", 3)]


def test_normalisation_keeps_length_and_folds_full_width():
    text = "乾隆皇帝與ｗｉｆｉ，髮型後來"
    out = to_simplified(text)
    assert len(out) == len(text)
    assert "wifi" in out and "发型" in out and "后来" in out


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_any_text_gives_tokens_inside_it(text):
    for make in (word_analyzer, gram_analyzer):
        for t in make()(text, positions=True, chars=True):
            assert 0 <= t.startchar < t.endchar <= len(text)
            assert t.text == to_simplified(text[t.startchar:t.endchar]).lower()


def test_the_cached_dictionary_segments_exactly_as_jieba_does(tmp_path):
    """The second process reads the finished dictionary from the user's cache."""
    import subprocess
    import sys
    script = ("import json, jieba; from search.text.segment import segment, load_jieba; load_jieba();"
              "print(json.dumps([jieba.dt.total, len(jieba.dt.FREQ),"
              " [w for w, *_ in segment('老赫让小城穆棱的故事走向全国，呼叫中心落戶洛陽')]]))")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, check=True)
    cached = list((tmp_path / "zhsearch").glob("jieba-*.pickle"))
    assert len(cached) == 1
    second = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, check=True)
    assert json.loads(first.stdout) == json.loads(second.stdout)
    cached[0].write_bytes(b"damaged")          # a damaged cache is rebuilt, not trusted
    third = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, check=True)
    assert json.loads(third.stdout) == json.loads(first.stdout)


def _segment_with(monkeypatch, which, texts):
    from search.text import segment as analysis
    monkeypatch.setenv("SEARCH_SEGMENTER", which)
    monkeypatch.setattr(analysis, "_state", None)
    try:
        analysis.prepare_router()
        assert (analysis._cut_state().router is not None) == (which == "rjieba")
        return analysis.segmenter(), [analysis.segment(to_simplified(t)) for t in texts]
    finally:
        monkeypatch.setattr(analysis, "_state", None)


def test_rjieba_route_gives_jiebas_words(monkeypatch):
    # rjieba only takes the route through jieba's own dictionary; runs of
    # single characters still go to jieba's HMM (rjieba's HMM differs on
    # a few, as "常在不欠" shows: rjieba's own HMM makes 常在 one word).
    pytest.importorskip("rjieba")
    from search.text.segment import segment_reference
    from tests.synthetic import seed_sentences
    texts = list(seed_sentences()) + [
        "常在不欠", "青白常在眼", "床前明月光，疑是地上霜。", "牡丹江的呼叫中心有哪些企业",
        "在什麼時候的印度已經有將近5萬人可以流利的是用梵語？", "COVID-19 疫情 3.5 萬人", "𠀀𠀁字 㐀㐁"]
    name, routed = _segment_with(monkeypatch, "rjieba", texts)
    assert name == "rjieba+jieba-hmm"
    plain_name, plain = _segment_with(monkeypatch, "jieba", texts)
    assert plain_name == "jieba"
    assert routed == plain == [segment_reference(to_simplified(t)) for t in texts]


def test_segmenter_setting_is_checked(monkeypatch):
    from search.text import segment as analysis
    monkeypatch.setenv("SEARCH_SEGMENTER", "fastest")
    with pytest.raises(ValueError, match="SEARCH_SEGMENTER"):
        analysis.segmenter()
