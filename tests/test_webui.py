"""The web UI through Flask's test client: every route, parameter and failure mode."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

import pytest

from conftest import XSS_IMG, XSS_LINK, XSS_SCRIPT, build, make_client, write_corpus
from search import build_index

LUOYANG = "002_"          # the seed article about Luoyang (traditional script)


# ---------------------------------------------------------------------------
# Reading pages


class Page(HTMLParser):
    """A parsed page: its links, marks, elements and the text of chosen classes.

    A form's named submit button (a facet value, a chip) is read as the link
    it acts as: its ``href`` is the address the browser asks for on a click
    (the form's fields, then the button's name and value).
    """

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.html = html
        self.links: list[dict] = []          # {"href", "text", "class", attrs...}
        self.buttons: list[dict] = []        # the same, for named submit buttons
        self._forms: dict[str, dict] = {}    # form id -> {"action", "fields"}
        self._open_form: str | None = None
        self.marks: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.end_tags: list[str] = []
        self._open_links: list[dict] = []
        self._open_marks: list[list[str]] = []
        self._stack: list[tuple[str, list[str], list[str]]] = []
        self.texts: dict[str, list[str]] = {}  # class -> texts of elements with it
        self.feed(html)
        for button in self.buttons:
            form = self._forms.get(button.pop("_form") or "", {"action": "/", "fields": []})
            pairs = form["fields"] + [(button["name"], button.get("value", ""))]
            button["href"] = form["action"] + "?" + urlencode(pairs)

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "a":
            link = {**attrs, "href": attrs.get("href"), "text": ""}
            self.links.append(link)
            self._open_links.append(link)
        if tag == "form":
            self._open_form = attrs.get("id") or ""
            self._forms[self._open_form] = {"action": attrs.get("action") or "/", "fields": []}
        if tag == "input" and attrs.get("name") and attrs.get("type") != "submit":
            owner = attrs.get("form") or self._open_form
            if owner is not None and owner in self._forms:
                self._forms[owner]["fields"].append((attrs["name"], attrs.get("value") or ""))
        if tag == "button" and attrs.get("name"):
            button = {**attrs, "text": "", "_form": attrs.get("form") or self._open_form}
            self.buttons.append(button)
            self._open_links.append(button)
        if tag == "mark":
            self._open_marks.append([])
        if tag not in self.VOID:
            self._stack.append((tag, (attrs.get("class") or "").split(), []))

    def handle_endtag(self, tag):
        self.end_tags.append(tag)
        if tag == "form":
            self._open_form = None
        if tag in ("a", "button") and self._open_links:
            self._open_links.pop()
        if tag == "mark" and self._open_marks:
            self.marks.append("".join(self._open_marks.pop()))
        if not any(t == tag for t, _, _ in self._stack):
            return
        while self._stack:
            name, classes, text = self._stack.pop()
            for cls in classes:
                self.texts.setdefault(cls, []).append("".join(text))
            if name == tag:
                break

    def handle_data(self, data):
        for link in self._open_links:
            link["text"] += data
        for m in self._open_marks:
            m.append(data)
        for _, _, text in self._stack:
            text.append(data)

    # -- queries ------------------------------------------------------------

    def links_with(self, cls: str) -> list[dict]:
        """Links and named form buttons with class ``cls``."""
        return [a for a in self.links + self.buttons if cls in (a.get("class") or "").split()]

    def link_to(self, path_prefix: str) -> list[dict]:
        return [a for a in self.links if a["href"] and unquote(urlsplit(a["href"]).path).startswith(path_prefix)]

    def text(self, cls: str) -> list[str]:
        return [" ".join(t.split()) for t in self.texts.get(cls, [])]

    def input_value(self, name: str) -> str | None:
        for tag, attrs in self.tags:
            if tag == "input" and attrs.get("name") == name:
                return attrs.get("value")
        return None

    def hidden_inputs(self) -> list[tuple[str, str]]:
        return [(a["name"], a.get("value", "")) for t, a in self.tags
                if t == "input" and a.get("type") == "hidden"]


def get_page(client, url, status=200) -> Page:
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.mimetype == "text/html"
    return Page(resp.get_data(as_text=True))


def params(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def redirected(client, href: str) -> str:
    """Where a click that drops a filter lands: the search page redirects there."""
    resp = client.get(href)
    assert resp.status_code == 303, (href, resp.status_code)
    return resp.headers["Location"]


def hit_ids(page: Page) -> list[str]:
    """The document ids the result list links to, in order."""
    out = []
    for link in page.links:
        href = link["href"] or ""
        path = unquote(urlsplit(href).path)
        if path.startswith("/doc/") and link.get("class") is None:
            out.append(path[len("/doc/"):])
        elif path == "/doc" and link.get("class") is None:
            out.append(params(href)["id"][0])
    return out


def total_of(page: Page) -> int:
    [total] = page.text("total")
    return int(total.replace(",", ""))


def facet_links(page: Page, value: str) -> list[dict]:
    return [a for a in page.links_with("facet-link")
            if re.sub(r"\s+", " ", a["text"]).strip().split(" ")[0] == value]


def chip_links(page: Page) -> list[dict]:
    return [a for a in page.links_with("chip") if "chip-clear" not in a.get("class", "")]


@pytest.fixture()
def ix(seed_index):
    from search import open_index
    return open_index(seed_index)


@pytest.fixture()
def cix(corpus_index):
    from search import open_index
    return open_index(corpus_index)


# ---------------------------------------------------------------------------
# The start page


def test_start_page_shows_the_collection_with_real_examples(client, ix):
    page = get_page(client, "/")
    docs = ix.stats()["documents"]
    assert f"搜索 {docs} 篇中文文档" in page.html
    assert 'lang="zh-Hans"' in page.html
    example_queries = [params(a["href"])["q"][0] for a in page.links
                       if a["href"] and a["href"].startswith("/?q=")]
    assert len(example_queries) >= 3, example_queries
    for q in example_queries:
        # Every example finds something: they come from the index, not from the code.
        assert ix.search(q, per_page=1).total > 0, q
        follow = get_page(client, f"/?q={q}")
        assert total_of(follow) > 0
    # The top cities of the collection are among the examples.
    top_cities = [f["value"] for f in ix.search("").facets["city"][:3]]
    assert set(top_cities) <= set(example_queries)
    # The facets of the whole collection are beside it.
    everything = ix.search("")
    for facet in everything.facets["city"][:10]:
        [link] = facet_links(page, facet["value"])
        assert params(link["href"])["city"] == [facet["value"]]
        assert str(facet["count"]) in link["text"]
    # And the newest documents are listed, newest first.
    assert hit_ids(page) == [h.id for h in everything.hits]


def test_start_page_examples_show_cross_script_pair(client, ix):
    page = get_page(client, "/")
    pairs = [(c, f[0]) for h in ix.search("", per_page=100).hits
             for c, f in h.city_forms.items() if f and f[0] != c]
    if not pairs:
        pytest.skip("no document spells a city in the other script")
    canonical, other = pairs[0]
    assert f"“{canonical}”也能找到写作“{other}”" in page.text("overview")[0]
    queries = [params(a["href"]).get("q") for a in page.links if a["href"]]
    assert [canonical] in queries and [other] in queries


# ---------------------------------------------------------------------------
# Searching


@pytest.mark.parametrize("q", ["洛阳", "洛陽"])
def test_either_script_finds_the_luoyang_article_and_marks_its_own_script(client, q):
    page = get_page(client, f"/?q={q}")
    ids = hit_ids(page)
    assert ids and ids[0].startswith(LUOYANG), ids
    assert "洛陽" in page.marks
    # The query stays in the box, and the title of the page says what was searched.
    assert page.input_value("q") == q
    assert f"<title>{q} - " in page.html
    assert total_of(page) >= 1
    assert re.search(r"用时 \d+\.\d 毫秒", page.html)


def test_query_echo_is_escaped(client):
    q = '"><script>alert(1)</script>'
    resp = client.get("/", query_string={"q": q})
    html = resp.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html
    assert Page(html).input_value("q") == q


def test_result_links_carry_the_query_and_filters(client, ix):
    res = ix.search("呼叫中心")
    city = res.facets["city"][0]["value"]
    page = get_page(client, f"/?q=呼叫中心&city={city}&sort=newest")
    ids = hit_ids(page)
    assert ids
    for link in page.link_to("/doc/"):
        p = params(link["href"])
        assert p["q"] == ["呼叫中心"] and p["city"] == [city] and p["sort"] == ["newest"]


def test_city_facet_narrows_and_chip_removes(client, ix):
    base = ix.search("呼叫中心")
    assert len(base.facets["city"]) >= 2
    page = get_page(client, "/?q=呼叫中心")
    assert total_of(page) == base.total
    facet = base.facets["city"][0]
    [link] = facet_links(page, facet["value"])
    narrowed = get_page(client, link["href"])
    assert total_of(narrowed) == facet["count"] < base.total or facet["count"] == base.total
    expected = ix.search("呼叫中心", city=facet["value"])
    assert hit_ids(narrowed) == [h.id for h in expected.hits]
    assert all(facet["value"] in h.cities for h in expected.hits)
    # The chosen value is shown as chosen, and as a chip that removes it.
    [chosen] = facet_links(narrowed, facet["value"])
    assert chosen.get("aria-pressed") == "true"
    [chip] = chip_links(narrowed)
    assert facet["value"] in chip["text"] and "城市" in chip["text"]
    without = redirected(client, chip["href"])
    back = get_page(client, without)
    assert total_of(back) == base.total
    assert "city" not in params(without) and params(without)["q"] == ["呼叫中心"]
    # Clicking the chosen facet value again also removes it.
    assert "city" not in params(redirected(client, chosen["href"]))


def test_two_cities_or_and_city_with_year_and(corpus_client, cix):
    page = get_page(corpus_client, "/?city=北京")
    # Another city's link adds to the selection (OR within the facet).
    [shanghai] = facet_links(page, "上海")
    assert sorted(params(shanghai["href"])["city"]) == ["上海", "北京"]
    both = get_page(corpus_client, shanghai["href"])
    one, two = cix.search("", city="北京").total, cix.search("", city="上海").total
    assert total_of(both) == one + two == cix.search("", city=["北京", "上海"]).total
    assert len(chip_links(both)) == 2

    # City and year combine with AND.
    luoyang = cix.search("", city="洛阳")
    assert luoyang.total >= 2
    year = luoyang.facets["year"][0]
    page = get_page(corpus_client, "/?city=洛阳")
    [year_link] = facet_links(page, year["value"])
    assert params(year_link["href"]) == {"city": ["洛阳"], "year": [year["value"]]}
    narrowed = get_page(corpus_client, year_link["href"])
    assert total_of(narrowed) == year["count"] < luoyang.total
    assert total_of(narrowed) == cix.search("", city="洛阳", year=year["value"]).total


def test_traditional_city_filter_is_canonical(corpus_client, cix):
    page = get_page(corpus_client, "/?city=洛陽")
    assert total_of(page) == cix.search("", city="洛阳").total
    [chip] = chip_links(page)
    assert "洛阳" in chip["text"]
    # The documents' own spelling is shown next to the canonical name.
    assert "洛阳 (洛陽)" in page.html


def test_months_appear_under_a_chosen_year(corpus_client, cix):
    page = get_page(corpus_client, "/")
    assert not page.links_with("facet-months") and "facet-months" not in page.html
    page = get_page(corpus_client, "/?year=2014")
    months = cix.search("", year="2014").facets["month"]
    shown = [m for m in months if m["value"].startswith("2014")]
    assert len(shown) >= 2
    for month in shown:
        [link] = facet_links(page, month["value"])
        assert params(link["href"])["year"] == ["2014", month["value"]]
    narrowed = get_page(corpus_client, facet_links(page, shown[0]["value"])[0]["href"])
    assert total_of(narrowed) == shown[0]["count"]
    chips = [c["text"] for c in chip_links(narrowed)]
    assert any("月份" in c and shown[0]["value"] in c for c in chips)


def test_month_alone_is_a_filter(corpus_client, cix):
    page = get_page(corpus_client, "/?year=2014-09")
    assert total_of(page) == cix.search("", year="2014-09").total == 1
    [chip] = chip_links(page)
    assert "2014-09" in chip["text"]
    assert params(redirected(corpus_client, chip["href"])) == {}


def test_other_facets_author_and_dynasty(corpus_client, cix):
    page = get_page(corpus_client, "/?q=明月")
    assert "作者" in page.text("facet")[0] or any("作者" in t for t in page.text("facet"))
    [li_bai] = facet_links(page, "李白")
    assert params(li_bai["href"]) == {"q": ["明月"], "f.author": ["李白"]}
    narrowed = get_page(corpus_client, li_bai["href"])
    expected = cix.search("明月", filters={"author": ["李白"]})
    assert total_of(narrowed) == expected.total == 2
    [tang] = facet_links(narrowed, "唐")
    assert params(tang["href"]) == {"q": ["明月"], "f.author": ["李白"], "f.dynasty": ["唐"]}
    # Counts are over the chosen author's poems: 宋 has none of them.
    assert not facet_links(narrowed, "宋")
    assert total_of(get_page(corpus_client, tang["href"])) == 2
    # f.city and f.year are the same as city and year.
    assert total_of(get_page(corpus_client, "/?f.city=洛阳")) == cix.search("", city="洛阳").total


def test_more_than_ten_cities_go_under_more(corpus_client, cix):
    page = get_page(corpus_client, "/")
    cities = cix.search("").facets["city"]
    assert len(cities) > 10
    details = re.search(r'<details class="facet-more">(.*?)</details>', page.html, re.S)
    assert details and "更多城市" in details.group(1)
    hidden = Page(details.group(1))
    assert len(hidden.links_with("facet-link")) == len(cities) - 10
    # A chosen value is never hidden under "more".
    last = cities[-1]["value"]
    page = get_page(corpus_client, f"/?city={last}")
    details = re.search(r'<details class="facet-more">(.*?)</details>', page.html, re.S)
    assert not facet_links(Page(details.group(1)), last)
    assert facet_links(page, last)[0].get("aria-pressed") == "true"


def test_sort_links_and_order(client, ix):
    page = get_page(client, "/?q=呼叫中心")
    sorts = {a["text"].strip(): a["href"] for a in page.links if a["href"] and "sort=" in a["href"]}
    assert set(sorts) == {"最新", "最早"}
    assert "相关度" in page.text("sort-current")
    newest = get_page(client, sorts["最新"])
    assert hit_ids(newest) == [h.id for h in ix.search("呼叫中心", sort="newest").hits]
    dates = [d for d in (h.date for h in ix.search("呼叫中心", sort="newest").hits) if d]
    assert dates == sorted(dates, reverse=True)
    assert "最新" in newest.text("sort-current")
    oldest = get_page(client, sorts["最早"])
    assert hit_ids(oldest) == [h.id for h in ix.search("呼叫中心", sort="oldest").hits]
    # Back to relevance drops the parameter; an empty query has no relevance link.
    [rel] = [a for a in newest.links if a["text"].strip() == "相关度"]
    assert "sort" not in params(rel["href"])
    start = get_page(client, "/")
    assert not [a for a in start.links if a["text"].strip() == "相关度"]


def test_pagination_keeps_every_parameter(corpus_client, cix):
    url = "/?q=呼叫中心&city=洛阳&city=贵阳&sort=oldest&per_page=1"
    expected = cix.search("呼叫中心", city=["洛阳", "贵阳"], sort="oldest", per_page=1)
    assert expected.pages >= 3
    page = get_page(corpus_client, url)
    numbers = [a for a in page.links if a["href"] and "page" in params(a["href"])]
    assert len(numbers) >= 2
    for link in numbers:
        p = params(link["href"])
        assert p["q"] == ["呼叫中心"] and sorted(p["city"]) == ["洛阳", "贵阳"]
        assert p["sort"] == ["oldest"] and p["per_page"] == ["1"]
    assert "上一页" in page.html and 'aria-disabled="true">上一页' in page.html
    [nxt] = page.links_with("page-next")
    assert params(nxt["href"])["page"] == ["2"]
    second = get_page(corpus_client, nxt["href"])
    assert hit_ids(second) == [h.id for h in cix.search(
        "呼叫中心", city=["洛阳", "贵阳"], sort="oldest", per_page=1, page=2).hits]
    assert hit_ids(second) != hit_ids(page)
    [prev] = second.links_with("page-prev")
    assert "page" not in params(prev["href"])       # page 1 is the default
    assert second.text("page-current") == ["第 2 页"]


def test_pagination_window_has_gaps(corpus_client, cix):
    total = cix.search("").total
    assert total > 10
    page = get_page(corpus_client, "/?per_page=1&page=8")
    assert "page-gap" in page.html
    numbers = [a["text"].replace("第", "").replace("页", "").strip()
               for a in page.links if a["href"] and "page" in params(a["href"])]
    assert str(total) in numbers and "7" in numbers and "9" in numbers


def test_page_past_the_end(client, ix):
    total = ix.search("").total
    page = get_page(client, f"/?page={total + 5}")
    assert f"第 {total + 5} 页没有结果" in page.html
    assert hit_ids(page) == []


def test_no_results_offers_ways_out(corpus_client):
    page = get_page(corpus_client, "/?q=呼叫中心&city=北京&year=2014")
    assert total_of(page) == 0
    assert "没有找到" in page.html
    texts = {a["text"].strip(): a["href"] for a in page.links + page.buttons}
    drop_city = redirected(corpus_client, texts["去掉筛选「城市：北京」"])
    assert params(drop_city) == {"q": ["呼叫中心"], "year": ["2014"]}
    assert total_of(get_page(corpus_client, drop_city)) > 0
    assert params(redirected(corpus_client, texts["去掉筛选「年份：2014」"])) == {
        "q": ["呼叫中心"], "city": ["北京"]}
    assert params(texts["清除全部筛选"]) == {"q": ["呼叫中心"]}

    # A quoted text no document holds exactly falls back to its words, and says so.
    page = get_page(corpus_client, '/?q="呼叫中心洛阳" -贵阳')
    assert total_of(page) > 0
    assert "没有文档完整包含“呼叫中心洛阳”" in page.html
    # Excluding everything that matches leaves nothing, with the way out offered.
    page = get_page(corpus_client, "/?q=呼叫中心 -呼叫中心")
    assert total_of(page) == 0
    texts = {a["text"].strip(): a["href"] for a in page.links}
    kept = [h for t, h in texts.items() if t.startswith("不排除任何词")]
    assert kept and params(kept[0])["q"] == ["呼叫中心"]


def test_notices_are_shown(corpus_index, monkeypatch):
    client = make_client(corpus_index)
    client.get("/api/stats")
    ix = client.application.extensions["webui"]["index"]
    search = ix.search

    def with_notice(*args, **kwargs):
        res = search(*args, **kwargs)
        res.notices.append("the query took <too> long")
        return res

    monkeypatch.setattr(ix, "search", with_notice)
    page = get_page(client, "/?city=不存在的城市")
    [notices] = page.text("notices")
    # The library's own notice about the unknown city, then the injected one, escaped.
    assert "索引里没有城市为“不存在的城市”的文档" in notices
    assert notices.endswith("the query took <too> long")
    assert "&lt;too&gt;" in page.html
    assert client.get("/api/search?q=x").get_json()["notices"] == ["the query took <too> long"]
    # The impossible filter is shown (count 0) and can be removed.
    [chip] = chip_links(page)
    assert "不存在的城市" in chip["text"] and params(redirected(client, chip["href"])) == {}
    [zero] = facet_links(page, "不存在的城市")
    assert "0" in zero["text"] and zero.get("aria-pressed") == "true"


def test_search_form_keeps_filters_and_sort(client):
    page = get_page(client, "/?q=呼叫&city=洛阳&year=2012&sort=newest&per_page=5&page=2")
    assert page.hidden_inputs() == [("city", "洛阳"), ("year", "2012"), ("sort", "newest"),
                                    ("per_page", "5")]


# ---------------------------------------------------------------------------
# Document pages


def test_document_page_highlights_and_links_back(client, ix):
    results = get_page(client, "/?q=洛阳")
    [link] = [a for a in results.link_to("/doc/" + LUOYANG)]
    page = get_page(client, link["href"])
    assert "洛陽" in page.marks
    assert len(page.marks) == ix.document(hit_ids(results)[0], q="洛阳").body_html.count("<mark>") + \
        ix.document(hit_ids(results)[0], q="洛阳").title_html.count("<mark>")
    assert 'id="match-1"' in page.html and 'href="#match-1"' in page.html
    [back] = page.links_with("back-link")
    assert params(back["href"]) == {"q": ["洛阳"]}
    assert "返回搜索结果" in back["text"]
    # Metadata: date, cities (own spelling), source, id.
    doc = ix.document(hit_ids(results)[0])
    if doc.date:
        assert f'<time datetime="{doc.date}">' in page.html
    for city in doc.cities:
        assert city in page.html
    assert doc.source in page.html and doc.id in page.html
    # Without a query nothing is marked.
    plain = get_page(client, urlsplit(link["href"]).path)
    assert plain.marks == [] and "<mark" not in plain.html


def test_document_back_link_keeps_filters(corpus_client):
    results = get_page(corpus_client, "/?q=呼叫中心&city=洛阳&sort=newest")
    doc_link = results.link_to("/doc/")[0]
    page = get_page(corpus_client, doc_link["href"])
    [back] = page.links_with("back-link")
    assert params(back["href"]) == {"q": ["呼叫中心"], "city": ["洛阳"], "sort": ["newest"]}
    assert page.marks and all(m == "呼叫中心" for m in page.marks)
    # "Remove marks" keeps the way back but drops the query.
    [plain] = [a for a in page.links if a["text"].strip() == "取消标记"]
    assert "q" not in params(plain["href"]) and params(plain["href"])["city"] == ["洛阳"]
    assert get_page(corpus_client, plain["href"]).marks == []


def test_document_ids_with_slashes_chinese_and_odd_characters(corpus_client, cix):
    for doc_id in ["诗/李白/静夜思", "odd/q?#%&=+ 空格", "odd/x/../y", "https://example.com/page",
                   "hostile/<script>1", "文章/hostile.md"]:
        assert cix.document(doc_id) is not None, doc_id
        results = get_page(corpus_client, "/?per_page=100")
        assert doc_id in hit_ids(results), doc_id
        [link] = [a for a in results.links if a.get("class") is None and a["href"]
                  and (unquote(urlsplit(a["href"]).path) == "/doc/" + doc_id
                       or params(a["href"]).get("id") == [doc_id])]
        page = get_page(corpus_client, link["href"])
        assert page.text("doc-id") == [doc_id]


def test_document_404s(client):
    for url in ["/doc/no-such-document", "/doc/../../etc/passwd", "/doc/..%2F..%2Fetc%2Fpasswd",
                "/doc/%2e%2e/%2e%2e/etc/passwd", "/doc?id=../../etc/passwd", "/doc?id=",
                "/doc/%ff", "/no-such-page"]:
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert resp.mimetype == "text/html"
        html = resp.get_data(as_text=True)
        assert "找不到页面" in html and 'lang="zh-Hans"' in html
        assert "root:" not in html


def test_document_page_rejects_bad_bytes_and_long_query(client):
    resp = client.get(f"/doc/{LUOYANG}x?q=%ff")
    assert resp.status_code == 400
    resp = client.get("/doc/" + LUOYANG + "75dd12776f2b8123.txt", query_string={"q": "字" * 5000})
    assert resp.status_code == 400 and "上限" in Page(resp.get_data(as_text=True)).text("error-message")[0]
    resp = client.get("/api/doc/" + LUOYANG + "75dd12776f2b8123.txt", query_string={"q": "字" * 5000})
    assert resp.status_code == 400 and "limit" in resp.get_json()["error"]


# ---------------------------------------------------------------------------
# The JSON API

ERROR_KEYS = {"error", "code", "param", "message", "message_en"}
RESULT_KEYS = {"query", "total", "page", "per_page", "sort", "filters", "hits", "facets",
               "elapsed_ms", "partial", "total_exact", "notices", "expansions", "did_you_mean",
               "facets_more", "total_full", "total_partial", "searched_for", "shown_for",
               "alternatives"}
HIT_KEYS = {"id", "title", "score", "date", "cities", "snippet", "source", "match", "missing",
            "title_html", "snippets", "snippets_text", "city_forms", "fields"}
DOC_PAGE_KEYS = {"script", "marks", "web_url", "url", "explain_url", "related"}
# What the page's context adds to the library's dict (webui.pages.SearchContext).
PAGE_KEYS = {"script", "pages", "notices_detail"}
PAGE_HIT_KEYS = {"origin", "url"}
DOC_KEYS = {"id", "title", "title_html", "body", "body_html", "article_html", "date", "cities",
            "city_forms", "source", "fields"}


def _without_time(d: dict) -> dict:
    """A results dict without its timing and without what the page's context
    adds to the library's (so it compares with ``SearchResults.to_dict()``)."""
    out = {k: v for k, v in d.items() if k != "elapsed_ms" and k not in PAGE_KEYS}
    if "hits" in out:
        out["hits"] = [{k: v for k, v in h.items() if k not in PAGE_HIT_KEYS}
                       for h in out["hits"]]
    return out


