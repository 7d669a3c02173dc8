"""Instant search in a real browser: results as you type, input methods, the fallback on Enter.

Same set-up as ``test_browser`` (the production server over the seeds, the
system Chromium; skipped without it).  An input method is driven through the
DevTools protocol (``Input.imeSetComposition`` / ``Input.insertText``): the
browser fires the composition events and ``isComposing`` inputs a real one does.
Screenshots at 1280×900 and 390×844 go to ``tests/screenshots/``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from test_browser import axe_violations, browser, server, shot, watch_console  # noqa: F401

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _query(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def _settled(page) -> None:
    """Wait until no results request is in flight."""
    page.locator("main:not([aria-busy])").wait_for(timeout=10_000)


def _results_requests(page) -> list[str]:
    found: list[str] = []
    page.on("request", lambda r: found.append(r.url) if "fragment=results" in r.url else None)
    return found


def _csp_errors(errors):
    return [e for e in errors if "Content Security Policy" in e or "Refused" in e]


def test_results_follow_typing_without_a_page_load(server, browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    errors = watch_console(page, [])
    requests = _results_requests(page)
    page.goto(server + "/")
    page.evaluate("window.sameDocument = true")

    page.locator("#q").type("呼叫中心", delay=30)
    page.wait_for_url(lambda url: _query(url).get("q") == ["呼叫中心"], timeout=10_000)
    _settled(page)
    assert page.evaluate("window.sameDocument === true"), "the page was loaded again"
    assert "呼叫中心" in page.locator(".hits mark").all_inner_texts()
    total = page.locator(".summary .total").inner_text()
    # Typed faster than the debounce: one request, not one per keystroke.
    assert 1 <= len(requests) <= 2, requests

    # The one live region says the new count; it is updated, not replaced.
    live = page.locator("#instant-status")
    assert total in live.inner_text()
    handle = live.element_handle()
    before = live.inner_text()
    page.fill("#q", "")
    page.locator("#q").type("牡丹江", delay=30)
    page.wait_for_url(lambda url: _query(url).get("q") == ["牡丹江"], timeout=10_000)
    _settled(page)
    assert handle.evaluate("el => el.isConnected && el === document.getElementById('instant-status')")
    assert live.inner_text() != before
    assert page.locator(".summary .total").inner_text() in live.inner_text()
    assert "毫秒" not in live.inner_text()      # the count is said, not the time it took
    assert page.title().startswith("牡丹江")
    assert "牡丹江" in page.locator(".hits mark").all_inner_texts()
    shot(page, "30-instant-results")

    # A reload shows the same search: the address was kept in step.
    page.reload()
    assert page.locator("#q").input_value() == "牡丹江"
    assert "牡丹江" in page.locator(".hits mark").all_inner_texts()

    # Many keystrokes, a few requests.
    requests.clear()
    page.fill("#q", "")
    page.locator("#q").type("hujiaozhongxin", delay=20)
    page.wait_for_url(lambda url: _query(url).get("q") == ["hujiaozhongxin"], timeout=10_000)
    _settled(page)
    assert len(requests) <= 3, requests
    assert not _csp_errors(errors), errors
    context.close()


def test_the_request_in_flight_is_cancelled_and_never_paints(server, browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/")
    held = []
    page.route("**/*fragment=results*", lambda route: held.append(route))

    page.locator("#q").type("贵阳", delay=30)
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "no results request was sent"
    # Waiting: <main> is busy and the loading bar shows.
    assert page.locator("main").get_attribute("aria-busy") == "true"
    assert page.locator(".instant-bar").is_visible()

    page.unroute("**/*fragment=results*")
    page.fill("#q", "牡丹江")
    page.wait_for_url(lambda url: _query(url).get("q") == ["牡丹江"], timeout=10_000)
    _settled(page)
    # 贵阳's request was aborted: the browser dropped it, nothing is left to let through.
    with pytest.raises(Exception, match="already handled"):
        held[0].continue_()
    page.wait_for_timeout(300)
    assert "牡丹江" in page.locator(".hits mark").all_inner_texts()
    assert _query(page.url)["q"] == ["牡丹江"]
    assert not page.locator(".instant-bar").is_visible()
    context.close()


def test_nothing_is_sent_while_an_input_method_composes(server, browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/")
    sent = []
    page.on("request", lambda r: sent.append(r.url)
            if "fragment=results" in r.url or "/api/suggest" in r.url else None)
    cdp = context.new_cdp_session(page)
    page.focus("#q")
    for text in ["m", "mu", "mu'd", "mu'da", "mu'dan"]:
        cdp.send("Input.imeSetComposition",
                 {"text": text, "selectionStart": len(text), "selectionEnd": len(text)})
        page.wait_for_timeout(80)
    page.wait_for_timeout(600)
    assert page.locator("#q").input_value() == "mu'dan"
    assert sent == []
    assert page.locator("#q-suggestions").is_hidden()

    # The input method commits 牡丹: now it is searched, and suggested.
    cdp.send("Input.insertText", {"text": "牡丹"})
    page.wait_for_url(lambda url: _query(url).get("q") == ["牡丹"], timeout=10_000)
    _settled(page)
    assert any("fragment=results" in url for url in sent)
    assert all("mu" not in url for url in sent), sent
    page.locator("#q-suggestions [role=option]").first.wait_for(timeout=5000)
    context.close()


def test_suggestions_say_what_they_are_and_choosing_one_searches_it(server, browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/")
    api = page.request.get(server + "/api/suggest?q=luoy").json()
    page.locator("#q").type("luoy", delay=30)
    options = page.locator("#q-suggestions [role=option]")
    options.first.wait_for(timeout=5000)
    assert options.count() == len(api)
    texts = page.locator("#q-suggestions .suggest-text").all_inner_texts()
    assert texts == [a if isinstance(a, str) else a["text"] for a in api]
    for i, item in enumerate(api):
        if isinstance(item, dict) and item.get("count") is not None:
            assert options.nth(i).locator(".suggest-count").count() == 1
    shot(page, "31-instant-suggestions")
    option = options.filter(has_text="洛阳").first
    chosen = option.locator(".suggest-text").inner_text()
    with page.expect_navigation():
        option.click()
    assert _query(page.url)["q"] == [chosen]
    assert page.locator("#q").input_value() == chosen
    context.close()


@pytest.mark.parametrize("viewport,name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_enter_on_a_prefix_shows_its_reading_and_the_typed_query_is_a_click_away(
        server, browser, viewport, name):
    phone = viewport is PHONE
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=phone,
                                  has_touch=phone)
    page = context.new_page()
    errors = watch_console(page, [])
    page.goto(server + "/")
    page.locator("#q").type("luoy", delay=30)
    page.locator("#q-suggestions [role=option]").first.wait_for(timeout=5000)
    page.keyboard.press("Escape")       # the suggestions closed: Enter searches what was typed
    assert page.locator("#q-suggestions").is_hidden()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _query(page.url)["q"] == ["luoy"]
    notice = page.locator(".fallback-notice")
    assert notice.is_visible()
    line = " ".join(notice.locator(".fallback-line").inner_text().split())
    assert line.startswith("显示 洛阳 的结果") and line.endswith("仍然搜索 luoy")
    assert page.locator(".hit").count() >= 1
    assert page.locator("#q").input_value() == "luoy"
    shot(page, f"32-fallback-{name}")

    with page.expect_navigation():
        notice.locator("a.fallback-verbatim").click()
    assert _query(page.url)["verbatim"] == ["1"]
    assert page.locator(".summary .total").inner_text() == "0"
    assert page.locator(".no-results-msg").is_visible()
    assert page.locator(".fallback-notice").count() == 0
    if phone:
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert not _csp_errors(errors), errors
    context.close()


def test_instant_results_on_a_phone(server, browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    page.goto(server + "/")
    page.locator("#q").type("guiy", delay=30)
    page.wait_for_url(lambda url: _query(url).get("q") == ["guiy"], timeout=10_000)
    _settled(page)
    # The prefix reads as 贵阳: its results, said so, while typing.
    assert page.locator(".fallback-notice .fallback-shown").inner_text() == "贵阳"
    assert page.locator(".hit").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "33-instant-phone")
    context.close()


def test_without_javascript_the_form_and_the_fallback_still_work(server, browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/")
    assert page.locator("#q").get_attribute("role") is None     # a plain search box
    page.fill("#q", "luoy")
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert _query(page.url)["q"] == ["luoy"]
    assert page.locator(".fallback-notice .fallback-shown").inner_text() == "洛阳"
    assert page.locator(".hit").count() >= 1
    shot(page, "34-fallback-no-javascript")
    with page.expect_navigation():
        page.locator("a.fallback-verbatim").click()
    assert page.locator(".no-results-msg").is_visible()
    context.close()


@pytest.mark.parametrize("viewport,name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_no_axe_violations_in_instant_states(server, browser, viewport, name):
    phone = viewport is PHONE
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=phone,
                                  has_touch=phone)
    page = context.new_page()

    def violations(state):
        found = axe_violations(page)
        assert not found, (name, state, found)

    page.goto(server + "/")
    # The suggestion list open, an option active.
    page.locator("#q").type("luoy", delay=30)
    page.locator("#q-suggestions [role=option]").first.wait_for(timeout=5000)
    page.keyboard.press("ArrowDown")
    violations("suggestions-open")
    # The results painted by instant search (the fallback notice among them).
    page.wait_for_url(lambda url: _query(url).get("q") == ["luoy"], timeout=10_000)
    _settled(page)
    page.keyboard.press("Escape")
    assert page.locator(".fallback-notice").is_visible()
    violations("instant-fallback")
    # The fallback page as loaded, and the verbatim page with nothing found.
    page.goto(server + "/?q=luoy")
    violations("fallback-page")
    page.goto(server + "/?q=zuij")
    violations("readings-offered")
    context.close()


def test_an_option_marked_stays_marked_when_the_list_is_answered_again(server, browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/")
    box = page.locator("#q")
    box.type("luo", delay=30)
    texts = page.locator("#q-suggestions .suggest-text")
    page.wait_for_function("() => [...document.querySelectorAll('#q-suggestions .suggest-text')]"
                           ".map(e => e.textContent).includes('洛阳')", timeout=5000)
    while page.locator("#q-suggestions [aria-selected=true] .suggest-text").count() == 0 or \
            page.locator("#q-suggestions [aria-selected=true] .suggest-text").inner_text() != "洛阳":
        page.keyboard.press("ArrowDown")
    before = texts.all_inner_texts()
    # Typed on while marked: the list of the longer text arrives, the choice stays.
    with page.expect_response(lambda r: "/api/suggest" in r.url and "q=luoy" in r.url):
        box.type("y")
    page.wait_for_function("() => [...document.querySelectorAll('#q-suggestions .suggest-text')]"
                           f".map(e => e.textContent).join('|') !== {before!r}.join('|')",
                           timeout=5000)
    assert page.locator("#q-suggestions [aria-selected=true] .suggest-text").inner_text() == "洛阳"
    active = box.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active} .suggest-text").inner_text() == "洛阳"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _query(page.url)["q"] == ["洛阳"]
    context.close()
