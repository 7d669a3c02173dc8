"""Script conversion between traditional and simplified Chinese.

Owns the one rule every other module relies on: normalising text to simplified
script never changes its length, so a character offset into the normalised text
is also an offset into the original.

The conversion is OpenCC's ``t2s``, applied fast: OpenCC's own dictionaries
(``TSCharacters`` one character to one, and the few ``TSPhrases`` whose
conversion differs from their characters', such as 乾坤 and 一目瞭然) are
compiled into a ``str.translate`` table and one regular expression, which is
what OpenCC's longest-match conversion amounts to for these dictionaries.
Any phrase that would change the length is left to the character table.
``tests/test_script.py`` and ``bench/verify_t2s.py`` check that the result
equals OpenCC's on real text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import opencc

_DICT_DIR = Path(opencc.__file__).resolve().parent / "dictionary"
_t2s = opencc.OpenCC("t2s")
_s2t = opencc.OpenCC("s2t")

# Full-width ASCII (ｗｉｆｉ, １２３) folds to ASCII one character for one.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def _read_dictionary(name: str) -> dict[str, str]:
    table = {}
    with open(_DICT_DIR / name, encoding="utf-8") as handle:
        for line in handle:
            key, _, values = line.rstrip("\n").partition("\t")
            if key and values:
                table[key] = values.split(" ")[0]
    return table


@lru_cache(maxsize=1)
def _tables():
    chars = _read_dictionary("TSCharacters.txt")
    table = dict(_FULLWIDTH)
    table.update({ord(k): v for k, v in chars.items() if len(k) == 1 and len(v) == 1})
    phrases = {}
    for key, value in _read_dictionary("TSPhrases.txt").items():
        by_char = "".join(chars.get(c, c) for c in key)
        if value != by_char and len(value) == len(key):
            phrases[key] = value
    pattern = None
    if phrases:
        # Longest first, so the regex prefers the longest phrase at a position.
        keys = sorted(phrases, key=len, reverse=True)
        pattern = re.compile("|".join(map(re.escape, keys)))
    return table, phrases, pattern


def to_simplified(text: str) -> str:
    """Return ``text`` in simplified script, with exactly the same length.

    Full-width Latin letters and digits are folded to ASCII on the way, so
    that ``ｗｉｆｉ`` and ``wifi`` are one word.
    """
    if not text:
        return text
    table, phrases, pattern = _tables()
    out = text.translate(table)
    if pattern is not None:
        matches = list(pattern.finditer(text))
        if matches:
            parts, cursor = [], 0
            for m in matches:
                parts.append(out[cursor:m.start()])
                parts.append(phrases[m.group(0)])
                cursor = m.end()
            parts.append(out[cursor:])
            out = "".join(parts)
    return out


def opencc_t2s(text: str) -> str:
    """OpenCC's own ``t2s`` conversion (slow; the reference ``to_simplified`` is checked against)."""
    return _t2s.convert(text)


def to_traditional(text: str) -> str:
    """Return ``text`` in traditional script (for display; length may differ)."""
    return _s2t.convert(text) if text else text