def test_api_search_is_the_library_dict(client, ix):
    resp = client.get("/api/search?q=洛陽&sort=relevance&per_page=3")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    data = resp.get_json()
    assert set(data) == RESULT_KEYS | PAGE_KEYS
    assert data["hits"] and all(set(h) == HIT_KEYS | PAGE_HIT_KEYS for h in data["hits"])
    assert data["hits"][0]["id"].startswith(LUOYANG)
    assert "<mark>洛陽</mark>" in data["hits"][0]["snippet"]
    assert all(set(f) == {"value", "count"} for values in data["facets"].values() for f in values)
    expected = ix.search("洛陽", sort="relevance", per_page=3).to_dict()
    assert _without_time(data) == json.loads(json.dumps(_without_time(expected)))
    # UTF-8 as text, not \u escapes: readable with curl.
    assert "洛陽" in resp.get_data(as_text=True)


def test_api_and_page_cut_long_facets(corpus_client, cix):
    full = cix.search("", facet_limit=10_000).facets["city"]
    assert len(full) > 2
    data = corpus_client.get("/api/search?facet_limit=2").get_json()
    assert data["facets"]["city"] == full[:2]
    assert data["facets_more"]["city"] == len(full) - 2
    bad = corpus_client.get("/api/search?facet_limit=lots")
    assert bad.status_code == 400 and "facet_limit" in bad.get_json()["error"]
    page = corpus_client.get("/?facet_limit=2").get_data(as_text=True)
    assert f"另有 {len(full) - 2} 个未列出" in page


