"""The page in the reader's script in a real browser: the 繁體 switch, at desktop and phone size.

Same set-up as ``test_browser`` (the production server over the seeds, the
system Chromium; skipped without it).  Screenshots go to ``tests/screenshots/``.
"""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from search.text.script import to_traditional
from test_browser import axe_violations, browser, server, shot, watch_console  # noqa: F401

pytestmark = pytest.mark.slow

QUERY = "呼叫中心"

# The page's own text, without what is marked as the documents' or the reader's own.
PAGE_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('[data-own-script]').forEach(el => el.remove());
  return copy.textContent;
}"""


def facet_values_that_change(server) -> list[str]:
    """Values of the query's facets whose traditional spelling differs."""
    with urllib.request.urlopen(f"{server}/api/search?q={quote(QUERY)}", timeout=30) as resp:
        facets = json.load(resp)["facets"]
    return [item["value"] for items in facets.values() for item in items
            if to_traditional(item["value"]) != item["value"]]


@pytest.mark.parametrize("size,name", [((1280, 900), "desktop"), ((390, 844), "phone")])
def test_the_traditional_switch_turns_the_whole_page(server, browser, size, name):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-TW")
    page = context.new_page()
    errors = watch_console(page, [])
    page.goto(f"{server}/?q={quote(QUERY)}")
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert "搜索结果" in page.locator("#results-heading").inner_text()

    with page.expect_navigation():
        page.locator("a.script-link", has_text="繁體").click()
    assert parse_qs(urlsplit(page.url).query)["script"] == ["trad"]
    assert page.evaluate("document.documentElement.lang") == "zh-Hant"
    # Labels of the header and the summary.
    heading = page.locator("#results-heading").inner_text()
    assert "搜索結果" in heading and QUERY in heading       # the query as typed
    assert "條結果" in page.locator(".summary").inner_text()
    assert page.locator("#q").get_attribute("placeholder") == "輸入關鍵詞（簡體、繁體均可）"
    assert page.locator("#q").input_value() == QUERY
    # Facet values, wherever the page puts them: traditional in what it says.
    text = page.evaluate(PAGE_TEXT)
    values = facet_values_that_change(server)
    assert values, "the seeds' facets hold no value that traditional spells otherwise"
    for value in values[:5]:
        assert to_traditional(value) in text and value not in text, value
    # The choice stays with the next search (the form carries it) and the way home.
    assert page.locator("#search-form input[name=script]").get_attribute("value") == "trad"
    assert parse_qs(urlsplit(page.locator("a.brand").get_attribute("href")).query) == {
        "script": ["trad"]}
    shot(page, f"20-traditional-{name}")
    assert axe_violations(page) == []

    # An error page in the chosen script too.
    page.goto(f"{server}/?q={quote(QUERY)}&page=0&script=trad")
    assert page.evaluate("document.documentElement.lang") == "zh-Hant"
    assert "頁碼必須在 1 到 10,000 之間" in page.locator(".error-message").inner_text()
    shot(page, f"21-traditional-error-{name}")
    assert axe_violations(page) == []
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_suggestions_on_a_traditional_page_are_traditional(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-TW")
    page = context.new_page()
    page.goto(f"{server}/?script=trad")
    page.locator("#q").type("洛", delay=30)
    options = page.locator("#q-suggestions [role=option]")
    options.first.wait_for(timeout=5000)
    assert page.locator("#q-suggestions").get_attribute("aria-label") == "搜索建議"
    texts = page.locator("#q-suggestions .suggest-text").all_inner_texts()
    assert texts[0] == "洛陽", texts
    kinds = page.locator("#q-suggestions .suggest-kind").all_inner_texts()
    assert kinds and not set(kinds) & {"词", "标题", "名称"}, kinds
    assert set(kinds) <= {"詞", "標題", "名稱", "作者", "城市", "朝代", "片段", "拼音"}, kinds
    shot(page, "22-traditional-suggestions")
    context.close()
