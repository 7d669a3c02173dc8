"""The Markdown reader: blocks without syntax, inline HTML that says the same text."""

from __future__ import annotations

import re
from html import unescape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.ingest.formats import FormatError, blocks_from_layout, body_of, layout_of
from search.ingest.formats.markdown import read, read_markdown

GUIDE = """\
# 洛阳旅游指南

洛阳是**十三朝古都**，[龙门石窟](https://example.com/longmen "标题")在城南，
牡丹*每年四月*盛开。

## 交通

- 火车：洛阳站
  - 高铁：洛阳龙门站
- 飞机：北郊机场

1. 买票
2. 运行 `tar -xf {{path/to/file.tar}}`

```python
print("洛阳")

# 不是标题
```

> 洛阳牡丹甲天下。
> ——俗语

![龙门石窟 *卢舍那*](images/longmen.jpg)

| 景点 | 门票 |
|------|------|
| 龙门 | **90** 元 |

---

最后一段。
"""

TAG = re.compile(r"<[^>]*>")


def text_of(html: str) -> str:
    return unescape(TAG.sub("", html))


def kinds(extracted):
    return [(b.kind, b.text) for b in extracted.blocks]


def test_blocks_of_a_document():
    e = read_markdown(GUIDE, "guide.md")
    assert e.title == "洛阳旅游指南"
    assert kinds(e) == [
        ("p", "洛阳是十三朝古都，龙门石窟在城南，牡丹每年四月盛开。"),
        ("h2", "交通"),
        ("li", "火车：洛阳站"),
        ("li", "高铁：洛阳龙门站"),
        ("li", "飞机：北郊机场"),
        ("li", "买票"),
        ("li", "运行 tar -xf path/to/file.tar"),
        ("pre", 'print("洛阳")\n\n# 不是标题'),
        ("quote", "洛阳牡丹甲天下。——俗语"),
        ("img", "龙门石窟 卢舍那"),
        ("row", "景点 | 门票"),
        ("row", "龙门 | 90 元"),
        ("p", "最后一段。"),
    ]
    items = [(b.depth, b.ordered) for b in e.blocks if b.kind == "li"]
    assert items == [(0, False), (1, False), (0, False), (0, True), (0, True)]


def test_inline_html_keeps_links_code_and_emphasis():
    e = read_markdown(GUIDE, "guide.md")
    first = e.blocks[0]
    assert first.html == ('洛阳是<strong>十三朝古都</strong>，<a href="https://example.com/longmen">'
                          "龙门石窟</a>在城南，牡丹<em>每年四月</em>盛开。")
    assert e.blocks[6].html == "运行 <code>tar -xf path/to/file.tar</code>"
    assert e.blocks[9].html == '<a href="images/longmen.jpg">龙门石窟 卢舍那</a>'
    # Plain text needs no HTML of its own.
    assert e.blocks[1].html is None and e.blocks[7].html is None
    for block in e.blocks:
        assert text_of(block.inline_html()) == block.text, block


def test_no_syntax_is_left_in_the_text():
    e = read_markdown(GUIDE, "guide.md")
    for block in e.blocks:
        if block.kind == "pre":
            continue
        for syntax in ("#", ">", "`", "*", "](", "{{", "}}", "---"):
            assert syntax not in block.text, (syntax, block)


def test_the_first_heading_is_the_title_only_when_it_opens_the_document():
    e = read_markdown("### 小标题也算\n\n正文", "a.md")
    assert e.title == "小标题也算" and kinds(e) == [("p", "正文")]
    e = read_markdown("开头的话\n\n# 后来的标题\n", "a.md")
    assert e.title is None and kinds(e) == [("p", "开头的话"), ("h1", "后来的标题")]
    assert read_markdown("", "a.md").blocks == []


def test_lines_of_a_paragraph_join_as_their_script_wants():
    e = read_markdown("洛阳是\n古都\n\nsoft\nbreak and 中文\nnext  \nhard", "a.md")
    assert [b.text for b in e.blocks] == ["洛阳是古都", "soft break and 中文 next hard"]