def test_api_search_parameters(corpus_client, cix):
    data = corpus_client.get("/api/search?q=呼叫中心&city=洛陽&year=2014&year=2015").get_json()
    expected = cix.search("呼叫中心", city=["洛陽"], year=["2014", "2015"]).to_dict()
    assert _without_time(data) == json.loads(json.dumps(_without_time(expected)))
    assert data["filters"] == {"city": ["洛阳"], "year": ["2014", "2015"]}
    data = corpus_client.get("/api/search?f.author=李白&sort=oldest&page=2&per_page=1").get_json()
    assert data["filters"] == {"author": ["李白"]} and data["page"] == 2 and data["per_page"] == 1
    assert data["total"] == 2 and len(data["hits"]) == 1 and data["sort"] == "oldest"
    # Empty parameters take their defaults; unknown ones are ignored.
    data = corpus_client.get("/api/search?q=&page=&per_page=&sort=&utm_source=x").get_json()
    assert (data["page"], data["per_page"], data["sort"]) == (1, 10, "newest")


def test_api_doc_and_stats(client, ix):
    doc_id = ix.search("洛阳").hits[0].id
    data = client.get(f"/api/doc/{doc_id}?q=洛阳").get_json()
    assert set(data) == DOC_KEYS | DOC_PAGE_KEYS
    library = {k: v for k, v in data.items() if k not in DOC_PAGE_KEYS}
    assert library == json.loads(json.dumps(ix.document(doc_id, q="洛阳").to_dict()))
    # What the document's page shows besides: its matches, related documents.
    assert data["marks"] == data["body_html"].count("<mark>") + data["title_html"].count("<mark>")
    assert data["marks"] > 0 and data["related"] and data["related"][0]["url"].startswith("/doc")
    assert "<mark>洛陽</mark>" in data["body_html"]
    assert client.get(f"/api/doc?id={doc_id}").get_json()["id"] == doc_id
    stats = client.get("/api/stats").get_json()
    assert set(stats) == {"documents", "facets", "built_at", "updated_at", "segments", "deleted",
                          "generation"}
    assert stats == json.loads(json.dumps(ix.stats()))


