"""A real browser (Debian's Chromium, driven by Playwright) against the production server.

The app is served by ``python -m search serve`` (gunicorn) over an index of the
seeds.  Screenshots go to ``tests/screenshots/`` (ignored by git) for people
to look at.  Playwright's own browser downloads are never used: the test
drives the system Chromium through ``executable_path`` and is skipped, saying
why, when there is none (``apt-get install chromium``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

SCREENSHOTS = REPO / "tests" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def find_chromium() -> str | None:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(seed_index):
    """The production server (gunicorn, via the CLI) on a free port; yields its base URL."""
    port = free_port()
    log = open(seed_index.parent / "server.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", str(seed_index),
         "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/api/stats", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"the server did not start:\n{log.read()}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    if not chromium:
        pytest.skip("no Chromium found (looked for `chromium` on PATH and /usr/bin/chromium); "
                    "install it with `apt-get install chromium` to run the browser test")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def watch_console(page, errors: list[str]) -> list[str]:
    """Console errors (a CSP violation would show up here) collected as they happen."""
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def axe_violations(page) -> list[tuple[str, str, list]]:
    """axe-core's violations on the page as it stands: (rule id, help, first targets).

    axe-core is a test requirement (the ``test`` extra): where the browser runs,
    the check runs too, rather than passing silently without it.
    """
    from axe_playwright_python.sync_playwright import Axe

    response = Axe().run(page).response
    assert response["testEngine"]["name"] == "axe-core"
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:5])
            for v in response["violations"]]


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_search_facet_document_keyboard_and_phone(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors = watch_console(page, [])

    # The start page: the collection and its examples.
    page.goto(server + "/")
    assert page.locator("h1#overview-h").inner_text().startswith("搜索 ")
    assert page.locator(".examples a").count() >= 3
    shot(page, "01-start")

    # Type a query and press Enter.
    page.fill("#q", "呼叫中心")
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert parse_qs(urlsplit(page.url).query)["q"] == ["呼叫中心"]
    total = int(page.locator(".summary .total").inner_text().replace(",", ""))
    assert total >= 3
    marks = page.locator(".hits mark")
    assert marks.count() >= 3
    assert "呼叫中心" in marks.all_inner_texts()
    # Marks are visibly highlighted (not the page background).
    background = marks.first.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent", "rgb(255, 255, 255)")
    shot(page, "02-results")

    # Click the 洛阳 city facet: results narrow to Luoyang, a chip appears.
    facet = page.locator("button.facet-link", has_text="洛阳").first
    with page.expect_navigation():
        facet.click()
    assert parse_qs(urlsplit(page.url).query)["city"] == ["洛阳"]
    narrowed = int(page.locator(".summary .total").inner_text())
    assert 1 <= narrowed < total
    for meta in page.locator(".hit-meta").all_inner_texts():
        assert "洛阳" in meta
    assert "洛阳" in page.locator(".chip").first.inner_text()
    assert page.locator("button.facet-link.is-selected", has_text="洛阳").count() == 1
    first_title = page.locator(".hit-title a").first
    assert "落戶河南洛陽" in first_title.inner_text()
    shot(page, "03-city-facet")

    # Open the document: the query's matches are marked there too.
    with page.expect_navigation():
        first_title.click()
    assert unquote(urlsplit(page.url).path).startswith("/doc/002_")
    doc_marks = page.locator(".doc-body mark")
    assert doc_marks.count() >= 3
    assert set(doc_marks.all_inner_texts()) == {"呼叫中心"}
    assert "洛阳 (洛陽)" in page.locator(".doc-meta").inner_text()
    back = page.locator("a.back-link")
    assert parse_qs(urlsplit(back.get_attribute("href")).query) == {"q": ["呼叫中心"], "city": ["洛阳"]}
    shot(page, "04-document")

    # Keyboard only: skip link, "/" to the search box, Enter, Tab to a result, Enter.
    # (The start page focuses the search box itself; a results page does not.)
    page.goto(server + "/?q=呼叫中心")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0      # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("洛陽")                 # replaces the selected old query
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert parse_qs(urlsplit(page.url).query)["q"] == ["洛陽"]
    assert page.locator(".hits mark", has_text="洛陽").count() >= 1
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('.hit-title')"):
            break
    else:
        pytest.fail("Tab never reached a result")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused link shows no focus ring"
    shot(page, "05-keyboard-focus")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert unquote(urlsplit(page.url).path).startswith("/doc/002_")
    assert "洛陽" in page.locator(".doc-body mark").all_inner_texts()
    context.close()

    # A phone: one column, the filters in a closed drawer above the results,
    # nothing scrolls sideways.
    phone = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True,
                                has_touch=True, device_scale_factor=2, locale="zh-CN")
    page = phone.new_page()
    watch_console(page, errors)
    page.goto(server + "/?q=呼叫中心&city=洛阳&city=贵阳")
    assert page.locator(".hit").count() >= 2
    assert no_horizontal_scroll(page)
    results_box = page.locator(".results-col").bounding_box()
    drawer = page.locator("#filter-drawer")
    assert drawer.get_attribute("open") is None
    assert not page.locator(".facets").is_visible()
    drawer_box = drawer.bounding_box()
    assert drawer_box["y"] + drawer_box["height"] <= results_box["y"] + 1
    assert results_box["width"] <= 375
    page.locator("#filter-drawer > summary").click()
    assert page.locator(".facets").is_visible()
    assert no_horizontal_scroll(page)
    shot(page, "06a-phone-filters-open")
    page.locator("#filter-drawer > summary").click()
    shot(page, "06-phone-results")
    # A query of two words: the one document holding both first, the others
    # saying what they lack.
    page.goto(server + "/?q=呼叫中心 洛阳")
    summary = page.locator(".summary").inner_text()
    assert "1 条含全部查询词" in summary and "4 条只含部分" in summary, summary
    hits = page.locator(".hit")
    assert hits.first.locator(".hit-missing").count() == 0
    assert hits.nth(1).locator(".hit-missing s").inner_text() == "洛阳"
    assert hits.nth(1).locator(".hit-missing").is_visible()
    assert no_horizontal_scroll(page)
    shot(page, "06b-phone-partial-matches")
    page.goto(server + "/")
    assert no_horizontal_scroll(page)
    shot(page, "07-phone-start")
    page.locator(".hit-title a").first.click()
    page.wait_for_load_state()
    assert no_horizontal_scroll(page)
    shot(page, "08-phone-document")
    page.goto(server + "/?page=0")
    assert "参数有误" in page.locator("h1").first.inner_text()
    assert no_horizontal_scroll(page)
    shot(page, "09-phone-error")
    phone.close()

    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
