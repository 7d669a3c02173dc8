"""Files of every kind through the real build: web pages, Markdown, Word and PDF
files and HTML inside JSON lines become documents with their titles, dates,
fields and layout; bad ones are skipped with their reason."""

from __future__ import annotations

import json
import os

import pytest

from search import build_index, open_index
from search.ingest.sources import iter_source
from search.store.update import update_index
from tests.helpers import write_folder

ARTICLE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="gbk">
<title>洛阳呼叫中心产业园开园_某某新闻网</title>
<meta property="og:title" content="洛阳呼叫中心产业园开园">
<meta name="author" content="王小明">
<meta property="article:published_time" content="2019-09-07T10:00:00+08:00">
<link rel="canonical" href="https://news.example.cn/2019/09/07/luoyang.html">
</head><body>
<div class="nav"><a href="/">首页</a> | <a href="/gn">国内新闻</a> | <a href="/cj">财经频道</a></div>
<article>
<h1>洛阳呼叫中心产业园开园</h1>
<p class="byline">2019年09月07日 10:00 来源：洛阳日报 作者：王小明</p>
<p>九月七日上午，洛阳市呼叫中心产业园正式开园，首批入驻企业十二家，提供就业岗位三千个。</p>
<p>产业园位于洛龙区，总投资五亿元，规划建设面积二十万平方米，将建成中西部重要的服务外包基地。</p>
<h2>企业陆续入驻</h2>
<p>园区负责人介绍，已有多家知名企业签约，预计年底入驻企业将超过三十家，带动相关产业发展。</p>
<ul><li>客户服务外包</li><li>数据标注与处理</li></ul>
<p>更多信息请见<a href="https://www.example.cn/park">产业园官网</a>的公告。</p>
</article>
<div class="share">分享到：微信 微博 QQ空间</div>
<div class="related"><h3>相关新闻</h3><ul><li><a href="/a">贵阳大数据产业博览会开幕</a></li>
<li><a href="/b">淮安软件园招商引资再创新高</a></li></ul></div>
<div class="footer">Copyright &copy; 2019 某某新闻网 版权所有 京ICP备12345678号</div>
<script>var tracker = "track-everything";</script>
</body></html>
"""

MARKDOWN = """---
tags: [指南]
---
# 牡丹江呼叫中心建设指南

> 本文介绍 **牡丹江** 的呼叫中心建设。

## 准备工作