def test_api_404s_are_json(client):
    for url in ["/api/doc/no-such-doc", "/api/doc/../../etc/passwd", "/api/doc?id=../x",
                "/api/nothing-here", "/api/doc/%ff"]:
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert resp.mimetype == "application/json"
        assert set(resp.get_json()) == ERROR_KEYS and resp.get_json()["error"]
        assert resp.get_json()["code"] in ("not_found", "no_such_document")


def test_api_wrong_method_is_405_json(client):
    resp = client.post("/api/search", data={"q": "x"})
    assert resp.status_code == 405 and resp.get_json()["error"]
    resp = client.post("/", data={"q": "x"})
    assert resp.status_code == 405 and "不支持" in resp.get_data(as_text=True)


BAD_PARAMS = [
    ("page=0", "page"), ("page=-1", "page"), ("page=abc", "page"), ("page=1.5", "page"),
    ("page=" + "9" * 5000, "page"), ("page=10001", "page"),
    ("per_page=1000000", "per_page"), ("per_page=0", "per_page"),
    ("sort=bogus", "sort"), ("f.bogus=x", "bogus"), ("f.=x", "filter"),
    ("year=abc", "year"), ("year=2014-9", "year"),
    ("q=" + "字" * 10_000, "limit"),
    ("q=%ff%fe", "UTF-8"), ("city=%c3%28", "UTF-8"), ("q=%e6%b4", "UTF-8"),
    ("&".join(["city=x"] * 101), "limit"),
]


