"""A Markdown document's page in a real browser: drawn in its own form, marks, script switch, phone.

Same set-up as ``test_browser`` (the production server, the system Chromium;
skipped without it), over an index of one Markdown file.
"""

from __future__ import annotations

import pytest

from test_browser import browser, no_horizontal_scroll, shot, watch_console  # noqa: F401
from test_rendering import GUIDE
from tests.serving import serve

pytestmark = pytest.mark.slow

LONG_LINE = "洛阳" + "很长的一行代码" * 40


@pytest.fixture(scope="module")
def markdown_server(tmp_path_factory):
    from search import build_index, open_index
    root = tmp_path_factory.mktemp("markdown-browser")
    docs = root / "docs"
    docs.mkdir()
    text = GUIDE + f"\n```\n{LONG_LINE}\n```\n\n" + "\n\n".join(f"第 {n} 段正文。" for n in range(60))
    (docs / "guide.md").write_text("---\nurl: https://example.com/guide\n---\n" + text, encoding="utf-8")
    index = root / "index"
    assert build_index([str(docs)], index).indexed == 1
    assert "<h3>" in open_index(index).document("guide.md").article_html
    with serve(index, threads=2) as (base, _):
        yield base


def test_markdown_document_page(markdown_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 700}, locale="zh-CN")
    page = context.new_page()
    errors = watch_console(page, [])
    page.goto(markdown_server + "/doc/guide.md?q=洛阳")
    body = page.locator(".doc-body")
    assert body.locator("h3", has_text="交通").is_visible()
    assert body.locator("ul ul li", has_text="高铁").count() == 1
    assert body.locator("pre code").first.is_visible()
    assert body.locator("table td", has_text="700万").count() == 1
    assert body.locator("blockquote").count() == 1
    link = body.locator("a", has_text="洛阳市")
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    assert link.locator("mark").inner_text() == "洛阳"
    assert set(body.locator("mark").all_inner_texts()) <= {"洛阳", "洛", "阳"}
    assert page.locator(".doc-url a").get_attribute("href") == "https://example.com/guide"
    shot(page, "20-markdown-document")

    # "Jump to the first match" lands on it.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.locator(".match-note a[href='#match-1']").click()
    assert page.evaluate("""(() => { const r = document.getElementById('match-1').getBoundingClientRect();
                             return r.top >= 0 && r.bottom <= window.innerHeight; })()""")

    # The script switch: the same form, the same marks, in traditional.
    marks = body.locator("mark").count()
    with page.expect_navigation():
        page.locator("a.script-link", has_text="繁體").click()
    body = page.locator(".doc-body")
    assert body.locator("mark").count() == marks
    assert "洛陽" in body.locator("mark").all_inner_texts()
    assert body.locator("h3", has_text="交通").count() == 1
    context.close()

    # A phone: the page does not scroll sideways; a long code line scrolls in its box.
    phone = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True,
                                has_touch=True, device_scale_factor=2, locale="zh-CN")
    page = phone.new_page()
    watch_console(page, errors)
    page.goto(markdown_server + "/doc/guide.md?q=洛阳")
    assert no_horizontal_scroll(page)
    assert page.evaluate("""[...document.querySelectorAll('.doc-body pre')]
                            .some(p => p.scrollWidth > p.clientWidth)""")
    shot(page, "21-phone-markdown-document")
    phone.close()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
