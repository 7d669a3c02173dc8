"""Pinyin typed with a typo, and names before fragments: suggestions and did-you-mean
on a real index built in a temporary folder."""

from __future__ import annotations

import pytest

from helpers import write_jsonl

RECORDS = [
    {"id": "ly1", "title": "洛阳牡丹", "text": "洛阳牡丹甲天下，洛阳的花会。"},
    {"id": "ly2", "title": "洛阳古都", "text": "洛阳是古都，洛阳很美。"},
    {"id": "ly3", "title": "游洛阳", "text": "去洛阳看龙门石窟。"},
    {"id": "mdj1", "title": "牡丹江", "text": "牡丹江市在黑龙江省，牡丹江流经市区。"},
    {"id": "mdj2", "title": "牡丹江的冬天", "text": "牡丹江的冬天很冷。"},
    # 陆游 the poet as a stored author only, never in the text; 陆有 ("there is
    # land") in the text of more documents; 游人 and 游戏 words of the text.
    {"id": "p1", "title": "游山西村", "author": "陆游", "text": "山重水复疑无路，柳暗花明又一村。"},
    {"id": "p2", "title": "示儿", "author": "陆游", "text": "死去元知万事空，但悲不见九州同。"},
    {"id": "p3", "title": "书愤", "author": "陆游", "text": "早岁那知世事艰，中原北望气如山。"},
    {"id": "t1", "title": "大陆", "text": "陆有高原，也有平原。"},
    {"id": "t2", "title": "海陆", "text": "陆有人，陆有路，游人多。"},
    {"id": "t3", "title": "游人", "text": "陆有游人，游人爱游戏。"},
    {"id": "t4", "title": "山水", "text": "山陆有别，游戏山水。"},
    {"id": "t5", "title": "陆地", "text": "陆有山川，陆有河流。"},
]


@pytest.fixture(scope="module")
def typos_index(tmp_path_factory):
    from search import build_index, open_index
    root = tmp_path_factory.mktemp("typos")
    write_jsonl(root / "docs" / "d.jsonl", RECORDS)
    report = build_index([root / "docs"], root / "index")
    assert report.indexed == len(RECORDS)
    return open_index(root / "index")


def texts(suggestions):
    return [s["text"] for s in suggestions]


@pytest.mark.parametrize("typed, word", [
    ("luoyng", "洛阳"),         # a letter missing
    ("louyang", "洛阳"),        # two letters swapped (lou is a syllable too)
    ("luoyagn", "洛阳"),        # swapped at the end
    ("luoyanh", "洛阳"),        # the key next to g
    ("mudanjang", "牡丹江"),     # missing i
    ("mudanjiiang", "牡丹江"),   # doubled
])
def test_a_typo_in_pinyin_is_read_as_the_word(typos_index, typed, word):
    first = typos_index.suggest(typed)[0]
    assert first["text"] == word and first["count"] >= 2
    res = typos_index.search(typed)
    assert res.did_you_mean == word and res.query == typed


def test_a_typo_among_other_words_is_corrected_alone(typos_index):
    assert typos_index.search("luoyng 牡丹").did_you_mean == "洛阳 牡丹"


@pytest.mark.parametrize("typed", ["xyzqwk", "qqqq zzzz", "zzzz", "h", "mdjq", "kwqx"])
def test_gibberish_gives_nothing(typos_index, typed):
    assert typos_index.suggest(typed) == []
    assert typos_index.search(typed).did_you_mean is None


def test_pinyin_spelled_right_is_not_corrected(typos_index):
    # luoyang reads 洛阳 exactly: the query finds it, nothing to correct.
    res = typos_index.search("luoyang")
    assert res.total >= 3 and res.did_you_mean is None


def test_a_stored_author_is_read_before_commoner_words(typos_index):
    from search.store.vocabulary import vocabulary
    vocab = vocabulary(typos_index._current())
    # 陆有 is in more documents than 陆游 (the author of three of them)...
    assert vocab.kind("陆游") == "name" and vocab.kind("陆有") == "word"
    assert vocab.frequency("陆有") > vocab.frequency("陆游") == 3
    first = typos_index.suggest("luyou")[0]
    assert first == {"text": "陆游", "kind": "name", "count": vocab.frequency("陆游")}
    # ...and the search reads luyou as the poet too.
    res = typos_index.search("luyou")
    assert res.expansions[0]["to"][0] == "陆游"
    assert {"p1", "p2", "p3"} <= {h.id for h in res.hits}


def test_a_typed_name_is_offered_as_itself(typos_index):
    # Once 陸 + 游人 (a word typed is completed at its end) gave 陸遊人, 陸遊戲.
    shown = typos_index.suggest("陸游")
    assert shown[0] == {"text": "陸游", "kind": "name", "count": 3}
    assert not any(s["text"].startswith("陸遊") for s in shown)
    assert typos_index.suggest("陆")[0]["text"] == "陆游"
    # A word that is no name is still not offered as what was typed.
    assert "陆有" not in texts(typos_index.suggest("陆有"))


