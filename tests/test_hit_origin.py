"""Where each hit comes from, in its meta line: two versions of one page with
the same title (mainland and Taiwan) look different in the results."""

from __future__ import annotations

import re

from conftest import _cwd, make_client
from helpers import write_folder, write_jsonl
from search import build_index
from search.results.model import Hit
from webui.origin import hit_origin, text_script

PAGE = "# 安装指南\n\n{}\n"
ZH = "下载软件以后，打开设置，选择网络，然后点击安装按钮。"
ZH_TW = "下載軟體以後，打開設定，選擇網路，然後點擊安裝按鈕。"


def _hit(source, title="标题", fields=None, snippets=()):
    return Hit(id="x", title=title, title_html=title, score=None, date=None, cities=[],
               snippet="", snippets=list(snippets), source=source, fields=fields or {})


def _texts(origin):
    return {o["kind"]: o["text"] for o in origin}


def test_origin_parts():
    assert _texts(hit_origin(_hit("docs/zh_TW/install.md", "安裝指南"))) == {
        "collection": "docs/zh_TW", "type": "Markdown", "region": "台湾"}
    assert _texts(hit_origin(_hit("docs/zh/install.md", "安装指南", snippets=[ZH]))) == {
        "collection": "docs/zh", "type": "Markdown", "script": "简体"}
    # A JSON-lines record: its file, not the line; a site from the record's URL.
    assert _texts(hit_origin(_hit("data/news.jsonl:12", "新闻",
                                  {"url": "https://www.example.com.tw/a/1", "locale": "zh-HK"}))) == {
        "collection": "news.jsonl", "site": "example.com.tw", "region": "香港"}
    # An absolute path is where the server keeps its files: only the last folder.
    shown = _texts(hit_origin(_hit("/srv/private/books/唐诗.txt", "靜夜思")))
    assert shown == {"collection": "books", "type": "文本", "script": "繁体"}
    assert hit_origin(_hit("", "123")) == []


def test_text_script():
    assert text_script(ZH) == "简体"
    assert text_script(ZH_TW) == "繁体"
    assert text_script("hello 123") is None


def test_two_versions_of_a_page_differ_in_the_results(tmp_path):
    write_folder(tmp_path / "docs", {"zh/install.md": PAGE.format(ZH),
                                     "zh_TW/install.md": PAGE.format(ZH_TW)})
    write_jsonl(tmp_path / "feeds" / "news.jsonl", [
        {"id": "n1", "title": "安装指南", "text": ZH + "新闻版。", "site": "示例新闻网"}])
    with _cwd(tmp_path):
        report = build_index(["docs", "feeds/news.jsonl"], tmp_path / "index")
    assert report.indexed == 3
    client = make_client(tmp_path / "index")
    html = client.get("/?q=安装").get_data(as_text=True)
    metas = re.findall(r'<span class="hit-origin">(.*?)</span></span>\s*</p>', html, re.S)
    assert len(metas) == 3
    shown = [re.sub(r"<[^>]+>", "", m).replace("来源：", "").strip() for m in metas]
    assert len(set(shown)) == 3, shown
    assert "docs/zh_TW · Markdown · 台湾" in shown
    assert "docs/zh · Markdown · 简体" in shown
    assert "news.jsonl · 示例新闻网 · 简体" in shown
    # Shown in traditional script, the origin still says what the text is
    # written in (the label itself in the page's script).
    html = client.get("/?q=安装&script=trad").get_data(as_text=True)
    assert html.count('<span class="origin-script">簡體</span>') == 2