def test_raw_html_is_not_trusted_its_text_is_kept():
    src = ('正文 <b onclick="x()">粗</b> <img src=x onerror=alert(1)> <script>alert(1)</script>\n\n'
           '<div class="box">块里的<em>字</em></div>\n\n<script>\nsteal()\n</script>\n\n<!-- 注释 -->\n')
    e = read_markdown(src, "a.md")
    assert kinds(e) == [("p", "正文 粗  alert(1)"), ("p", "块里的字")]
    for block in e.blocks:
        html = block.inline_html()
        assert "<b" not in html and "onclick" not in html and "onerror" not in html
        assert "<script" not in html and "<div" not in html


@pytest.mark.parametrize("href", ["javascript:alert(1)", "JavaScript:alert(1)", "vbscript:x",
                                  "data:text/html,<script>alert(1)</script>", "file:///etc/passwd"])
def test_unsafe_link_targets_are_dropped_the_text_kept(href):
    e = read_markdown(f"看 [这里]({href}) 和 ![图]({href})", "a.md")
    [block] = e.blocks
    assert block.text == "看 这里 和 图"
    assert "href" not in (block.html or "")


@pytest.mark.parametrize("href", ["https://example.com/a?b=1&c=2", "http://example.com/",
                                  "mailto:someone@example.com", "../other.md", "#section", "page.html"])
def test_safe_link_targets_stay(href):
    [block] = read_markdown(f"[链接]({href})", "a.md").blocks
    assert block.text == "链接"
    assert block.html.startswith('<a href="') and block.html.endswith('">链接</a>')
    assert unescape(block.html.split('"')[1]) == href


def test_an_image_without_a_description_is_a_link_with_no_text():
    [block] = read_markdown("![](photo.png)", "a.md").blocks
    assert (block.kind, block.text, block.html) == ("img", "", '<a href="photo.png"></a>')
    assert block.lines == 0


def test_tables_strikethrough_and_escapes():
    e = read_markdown("| a | ~~b~~ |\n|---|---|\n| \\*1\\* | [2](x.md) |\n\n~~删~~ &lt;tag&gt; &amp;", "a.md")
    assert kinds(e) == [("row", "a | b"), ("row", "*1* | 2"), ("p", "删 <tag> &")]
    assert e.blocks[0].html == "a | <del>b</del>"
    assert e.blocks[1].html == '*1* | <a href="x.md">2</a>'
    assert e.blocks[2].html == "<del>删</del> &lt;tag&gt; &amp;"


def test_layout_round_trip():
    e = read_markdown(GUIDE, "guide.md")
    layout = layout_of(e.blocks)
    body = body_of(e.blocks)
    again = blocks_from_layout(layout, body)
    assert [(b.kind, b.text, b.html, b.depth, b.ordered) for b in again] == \
        [(b.kind, b.text, b.html, b.depth, b.ordered) for b in e.blocks]
    assert body.split("\n")[7:10] == ['print("洛阳")', "", "# 不是标题"]


def test_read_bytes():
    e = read(("\ufeff" + GUIDE).encode("utf-8"), "guide.md")
    assert e.title == "洛阳旅游指南" and len(e.blocks) == 13
    with pytest.raises(FormatError) as err:
        read("# 標題".encode("big5"), "old.md")
    assert err.value.reason


# Markdown made of the characters that mean something to it, Chinese text and
# the raw HTML a hostile file might carry.
PIECES = ["洛阳", "中文", "word", " ", "\n", "\n\n", "*", "**", "_", "`", "```\n", "#", "## ", "> ",
          "- ", "1. ", "  ", "[", "]", "(", ")", "](http://e.com/x)", "](javascript:alert(1))", "!",
          "![", "<b>", "</b>", "<script>", "<a href='javascript:x'>", "&amp;", "&lt;", "&#x27;",
          "{{", "}}", "|", "\\", "~~", "---", "<", ">", '"', "'", "\t", "&"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_html_says_exactly_the_text(source):
    e = read_markdown(source, "a.md")
    for block in e.blocks:
        assert block.kind == "pre" or "\n" not in block.text, block
        if block.html is not None:
            assert text_of(block.html) == block.text, block
            assert "<script" not in block.html and "href=\"javascript" not in block.html.lower()
            tags = {t.split()[0].strip("</>") for t in TAG.findall(block.html)}
            assert tags <= {"a", "code", "em", "strong", "del"}, block.html
    layout = layout_of(e.blocks)
    if layout is not None:
        assert blocks_from_layout(layout, body_of(e.blocks)) is not None
