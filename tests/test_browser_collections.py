"""Several collections in one server, in a real browser: the header's switch
used with the keyboard, and instant search and suggestions under a
collection's prefix.

The production server over two indexes (the seeds as ``news``, generated
poems as ``poems``), the system Chromium (skipped without it).  Screenshots
at 1280×900 and 390×844 go to ``tests/screenshots/``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from poets_corpus import write_poets
from search import build_index
from serving import REPO, serve
from test_browser import axe_violations, browser, no_horizontal_scroll, shot  # noqa: F401

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("collections-browser")
    build_index([str(REPO / "seeds")], root / "news")
    build_index([str(write_poets(root / "poets"))], root / "poems")
    with serve(f"news={root / 'news'}", threads=4, log_path=root / "server.log",
               extra_args=["--index", f"poems={root / 'poems'}", "--processes", "1"]) \
            as (base, _proc):
        yield base


def _path_and_query(url: str) -> tuple[str, dict]:
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query)


def _settled(page) -> None:
    page.locator("main:not([aria-busy])").wait_for(timeout=10_000)


def _console_errors(page) -> list[str]:
    """Console errors (a CSP violation, a failed fetch), but the browser's own
    ask for /favicon.ico, which the site has not."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
            and not msg.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def _hit_links(page) -> list[str]:
    return page.locator(".hit-title a").evaluate_all("els => els.map(e => e.getAttribute('href'))")


def _focused(page) -> str:
    return page.evaluate("(document.activeElement.tagName + ' ' + "
                         "document.activeElement.textContent).trim()")


def test_switch_collection_with_the_keyboard_then_search_there(site, browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    errors = _console_errors(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(site + "/news/")
    assert page.locator(".collection-current").inner_text() == "news"

    # Instant search in news: what is typed is searched under /news/.
    page.locator("#q").type("明月", delay=30)
    page.wait_for_url(lambda url: _path_and_query(url) == ("/news/", {"q": ["明月"]}),
                      timeout=10_000)
    _settled(page)
    # No poem among the news (what is shown, if anything, is a fallback's news).
    assert not [h for h in _hit_links(page) if not h.startswith("/news/doc/") or "poem/" in h]
    assert any(u.startswith(site + "/news/?") and "fragment=results" in u for u in requests)

    # To the switch with the keyboard: from the brand, Tab, Enter opens it.
    page.locator(".brand").focus()
    page.keyboard.press("Tab")
    assert _focused(page).startswith("SUMMARY")
    page.keyboard.press("Enter")
    menu = page.locator(".collection-menu")
    assert menu.is_visible()
    links = page.locator("a.collection-link")
    assert links.all_inner_texts() == ["news", "poems"]
    assert page.locator("a.collection-link[aria-current=page]").inner_text() == "news"
    assert not axe_violations(page)
    shot(page, "40-collections-switch-open")
    # Escape closes it, the focus back on its summary.
    page.keyboard.press("Escape")
    assert not menu.is_visible() and _focused(page).startswith("SUMMARY")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert _focused(page) == "A poems"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The query came along: the poems' results for it, in the poems' pages.
    assert _path_and_query(page.url) == ("/poems/", {"q": ["明月"]})
    assert page.locator(".collection-current").inner_text() == "poems"
    assert page.locator(".hits .hit").count() > 0
    hits = _hit_links(page)
    assert hits and all(h.startswith("/poems/doc/poem/") for h in hits)
    assert not axe_violations(page)
    shot(page, "41-collections-poems-desktop")

    # Instant search under /poems/.
    requests.clear()
    page.evaluate("window.sameDocument = true")
    page.fill("#q", "")
    page.locator("#q").type("李白", delay=30)
    page.wait_for_url(lambda url: _path_and_query(url) == ("/poems/", {"q": ["李白"]}),
                      timeout=10_000)
    _settled(page)
    assert page.evaluate("window.sameDocument === true"), "the page was loaded again"
    assert "李白" in page.locator(".hits mark").all_inner_texts()
    fragments = [u for u in requests if "fragment=results" in u]
    assert fragments and all(u.startswith(site + "/poems/?") for u in fragments)
    # The switch's links carry the query as it is now.
    assert _path_and_query(links.nth(0).get_attribute("href")) == ("/news/", {"q": ["李白"]})

    # Suggestions under /poems/: the poems' authors.
    requests.clear()
    page.fill("#q", "")
    page.locator("#q").type("杜", delay=30)
    page.locator("#q-suggestions .suggest-text", has_text="杜甫").first.wait_for(timeout=10_000)
    texts = page.locator("#q-suggestions .suggest-text").all_inner_texts()
    assert "杜甫" in texts, texts
    suggests = [u for u in requests if "/api/suggest" in u]
    assert suggests and all(u.startswith(site + "/poems/api/suggest?") for u in suggests)
    shot(page, "42-collections-suggest-desktop")
    for _ in range(texts.index("杜甫") + 1):
        page.keyboard.press("ArrowDown")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _path_and_query(page.url) == ("/poems/", {"q": ["杜甫"]})
    assert page.locator(".hits .hit").count() > 0

    assert not errors, errors
    context.close()


def test_the_switch_on_a_phone(site, browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    errors = _console_errors(page)
    page.goto(site + "/poems/?q=" + "明月")
    summary = page.locator(".collection-switch > summary")
    assert summary.is_visible()
    assert no_horizontal_scroll(page)
    summary.tap()
    menu = page.locator(".collection-menu")
    assert menu.is_visible()
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert no_horizontal_scroll(page)
    assert not axe_violations(page)
    shot(page, "43-collections-switch-phone")
    # A tap elsewhere closes it.
    page.locator("h1, .summary").first.tap()
    assert not menu.is_visible()
    summary.tap()
    with page.expect_navigation():
        page.locator("a.collection-link", has_text="news").tap()
    assert _path_and_query(page.url) == ("/news/", {"q": ["明月"]})
    assert not axe_violations(page)
    shot(page, "44-collections-news-phone")
    assert not errors, errors
    context.close()


def test_the_default_collection_at_root_has_the_switch_too(site, browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(site + "/?q=" + "洛阳")
    assert page.locator(".collection-current").inner_text() == "news"
    assert page.locator(".hits .hit").count() > 0
    # Reached at /, its own links are the root's.
    hits = _hit_links(page)
    assert hits and all(h.startswith("/doc/") for h in hits)
    page.locator("#q").focus()
    page.fill("#q", "")
    page.locator("#q").type("luo", delay=30)
    page.locator("#q-suggestions .suggest-text", has_text="洛阳").first.wait_for(timeout=10_000)
    context.close()
