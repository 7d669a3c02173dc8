"""Pinyin read as the index's words, typos and all: ``luoyng`` is 洛阳, ``luyou`` is 陆游.

``read(vocab, key)``
    The words of the index (``search.store.vocabulary``) that a pinyin key
    stands for, best first, each a ``Reading`` with its cost (0: the key
    spells the word's pinyin; more: the slips it took, see
    ``search.text.pinyin.syllables_near``).  A reading scores
    ``log(rank) - SLIP_PENALTY * cost``: ``rank`` is the word's frequency in
    this index weighed by its kind (names of the stored facets, authors and
    cities, twice; fragments a third), so a slip must be met by a word
    e\u00b3 times commoner than the one spelled exactly.

``corrections(vocab, key)``
    The reading to offer for a key that spells no word of the index: the best
    of ``read`` when it needed a slip, or None.  Initials (``mdj``) and keys
    of fewer than four letters are not corrected: too many words are one
    slip away from them.
"""

from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass

from ..text import pinyin

SLIP_PENALTY = 3.0
# Words looked up per near reading: the best few of each reading are enough.
PER_READING = 4
# Near readings tried (cheapest first).
MAX_READINGS = 400


@dataclass(frozen=True)
class Reading:
    word: str
    cost: float
    score: float


def read(vocab, key: str, limit: int = 8) -> list[Reading]:
    """Index words ``key`` reads as, with slips allowed, best first (see the module)."""
    if vocab is None or not key:
        return []
    found: dict[str, Reading] = {}
    # The same starts are tried over and over (once per swapped variant of the key).
    keep = lru_cache(maxsize=None)(vocab.has_pinyin_prefix)
    for syllables, cost in pinyin.syllables_near(key, keep=keep)[:MAX_READINGS]:
        if len(syllables) < 2:
            continue        # the vocabulary's Han words have two characters or more
        for word in vocab.by_pinyin("".join(syllables), limit=PER_READING):
            if len(word) != len(syllables):
                continue
            weight = vocab.weighed(word)
            if weight <= 0:
                continue
            score = math.log(weight) - SLIP_PENALTY * cost
            if word not in found or found[word].score < score:
                found[word] = Reading(word, cost, score)
    return sorted(found.values(), key=lambda r: (-r.score, r.cost, r.word))[:limit]


def corrections(vocab, key: str) -> Reading | None:
    """The slip reading to offer for ``key`` (see the module), or None."""
    if vocab is None or not key or pinyin.is_initials(key) or len(key) < 4:
        return None
    if key in pinyin.ENGLISH:
        return None
    whole = pinyin.syllables(key)
    if whole is not None and vocab.by_pinyin(key, limit=1):
        return None         # a word is spelled exactly: the query reads it
    best = read(vocab, key, limit=1)
    if not best or best[0].cost == 0:
        return None
    return best[0]