@pytest.mark.parametrize("query,word", BAD_PARAMS, ids=[b[0][:24] for b in BAD_PARAMS])
def test_bad_parameters_are_400_with_the_same_message(client, query, word):
    api = client.get("/api/search?" + query)
    assert api.status_code == 400, api.get_data(as_text=True)[:300]
    assert api.mimetype == "application/json"
    error = api.get_json()["error"]
    assert set(api.get_json()) == ERROR_KEYS and word in error
    assert api.get_json()["message_en"] == error and api.get_json()["code"]
    page = client.get("/?" + query)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    # The page says in Chinese what the API says in both.
    assert Page(html).text("error-message") == [" ".join(api.get_json()["message"].split())]
    assert "参数有误" in html and 'role="search"' in html


def test_raw_non_utf8_bytes_in_query_string(client):
    # What a server hands over for raw bytes: the QUERY_STRING as latin-1 text.
    resp = client.get("/api/search", environ_overrides={"QUERY_STRING": "q=\xff\xfe"})
    assert resp.status_code == 400 and "UTF-8" in resp.get_json()["error"]
    resp = client.get("/", environ_overrides={"QUERY_STRING": "q=\xe6\xb4"})
    assert resp.status_code == 400
    ok = client.get("/api/search", environ_overrides={
        "QUERY_STRING": "q=洛阳".encode("utf-8").decode("latin-1")})
    assert ok.status_code == 200 and ok.get_json()["query"] == "洛阳"
    # Raw bytes in the path: no such document, not a crash.
    assert client.get("/", environ_overrides={"PATH_INFO": "/doc/\xff\xfe"}).status_code == 404
    assert client.get("/", environ_overrides={"PATH_INFO": "/api/doc/\xff"}).status_code == 404


