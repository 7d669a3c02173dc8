"""A small corpus for the reader-facing features (pinyin, homophones,
regional vocabulary, suggestions, display script, related documents, explain).

Documents come in both scripts: Taiwan and mainland words for the same things,
the same cities written 洛陽/洛阳, 貴陽/贵阳, 重慶/重庆, and one English text.
``reader_index`` is a session fixture; test modules import it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RECORDS = [
    {"id": "tw/software", "title": "軟體下載",
     "text": "這套軟體可以從網路下載，資訊安全很重要。請把檔案存到隨身碟。"},
    {"id": "cn/software", "title": "软件下载",
     "text": "这款软件可以从网络下载，信息安全很重要。请把文件存到U盘。"},
    {"id": "trad/luoyang", "title": "洛陽牡丹", "text": "洛陽牡丹甲天下，每年四月洛陽舉辦牡丹花會。"},
    {"id": "simp/luoyang", "title": "洛阳古都", "text": "洛阳是十三朝古都，洛阳的牡丹很有名。"},
    {"id": "simp/luoyang-travel", "title": "洛阳旅游", "text": "去洛阳旅游，先看龙门石窟，再看牡丹。"},
    {"id": "simp/chongqing", "title": "重庆火锅", "text": "重庆的火锅很辣，重庆人爱吃火锅。"},
    {"id": "trad/chongqing", "title": "重慶夜景", "text": "重慶的夜景很美，山城重慶。"},
    {"id": "simp/mudanjiang", "title": "牡丹江", "text": "牡丹江市位于黑龙江省东南部，牡丹江流经市区。"},
    {"id": "en/callcenter", "title": "Call center news",
     "text": "The call center opened in 2014. iPhone users call the center every day."},
    {"id": "poem/jingyesi", "title": "靜夜思", "author": "李白",
     "text": "床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。"},
    {"id": "poem/jingyesi-simp", "title": "静夜思", "author": "李白",
     "text": "床前明月光，疑是地上霜。举头望明月，低头思故乡。"},
    {"id": "simp/guiyang", "title": "贵阳大数据", "text": "贵阳发展大数据产业，贵阳的数据中心很多。"},
    {"id": "trad/guiyang", "title": "貴陽數據中心", "text": "貴陽的數據中心很多，貴陽發展很快。"},
    {"id": "simp/women", "title": "我们的城市", "text": "我们一起建设城市，我们爱这座城市。"},
]


def write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "reader.jsonl", "w", encoding="utf-8") as fh:
        for record in RECORDS:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return folder


@pytest.fixture(scope="session")
def reader_index(tmp_path_factory) -> Path:
    from search import build_index
    root = tmp_path_factory.mktemp("reader")
    report = build_index([str(write(root / "docs"))], root / "index")
    assert report.indexed == len(RECORDS), report.summary()
    return root / "index"


@pytest.fixture()
def rix(reader_index):
    from search import open_index
    return open_index(reader_index)
