"""Did-you-mean for homophone typos and completions as you type."""

from __future__ import annotations

import time

import pytest

from search import IndexDamaged

from conftest import make_client
from reader_corpus import reader_index, rix  # noqa: F401  (fixtures)


# ---------------------------------------------------------------------------
# Did you mean


@pytest.mark.parametrize("q, fixed", [
    ("落阳", "洛阳"), ("落陽", "洛陽"), ("牡丹将", "牡丹江"), ("落阳 牡丹", "洛阳 牡丹"),
    ('"落阳"', '"洛阳"'), ("贵羊", "贵阳"), ("重晴火锅", "重庆火锅"),
])
def test_homophone_typos_are_offered_a_correction(rix, q, fixed):
    res = rix.search(q)
    assert res.did_you_mean == fixed
    # Offered, not run: the results are for what was typed.
    assert res.query == q


@pytest.mark.parametrize("q", ["洛阳", "洛陽", "牡丹江", "重庆火锅", "软件", "静夜思", "床前明月光",
                               "luoyang", "call center", "洛阳 -落阳", "网路"])
def test_no_correction_for_words_the_index_has(rix, q):
    assert rix.search(q).did_you_mean is None


def test_did_you_mean_on_seeds(seed_index):
    from search import open_index
    ix = open_index(seed_index)
    assert ix.search("落阳").did_you_mean == "洛阳"
    assert ix.search("牡丹将").did_you_mean == "牡丹江"
    assert ix.search("呼叫中心").did_you_mean is None


def test_did_you_mean_is_a_link_in_the_page(reader_index):
    from test_webui import get_page, params
    client = make_client(reader_index)
    page = get_page(client, "/?q=落阳")
    [link] = page.links_with("did-you-mean-link")
    assert params(link["href"])["q"] == ["洛阳"] and link["text"] == "洛阳"
    assert page.input_value("q") == "落阳"
    followed = get_page(client, link["href"])
    assert followed.marks and not followed.links_with("did-you-mean-link")
    data = client.get("/api/search?q=牡丹将").get_json()
    assert data["did_you_mean"] == "牡丹江"


# ---------------------------------------------------------------------------
# Completions


def texts(suggestions) -> list[str]:
    return [s["text"] for s in suggestions]


@pytest.mark.parametrize("typed, expected", [
    ("洛", "洛阳"),              # a word of the index
    ("牡丹", "牡丹江"),
    ("贵", "贵阳"),              # typed simplified: shown simplified
    ("貴", "貴陽"),              # typed traditional: shown traditional
    ("靜夜", "靜夜思"),           # a title, in the script typed
    ("静夜", "静夜思"),
    ("luoy", "洛阳"),            # pinyin prefix
    ("luo y", "洛阳"),           # pinyin with a space
    ("mdj", "牡丹江"),            # initials
    ("牡丹j", "牡丹江"),           # Han and pinyin
    ("cal", "call"),             # a Latin word of the index
    ("洛阳 牡", "洛阳 牡丹"),       # the last word is completed, the rest kept
    ("-洛", "-洛阳"),
])
def test_completions(rix, typed, expected):
    assert expected in texts(rix.suggest(typed)), rix.suggest(typed)


def test_completion_edge_cases(rix):
    assert rix.suggest("") == [] and rix.suggest("   ") == []
    assert rix.suggest("洛阳 ") == []          # a finished word: nothing to complete
    assert rix.suggest("x" * 500) == []
    assert rix.suggest("洛", limit=1) == rix.suggest("洛")[:1]
    assert rix.suggest("zzzzq") == []
    # Nothing suggested is just what was typed (but for a stored facet value: test_pinyin_typos).
    assert "牡丹" not in texts(rix.suggest("牡丹"))


def test_completions_are_fast(rix):
    rix.suggest("洛")                         # the vocabulary, built once
    for typed in ["洛", "luoy", "mdj", "牡丹j", "貴", "c", "的"]:
        started = time.perf_counter()
        rix.suggest(typed)
        assert (time.perf_counter() - started) < 0.05, typed


def test_suggest_api(reader_index):
    client = make_client(reader_index)
    resp = client.get("/api/suggest?q=luoy")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    [first, *_] = resp.get_json()
    assert first["text"] == "洛阳" and first["kind"] in ("word", "name") and first["count"] >= 3
    assert client.get("/api/suggest?q=").get_json() == []
    assert texts(client.get("/api/suggest?q=洛&limit=1").get_json()) == ["洛阳"]
    bad = client.get("/api/suggest?q=洛&limit=0")
    assert bad.status_code == 400 and "limit" in bad.get_json()["error"]
    assert client.get("/api/suggest?q=%ff").status_code == 400