# ---------------------------------------------------------------------------
# Safety


def test_security_headers_everywhere(client):
    for url in ["/", "/?q=洛阳", "/api/search?q=x", "/api/stats", "/nope", "/api/nope",
                "/?page=0", "/static/style.css", f"/doc/{LUOYANG}"]:
        resp = client.get(url)
        csp = resp.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "style-src 'self'" in csp, url
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] in ("same-origin", "no-referrer",
                                                   "strict-origin-when-cross-origin")


def test_pages_have_no_inline_script_or_style(client):
    for url in ["/", "/?q=洛阳&city=洛阳", f"/doc/{LUOYANG}x", "/nope", "/?page=0"]:
        page = Page(client.get(url).get_data(as_text=True))
        for tag, attrs in page.tags:
            assert "style" not in attrs, (url, tag)
            assert not any(a.startswith("on") for a in attrs), (url, tag)
            if tag == "script":
                assert attrs.get("src", "").startswith("/static/"), url
            assert tag != "style"
        assert page.html.count("<script") == len(STATIC_SCRIPTS)
        assert len(re.findall(r"<script[^>]*></script>", page.html)) == len(STATIC_SCRIPTS)


# The page's own scripts, each a file of webui/static.
STATIC_SCRIPTS = {"/static/app.js", "/static/facets.js"}

