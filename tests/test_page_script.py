"""The page in the reader's language and script, through Flask's test client over real indexes.

Every message a page shows is Chinese (the library's English notices and
errors too), the whole page is traditional when the reader chose 繁體 (but
for the documents' and the reader's own text), ``<html lang>`` says which,
and the API's errors carry a code and both messages.
"""

from __future__ import annotations

import re
import string
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from conftest import make_client
from search import QueryError
from search.text.script import to_traditional
from webui.messages import CATALOG, chinese, describe, identify, message_of
from webui.page_script import convert_page

ERROR_KEYS = {"error", "code", "param", "message", "message_en"}


class Reading(HTMLParser):
    """What a reader sees of a page (its text) apart from what the page sends (attributes)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.text_parts: list[str] = []
        self.attribute_values: list[str] = []
        self.lang = None
        self.feed(html)
        self.text = "".join(self.text_parts)

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        self.attribute_values += [v or "" for _, v in attrs]

    def handle_data(self, data):
        self.text_parts.append(data)

    def sends(self, value: str) -> bool:
        return any(value in unquote(v) for v in self.attribute_values)


@pytest.fixture(scope="module")
def poems(corpus_index):
    return make_client(corpus_index)


def read(client, url: str, status: int = 200) -> Reading:
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.status_code)
    assert resp.mimetype == "text/html"
    return Reading(resp.get_data(as_text=True))


# ---------------------------------------------------------------------------
# The page's script and lang


def test_traditional_page_has_its_labels_facet_values_and_lang_in_traditional(poems):
    page = read(poems, "/?q=明月&script=trad")
    assert page.lang == "zh-Hant"
    # Labels of the page, not of any document.
    for label in ("篩選", "搜索結果", "條結果", "排序", "相關度"):
        assert label in page.text, label
    assert "筛选" not in page.text and "条结果" not in page.text
    # A facet value (and the hit's field) in traditional; the value the page sends is the index's.
    assert "蘇軾" in page.text and "苏轼" not in page.text
    assert page.sends("苏轼")
    # The script choices keep their own script.
    assert "简体" in page.text and "繁體" in page.text


@pytest.mark.parametrize("script", ["", "orig", "simp"])
def test_a_page_not_in_traditional_is_simplified_chinese(poems, script):
    page = read(poems, "/?q=明月" + (f"&script={script}" if script else ""))
    assert page.lang == "zh-Hans"
    assert "筛选" in page.text and "篩選" not in page.text
    assert "苏轼" in page.text


def test_a_chosen_value_its_chip_and_notices_are_converted(poems):
    page = read(poems, "/?q=明月&f.author=苏轼&city=火星&script=trad")
    assert "作者：" in page.text and "蘇軾" in page.text
    assert "索引裏沒有城市爲“火星”的文檔" in page.text
    assert "no document in the index" not in page.text
    simplified = read(poems, "/?q=明月&city=火星")
    assert "索引里没有城市为“火星”的文档" in simplified.text


def test_the_documents_and_the_readers_own_text_are_not_converted(poems):
    # The reader's query, as typed, in the box and in the heading; the page around it converted.
    resp = poems.get("/?q=苏轼 明月&script=trad")
    html = resp.get_data(as_text=True)
    assert 'value="苏轼 明月"' in html
    assert "“苏轼 明月”的搜索結果" in Reading(html).text
    # A document's id is its own text; its labels and field values are the page's.
    page = read(poems, "/doc/诗/苏轼/水调歌头?script=trad")
    assert page.lang == "zh-Hant"
    assert "诗/苏轼/水调歌头" in page.text           # the id, as the collection names it
    assert "編號" in page.text and "编号" not in page.text
    assert "水調歌頭" in page.text                   # the title, in the script chosen


def test_a_converted_page_keeps_marked_text_attributes_and_markup():
    html = ('<p data-own-script>简体<b>内</b><span>体</span>文字</p><p>简体<b>内容</b></p>'
            '<input placeholder="输入关键词" value="简体" name="q"><a href="/?q=简体" '
            'aria-label="下一页">下一页</a><!-- 简体 --><br><div data-own-script><div>里面</div>'
            '外面</div>后来<a href="/?q=x data-own-script">后来</a>'
            '<p class="snippet x">简体<mark>内</mark></p><p class="snippets">简体</p>')
    out = convert_page(html)
    assert out.startswith('<p data-own-script>简体<b>内</b><span>体</span>文字</p><p>簡體<b>內容</b></p>')
    assert 'placeholder="輸入關鍵詞" value="简体"' in out and 'href="/?q=简体"' in out
    assert 'aria-label="下一頁">下一頁</a><!-- 简体 -->' in out
    assert out.endswith('<div data-own-script><div>里面</div>外面</div>後來'
                        '<a href="/?q=x data-own-script">後來</a>'
                        '<p class="snippet x">简体<mark>内</mark></p><p class="snippets">簡體</p>')


def test_links_home_keep_the_chosen_script(poems):
    resp = poems.get("/?q=明月&script=trad")
    assert 'class="brand" href="/?script=trad"' in resp.get_data(as_text=True)
    assert 'class="brand" href="/"' in poems.get("/?q=明月").get_data(as_text=True)


def test_suggestions_come_in_the_script_the_page_asks_for(seed_index):
    client = make_client(seed_index)
    simplified = client.get("/api/suggest?q=洛").get_json()
    traditional = client.get("/api/suggest?q=洛&script=trad").get_json()
    assert [item["text"] for item in simplified][:1] == ["洛阳"]
    assert [item["text"] for item in traditional][:1] == ["洛陽"]
    # Only the text turns: the kinds and counts are the index's own.
    assert [(i["kind"], i["count"]) for i in traditional] == \
        [(i["kind"], i["count"]) for i in simplified]
    # Searching the traditional suggestion finds what the simplified one does.
    found = [client.get(f"/api/search?q={item['text']}").get_json()["total"]
             for item in (simplified[0], traditional[0])]
    assert found[0] == found[1] > 0


# ---------------------------------------------------------------------------
# Errors in Chinese, pages and API


@pytest.mark.parametrize("url,status,chinese_words", [
    ("/?page=0", 400, "页码必须在 1 到 10,000 之间"),
    ("/?sort=bogus", 400, "没有“bogus”这种排序方式"),
    ("/?year=20x4", 400, "年份要写成 2014 或 2014-09 这样"),
    ("/?f.nosuch=x", 400, "没有“nosuch”这个筛选项"),
    ("/?script=cursive", 400, "没有“cursive”这种字体"),
    ("/doc/no/such/document", 404, "没有这个编号的文档"),
    ("/doc?id=", 404, "没有给出文档编号"),
    ("/no-such-page", 404, "没有这个页面或文档"),
])
def test_error_pages_say_the_reason_in_chinese(poems, url, status, chinese_words):
    page = read(poems, url, status)
    assert page.lang == "zh-Hans"
    assert chinese_words in page.text
    if "script=" not in url:
        trad = read(poems, url + ("&" if "?" in url else "?") + "script=trad", status)
        assert trad.lang == "zh-Hant" and to_traditional(chinese_words) in trad.text


def test_a_wrong_method_is_405_in_chinese(poems):
    resp = poems.post("/")
    assert resp.status_code == 405 and "这个地址只接受 GET 请求" in resp.get_data(as_text=True)
    data = poems.post("/api/search").get_json()
    assert data["code"] == "method_not_allowed" and data["message_en"] == data["error"]


@pytest.mark.parametrize("url,status,code,param", [
    ("/api/search?page=0", 400, "page_out_of_range", "page"),
    ("/api/search?per_page=1000", 400, "per_page_out_of_range", "per_page"),
    ("/api/search?sort=bogus", 400, "unknown_sort", "sort"),
    ("/api/search?f.nosuch=x", 400, "unknown_filter", "f.nosuch"),
    ("/api/search?year=20x4", 400, "bad_date", "year"),
    ("/api/search?q=%ff", 400, "not_utf8", None),
    ("/api/search?q=" + "字" * 1001, 400, "query_too_long", "q"),
    ("/api/suggest?q=x&limit=lots", 400, "suggest_limit_not_a_number", "limit"),
    ("/api/suggest?q=x&limit=99", 400, "suggest_limit_out_of_range", "limit"),
    ("/api/doc/no/such", 404, "no_such_document", "id"),
    ("/api/nothing-here", 404, "not_found", None),
])
def test_api_errors_carry_a_code_the_parameter_and_both_messages(poems, url, status, code, param):
    resp = poems.get(url)
    assert resp.status_code == status and resp.mimetype == "application/json"
    data = resp.get_json()
    assert set(data) == ERROR_KEYS
    assert (data["code"], data["param"]) == (code, param)
    assert data["error"] == data["message_en"]
    found = identify(data["error"])
    assert found is not None and found[0] == code
    zh, en = message_of(code, **found[1])[0], data["error"]
    assert data["message"] == zh
    assert any("\u4e00" <= c <= "\u9fff" for c in data["message"])
    # In the script the request asks for.
    trad = poems.get(url + ("&" if "?" in url else "?") + "script=trad").get_json()
    assert trad["message"] == to_traditional(zh) and trad["error"] == en


def test_the_time_budget_notice_is_chinese_in_both_scripts(poems, monkeypatch):
    from search.query import budget as query_budget
    monkeypatch.setattr(query_budget, "TIME_BUDGET", 0.0)
    page = read(poems, "/?q=呼叫中心 洛阳")
    assert "查询用时太长" in page.text and "too long" not in page.text
    assert "查詢用時太長" in read(poems, "/?q=呼叫中心 洛阳&script=trad").text
    # The API keeps the library's English notices.
    notices = poems.get("/api/search?q=呼叫中心 洛阳").get_json()["notices"]
    assert any("too long" in n for n in notices)


# ---------------------------------------------------------------------------
# The catalog and what it recognises


def _sample(template: str) -> dict:
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    return {f: f"x{n}y" for n, f in enumerate(fields)}


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_english_message_is_recognised_as_its_own_code(code):
    values = _sample(CATALOG[code].en)
    english = message_of(code, **values)[1]
    assert identify(english) == (code, values)
    assert chinese(english) == message_of(code, **values)[0] != english


def test_facet_refusals_are_known_by_their_english():
    assert chinese("no facet named 朝代") == "没有名为“朝代”的筛选项"
    assert identify("the facet author is turned off for this collection") == (
        "facet_turned_off", {"name": "author"})
    assert chinese("the facet author is turned off for this collection") == "这个文档集关闭了“作者”筛选项"
    assert identify("page 7 is past the last page of values (3)") == (
        "past_last_value_page", {"page": "7", "pages": "3"})


def test_the_librarys_own_errors_are_all_recognised(corpus_index):
    """Each QueryError the library raises for a bad search is one the catalog knows:
    a message reworded in the library fails here rather than reaching a page in English."""
    from search import open_index
    ix = open_index(corpus_index)
    bad = [dict(page=0), dict(page="x"), dict(per_page=0), dict(sort="bogus"),
           dict(filters={"nosuch": ["x"]}), dict(year="20x4"), dict(q="字" * 1001),
           dict(facet_limit=-1)]
    for kwargs in bad:
        with pytest.raises(QueryError) as exc:
            ix.search(**{"q": "明月", **kwargs})
        said = describe(exc.value, 400)
        assert said.code not in ("bad_request", "http_error"), str(exc.value)
        assert said.en == str(exc.value)


def test_an_unknown_message_is_kept_inside_its_statuss_sentence():
    said = describe(ValueError("something new went wrong"), 400)
    assert said.code == "bad_request" and said.en == "something new went wrong"
    assert said.zh == "请求无法处理：something new went wrong"
    assert chinese("something new went wrong") == "something new went wrong"


def test_the_write_apis_refusals_carry_codes_and_chinese(corpus_index):
    key = "k" * 24
    client = make_client(corpus_index, SEARCH_API_KEY=key, SEARCH_API_MAX_BYTES=100)
    auth = {"Authorization": f"Bearer {key}"}
    cases = [
        (client.put("/api/documents/a/1", json={"text": "文"}), 401, "key_missing"),
        (client.put("/api/documents/a/1", json={"text": "文"},
                    headers={"Authorization": "Bearer " + "x" * 24}), 401, "key_wrong"),
        (client.put("/api/documents/a/1", data="文", headers=auth,
                    content_type="text/plain"), 415, "document_not_json_object"),
        (client.post("/api/documents", json={"text": "文"}, headers=auth), 400,
         "body_not_an_array"),
        (client.post("/api/documents", json=[{"text": "文" * 200}], headers=auth), 413,
         "body_too_large"),
        (client.put("/api/documents", json={"text": "文"}, headers=auth), 400,
         "document_id_missing"),
    ]
    for resp, status, code in cases:
        body = resp.get_json()
        assert (resp.status_code, body["code"]) == (status, code), body
        assert body["error"] == body["message_en"]
        assert body["message"] == message_of(code, **identify(body["error"])[1])[0]


def test_a_document_in_the_other_script_says_its_lang(poems):
    # Shown as written: 靜夜思 is traditional on a simplified page, 水调歌头 simplified.
    html = poems.get("/?q=明月").get_data(as_text=True)
    titles = re.findall(r'<h2 class="hit-title"([^>]*)>.*?</h2>', html, re.S)
    assert sorted(titles) == sorted(["", ' lang="zh-Hant"', ' lang="zh-Hant"'])
    # In traditional everything is: the page's lang says it for all.
    html = poems.get("/?q=明月&script=trad").get_data(as_text=True)
    assert re.findall(r'\slang="(zh-Han[st])"', html) == ["zh-Hant"]       # <html> alone
    page = poems.get("/doc/诗/李白/静夜思").get_data(as_text=True)
    assert '<div class="doc-body" lang="zh-Hant">' in page
    simplified = poems.get("/doc/诗/苏轼/水调歌头").get_data(as_text=True)
    assert re.findall(r'\slang="(zh-Han[st])"', simplified) == ["zh-Hans"]
