"""Facets that scale: every value reachable, searchable in both scripts and by
pinyin initials, a facet that tells nothing or that the operator turned off
not listed, and a bad facet or page refused with a reason (never a 500).

Over a real index of 153 poets (``tests/poets_corpus.py``), through the
library, the Flask app, and the production server started with ``--hide-facet``.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode

import pytest

from conftest import make_client
from poets_corpus import poet_names, poet_records, write_poets
from search import QueryError, build_index, open_index
from search.aids.facet_search import facet_page, informativeness, rank_facets, tells_something
from search.text.script import to_simplified
from serving import serve


@pytest.fixture(scope="module")
def poets_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("poets")
    report = build_index([str(write_poets(root / "src"))], root / "index")
    assert report.indexed == len(poet_records())
    return root / "index"


@pytest.fixture()
def poets_client(poets_index):
    return make_client(poets_index)


AUTHORS = {to_simplified(a) for a in poet_names()}


def test_every_author_is_reachable_by_paging(poets_index):
    ix = open_index(poets_index)
    res = ix.search("明月")
    assert len(AUTHORS) > 125
    # A results page lists the most frequent and says how many more there are.
    assert len(res.facets["author"]) < len(AUTHORS)
    assert res.facets_more["author"] == len(AUTHORS) - len(res.facets["author"])
    first = ix.facet_values("author", "明月", per_page=40)
    seen, counts = [], {}
    for page in range(1, first.pages + 1):
        part = ix.facet_values("author", "明月", page=page, per_page=40)
        assert len(part.values) <= 40
        seen += [v["value"] for v in part.values]
        counts.update({v["value"]: v["count"] for v in part.values})
    assert len(seen) == len(set(seen)) == first.matching
    assert set(seen) == AUTHORS
    poems_by = {}
    for r in poet_records():
        poems_by[to_simplified(r["author"])] = poems_by.get(to_simplified(r["author"]), 0) + 1
    assert counts == poems_by
    # Most poems first across the pages.
    ordered = [counts[v] for v in seen]
    assert ordered == sorted(ordered, reverse=True)


def test_values_counted_for_the_results_and_the_other_filters(poets_index):
    ix = open_index(poets_index)
    spring = ix.facet_values("author", "春风", per_page=500)
    expected = {to_simplified(r["author"]) for r in poet_records() if "春风" in r["text"]}
    assert {v["value"] for v in spring.values} == expected
    # Another facet's selection narrows; the facet's own selection does not.
    narrowed = ix.facet_values("author", "明月", filters={"genre": ["律诗"], "author": ["杜甫"]},
                               per_page=500)
    expected = {to_simplified(r["author"]) for r in poet_records() if r["genre"] == "律诗"}
    # 杜甫 wrote no 律诗 here: chosen, he is listed with none, so he can be unchosen.
    assert "杜甫" not in expected
    assert {v["value"] for v in narrowed.values} == expected | {"杜甫"}
    assert [v["count"] for v in narrowed.values if v["value"] == "杜甫"] == [0]


def test_values_found_in_either_script_and_by_pinyin_initials(poets_index):
    ix = open_index(poets_index)
    for typed in ("賀", "贺", "贺知", "賀知章", "hzz", "HZ"):
        found = [v["value"] for v in ix.facet_values("author", "明月", contains=typed).values]
        assert found == ["贺知章"], typed
    by_initials = [v["value"] for v in ix.facet_values("author", contains="w").values]
    assert sorted(by_initials) == sorted(a for a in AUTHORS if a.startswith("王") or a.startswith("吴"))
    assert ix.facet_values("author", contains="没有这个人").values == []


def test_a_facet_that_tells_nothing_is_not_listed(poets_index):
    ix = open_index(poets_index)
    assert "dynasty" in ix.facet_names
    assert "dynasty" not in ix.shown_facets()
    res = ix.search("明月")
    assert "dynasty" not in res.facets and "genre" in res.facets
    # Still a filter, and listed once chosen (its chip needs the count).
    chosen = ix.search("明月", filters={"dynasty": ["唐"]})
    assert chosen.total == res.total and chosen.facets["dynasty"] == [{"value": "唐", "count": res.total}]


def test_informativeness():
    assert informativeness([10], 10) == 0
    assert informativeness([5, 5], 10) == pytest.approx(1.0)
    assert informativeness([5, 5], 100) == pytest.approx(0.1)
    assert informativeness([99, 1], 100) < informativeness([60, 40], 100)
    assert not tells_something([1000, 1], 100_000)
    assert tells_something([30, 20, 10], 60)
    # Few of a thousand poems name a city: their authors are listed first.
    poems = {"city": [{"value": "庐山", "count": 53}, {"value": "北京", "count": 20}],
             "author": [{"value": a, "count": 10} for a in poet_names()[:100]]}
    assert rank_facets(poems, 1000) == ["author", "city"]
    page = facet_page([("甲", 3), ("乙", 2), ("丙", 1)], per_page=2, page=2)
    assert page.values == [{"value": "丙", "count": 1}] and page.pages == 2


def test_the_operator_turns_a_facet_off(poets_index):
    ix = open_index(poets_index, hide_facets="genre,month")
    res = ix.search("明月")
    assert "genre" not in res.facets and "month" not in res.facets and "author" in res.facets
    with pytest.raises(QueryError) as refused:
        ix.facet_values("genre")
    assert refused.value.code == "facet_turned_off"
    assert str(refused.value) == "the facet genre is turned off for this collection"
    client = make_client(poets_index, SEARCH_HIDE_FACETS="genre")
    page = client.get("/?q=明月").get_data(as_text=True)
    assert 'id="facet-author-h"' in page and 'id="facet-genre-h"' not in page
    resp = client.get("/api/facet/genre")
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "the facet genre is turned off for this collection",
                               "code": "facet_turned_off", "param": "facet",
                               "message": "这个文档集关闭了“体裁”筛选项",
                               "message_en": "the facet genre is turned off for this collection"}


def test_bad_facet_or_page_is_refused_with_a_reason(poets_client):
    resp = poets_client.get("/api/facet/nope")
    assert resp.status_code == 404
    body = resp.get_json()
    assert (body["error"], body["code"], body["message"]) == (
        "no facet named nope", "no_such_facet", "没有名为“nope”的筛选项")
    pages = poets_client.get("/api/facet/author?q=明月&per_page=50").get_json()["pages"]
    resp = poets_client.get(f"/api/facet/author?q=明月&page={pages + 1}")
    assert resp.status_code == 400
    body = resp.get_json()
    assert (body["error"], body["code"]) == (
        f"page {pages + 1} is past the last page of values ({pages})", "past_last_value_page")
    assert str(pages) in body["message"] and body["message"] != body["error"]
    for url in ["/api/facet/author?page=abc", "/api/facet/author?page=0",
                "/api/facet/author?per_page=100000", "/api/facet/author?f.nope=1",
                "/api/facet/author?sort=sideways"]:
        resp = poets_client.get(url)
        assert resp.status_code == 400, url
        assert resp.get_json()["error"], url
    html = poets_client.get("/facet/nope?q=明月")
    assert html.status_code == 404
    text = html.get_data(as_text=True)
    assert "没有名为“nope”的筛选项" in text and 'href="/?q=' in text


def test_the_results_page_lists_the_most_telling_facet_first(tmp_path):
    from helpers import write_jsonl
    records = [{"id": f"p{i}", "title": f"诗{i}", "text": "明月照山", "author": f"诗人{i % 40}",
                **({"city": "九江" if i < 3 else "北京"} if i < 5 else {})} for i in range(200)]
    build_index([str(write_jsonl(tmp_path / "poems.jsonl", records))], tmp_path / "index")
    html = make_client(tmp_path / "index").get("/?q=明月").get_data(as_text=True)
    assert 'id="facet-city-h"' in html
    assert html.index('id="facet-author-h"') < html.index('id="facet-city-h"')


def test_the_facet_page_reaches_every_value_and_narrows_the_search(poets_client):
    client = poets_client
    results = client.get("/?q=明月").get_data(as_text=True)
    show_all = re.search(r'<a class="facet-show-all" href="(/facet/author[^"]*)">显示全部 (\d+) 个作者', results)
    assert show_all and int(show_all.group(2)) == len(AUTHORS)
    url = show_all.group(1).replace("&amp;", "&")
    reached, page_url = set(), url
    while page_url:
        page = client.get(page_url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        reached |= set(re.findall(r'<span class="facet-value">([^<]+)</span>', html))
        nxt = re.search(r'class="page-next" rel="next" href="([^"]+)"', html)
        page_url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert reached == AUTHORS
    # The search within the values, as the page's GET form sends it.
    html = client.get("/facet/author?" + urlencode({"q": "明月", "contains": "賀"})).get_data(as_text=True)
    links = re.findall(r'<a class="facet-all-link" href="([^"]+)">\s*<span class="facet-value">([^<]+)<', html)
    assert [name for _, name in links] == ["贺知章"]
    narrowed = client.get("/api/search?" + links[0][0].split("?", 1)[1].replace("&amp;", "&")).get_json()
    assert narrowed["filters"] == {"author": ["贺知章"]} and narrowed["total"] == 3
    # In traditional script, the values are shown so too.
    html = client.get("/facet/author?" + urlencode({"contains": "hzz", "script": "trad"})).get_data(as_text=True)
    assert '<span class="facet-value">賀知章</span>' in html


def test_the_server_hides_a_facet_from_its_command_line(poets_index, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SEARCH_HIDE_FACETS"}
    with serve(poets_index, threads=2, log_path=tmp_path / "server.log", env=env,
               extra_args=["--hide-facet", "genre", "--processes", "1"]) as (base, _proc):
        with urllib.request.urlopen(base + "/?q=" + quote("明月")) as resp:
            page = resp.read().decode()
        assert 'id="facet-author-h"' in page and 'id="facet-genre-h"' not in page
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/api/facet/genre")
        assert refused.value.code == 404
        assert json.loads(refused.value.read())["code"] == "facet_turned_off"
        with urllib.request.urlopen(base + "/api/facet/author?contains=lb") as resp:
            assert [v["value"] for v in json.loads(resp.read())["values"]] == ["李白"]
