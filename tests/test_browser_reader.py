"""Reading aids in a real browser: suggestions by keyboard, did-you-mean, display script.

Same set-up as ``test_browser`` (the production server over the seeds, the
system Chromium; skipped without it).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from test_browser import browser, server, shot, watch_console  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def test_suggestions_keyboard_did_you_mean_and_script(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors = watch_console(page, [])
    page.goto(server + "/")
    box = page.locator("#q")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "false"

    # Pinyin typed into the box: the words of the index that read so.
    box.fill("")
    box.type("luoy", delay=30)
    options = page.locator("#q-suggestions [role=option]")
    options.first.wait_for(timeout=5000)
    assert "洛阳" in page.locator("#q-suggestions [role=option] .suggest-text").all_inner_texts()
    assert box.get_attribute("aria-expanded") == "true"
    shot(page, "10-suggest-pinyin")
    # Arrow down marks an option (aria-activedescendant); Enter searches it.
    page.keyboard.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert active and page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    chosen = page.locator(f"#{active} .suggest-text").inner_text()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert parse_qs(urlsplit(page.url).query)["q"] == [chosen]

    # Escape closes the list and Enter then searches what was typed.
    box = page.locator("#q")
    box.fill("")
    box.type("牡丹", delay=30)
    page.locator("#q-suggestions [role=option]").first.wait_for(timeout=5000)
    page.keyboard.press("Escape")
    assert page.locator("#q-suggestions").is_hidden()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert parse_qs(urlsplit(page.url).query)["q"] == ["牡丹"]

    # A homophone typo: offered, as a link.
    page.goto(server + "/?q=落阳")
    link = page.locator("a.did-you-mean-link")
    assert link.inner_text() == "洛阳"
    shot(page, "11-did-you-mean")
    with page.expect_navigation():
        link.click()
    assert page.locator(".hits mark", has_text="洛陽").count() >= 1

    # Display in simplified: the same marks, now 洛阳; the choice follows to the document.
    with page.expect_navigation():
        page.locator("a.script-link", has_text="简体").click()
    assert parse_qs(urlsplit(page.url).query)["script"] == ["simp"]
    assert set(page.locator(".hits mark").all_inner_texts()) == {"洛阳"}
    shot(page, "12-script-simplified")
    with page.expect_navigation():
        page.locator(".hit-title a").first.click()
    assert set(page.locator(".doc-body mark").all_inner_texts()) == {"洛阳"}
    assert page.locator(".related-link").count() >= 1
    shot(page, "13-document-simplified-related")
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
