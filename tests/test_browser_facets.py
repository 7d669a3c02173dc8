"""Facets in a real browser (Debian's Chromium, Playwright) against the
production server over the seeds and 153 poets: focus kept on the value
clicked, facets before the results in the Tab order, the year histogram,
every value reachable from "显示全部", and on a phone the filter drawer,
dense hits and touch targets of at least 44 px.  Screenshots at 1280×900 and
390×844 go to ``tests/screenshots/``."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from poets_corpus import build_seeds_and_poets
from serving import serve
from test_browser import browser, no_horizontal_scroll, shot, watch_console  # noqa: F401

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
MIN_TARGET = 44


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("facets-browser")
    index_dir = build_seeds_and_poets(root)
    with serve(index_dir, threads=4, log_path=root / "server.log",
               extra_args=["--processes", "1"]) as (base, _proc):
        yield base


def query(page) -> dict:
    return parse_qs(urlsplit(page.url).query)


def total(page) -> int:
    return int(page.locator(".summary .total").inner_text().replace(",", ""))


def active(page, expression: str = "id"):
    return page.evaluate(f"document.activeElement && document.activeElement.{expression}")


def test_desktop_focus_tab_order_histogram_and_all_values(site, browser):  # noqa: F811
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    errors = watch_console(page, [])
    page.goto(site + "/?q=" + quote("明月"))
    everything = total(page)
    assert everything > 300
    # Beside the results, open: no drawer toggle on a wide screen.
    assert page.locator(".facets").is_visible()
    assert not page.locator("#filter-drawer > summary").is_visible()
    facets_box = page.locator(".facets").bounding_box()
    results_box = page.locator(".results-col").bounding_box()
    assert facets_box["x"] >= results_box["x"] + results_box["width"] - 1
    # The tells-nothing dynasty facet is not there; the others are.
    headings = page.locator(".facet h3").all_inner_texts()
    assert any(h.startswith("作者") for h in headings) and not any(h.startswith("朝代") for h in headings)
    shot(page, "facets-01-desktop-results")

    # Tab from the search box: the facets come before the first result.
    page.focus("#q")
    order = []
    for _ in range(200):
        page.keyboard.press("Tab")
        here = page.evaluate("""() => { const e = document.activeElement;
            return e.closest('.hit-title') ? 'hit' : e.closest('.facets') ? 'facet' : 'other'; }""")
        order.append(here)
        if here == "hit":
            break
    assert "hit" in order and "facet" in order[:order.index("hit")]

    # A click on an author keeps the focus on that author's button.
    button = page.locator(".facet-author > ul > li > button").first
    author, button_id = button.get_attribute("value"), button.get_attribute("id")
    assert button_id == f"fv-author-{author}"
    author_count = int(button.locator(".facet-count").inner_text().split()[0])
    with page.expect_navigation():
        button.click()
    assert query(page)["f.author"] == [author]
    assert active(page) == button_id
    assert page.locator(f"#{button_id}").get_attribute("aria-pressed") == "true"
    assert total(page) == author_count < everything
    with page.expect_navigation():
        page.keyboard.press("Enter")            # the focused button again: unchosen
    assert "f.author" not in query(page) and total(page) == everything
    assert active(page) == button_id

    # The years as a histogram: bars as long as their counts; a click narrows.
    bars = page.locator(".facet-year .facet-bar-fill")
    assert bars.count() == 10
    widths = [b.evaluate("e => e.getBoundingClientRect().width") for b in bars.all()]
    counts = [int(c.split()[0]) for c in page.locator(".facet-year .facet-count").all_inner_texts()]
    assert max(widths) > 0 and widths[counts.index(max(counts))] == max(widths)
    assert widths[counts.index(min(counts))] < max(widths)
    year = page.locator("#fv-year-2015")
    year_count = int(year.locator(".facet-count").inner_text().split()[0])
    with page.expect_navigation():
        year.click()
    assert query(page)["year"] == ["2015"] and total(page) == year_count
    assert active(page) == "fv-year-2015"
    months = page.locator(".facet-months button.facet-link")
    assert months.count() >= 2
    assert all(v.startswith("2015-") for v in
               [m.get_attribute("value") for m in months.all()])
    month = months.first
    month_id, month_value = month.get_attribute("id"), month.get_attribute("value")
    month_count = int(month.locator(".facet-count").inner_text().split()[0])
    with page.expect_navigation():
        month.click()
    assert month_value in query(page)["year"] and total(page) == month_count
    assert active(page) == month_id
    shot(page, "facets-02-desktop-year-and-month")

    # The filter box narrows the listed authors in place.
    page.goto(site + "/?q=" + quote("明月"))
    page.fill("#find-author", "贺")
    visible = [v for v in page.locator(".facet-author .facet-value").all() if v.is_visible()]
    assert [v.inner_text() for v in visible] == ["贺知章"]
    # Enter sends it to the page of every author, which also reads pinyin initials.
    page.fill("#find-author", "hzz")
    with page.expect_navigation():
        page.press("#find-author", "Enter")
    assert urlsplit(page.url).path == "/facet/author"
    assert page.locator(".facet-all-values .facet-value").all_inner_texts() == ["贺知章"]

    # "显示全部": every one of the 153 authors, a page at a time.
    page.goto(site + "/?q=" + quote("明月"))
    link = page.locator(".facet-author a.facet-show-all")
    assert "153" in link.inner_text()
    with page.expect_navigation():
        link.click()
    seen = set()
    while True:
        seen |= set(page.locator(".facet-all-values .facet-value").all_inner_texts())
        nxt = page.locator("a.page-next")
        if not nxt.count():
            break
        with page.expect_navigation():
            nxt.click()
    assert len(seen) == 153
    shot(page, "facets-03-desktop-all-authors")
    last = page.locator(".facet-all-link").last
    name = last.locator(".facet-value").inner_text()
    count = int(last.locator(".facet-count").inner_text().split()[0])
    with page.expect_navigation():
        last.click()
    assert query(page)["f.author"] == [name] and total(page) == count
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def touch_heights(page, selector: str) -> list[tuple[str, float]]:
    return page.evaluate("""sel => [...document.querySelectorAll(sel)]
        .filter(e => e.getClientRects().length)
        .map(e => [e.textContent.trim().slice(0, 20), e.getBoundingClientRect().height])""", selector)


def test_phone_drawer_density_and_touch_targets(site, browser):  # noqa: F811
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    errors = watch_console(page, [])
    page.goto(site + "/?q=" + quote("明月") + "&per_page=10")
    assert no_horizontal_scroll(page)
    drawer = page.locator("#filter-drawer")
    assert drawer.get_attribute("open") is None
    assert not page.locator(".facets").is_visible()
    first_hit = page.locator(".hit").first.bounding_box()
    assert drawer.bounding_box()["y"] < first_hit["y"]
    # Dense hits: three of them fit a screen.
    hits = page.locator(".hit")
    assert hits.count() >= 3
    third = hits.nth(2).bounding_box()
    assert third["y"] + third["height"] - first_hit["y"] <= PHONE["height"]
    shot(page, "facets-04-phone-results")

    small = [t for sel in (".sort a", ".sort-current", ".script-link", ".script-current",
                           "#filter-drawer > summary", ".pagination a", ".page-current",
                           ".search-form button", "#q")
             for t in touch_heights(page, sel) if t[1] < MIN_TARGET]
    assert not small, small

    # The drawer opens over the top of the results; its buttons are big enough too.
    page.locator("#filter-drawer > summary").tap()
    assert page.locator(".facets").is_visible()
    small = [t for sel in ("button.facet-link", ".facet-more > summary", ".facet-show-all",
                           ".facet-find-input")
             for t in touch_heights(page, sel) if t[1] < MIN_TARGET]
    assert not small, small
    assert no_horizontal_scroll(page)
    shot(page, "facets-05-phone-drawer-open")
    # A value chosen in the drawer: the page comes back with the drawer open
    # and the focus on that value.
    with page.expect_navigation():
        page.locator("#fv-genre-绝句").tap()
    assert query(page)["f.genre"] == ["绝句"]
    assert drawer.get_attribute("open") is not None
    assert active(page) == "fv-genre-绝句"
    assert "已选 1" in page.locator("#filter-drawer > summary").inner_text()
    shot(page, "facets-06-phone-after-choosing")

    page.goto(site + "/facet/author?q=" + quote("明月"))
    assert no_horizontal_scroll(page)
    small = [t for sel in (".facet-all-link", ".pagination a", ".facet-filter button")
             for t in touch_heights(page, sel) if t[1] < MIN_TARGET]
    assert not small, small
    shot(page, "facets-07-phone-all-authors")
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