1. 选址：参见[官方网站](https://www.example.cn/qwertyz)的说明
2. 运行 `setup --city {{城市名}}` 命令

```
make index
make run
```
"""


def _article_bytes() -> bytes:
    return ARTICLE.encode("gb18030")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    docs = write_folder(root / "docs", {
        "news/luoyang.html": _article_bytes(),
        "guide.md": MARKDOWN,
        "plain.txt": "淮安软件园\n淮安软件园位于江苏省淮安市，是一个服务外包园区。",
    })
    with open(docs / "pages.jsonl", "w", encoding="utf-8") as out:
        out.write(json.dumps({"id": "web-1", "title": "记录自己的标题", "html": ARTICLE},
                             ensure_ascii=False) + "\n")
    report = build_index([docs.resolve()], root / "ix")
    return root, docs, report, open_index(root / "ix")


def test_a_web_page_is_indexed_as_its_article(built):
    _, _, report, ix = built
    assert report.skipped == [], report.skipped
    doc = ix.document("news/luoyang.html")
    assert doc.title == "洛阳呼叫中心产业园开园"
    assert doc.date == "2019-09-07"
    assert doc.fields.get("url") == "https://news.example.cn/2019/09/07/luoyang.html"
    assert doc.fields.get("author") == "王小明"
    assert doc.body.startswith("九月七日上午") or doc.body.split("\n", 1)[1].startswith("九月七日上午")
    for furniture in ("首页", "分享到", "相关新闻", "贵阳大数据", "版权所有", "track-everything"):
        assert furniture not in doc.body, furniture
    assert "洛阳" in doc.cities
    # The page's structure is kept for the document page.
    stored = ix._current().searcher().document(id="news/luoyang.html")
    kinds = [block[0] for block in stored["layout"]]
    assert "h2" in kinds and "li" in kinds
    # ... and drawn on it, with the matches marked in the page's own characters.
    view = ix.document("news/luoyang.html", q="服務外包")
    assert "<h3>企业陆续入驻</h3>" in view.article_html
    assert "<ul><li>客户<mark>服务外包</mark></li>" in view.article_html.replace("\n", "")
    assert ('<a href="https://www.example.cn/park" rel="noopener noreferrer nofollow">'
            '产业园官网</a>') in view.article_html


def test_a_web_page_is_found_by_its_words_in_both_scripts(built):
    _, _, _, ix = built
    assert "news/luoyang.html" in [h.id for h in ix.search("服務外包基地").hits]
    # Navigation and related-article lists are not the article's words.
    assert "news/luoyang.html" not in [h.id for h in ix.search("淮安软件园招商引资").hits]


def test_markdown_is_indexed_without_its_syntax(built):
    _, _, _, ix = built
    doc = ix.document("guide.md")
    assert doc.title == "牡丹江呼叫中心建设指南"
    for syntax in ("#", "**", "`", "](", "https://www.example.cn/qwertyz", "{{", "}}", "> "):
        assert syntax not in doc.body, syntax
    assert "官方网站" in doc.body and "setup --city 城市名" in doc.body
    assert "make index\nmake run" in doc.body
    assert [h.id for h in ix.search("官方网站").hits] == ["guide.md"]
    assert ix.search("qwertyz").total == 0             # a link's target is not its text


def test_html_in_a_json_line_is_read_as_a_page_with_the_records_fields_first(built):
    _, _, _, ix = built
    doc = ix.document("web-1")
    assert doc.title == "记录自己的标题"
    assert doc.date == "2019-09-07"
    assert "首页" not in doc.body and "九月七日上午" in doc.body


def test_plain_text_has_no_layout_and_sources_are_never_absolute(built):
    _, docs, _, ix = built
    searcher = ix._current().searcher()
    assert "layout" not in searcher.document(id="plain.txt")
    for doc_id in ("plain.txt", "news/luoyang.html", "guide.md", "web-1"):
        source = ix.document(doc_id).source
        assert source and not os.path.isabs(source) and str(docs) not in source, source


def test_an_update_reads_new_pages_and_a_changed_one(tmp_path):
    docs = write_folder(tmp_path / "docs", {"a.txt": "贵阳\n贵阳的呼叫中心产业发展很快。"})
    build_index([docs], tmp_path / "ix")
    (docs / "luoyang.html").write_bytes(_article_bytes())
    report = update_index([docs], tmp_path / "ix")
    assert report.ok, report
    ix = open_index(tmp_path / "ix")
    assert ix.document("luoyang.html").title == "洛阳呼叫中心产业园开园"
    (docs / "luoyang.html").write_bytes(_article_bytes().replace(
        "开园".encode("gb18030"), "揭牌".encode("gb18030")))
    update_index([docs], tmp_path / "ix")
    assert open_index(tmp_path / "ix").document("luoyang.html").title == "洛阳呼叫中心产业园揭牌"


def test_the_parallel_build_reads_pages_as_the_single_process_does(tmp_path):
    files = {f"p{i:03d}.html": _article_bytes().replace(
        "洛阳呼叫中心产业园开园".encode("gb18030"), f"洛阳第{i}号园区开园".encode("gb18030"))
        for i in range(12)}
    files["broken.pdf"] = b"%PDF-1.7\n1 0 obj <<"
    docs = write_folder(tmp_path / "docs", files)
    one = build_index([docs], tmp_path / "one", workers=1)
    two = build_index([docs], tmp_path / "two", workers=2)
    assert one.indexed == two.indexed == 12
    assert [p.source for p in one.skipped] == [p.source for p in two.skipped] == [
        str(docs / "broken.pdf")]
    a, b = open_index(tmp_path / "one"), open_index(tmp_path / "two")
    for i in (0, 7, 11):
        da, db = a.document(f"p{i:03d}.html"), b.document(f"p{i:03d}.html")
        assert da.title == db.title == f"洛阳第{i}号园区开园"
        assert da.body == db.body


def test_a_page_nested_ten_thousand_levels_deep_does_not_stop_the_build(tmp_path):
    deep = "<html><body>" + "<div>" * 10_000 + "深处的文字" + "</div>" * 10_000 + "</body></html>"
    docs = write_folder(tmp_path / "docs", {"deep.html": deep, "ok.html": _article_bytes()})
    report = build_index([docs], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    assert ix.document("ok.html") is not None
    assert report.indexed + len(report.skipped) == 2
    items = list(iter_source(docs))
    assert len(items) == 2


# ---------------------------------------------------------------------------
# Word and PDF files in a folder, good and bad


def test_word_and_pdf_files_are_indexed_and_bad_ones_skipped_with_their_reason(tmp_path):
    from tests import office_files as make

    docs = tmp_path / "docs"
    (docs / "bad").mkdir(parents=True)
    make.make_docx(docs / "report.docx", "traditional", core_title="檔案屬性裡的標題",
                   author="李四")
    make.make_pdf(docs / "paper.pdf", ["洛陽的呼叫中心產業發展迅速，吸引了大量企業入駐。",
                                       "第二段講的是人才培養。"], "traditional",
                  title="洛陽呼叫中心報告", author="張三", date="D:20190907103000+08'00'")
    make.make_pdf(docs / "bad/locked.pdf", encrypted="secret")
    make.make_scanned_pdf(docs / "bad/scan.pdf")
    make.zip_bomb_docx(docs / "bad/bomb.docx")
    (docs / "bad/bomb.base.docx").unlink(missing_ok=True)       # the bomb's good original
    make.truncated_copy(docs / "paper.pdf", docs / "bad/cut.pdf")
    report = build_index([docs], tmp_path / "ix")
    reasons = {os.path.basename(p.source): p.reason for p in report.skipped}
    assert reasons["locked.pdf"] == "encrypted PDF: needs a password"
    assert reasons["scan.pdf"].startswith("no text layer (2 pages): a scanned PDF")
    assert "bomb.docx" in reasons and "cut.pdf" in reasons
    assert report.indexed == 2
    ix = open_index(tmp_path / "ix")
    pdf = ix.document("paper.pdf")
    assert pdf.title == "洛陽呼叫中心報告" and pdf.date == "2019-09-07"
    assert pdf.fields.get("author") == "張三" and pdf.cities == ["洛阳"]
    assert "paper.pdf" in [h.id for h in ix.search("洛阳 人才培养").hits]     # either script
    word = ix.document("report.docx")
    assert word.fields.get("author") == "李四" and word.body


def test_a_reader_that_crashes_or_hangs_costs_only_its_file():
    from search.ingest.formats import FormatError
    from search.ingest.formats.isolation import read_isolated

    def crash(data, source):
        os.kill(os.getpid(), 11)

    def hang(data, source):
        import time
        time.sleep(30)

    def fine(data, source):
        return {"read": data.decode(), "from": source}

    with pytest.raises(FormatError, match="crashed on it .SIGSEGV."):
        read_isolated(crash, b"", "x.pdf")
    with pytest.raises(FormatError, match="took longer than 0.5 s"):
        read_isolated(hang, b"", "x.pdf", seconds=0.5)
    assert read_isolated(fine, "洛阳".encode(), "x.pdf") == {"read": "洛阳", "from": "x.pdf"}


def test_a_web_page_of_200_mb_is_refused_from_its_size_without_being_read(tmp_path):
    docs = write_folder(tmp_path / "docs", {"ok.html": _article_bytes()})
    with open(docs / "huge.html", "wb") as huge:      # sparse: no 200 MB written
        huge.write(b"<html><body><p>")
        huge.truncate(200 * 1024 * 1024)
    report = build_index([docs], tmp_path / "ix")
    [problem] = report.skipped
    assert problem.source.endswith("huge.html") and problem.reason.startswith("file too large")
    assert report.indexed == 1
