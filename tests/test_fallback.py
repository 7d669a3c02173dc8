"""The fallback of a query that finds nothing: its clear completion or pinyin reading searched instead.

The library (``SearchIndex.search(fallback=True)`` over the seeds), the rule
that says when a reading is clear (``plan_fallback``), the page's notice and
its "search exactly this" link, the results-only fragment of instant search,
and the CLI's ``--verbatim``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import quote

import pytest

from conftest import REPO
from search import open_index
from search.aids.fallback import candidates, may_fall_back, option_text, plan_fallback

GIBBERISH = ["xyzqwk", "h", "qqqq zzzz", "zzzz"]


@pytest.fixture(scope="module")
def ix(seed_index):
    return open_index(seed_index)


# ---------------------------------------------------------------------------
# The library


def test_a_prefix_that_finds_nothing_shows_its_reading(ix):
    typed = ix.search("luoy")
    assert typed.total == 0 and not typed.fell_back
    res = ix.search("luoy", fallback=True)
    assert res.fell_back
    assert (res.query, res.searched_for, res.shown_for) == ("luoy", "luoy", "洛阳")
    assert res.total == ix.search("洛阳").total >= 1
    # The hits are marked for what was searched.
    assert any("<mark>洛陽</mark>" in h.title_html or "<mark>洛阳</mark>" in h.title_html
               for h in res.hits)
    # Extensions of the reading shown are offered beside it, with their counts.
    assert all(a["text"].startswith("洛阳") and a["count"] > 0 for a in res.alternatives)


def test_pinyin_cut_short_reaches_the_city(ix):
    res = ix.search("mudanj", fallback=True)
    assert res.shown_for == "牡丹江"
    assert res.total == ix.search("牡丹江").total


@pytest.mark.parametrize("q", GIBBERISH)
def test_gibberish_stays_empty_with_nothing_offered(ix, q):
    res = ix.search(q, fallback=True)
    assert res.total == 0
    assert not res.fell_back and res.shown_for == q
    assert res.alternatives == []


def test_initials_excluded_words_and_found_queries_are_left_alone(ix):
    # Initials are searched as initials already; nothing falls back.
    assert not may_fall_back("mdj") and not may_fall_back("李白 jy")
    assert ix.search("mdj", fallback=True).shown_for == "mdj"
    # An excluded token is never completed.
    assert not may_fall_back("呼叫 -luoy")
    res = ix.search("呼叫 -luoy", fallback=True)
    assert not res.fell_back
    # A query that finds documents holding all of it is what is shown.
    found = ix.search("呼叫中心", fallback=True)
    assert not found.fell_back and found.total == ix.search("呼叫中心").total


def test_a_homophone_typo_is_offered_its_correction_not_completed(ix):
    res = ix.search("落阳", fallback=True)
    assert not res.fell_back and res.total == 0
    assert res.did_you_mean == "洛阳"


def test_only_partial_matches_fall_back_to_a_reading_held_whole(ix):
    typed = ix.search("呼叫 luoy")
    assert typed.total and typed.total_full == 0
    res = ix.search("呼叫 luoy", fallback=True)
    assert res.shown_for == "呼叫 洛阳"
    assert res.total_full >= 1
    assert res.query == "呼叫 luoy"


def test_the_readers_filters_hold_for_the_reading(ix):
    kept = ix.search("luoy", city="洛阳", fallback=True)
    assert kept.shown_for == "洛阳" and kept.total >= 1
    assert kept.filters == {"city": ["洛阳"]}
    # No 洛阳 document in 贵阳: nothing to show, nothing offered.
    elsewhere = ix.search("luoy", city="贵阳", fallback=True)
    assert elsewhere.total == 0 and not elsewhere.fell_back and elsewhere.alternatives == []


def test_the_dictionary_says_what_was_typed_and_what_was_shown(ix):
    data = ix.search("luoy", fallback=True).to_dict()
    assert data["query"] == data["searched_for"] == "luoy"
    assert data["shown_for"] == "洛阳"
    assert isinstance(data["alternatives"], list)
    plain = ix.search("洛阳").to_dict()
    assert plain["searched_for"] == plain["shown_for"] == "洛阳"


def test_candidates_come_from_the_completions(ix):
    from search.store.vocabulary import vocabulary
    gen = ix._current()
    vocabulary(gen, timeout=None)
    found = candidates(gen, "luoy")
    assert found and found[0] == "洛阳"
    assert candidates(gen, "h") == [] and candidates(gen, "") == []


# ---------------------------------------------------------------------------
# When a reading is clear


def _counts(table):
    return lambda text: table.get(text, 0)


def test_a_reading_is_clear_when_the_others_extend_it():
    plan = plan_fallback("luoy", ["洛阳", "洛阳市"], _counts({"洛阳": 5, "洛阳市": 2}))
    assert plan.shown_for == "洛阳"
    assert plan.alternatives == [{"text": "洛阳市", "count": 2}]


def test_a_reading_is_clear_when_it_finds_far_more():
    plan = plan_fallback("gongy", ["工业", "公寓"], _counts({"工业": 40, "公寓": 3}))
    assert plan.shown_for == "工业"


def test_close_readings_are_offered_not_shown():
    plan = plan_fallback("gongy", ["工业", "公寓"], _counts({"工业": 4, "公寓": 3}))
    assert plan.shown_for is None
    assert [a["text"] for a in plan.alternatives] == ["工业", "公寓"]


def test_readings_that_find_nothing_are_skipped():
    plan = plan_fallback("luoy", ["洛阳", "骆驼"], _counts({"骆驼": 2}))
    assert plan.shown_for == "骆驼"
    assert plan_fallback("zzzz", ["字"], _counts({})).shown_for is None


def test_suggestions_as_objects_or_strings():
    assert option_text({"text": "洛阳", "kind": "name", "count": 3}) == "洛阳"
    assert option_text("洛阳") == "洛阳"
    plan = plan_fallback("luoy", [{"text": "洛阳", "kind": "name", "count": 3}, "洛阳市"],
                         _counts({"洛阳": 3, "洛阳市": 1}))
    assert plan.shown_for == "洛阳"


# ---------------------------------------------------------------------------
# The page


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def test_the_page_says_what_it_shows_and_links_to_the_typed_query(client):
    resp = client.get("/?q=luoy")
    assert resp.status_code == 200
    html = _text(resp)
    notice = re.search(r'<div class="fallback-notice".*?</div>', html, re.S).group(0)
    assert "显示" in notice and "洛阳" in notice and "的结果" in notice
    link = re.search(r'class="fallback-verbatim" href="([^"]+)"', notice).group(1)
    assert link.replace("&amp;", "&") == "/?q=luoy&verbatim=1"
    assert "仍然搜索" in notice
    assert 'class="hits"' in html
    # The box keeps what was typed.
    assert re.search(r'id="q"[^>]*value="luoy"', html)

    verbatim = _text(client.get(link.replace("&amp;", "&")))
    assert "fallback-notice" not in verbatim
    assert "没有找到" in verbatim and 'class="hits"' not in verbatim


def test_an_ambiguous_prefix_offers_its_readings_on_the_empty_page(client, ix):
    res = ix.search("zuij", fallback=True)
    assert not res.fell_back and res.total == 0
    offered = {a["text"] for a in res.alternatives}
    assert {"最佳", "最近"} <= offered
    html = _text(client.get("/?q=zuij"))
    assert "fallback-notice" not in html
    tried = re.search(r'<ul class="suggestions">.*?</ul>', html, re.S).group(0)
    for word in ("最佳", "最近"):
        assert f"搜索“{word}”" in tried
        assert f'href="/?q={quote(word)}"' in tried


def test_the_notice_in_traditional_script(client):
    html = _text(client.get("/?q=luoy&script=trad"))
    notice = re.search(r'<div class="fallback-notice".*?</div>', html, re.S).group(0)
    assert "顯示" in notice and "洛陽" in notice and "的結果" in notice
    assert "script=trad" in notice


def test_gibberish_page_offers_no_reading(client):
    for q in GIBBERISH:
        html = _text(client.get("/", query_string={"q": q}))
        assert "fallback-notice" not in html and "没有找到" in html


def test_results_fragment_is_main_only(client):
    resp = client.get("/?q=呼叫中心&fragment=results")
    assert resp.status_code == 200
    html = _text(resp)
    assert "<html" not in html and "<header" not in html and 'id="q"' not in html
    assert 'class="instant-fragment"' in html and 'class="hits"' in html
    assert re.search(r'data-title="呼叫中心 - ', html)
    whole = _text(client.get("/?q=呼叫中心"))
    assert "<html" in whole and 'instant-fragment' not in whole

    bad = client.get("/?q=呼叫中心&page=0&fragment=results")
    assert bad.status_code == 400
    assert "<html" not in _text(bad) and 'role="alert"' in _text(bad)


def test_the_api_is_verbatim(client):
    data = client.get("/api/search?q=luoy").get_json()
    assert data["total"] == 0 and data["shown_for"] == "luoy"


# ---------------------------------------------------------------------------
# The command line


def _query(seed_index, *args):
    return subprocess.run([sys.executable, "-m", "search", "query", *args, "--index", str(seed_index)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def test_cli_falls_back_unless_verbatim(seed_index):
    shown = _query(seed_index, "luoy")
    assert shown.returncode == 0, shown.stderr
    assert "showing results for '洛阳'" in shown.stdout and "洛陽" in shown.stdout
    verbatim = _query(seed_index, "luoy", "--verbatim")
    assert verbatim.returncode == 0
    assert verbatim.stdout.startswith("0 results") and "showing results" not in verbatim.stdout
