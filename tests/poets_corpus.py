"""A collection of poems with more authors than a results page lists, for the facet tests.

``poet_records()``: 150 generated authors (15 surnames × 10 given names) and
three known ones (李白, 杜甫 and 賀知章, written in traditional script), each
with one to three poems holding 明月; dates over ten years and their months;
a ``dynasty`` every poem shares (a facet that tells nothing) and a ``genre``
of two values.
"""

from __future__ import annotations

import json
from pathlib import Path

SURNAMES = "王张刘陈杨黄赵吴周徐孙马朱胡郭"
GIVEN = "安宁远山平和清风云海"
KNOWN = ["李白", "杜甫", "賀知章"]


def poet_names() -> list[str]:
    return KNOWN + [s + g for s in SURNAMES for g in GIVEN]


def poet_records() -> list[dict]:
    records = []
    for i, author in enumerate(poet_names()):
        for j in range(i % 3 + 1):
            year = 2010 + (i + j) % 10
            records.append({
                "id": f"poem/{i}/{j}", "title": f"{author}的诗其{j + 1}",
                "text": f"床前明月光，{author}写下第{j + 1}首。" + ("春风又绿江南岸。" if i % 4 == 0 else ""),
                "author": author, "dynasty": "唐", "genre": "绝句" if i % 2 else "律诗",
                "date": f"{year}-{(i % 12) + 1:02d}-01",
            })
    return records


def write_poets(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "poems.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in poet_records()) + "\n",
                    encoding="utf-8")
    return path


def build_seeds_and_poets(root: Path) -> Path:
    """An index of the project's seeds (cities, news) and the poets (authors,
    ten years of dates), built from ``root``; returns the index folder."""
    from search import build_index
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    index_dir = root / "index"
    report = build_index([str(seeds), str(write_poets(root / "poets"))], index_dir)
    assert report.indexed == len(poet_records()) + len(list(seeds.glob("*.txt"))), report.summary()
    return index_dir
