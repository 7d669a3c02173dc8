"""Script conversion between traditional and simplified Chinese.

Owns the one rule every other module relies on: normalising text to simplified
script never changes its length, so a character offset into the normalised text
is also an offset into the original.  OpenCC's ``t2s`` converts phrase by phrase
and almost always maps one character to one character; where a phrase would
change the length, that stretch is converted character by character instead.
"""

from __future__ import annotations

import re
from functools import lru_cache

import opencc

_t2s = opencc.OpenCC("t2s")
_s2t = opencc.OpenCC("s2t")

# Runs of Han characters are the only text OpenCC changes; converting them
# separately keeps punctuation and Latin text untouched and lets a
# length-changing phrase be confined to its own run.
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")


@lru_cache(maxsize=65536)
def _convert_run(run: str) -> str:
    converted = _t2s.convert(run)
    if len(converted) == len(run):
        return converted
    # Fall back to one character at a time, which OpenCC maps one to one.
    chars = [_t2s.convert(ch) for ch in run]
    return "".join(c if len(c) == 1 else ch for c, ch in zip(chars, run))


# Full-width ASCII (ｗｉｆｉ, １２３) folds to ASCII one character for one.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def to_simplified(text: str) -> str:
    """Return ``text`` in simplified script, with exactly the same length.

    Full-width Latin letters and digits are folded to ASCII on the way, so
    that ``ｗｉｆｉ`` and ``wifi`` are one word.
    """
    if not text:
        return text
    out = _HAN_RUN.sub(lambda m: _convert_run(m.group(0)), text.translate(_FULLWIDTH))
    assert len(out) == len(text), "script normalisation must keep offsets"
    return out


def to_traditional(text: str) -> str:
    """Return ``text`` in traditional script (for display; length may differ)."""
    return _s2t.convert(text) if text else text


def is_han(ch: str) -> bool:
    return bool(_HAN_RUN.fullmatch(ch))
