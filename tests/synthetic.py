"""Synthetic corpora for the reliability and load tests, made from the project's seeds.

Deterministic (a seeded random generator): sentences of the seed articles
(simplified and traditional) recombined into as many JSON-lines records as a
test needs, with cities and dates so that facets and sorting have work to do.
Nothing here reads ``../shared``: the tests run on a fresh clone.
"""

from __future__ import annotations

import json
import random
import re
from functools import lru_cache
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CITIES = ["洛阳", "洛陽", "贵阳", "貴陽", "淮安", "牡丹江", "穆棱", "北京", "上海", "广州"]


@lru_cache(maxsize=1)
def seed_sentences() -> tuple[str, ...]:
    """The sentences of the seed articles (front matter and short lines left out)."""
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
        for sentence in re.split(r"(?<=[。！？!?])|\n", text):
            sentence = sentence.strip()
            if len(sentence) >= 8 and "<" not in sentence:
                out.append(sentence)
    return tuple(out)


def records(count: int, seed: int = 7, tag: str = "doc", sentences: int = 6) -> list[dict]:
    """``count`` JSON-lines records ``{"id", "title", "text", "city", "date"}``."""
    rng = random.Random(seed)
    pool = seed_sentences()
    out = []
    for n in range(count):
        body = "".join(rng.choice(pool) for _ in range(sentences))
        out.append({
            "id": f"{tag}/{n:06d}",
            "title": rng.choice(pool)[:24],
            "text": body,
            "city": rng.choice(CITIES),
            "date": f"{rng.randint(2005, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        })
    return out


def write_jsonl(path: Path, count: int, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for record in records(count, **kwargs):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
