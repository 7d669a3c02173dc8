"""What the start page shows before anything is typed: the collection, with real examples.

The examples are taken from the index itself (its commonest cities and words
its documents' titles share), so they always find something; they are worked
out once per index generation and kept until the index is rebuilt.
"""

from __future__ import annotations

import html
import re
from collections import Counter

from flask import current_app

from search.text.chars import HAN

# Documents looked at for example words (the newest ones; one search).
SAMPLE = 100
_TAGS = re.compile(r"<[^>]*>")
_HAN_WORD = re.compile(rf"[{HAN}]{{2,6}}")


def overview(ix) -> dict:
    """``{"documents", "built_at", "cities", "words", "script_pair"}`` for the start page."""
    stats = ix.stats()
    cache = current_app.extensions["webui"]["overview"]
    key = (str(ix.path), stats["generation"])
    found = cache.get(key)
    if found is None:
        found = _compute(ix, stats)
        cache.clear()           # only the live generation is worth keeping
        cache[key] = found
    return found


def _compute(ix, stats: dict) -> dict:
    info = {"documents": stats["documents"], "built_at": stats.get("built_at"),
            "cities": [], "words": [], "script_pair": None}
    if not stats["documents"]:
        return info
    sample = ix.search("", per_page=SAMPLE)
    info["cities"] = [f["value"] for f in sample.facets.get("city", [])[:3]]
    # A city some document spells in the other script: the collection's own
    # proof that 贵阳 finds 貴陽.
    for hit in sample.hits:
        for canonical, forms in (hit.city_forms or {}).items():
            other = next((f for f in forms if f != canonical), None)
            if other:
                info["script_pair"] = (canonical, other)
                break
        if info["script_pair"]:
            break
    info["words"] = _common_words(ix, sample.hits, exclude=set(info["cities"]))
    return info


def _words(text: str) -> list[str]:
    try:
        from search.text.segment import segment
        from search.text.stopwords import STOP_WORDS
        from search.text.script import to_simplified
    except ImportError:        # the library's internals moved: no word examples
        return []
    return [w for w, _s, _e, sub in segment(to_simplified(text))
            if not sub and _HAN_WORD.fullmatch(w) and w not in STOP_WORDS]


def _common_words(ix, hits, exclude: set[str], count: int = 3) -> list[str]:
    """Words that several documents' titles (or openings) share and that find something."""
    doc_freq: Counter = Counter()
    for hit in hits:
        text = hit.title or html.unescape(_TAGS.sub("", hit.snippet or ""))[:200]
        doc_freq.update(set(_words(text)))
    out = []
    for word, n in doc_freq.most_common(30):
        if word in exclude or any(word in c or c in word for c in exclude):
            continue
        if ix.search(word, per_page=1).total:
            out.append(word)
        if len(out) == count:
            break
    return out
