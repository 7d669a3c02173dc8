"""Shared fixtures: indexes built with the library itself, and Flask apps over them.

* ``seed_index``: the project's ``seeds/`` folder (built once per session);
* ``corpus_index``: a small hand-made corpus with facets (cities in both
  scripts, dates over several years and months, authors and dynasties) and
  hostile documents (``<script>``, ``onerror=``, ``javascript:``, ``</mark>``,
  ids with slashes, Chinese, ``?#%`` and ``..``).
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"

# Hostile strings a document may carry; none may ever act in a page.
XSS_SCRIPT = '<script>alert("xss")</script>'
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_LINK = "javascript:alert(1)"

CITIES = ["北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安",
          "重庆", "天津", "苏州"]


@contextmanager
def _cwd(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def build(sources, index_dir):
    from search import build_index
    return build_index([str(s) for s in sources], index_dir)


def corpus_records() -> list[dict]:
    """The JSON-lines records of the hand-made corpus."""
    records = [
        # Cities and dates for facets: two in Luoyang (one traditional), one in Guiyang.
        {"id": "news/洛阳/1", "title": "洛阳呼叫中心开业", "text": "洛阳的呼叫中心今天开业，员工三百人。",
         "city": "洛阳", "date": "2014-09-01"},
        {"id": "news/洛阳/2", "title": "洛陽牡丹花會", "text": "洛陽牡丹花會吸引遊客，呼叫中心忙碌。",
         "city": "洛陽", "date": "2015-04-10"},
        {"id": "news/贵阳/1", "title": "貴陽大數據", "text": "貴陽發展大數據與呼叫中心產業。",
         "city": "貴陽", "date": "2014-10-20"},
        # Poems: author and dynasty become facets.
        {"id": "诗/李白/静夜思", "title": "靜夜思", "text": "床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。",
         "author": "李白", "dynasty": "唐"},
        {"id": "诗/李白/月下独酌", "title": "月下獨酌", "text": "花間一壺酒，獨酌無相親。舉杯邀明月，對影成三人。",
         "author": "李白", "dynasty": "唐"},
        {"id": "诗/苏轼/水调歌头", "title": "水调歌头", "text": "明月几时有，把酒问青天。不知天上宫阙，今夕是何年。",
         "author": "苏轼", "dynasty": "宋"},
        # Hostile documents: markup, handlers and script URLs in every field.
        {"id": "hostile/<script>1", "title": XSS_SCRIPT + "危险标题",
         "text": f"正文含有 {XSS_SCRIPT} 和 {XSS_IMG} 还有 [点我]({XSS_LINK}) 以及 </mark> 呼叫中心。",
         "author": XSS_IMG, "url": XSS_LINK, "city": "洛阳", "date": "2016-01-02"},
        {"id": "hostile/mark", "title": "标记</mark><mark>测试",
         "text": "提前结束 </mark> 的标记，<mark>假高亮</mark>，&lt;script&gt;alert(2)&lt;/script&gt; 呼叫中心。"},
        # Ids a URL path cannot hold, and ones that need quoting.
        {"id": "odd/x/../y", "title": "点点路径", "text": "路径里有两个点的编号：呼叫中心。"},
        {"id": "odd/q?#%&=+ 空格", "title": "奇怪编号", "text": "编号里有问号和井号：呼叫中心。"},
        {"id": "https://example.com/page", "title": "网址编号", "text": "编号是一个网址：呼叫中心。",
         "url": "https://example.com/page"},
    ]
    # Twelve more cities (more than the ten a facet shows before "more").
    for n, city in enumerate(CITIES):
        records.append({"id": f"city/{n:02d}", "title": f"{city}客服外包",
                        "text": f"{city}的客服外包企业介绍，第 {n} 篇。", "city": city,
                        "date": f"2013-{n % 12 + 1:02d}-15"})
    return records


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for record in corpus_records():
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    # A text file with front matter, in a sub-folder (an id with a slash).
    sub = folder / "文章"
    sub.mkdir(exist_ok=True)
    (sub / "hostile.md").write_text(
        "---\n"
        f"title: '{XSS_SCRIPT}文章'\n"
        f"author: '{XSS_IMG}'\n"
        "date: '2016-05-06'\n"
        "---\n"
        f"文章正文 {XSS_SCRIPT} {XSS_IMG} [链接]({XSS_LINK}) &lt;/mark&gt; 洛陽呼叫中心。\n",
        encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """An index of the project's seeds, built as ``make index`` would (from the repo root)."""
    index_dir = tmp_path_factory.mktemp("seeds") / "index"
    with _cwd(REPO):
        report = build(["seeds"], index_dir)
    assert report.indexed == len(list(SEEDS.glob("*.txt"))), report.summary()
    return index_dir


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """An index of the hand-made corpus (facets and hostile documents)."""
    root = tmp_path_factory.mktemp("corpus")
    source = write_corpus(root / "docs")
    index_dir = root / "index"
    report = build([source], index_dir)
    assert report.indexed == len(corpus_records()) + 1, report.summary()
    return index_dir


def make_client(index_dir, **config):
    from webui import create_app
    app = create_app(index_dir=index_dir, config={"TESTING": True, **config})
    return app.test_client()


@pytest.fixture()
def client(seed_index):
    return make_client(seed_index)


@pytest.fixture()
def corpus_client(corpus_index):
    return make_client(corpus_index)