def test_names_and_words_rank_before_fragments():
    from search.store.vocabulary import Vocabulary
    vocab = Vocabulary({"陆游人": 8, "陆游戏": 5, "陆有": 4, "游人": 9}, names={"陆游": 3})
    assert [vocab.kind(w) for w in ("陆游", "陆有", "陆游人", "游人")] == [
        "name", "word", "fragment", "word"]
    # By frequency alone the fragments would come first.
    assert vocab.with_prefix("陆", 4) == ["陆游", "陆有", "陆游人", "陆游戏"]
    assert vocab.by_pinyin("luyou") == ["陆游", "陆有"]
    assert vocab.frequency("陆游人") == 8 and vocab.frequency("陆游") == 3


def test_vocabulary_kinds_are_saved_and_an_old_file_is_rebuilt(tmp_path, monkeypatch):
    from search import build_index, open_index
    from search.store import vocabulary as V
    write_jsonl(tmp_path / "a" / "d.jsonl", RECORDS)
    build_index([tmp_path / "a"], tmp_path / "ix")
    path = open_index(tmp_path / "ix")._current().path
    saved = V.load(path, len(RECORDS))
    assert saved["vocabulary"].kind("陆游") == "name"
    # The file on disk is of a format this code does not read (as a file
    # without kinds is to it): not used, the vocabulary is built from the index.
    monkeypatch.setattr(V, "FORMAT", V.FORMAT + 1)
    (path / V.FILE).touch()         # a new version of the file, read again
    assert V.load(path, len(RECORDS)) is None
    ix = open_index(tmp_path / "ix")
    assert ix.suggest("luyou")[0]["text"] == "陆游"


def test_live_added_documents_bring_their_names(tmp_path):
    from search import build_index, open_index
    write_jsonl(tmp_path / "a" / "d.jsonl", RECORDS)
    build_index([tmp_path / "a"], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    assert ix.suggest("sushi") == [] or ix.suggest("sushi")[0]["text"] != "苏轼"
    with ix.writer() as w:
        w.add({"id": "new1", "title": "赤壁赋", "author": "苏轼",
                        "text": "壬戌之秋，七月既望。"})
    first = ix.suggest("sushi")[0]
    assert first["text"] == "苏轼" and first["kind"] == "name"


# ---------------------------------------------------------------------------
# The measurement (bench.pinyin_typos) on the seeds


@pytest.mark.parametrize("kind", ["near key", "swap", "missing", "extra"])
def test_bench_typos_are_of_their_kind(kind):
    import random

    from bench.pinyin_typos import typo
    from search.text.pinyin import near_keys
    rng = random.Random(7)
    for key in ["luoyang", "mudanjiang", "zhongguo", "xian"]:
        typed = typo(key, kind, rng)
        assert typed and typed != key
        if kind == "near key":
            [(a, b)] = [(a, b) for a, b in zip(key, typed) if a != b]
            assert b in near_keys()[a]
        elif kind == "swap":
            assert len(typed) == len(key) and sorted(typed) == sorted(key)
            diff = [i for i, (a, b) in enumerate(zip(key, typed)) if a != b]
            assert len(diff) == 2 and diff[1] == diff[0] + 1
        elif kind == "missing":
            assert len(typed) == len(key) - 1
            assert any(key[:i] + key[i + 1:] == typed for i in range(len(key)))
        else:
            assert len(typed) == len(key) + 1
            assert any(typed[:i] + typed[i + 1:] == key for i in range(len(typed)))


def test_bench_draws_from_the_index_and_counts_every_query(seed_index):
    from bench.pinyin_typos import KINDS, evaluate
    from search import open_index
    from search.store.vocabulary import vocabulary
    from search.text.pinyin import word_syllables
    r = evaluate(seed_index, targets=240, seed=3)
    vocab = vocabulary(open_index(seed_index)._current())
    assert r["targets"] == 240 and r["queries"] == sum(k["queries"] for k in r["by_kind"].values())
    assert set(r["by_kind"]) == set(KINDS) and all(k["queries"] for k in r["by_kind"].values())
    assert r["reached"] + len(r["misses"]) == r["queries"]
    assert r["reached"] == sum(r["reached_by"].values())
    for miss in r["misses"]:
        # Each target is a word of the index, and what its own pinyin reads first.
        assert vocab.kind(miss["target"]) in ("name", "word")
        assert "".join(word_syllables(miss["target"])) == miss["pinyin"] != miss["typed"]
        assert vocab.by_pinyin(miss["pinyin"], limit=1) == [miss["target"]]
    assert 0 <= r["share"] <= 1