ALLOWED_TAGS = {"html", "head", "meta", "title", "link", "script", "body", "a", "header", "div",
                "form", "label", "input", "button", "p", "kbd", "code", "pre", "main", "footer",
                "section", "h1", "h2", "h3", "h4", "ul", "ol", "li", "span", "strong", "nav",
                "aside", "details", "summary", "time", "mark", "article", "dl", "dt", "dd"}


def assert_inert(html: str, where: str = ""):
    """No markup from documents acts: only our own tags, no handlers, no script URLs."""
    page = Page(html)
    for tag, attrs in page.tags:
        assert tag in ALLOWED_TAGS, (where, tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (where, tag, attrs)
        for name in ("href", "src", "action"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (where, tag, attrs)
        if tag == "script":
            assert attrs.get("src") in STATIC_SCRIPTS, where
        if tag == "a" and attrs.get("href", "").startswith("http"):
            assert "noopener" in attrs.get("rel", ""), where
    assert html.count("<script") == len(STATIC_SCRIPTS), where
    assert "<img" not in html, where
    # Every <mark> is ours and closed: a document's "</mark>" cannot end one early.
    assert page.end_tags.count("mark") == sum(1 for t, _ in page.tags if t == "mark"), where


def test_hostile_documents_are_inert_everywhere(corpus_client, cix):
    hostile = ["hostile/<script>1", "hostile/mark", "文章/hostile.md"]
    views = [cix.document(d) for d in hostile]
    assert all(views)
    # The hostile text really reached the index (so the checks below mean something).
    assert "<script>" in views[0].title and "<script>" in views[2].title
    stored = "".join(v.title + v.body + json.dumps(v.fields, ensure_ascii=False) for v in views)
    assert "</mark>" in stored and "onerror" in stored and "javascript:" in stored

    urls = ["/", "/?per_page=100", "/?q=呼叫中心", "/?q=危险标题", "/?q=script",
            "/?q=alert", "/?q=mark", "/?q=<script>", "/?q=</mark>", "/?q=onerror",
            "/?f.author=" + XSS_IMG, "/?q=javascript"]
    for doc_id in hostile:
        for q in ["", "呼叫中心", "script", "mark", "</mark>", "alert", XSS_SCRIPT]:
            urls.append("/doc/" + doc_id.replace("<", "%3C").replace(">", "%3E") + "?q=" + q)
    for url in urls:
        resp = corpus_client.get(url)
        assert resp.status_code == 200, url
        assert_inert(resp.get_data(as_text=True), url)

    # The hostile text is shown, as text.
    html = corpus_client.get("/doc/hostile/mark?q=呼叫中心").get_data(as_text=True)
    assert "&lt;/mark&gt;" in html
    assert re.search(r'<mark( id="match-1")?>呼叫中心</mark>', html)
    html = corpus_client.get("/doc/hostile/%3Cscript%3E1").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;危险标题" in html or \
        "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;危险标题" in html
    # A javascript: URL field is text, not a link; an https one is a link.
    page = Page(html)
    assert not [a for a in page.links if "alert" in (a["href"] or "")]
    assert XSS_LINK in html
    page = get_page(corpus_client, "/doc/https://example.com/page")
    assert [a for a in page.links if a["href"] == "https://example.com/page"]


def test_hostile_documents_in_the_api_are_data(corpus_client):
    resp = corpus_client.get("/api/search?q=危险标题")
    assert resp.mimetype == "application/json"
    hit = resp.get_json()["hits"][0]
    assert hit["title"].startswith(XSS_SCRIPT)          # the data, as it is
    assert "&lt;script&gt;" in hit["snippet"] or "<script" not in hit["snippet"]


# ---------------------------------------------------------------------------
# No index, an empty index, a rebuilt index, unexpected errors


def test_no_index_is_503_until_one_is_built(tmp_path):
    index_dir = tmp_path / "index"
    client = make_client(index_dir)
    resp = client.get("/")
    assert resp.status_code == 503
    html = resp.get_data(as_text=True)
    assert "还没有索引" in html and str(index_dir) in html
    assert f"zhsearch index 文件夹 --index {index_dir}" in html and "make index" in html
    for url in ["/api/search?q=x", "/api/stats", "/api/doc/x"]:
        resp = client.get(url)
        assert resp.status_code == 503 and "no index" in resp.get_json()["error"]
    assert client.get("/doc/x").status_code == 503
    # Static files and headers still work without an index.
    assert client.get("/static/style.css").status_code == 200
    # Built while the app runs: served from the next request on.
    source = tmp_path / "docs"
    source.mkdir()
    (source / "a.txt").write_text("新建索引\n这是刚刚建好的索引里的文档，提到了洛阳。", encoding="utf-8")
    build([source], index_dir)
    page = get_page(client, "/?q=洛阳")
    assert hit_ids(page) == ["a.txt"]


def test_empty_index_says_so(tmp_path):
    source = tmp_path / "empty"
    source.mkdir()
    build_index([source], tmp_path / "index", force=True)      # emptied on purpose
    client = make_client(tmp_path / "index")
    page = get_page(client, "/")
    assert "索引里还没有文档" in page.html
    assert client.get("/api/stats").get_json()["documents"] == 0
    assert client.get("/api/search?q=x").get_json()["total"] == 0
    page = get_page(client, "/?q=洛阳")
    assert "没有找到" in page.html


def test_rebuilt_index_is_served_without_restart(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "old.txt").write_text("旧文档\n旧的文档讲牡丹江的呼叫中心。", encoding="utf-8")
    (second / "new.txt").write_text("新文档\n新的文档讲淮安的呼叫中心。", encoding="utf-8")
    index_dir = tmp_path / "index"
    build([first], index_dir)
    client = make_client(index_dir)
    assert hit_ids(get_page(client, "/?q=呼叫中心")) == ["old.txt"]
    start = get_page(client, "/")
    assert "搜索 1 篇中文文档" in start.html
    build([second, first], index_dir)
    assert hit_ids(get_page(client, "/?q=淮安")) == ["new.txt"]
    assert client.get("/api/stats").get_json()["documents"] == 2
    assert "搜索 2 篇中文文档" in get_page(client, "/").html   # the overview is refreshed too
    build([second], index_dir)
    assert client.get("/api/doc/old.txt").status_code == 404
    assert hit_ids(get_page(client, "/?q=呼叫中心")) == ["new.txt"]
    # And when the index disappears: 503, not 500.
    shutil.rmtree(index_dir)
    assert client.get("/api/search?q=x").status_code == 503
    assert client.get("/").status_code == 503


def test_unexpected_errors_are_friendly_500s(seed_index, monkeypatch):
    from webui import create_app
    app = create_app(index_dir=seed_index, config={"TESTING": False, "PROPAGATE_EXCEPTIONS": False})
    client = app.test_client()
    assert client.get("/api/stats").status_code == 200

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    ix = app.extensions["webui"]["index"]
    monkeypatch.setattr(ix, "search", boom)
    monkeypatch.setattr(ix, "document", boom)
    resp = client.get("/api/search?q=x")
    assert resp.status_code == 500 and resp.mimetype == "application/json"
    assert "secret" not in resp.get_data(as_text=True) and resp.get_json()["error"]
    for url in ["/?q=x", "/doc/x"]:
        resp = client.get(url)
        assert resp.status_code == 500 and resp.mimetype == "text/html"
        html = resp.get_data(as_text=True)
        assert "服务器出错了" in html and "secret" not in html and "Traceback" not in html
        assert "Content-Security-Policy" in resp.headers


def test_index_dir_defaults_to_env_then_index(seed_index, monkeypatch):
    from webui import create_app
    monkeypatch.setenv("SEARCH_INDEX", str(seed_index))
    app = create_app()
    assert app.config["SEARCH_INDEX"] == str(seed_index)
    assert app.test_client().get("/api/stats").status_code == 200
    monkeypatch.delenv("SEARCH_INDEX")
    assert create_app().config["SEARCH_INDEX"] == "index"


# ---------------------------------------------------------------------------
# The parameter mapping itself (one code path for the page and the API)


def test_search_kwargs_mapping():
    from werkzeug.datastructures import MultiDict

    from webui.params import search_kwargs
    args = MultiDict([("q", "洛阳"), ("city", "洛阳"), ("city", "贵阳"), ("year", "2014"),
                      ("year", "2014-09"), ("f.author", "李白"), ("f.author", "杜甫"),
                      ("f.city", "北京"), ("f.month", "2015-01"), ("f.dynasty", "唐"),
                      ("sort", "newest"), ("page", "3"), ("per_page", "20"), ("utm", "x"),
                      ("facet_limit", "5")])
    assert search_kwargs(args) == {
        "q": "洛阳", "city": ["洛阳", "贵阳", "北京"], "year": ["2014", "2014-09", "2015-01"],
        "filters": {"author": ["李白", "杜甫"], "dynasty": ["唐"]},
        "sort": "newest", "page": "3", "per_page": "20", "facet_limit": "5"}
    assert search_kwargs(MultiDict()) == {"q": "", "city": None, "year": None, "filters": {},
                                          "sort": "relevance", "page": 1, "per_page": 10,
                                          "facet_limit": 100}


def test_state_round_trips_through_urls(corpus_client, cix):
    from werkzeug.datastructures import MultiDict

    from webui import create_app
    from webui.params import SearchState, search_kwargs
    url = "/?q=呼叫中心&city=洛陽&year=2014-09&f.author=李白&sort=oldest&page=2&per_page=5"
    args = MultiDict(parse_qsl(urlsplit(url).query))
    kwargs = search_kwargs(args)
    res = cix.search(**{**kwargs, "page": 1})
    app = create_app(index_dir="unused")
    with app.test_request_context():
        state = SearchState.from_results(res, kwargs)
        again = search_kwargs(MultiDict(parse_qsl(urlsplit(state.url()).query)))
    # Canonical values (洛阳, the month as a year parameter) and nothing lost.
    assert again == {"q": "呼叫中心", "city": ["洛阳"], "year": ["2014-09"],
                     "filters": {"author": ["李白"]}, "sort": "oldest", "page": 1, "per_page": "5",
                     "facet_limit": 100}
