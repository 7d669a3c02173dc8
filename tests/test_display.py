"""Display script: results and documents in their own script, simplified or
traditional, with the marks kept on the same words."""

from __future__ import annotations

import re

import pytest

from conftest import make_client
from reader_corpus import reader_index, rix  # noqa: F401  (fixtures)
from search import QueryError
from search.results import display


def marked(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


def test_convert_html_keeps_marks_and_escaping():
    frag = "&lt;b&gt;中國<mark>洛陽</mark>牡丹&amp;"
    assert display.convert_html(frag, "simp") == "&lt;b&gt;中国<mark>洛阳</mark>牡丹&amp;"
    assert display.convert_html("<mark>头发</mark>很长", "trad") == "<mark>頭髮</mark>很長"
    assert display.convert_html(frag, "orig") == frag
    # The first-match anchor of the document page survives too.
    assert display.convert_html('<mark id="match-1">洛阳</mark>', "trad") == '<mark id="match-1">洛陽</mark>'


def test_convert_html_when_the_conversion_changes_length(monkeypatch):
    # OpenCC may convert a phrase to one of another length; the marks then stay
    # on their words because the pieces between marks are converted one by one.
    monkeypatch.setattr(display, "to_traditional", lambda t: t.replace("面", "麵麵").replace("阳", "陽"))
    out = display.convert_html("吃面<mark>洛阳</mark>吃面", "trad")
    assert out == "吃麵麵<mark>洛陽</mark>吃麵麵"


def test_unknown_script_is_a_query_error():
    with pytest.raises(QueryError):
        display.check_script("klingon")
    assert display.check_script(None) == display.check_script("") == "orig"


@pytest.mark.parametrize("script, want", [("orig", {"洛陽", "洛阳"}), ("simp", {"洛阳"}), ("trad", {"洛陽"})])
def test_results_in_each_script_mark_the_same_words(rix, script, want):
    res = rix.search("洛阳").in_script(script)
    marks = {m for h in res.hits for s in h.snippets + [h.title_html] for m in marked(s)}
    assert marks == want, marks
    # The same number of marks, on the same hits, whatever the script.
    orig = rix.search("洛阳")
    assert [h.id for h in res.hits] == [h.id for h in orig.hits]
    assert [len(marked(h.snippet)) for h in res.hits] == [len(marked(h.snippet)) for h in orig.hits]


@pytest.mark.parametrize("doc_id", ["trad/luoyang", "simp/luoyang"])
@pytest.mark.parametrize("script", ["simp", "trad"])
def test_document_in_each_script(rix, doc_id, script):
    view = rix.document(doc_id, q="牡丹").in_script(script)
    orig = rix.document(doc_id, q="牡丹")
    assert len(marked(view.body_html)) == len(marked(orig.body_html)) > 0
    city = "洛陽" if script == "trad" else "洛阳"
    assert city in view.body and city in view.body_html
    # Every mark is still on 牡丹 (the same in both scripts).
    assert set(marked(view.body_html)) == {"牡丹"}


def test_web_pages_carry_the_script(reader_index):
    from test_webui import get_page, hit_ids, params
    client = make_client(reader_index)
    page = get_page(client, "/?q=洛阳&script=trad")
    assert set(page.marks) == {"洛陽"}
    links = {a["text"].strip(): a["href"] for a in page.links_with("script-link")}
    assert set(links) == {"原文", "简体"}
    assert params(links["简体"])["script"] == ["simp"] and params(links["简体"])["q"] == ["洛阳"]
    assert "script" not in params(links["原文"])
    # The choice persists: in the search form, the document links and the next page.
    assert ("script", "trad") in page.hidden_inputs()
    doc_links = page.link_to("/doc/")
    assert doc_links and all(params(a["href"])["script"] == ["trad"] for a in doc_links)
    simp = get_page(client, links["简体"])
    assert set(simp.marks) == {"洛阳"} and hit_ids(simp) == hit_ids(page)
    # The document page in another script keeps its marks on the same words.
    doc = get_page(client, "/doc/simp/luoyang?q=洛阳&script=trad")
    orig = get_page(client, "/doc/simp/luoyang?q=洛阳")
    assert set(doc.marks) == {"洛陽"} and len(doc.marks) == len(orig.marks)
    assert "</mark>是十三朝古都" in doc.html and "洛陽古都</h1>" in doc.html.replace("<mark>", "").replace("</mark>", "")
    [back] = doc.links_with("back-link")
    assert params(back["href"])["script"] == ["trad"]


def test_api_takes_the_script(reader_index, rix):
    client = make_client(reader_index)
    data = client.get("/api/search?q=洛阳&script=simp").get_json()
    assert all("洛陽" not in h["snippet"] for h in data["hits"])
    doc = client.get("/api/doc/trad/luoyang?q=洛阳&script=simp").get_json()
    assert "<mark>洛阳</mark>" in doc["body_html"] and doc["title"] == "洛阳牡丹"
    assert client.get("/api/search?q=洛阳&script=x").status_code == 400
    assert client.get("/?q=洛阳&script=x").status_code == 400
