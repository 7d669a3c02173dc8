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

False friends are read in the region of the text (``region_of``: its script,
then words only one region uses): the OpenCC tables say which region each
word is from, so 文件 read as the mainland's (simplified) finds Taiwan's 檔案,
read as Taiwan's (traditional) finds the mainland's 文档; unread (a query such
as 文件 alone, the same in both scripts) it finds both.  In ``regional.txt`` a
word one region only uses that way is tagged (``tw:机车``).

Licences: OpenCC's dictionaries are Apache-2.0 (the ``opencc`` package);
``regional.txt`` is the project's own (MIT).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .script import _DICT_DIR, to_simplified

REGIONAL_FILE = Path(__file__).resolve().parent.parent / "data" / "regional.txt"
# (file, region of its keys, region of its values): TWPhrases maps a mainland
# word (in OpenCC's traditional script) to Taiwan's, TWPhrasesRev the other way.
OPENCC_TABLES = (("TWPhrases.txt", "cn", "tw"), ("TWPhrasesRev.txt", "tw", "cn"),
                 ("HKVariantsPhrases.txt", None, None),
                 ("HKVariantsRevPhrases.txt", None, None))
# The regions a query is read in: ``cn`` the mainland (simplified script),
# ``tw`` Taiwan and Hong Kong (traditional script).  None: either.
REGIONS = ("cn", "tw")
_TAGS = {"cn": "cn", "tw": "tw", "hk": "tw"}


def _norm(word: str) -> str:
    return to_simplified(word.strip()).lower()


def _link(table: dict[str, set[str]], a: str, b: str) -> None:
    """``a`` finds ``b`` (one way)."""
    if a == b or len(a) < 2 or len(b) < 2:
        return
    table.setdefault(a, set()).add(b)


def _pair(links: dict, a: str, region_a: str | None, b: str, region_b: str | None) -> None:
    """``a`` (a word of ``region_a``; None: of every region) names what ``b`` does.

    Read in a region, a word finds its equivalents only where it is that
    region's word: 文件 typed in simplified script is a file (档案), typed in
    traditional script a document (文档).  Unread (None), it finds both.
    """
    _link(links[None], a, b)
    _link(links[None], b, a)
    for region in REGIONS:
        if region_a in (None, region):
            _link(links[region], a, b)
        if region_b in (None, region):
            _link(links[region], b, a)


def _regional_line(line: str) -> list[tuple[str, str | None]]:
    """``出租车 tw:计程车 hk:的士`` as [(word, region or None)]."""
    out = []
    for item in line.split():
        tag, sep, word = item.partition(":")
        if sep and tag in _TAGS:
            out.append((_norm(word), _TAGS[tag]))
        else:
            out.append((_norm(item), None))
    return list(dict.fromkeys(out))


@lru_cache(maxsize=1)
def _tables() -> dict[str | None, dict[str, tuple[str, ...]]]:
    links: dict[str | None, dict[str, set[str]]] = {r: {} for r in (None, *REGIONS)}
    for name, key_region, value_region in OPENCC_TABLES:
        path = _DICT_DIR / name
        if not path.exists():
            continue
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                key, _, values = line.rstrip("\n").partition("\t")
                for value in values.split(" "):
                    if key and value:
                        _pair(links, _norm(key), key_region, _norm(value), value_region)
    if REGIONAL_FILE.exists():
        for line in REGIONAL_FILE.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = _regional_line(line)
            for i, (a, ra) in enumerate(words):
                for b, rb in words[i + 1:]:
                    _pair(links, a, ra, b, rb)
    return {r: {k: tuple(sorted(v)) for k, v in t.items()} for r, t in links.items()}


def table(region: str | None = None) -> dict[str, tuple[str, ...]]:
    """Each word (simplified, lower case) and its equivalents in other regions,
    as read in ``region`` (``cn``, ``tw``; None: in any)."""
    return _tables()[region]


@lru_cache(maxsize=1)
def _longest() -> int:
    return max((len(k) for k in table()), default=0)


def equivalents(word: str, region: str | None = None) -> tuple[str, ...]:
    """Other regions' words for ``word`` (any script), simplified; () if none."""
    return table(region).get(_norm(word), ())


@lru_cache(maxsize=1)
def _script_chars() -> tuple[frozenset[str], frozenset[str]]:
    """Characters only traditional text has, and only simplified text has.

    A character either script writes (面, 里, 后: simplified forms that are
    traditional characters too, OpenCC mapping them to themselves among
    others) tells nothing, so 使用者介面 is not read as mainland text."""
    def only(name: str) -> set[str]:
        out = set()
        with open(_DICT_DIR / name, encoding="utf-8") as handle:
            for line in handle:
                key, _, values = line.rstrip("\n").partition("\t")
                if len(key) == 1 and values and key not in values.split(" "):
                    out.add(key)
        return out

    trad, simp = only("TSCharacters.txt"), only("STCharacters.txt")
    return frozenset(trad - simp), frozenset(simp - trad)


def region_of(text: str) -> str | None:
    """The region ``text`` is written in, as its script and vocabulary tell:
    ``tw`` (traditional), ``cn`` (simplified), None when neither tells.

    Script first (more characters of one script than of the other), then
    words only one region uses (字元, 剪贴簿 against 字符, 剪贴板).
    """
    trad, simp = _script_chars()
    t = sum(c in trad for c in text)
    s = sum(c in simp for c in text)
    if t != s:
        return "tw" if t > s else "cn"
    votes = {"cn": 0, "tw": 0}
    cn, tw = table("cn"), table("tw")
    for word, _s, _e, _eq in find(text):
        if (word in cn) != (word in tw):
            votes["cn" if word in cn else "tw"] += 1
    if votes["cn"] != votes["tw"]:
        return "cn" if votes["cn"] > votes["tw"] else "tw"
    return None


def find(text: str, region: str | None = None) -> list[tuple[str, int, int, tuple[str, ...]]]:
    """``(word, start, end, equivalents)`` for every table word in ``text``,
    read in ``region`` (see ``table``).

    Every match, longest first at each position: 信息技术 gives 资讯科技 and,
    inside it, 信息 gives 资讯 (a document may say 資訊技術).  Offsets are
    into ``text`` (simplification keeps lengths).
    """
    norm = to_simplified(text).lower()
    tab, longest = table(region), _longest()
    out, n = [], len(norm)
    for i in range(n):
        for size in range(min(longest, n - i), 1, -1):
            found = tab.get(norm[i:i + size])
            if found:
                out.append((norm[i:i + size], i, i + size, found))
    return out
