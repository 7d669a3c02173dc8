"""A document drawn in its own form: blocks as HTML, with the body's marks on them."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import XSS_IMG, XSS_LINK, XSS_SCRIPT, make_client
from search.ingest.formats import Block, body_of, layout_of
from search.ingest.formats.markdown import read_markdown
from search.results import display, rendering
from search.results.highlight import highlight
from search.results.rendering import IMAGE_LABEL, article_html, paragraphs

GUIDE = """\
# 洛阳指南

洛阳是[洛阳市](https://example.com/luoyang)的简称，**洛**阳牡丹很美。

## 交通

- 火车：洛阳站
  - 高铁：洛阳龙门站
    - 更深：洛阳
- 飞机
1. 第一步：洛阳

```
cd 洛阳
ls
```

> 引用洛阳
> 第二行

![洛阳图](images/luoyang.png)

![](images/bare.png)

| 城市 | 人口 |
|------|------|
| 洛阳 | 700万 |
"""


class Parsed(HTMLParser):
    """Elements of a fragment: the stack of open tags checked, marks and text collected."""

    VOID = {"br", "img", "hr"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict, tuple]] = []    # (tag, attrs, enclosing tags)
        self.marks: list[str] = []
        self.marked: list[str] = []                      # marked text, piece by piece
        self.text: list[str] = []
        self.balanced = True
        self.feed(html)
        self.close()
        self.balanced = self.balanced and not self.stack

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs), tuple(self.stack)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.balanced = False
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        if "mark" in self.stack:
            self.marked.append(data)

    def names(self) -> list[str]:
        return [t for t, _, _ in self.tags]


def drawn(markdown: str, needles: list[str]) -> tuple[str, str, str]:
    """Body, highlighted body and article of a Markdown text."""
    e = read_markdown(markdown, "a.md")
    body = body_of(e.blocks)
    body_html = highlight(body, needles)
    return body, body_html, article_html(body_html, layout_of(e.blocks))


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_each_block_in_its_own_form():
    _, body_html, html = drawn(GUIDE, ["洛阳"])
    page = Parsed(html)
    assert page.balanced, html
    names = page.names()
    # Headings shift down one level: the page's own h1 is the title.
    assert "h1" not in names and "h3" in names
    assert [enclosing for tag, _, enclosing in page.tags if tag == "li"] == [
        ("ul",), ("ul", "li", "ul"), ("ul", "li", "ul", "li", "ul"), ("ul",), ("ol",)]
    assert "<pre><code>cd <mark>洛阳</mark>\nls</code></pre>" in html
    assert "<blockquote>\n<p>引用<mark>洛阳</mark>第二行</p>\n</blockquote>" in html
    assert "<tr><td><mark>洛阳</mark></td><td>700万</td></tr>" in html
    links = [(a["href"], a["rel"]) for t, a, _ in page.tags if t == "a"]
    assert links == [("https://example.com/luoyang", "noopener noreferrer nofollow"),
                     ("images/luoyang.png", "noopener noreferrer nofollow"),
                     ("images/bare.png", "noopener noreferrer nofollow")]
    assert f'<a href="images/bare.png" rel="noopener noreferrer nofollow">{IMAGE_LABEL}</a>' in html


def test_marks_land_on_the_documents_own_characters_through_links_and_emphasis():
    _, body_html, html = drawn(GUIDE, ["洛阳"])
    # 洛阳 in the link's text, and a 洛阳 half bold: marked inside the tags.
    assert ('<a href="https://example.com/luoyang" rel="noopener noreferrer nofollow">'
            "<mark>洛阳</mark>市</a>") in html
    assert "<strong><mark>洛</mark></strong><mark>阳</mark>牡丹" in html
    # Every marked character of the body, and nothing else, is marked on the page.
    page = Parsed(html)
    assert "".join(page.marked) == "".join(re.findall(r"<mark>(.*?)</mark>", body_html))
    # One match drawn across the end of the bold takes two marks.
    assert html.count("<mark>") == body_html.count("<mark>") + 1 == 12


def test_without_layout_a_paragraph_per_line():
    body_html = highlight("第一段洛阳\n\n第二段 <script>\n洛阳", ["洛阳"])
    expected = ("<p>第一段<mark>洛阳</mark></p>\n<p>第二段 &lt;script&gt;</p>\n"
                "<p><mark>洛阳</mark></p>")
    assert article_html(body_html, None) == expected
    assert article_html(body_html, []) == expected
    assert paragraphs(body_html) == ["第一段<mark>洛阳</mark>", "第二段 &lt;script&gt;",
                                     "<mark>洛阳</mark>"]
    assert article_html("", None) == ""


@pytest.mark.parametrize("layout", [
    [["h2", 0, False, None, 1]],                         # fewer lines than the body
    [["p", 0, False, None, 1], ["p", 0, False, None, 5]],  # more lines than the body
    [["nonsense", 0, False, None, 3]],                   # an unknown kind
    [["p", "deep", False, None, 3]],                     # a depth that is not a number
    [["p", 0, False]],                                   # too short a row
    "not a list",
])
def test_a_layout_that_does_not_fit_the_body_gives_paragraphs(layout):
    body_html = highlight("一\n二洛阳\n三", ["洛阳"])
    assert article_html(body_html, layout) == article_html(body_html, None)


def test_block_html_that_says_other_text_is_shown_as_the_text():
    body = "真的文字洛阳"
    layout = [["h2", 0, False, "<em>别的文字</em>", 1]]
    assert article_html(highlight(body, ["洛阳"]), layout) == "<h3>真的文字<mark>洛阳</mark></h3>"


def test_lists_of_both_kinds_and_depth_jumps_stay_well_formed():
    blocks = [Block("li", "a", depth=2), Block("li", "b", depth=0), Block("li", "c", depth=3, ordered=True),
              Block("li", "d", depth=3), Block("li", "e", depth=1, ordered=True), Block("p", "f"),
              Block("li", "g", depth=0, ordered=True)]
    html = article_html(escape(body_of(blocks)), layout_of(blocks))
    page = Parsed(html)
    assert page.balanced, html
    assert squeezed("".join(page.text)) == "abcdefg"
    assert [enclosing[-1] for tag, _, enclosing in page.tags if tag == "li"] == \
        ["ul", "ul", "ol", "ul", "ol", "ol"]


def test_script_conversion_of_the_article_touches_text_only():
    blocks = [Block("p", "头发很长洛阳", '<a href="头发.html" title="x">头发</a>很长<em>洛阳</em>'),
              Block("li", "后来的发展")]
    body_html = highlight(body_of(blocks), ["洛阳"])
    html = article_html(body_html, layout_of(blocks))
    trad = display.convert_html(html, "trad")
    assert trad == ('<p><a href="头发.html" rel="noopener noreferrer nofollow">頭髮</a>很長'
                    "<em><mark>洛陽</mark></em></p>\n<ul>\n<li>後來的發展</li>\n</ul>")
    assert display.convert_html(trad, "simp").replace("头发</a>", "头发</a>") == html
    # A conversion that changes the text's length converts text node by text node.
    assert re.sub(r"[^<]*", "", display.convert_html(html, "trad")) == re.sub(r"[^<]*", "", html)


def test_document_in_script_converts_the_article(monkeypatch):
    from search.results.model import DocumentView
    blocks = [Block("h2", "洛阳"), Block("p", "头发", "<em>头发</em>")]
    body = body_of(blocks)
    body_html = highlight(body, ["洛阳"])
    view = DocumentView(id="x", title="", title_html="", body=body, body_html=body_html,
                        date=None, cities=[], city_forms={}, source="x.md", fields={},
                        article_html=article_html(body_html, layout_of(blocks)))
    assert view.in_script("trad").article_html == "<h3><mark>洛陽</mark></h3>\n<p><em>頭髮</em></p>"
    assert view.to_dict()["article_html"] == view.article_html
    monkeypatch.setattr(display, "to_traditional", lambda t: t.replace("发", "髮髮").replace("阳", "陽"))
    assert view.in_script("trad").article_html == "<h3><mark>洛陽</mark></h3>\n<p><em>头髮髮</em></p>"


HOSTILE_MARKDOWN = f"""\
# 标题 {XSS_SCRIPT}

正文 {XSS_SCRIPT} {XSS_IMG} [点我]({XSS_LINK}) [数据](data:text/html;base64,PHNjcmlwdD4=)
<a href="{XSS_LINK}" onclick="alert(1)">原始链接</a> <iframe src="https://evil.example"></iframe>

![图]({XSS_LINK})

<svg onload=alert(1)><style>body{{display:none}}</style></svg>

- [列表]({XSS_LINK} "t") <mark id="match-1">假</mark>
"""


def assert_harmless(html: str):
    lowered = html.lower()
    for bad in ("<script", "javascript:", "onerror", "onclick", "onload", "<iframe", "<svg",
                "<style", "<img", "data:text", 'id="match-1"'):
        assert bad not in lowered, (bad, html)
    allowed = rendering.ARTICLE_TAGS
    page = Parsed(html)
    assert page.balanced and set(page.names()) <= allowed, html
    for tag, attrs, _ in page.tags:
        assert set(attrs) <= {"href", "rel", "class", "id"}, (tag, attrs)


def test_hostile_markdown_never_reaches_the_page():
    _, _, html = drawn(HOSTILE_MARKDOWN, ["正文", "点我"])
    assert_harmless(html)
    assert "<mark>正文</mark>" in html and "<mark>点我</mark>" in html


@pytest.mark.parametrize("inline", [
    '<img src=x onerror="alert(1)">坏', '<a href="javascript:alert(1)">坏</a>',
    '<a href="JaVaScRiPt:alert(1)" onclick="x">坏</a>', '<script>alert(1)</script>坏',
    '<mark id="match-1">坏</mark>', '<a href="data:text/html,x">坏</a>', '<p class="doc-image">坏</p>',
    '<iframe src="https://evil.example"></iframe>坏', '<a href="vbscript:x" style="x">坏</a>',
    '<em onmouseover="alert(1)">坏</em>', '<a href="https://ok.example" target="_blank">坏</a>',
])
def test_hostile_stored_layout_never_reaches_the_page(inline):
    # The layout comes from the index: sanitised again, whatever wrote it.
    for kind in ("p", "h2", "li", "quote", "img", "row"):
        html = article_html(highlight("坏", ["坏"]), [[kind, 0, False, inline, 1]])
        assert_harmless(html)
        assert "坏" in html


def test_sanitised_final_html_keeps_only_safe_hrefs():
    blocks = [Block("p", "a b c d e", '<a href="https://x.example/">a</a> <a href="mailto:m@x.example">b</a> '
                                      '<a href="../rel.md">c</a> <a href="ftp://x.example/">d</a> '
                                      '<a href="file:///etc/passwd">e</a>')]
    html = article_html(escape(body_of(blocks)), layout_of(blocks))
    hrefs = [a.get("href") for t, a, _ in Parsed(html).tags if t == "a"]
    assert hrefs == ["https://x.example/", "mailto:m@x.example", "../rel.md", None, None]


# Markdown made of what means something to it, Chinese text and raw HTML.
PIECES = ["洛阳", "洛", "阳", "牡丹", "word", " ", "\n", "\n\n", "*", "**", "`", "```\n", "## ", "> ",
          "- ", "  - ", "1. ", "[", "](x.md)", "](http://e.com/)", "](javascript:x)", "![",
          "<b>", "</b>", "<mark>", "&amp;", "&lt;", "|", "| --- |\n", "~~", "\\", "{{", "}}"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
       st.lists(st.sampled_from(["洛阳", "阳", "牡丹", "word", "a", "|"]), max_size=3))
def test_the_article_says_the_body_and_marks_what_the_body_marks(markdown, needles):
    body, body_html, html = drawn(markdown, needles)
    page = Parsed(html)
    assert page.balanced, html
    shown = "".join(page.text).replace(IMAGE_LABEL, "")
    # A table row's cells are drawn apart: their separators are not text.
    assert squeezed(shown) == squeezed(body.replace(" | ", "")) or " | " in body
    if " | " not in body:
        assert squeezed("".join(page.marked)) == squeezed("".join(re.findall(r"<mark>(.*?)</mark>",
                                                                          body_html, re.S)))
    assert display.convert_html(html, "simp").count("<") == html.count("<")


# ---------------------------------------------------------------------------
# The document page over an index with a Markdown file


@pytest.fixture(scope="module")
def markdown_client(tmp_path_factory):
    from search import build_index, open_index
    root = tmp_path_factory.mktemp("markdown")
    docs = root / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("---\nurl: https://example.com/guide\n---\n" + GUIDE, encoding="utf-8")
    report = build_index([str(docs)], root / "index")
    assert report.indexed == 1, report.summary()
    view = open_index(root / "index").document("guide.md")
    if view is None or "<h3>" not in view.article_html:
        pytest.skip("this index does not store a layout for Markdown documents yet")
    return make_client(root / "index")


def test_the_document_page_draws_the_article(markdown_client):
    html = markdown_client.get("/doc/guide.md?q=洛阳").get_data(as_text=True)
    body = html[html.index('<div class="doc-body">'):html.index("</article>")]
    assert "<h3>交通</h3>" in body and "<pre><code>" in body and "<table>" in body
    assert body.count('id="match-1"') == 1 and 'href="#match-1"' in html
    assert body.index('id="match-1"') < body.index("<mark>")
    assert '<p><mark id="match-1">洛阳</mark>是<a href="https://example.com/luoyang"' in body
    # Where it came from: the operator's name for the file, its web address.
    assert '<dd class="doc-source">guide.md</dd>' in html
    assert ('<dt>原文链接</dt><dd class="doc-url"><a href="https://example.com/guide" '
            'rel="noopener noreferrer nofollow">') in html
    trad = markdown_client.get("/doc/guide.md?q=洛阳&script=trad").get_data(as_text=True)
    assert "<mark>洛陽</mark>" in trad and "<h3>交通</h3>" in trad
    assert trad.count("<mark") == html.count("<mark")


def test_the_page_never_shows_a_servers_absolute_path():
    from webui.pages import page_source
    assert page_source("docs/guide.md") == "docs/guide.md"
    assert page_source("corpus.jsonl:3") == "corpus.jsonl:3"
    for path in ("/srv/data/guide.md", "/tmp/x/corpus.jsonl:3", "C:\\data\\guide.md",
                 "\\\\server\\share\\a.md", "~/notes.md", ""):
        assert page_source(path) is None, path


def test_empty_blocks_and_odd_depths_draw_nothing_broken():
    layout = [["li", -3, False, None, 1], ["h2", 0, False, None, 0], ["img", 0, False, None, 0],
              ["img", 0, False, '<a href="javascript:x"></a>', 0], ["li", 0, False, None, 1]]
    html = article_html(escape("一\n二"), layout)
    assert html == "<ul>\n<li>一</li>\n<li>二</li>\n</ul>"
