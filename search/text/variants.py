"""Regional vocabulary: 軟體 ↔ 软件, 網路 ↔ 网络, 資訊 ↔ 信息, 隨身碟 ↔ U盘.

Script conversion makes 軟體 and 软体 one word; it does not make 软体 (Taiwan)
and 软件 (mainland) one.  This module knows which words of the regions name
the same thing, for query-time expansion (``search.query.expansion``): a query word
finds documents that use another region's word for it, ranked a little below
documents with the word itself, and the highlight marks the document's own
word.

Sources, all normalised to simplified and lower case (``script.to_simplified``):

* OpenCC's Taiwan phrase tables of the installed ``opencc`` package,
  ``TWPhrases.txt`` (mainland → Taiwan) and ``TWPhrasesRev.txt`` (Taiwan →
  mainland), read in both directions;
* OpenCC's Hong Kong phrase tables (``HKVariantsPhrases.txt``,
  ``HKVariantsRevPhrases.txt``), where they differ by more than script;
* ``search/data/regional.txt``: everyday words the OpenCC tables lack
  (出租车 / 计程车 / 的士 ...), one group of equivalent words a line.

Equivalence is one step: 文件 finds 档案 and 文档, but 档案 does not find 文档.
Single characters are never expanded.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .script import _DICT_DIR, to_simplified

REGIONAL_FILE = Path(__file__).resolve().parent.parent / "data" / "regional.txt"
OPENCC_TABLES = ("TWPhrases.txt", "TWPhrasesRev.txt", "HKVariantsPhrases.txt",
                 "HKVariantsRevPhrases.txt")


def _norm(word: str) -> str:
    return to_simplified(word.strip()).lower()


def _link(table: dict[str, set[str]], a: str, b: str) -> None:
    if a == b or len(a) < 2 or len(b) < 2:
        return
    table.setdefault(a, set()).add(b)
    table.setdefault(b, set()).add(a)


@lru_cache(maxsize=1)
def table() -> dict[str, tuple[str, ...]]:
    """Each word (simplified, lower case) and its equivalents in other regions."""
    links: dict[str, set[str]] = {}
    for name in OPENCC_TABLES:
        path = _DICT_DIR / name
        if not path.exists():
            continue
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                key, _, values = line.rstrip("\n").partition("\t")
                for value in values.split(" "):
                    if key and value:
                        _link(links, _norm(key), _norm(value))
    if REGIONAL_FILE.exists():
        for line in REGIONAL_FILE.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = list(dict.fromkeys(_norm(w) for w in line.split()))
            for a in words:
                for b in words:
                    _link(links, a, b)
    return {k: tuple(sorted(v)) for k, v in links.items()}


@lru_cache(maxsize=1)
def _longest() -> int:
    return max((len(k) for k in table()), default=0)


def equivalents(word: str) -> tuple[str, ...]:
    """Other regions' words for ``word`` (any script), simplified; () if none."""
    return table().get(_norm(word), ())


def find(text: str) -> list[tuple[str, int, int, tuple[str, ...]]]:
    """``(word, start, end, equivalents)`` for every table word in ``text``.

    Every match, longest first at each position: 信息技术 gives 资讯科技 and,
    inside it, 信息 gives 资讯 (a document may say 資訊技術).  Offsets are
    into ``text`` (simplification keeps lengths).
    """
    norm = to_simplified(text).lower()
    tab, longest = table(), _longest()
    out, n = [], len(norm)
    for i in range(n):
        for size in range(min(longest, n - i), 1, -1):
            found = tab.get(norm[i:i + size])
            if found:
                out.append((norm[i:i + size], i, i + size, found))
    return out