def test_suggestions_script_is_static_and_progressive(reader_index):
    client = make_client(reader_index)
    html = client.get("/").get_data(as_text=True)
    # No datalist or listbox in the page itself: the script adds them.
    assert "q-suggestions" not in html and 'autocomplete="off"' in html
    js = client.get("/static/app.js").get_data(as_text=True)
    assert "/api/suggest" in js and 'role", "listbox"' in js and "aria-activedescendant" in js
    assert "ArrowDown" in js and "Escape" in js and "isComposing" in js


def test_vocabulary_follows_a_rebuilt_index(tmp_path):
    import gc
    import weakref

    from helpers import write_jsonl
    from search import build_index, open_index
    write_jsonl(tmp_path / "a" / "d.jsonl", [{"id": "1", "title": "洛阳", "text": "洛阳牡丹。"}])
    build_index([tmp_path / "a"], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    assert "洛阳" in texts(ix.suggest("luoy"))
    old = weakref.ref(ix._current())
    write_jsonl(tmp_path / "b" / "d.jsonl", [{"id": "2", "title": "贵阳", "text": "贵阳数据。"}])
    build_index([tmp_path / "b"], tmp_path / "ix")
    assert texts(ix.suggest("luoy")) == [] and "贵阳" in texts(ix.suggest("gui"))
    assert ix.search("落阳").did_you_mean is None
    gc.collect()
    assert old() is None        # the old generation and its vocabulary are let go


def test_words_of_the_language_are_not_typos(tmp_path):
    # 优点 is not in this index, 有点 (you dian too) is everywhere: still no typo.
    from helpers import write_jsonl
    from search import build_index, open_index
    write_jsonl(tmp_path / "d" / "a.jsonl",
                [{"id": str(i), "title": "有点", "text": "今天有点冷，明天有点热。"} for i in range(30)])
    build_index([tmp_path / "d"], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    assert ix.search("优点").did_you_mean is None
    assert ix.search("右点").did_you_mean == "有点"


def test_vocabulary_is_saved_with_the_index_and_rebuilt_without_it(tmp_path):
    from helpers import write_jsonl
    from search import build_index, open_index
    from search.store import vocabulary as V
    write_jsonl(tmp_path / "a" / "d.jsonl", [
        {"id": str(n), "title": title, "text": text} for n, (title, text) in enumerate(
            [("洛阳牡丹", "洛阳的牡丹花会。"), ("贵阳数据", "贵阳的大数据中心。"),
             ("牡丹江", "牡丹江的呼叫中心。")])])
    build_index([tmp_path / "a"], tmp_path / "ix")
    gen_path = open_index(tmp_path / "ix")._current().path
    saved = V.load(gen_path, 3)
    assert saved is not None
    with open_index(tmp_path / "ix")._current().ix.reader() as reader:
        built = V.build_vocabulary(reader, 3)
        titles = V.build_titles(reader)
    assert vars(saved["vocabulary"]) == vars(built)
    assert vars(saved["titles"]) == vars(titles)
    # Answered from the file: suggestions at once, the same as built.
    ix = open_index(tmp_path / "ix")
    answers = {q: texts(ix.suggest(q)) for q in ("luoy", "mdj", "牡丹", "gui")}
    assert answers["luoy"][:1] == ["洛阳"] and "牡丹江" in answers["mdj"]
    # A foreign file (another document count) is not used: built instead.
    assert V.load(gen_path, 4) is None
    # A damaged one is the index's damage, and says so.
    (gen_path / V.FILE).write_bytes(b"not a pickle")
    with pytest.raises(IndexDamaged, match="vocabulary.pickle"):
        V.load(gen_path, 3)


def test_strings_behave_as_the_sorted_list():
    import pickle
    from bisect import bisect_left

    from search.store.vocabulary import Strings
    items = sorted(["", "a", "洛阳", "洛阳市", "牡丹江", "𠀀字", "zz"])
    table = Strings(items)
    assert len(table) == len(items) and list(table) == items
    assert [table[i] for i in range(-len(items), len(items))] == items + items
    for probe in ["", "洛", "洛阳", "洛阳市场", "牡", "\U0010ffff", "a"]:
        assert bisect_left(table, probe) == bisect_left(items, probe)
    assert pickle.loads(pickle.dumps(table)) == table
    with pytest.raises(IndexError):
        table[len(items)]
