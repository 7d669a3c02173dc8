"""Pinyin: reading Latin input as Mandarin syllables, and the reading of index words.

Two directions, both toneless (``Style.NORMAL``: 洛阳 is ``luo yang``, ü is ``v``):

* ``word_syllables(word)``: the reading of a simplified Han word, from
  pypinyin's phrase data, so a word is read in its own context (重庆 is
  ``chong qing``, 银行 is ``yin hang``).  It equals
  ``pypinyin.lazy_pinyin(word, style=Style.NORMAL)``, computed without
  pypinyin's segmentation when the word is a phrase of pypinyin's dictionary
  or has no character with two readings (nearly every word), which makes the
  reading of a whole index vocabulary cheap.
* ``latin_key(token)``: what a reader typed (``luòyáng``, ``Luo4yang2``,
  ``xi'an``) as a plain key (``luoyang``), or None when it is not pinyin-like
  text at all (mixed case such as ``iPhone``, digits that are not tones).
  ``syllables(key)`` splits a key into valid syllables, ``is_initials(key)``
  tells initials typed for a word (``mdj`` for 牡丹江).

Whether a key that looks like pinyin is meant as pinyin (and not as the
English ``women`` or ``china``) is for the caller to decide with the index;
``ENGLISH`` lists common English words that spell valid pinyin.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

from .chars import HAN_CHAR

# Readings without a vowel (m, n, ng, hm, hng: interjections) are left out,
# so that they cannot glue consonants into "syllables".
_VOWELS = set("aeiouv")
# Letters a syllable may start with: what initials are typed from.
INITIAL_LETTERS = frozenset("bpmfdtnlgkhjqxrzcsyw")
MAX_SYLLABLE = 6

# Letters a pinyin token may hold (with tone marks and ü), apostrophes and tone digits.
_PINYIN_CHARS = re.compile(r"[A-Za-z\u00c0-\u024f\u0300-\u036f\u1e00-\u1eff'’1-5]+")


def _toneless(reading: str) -> str:
    reading = unicodedata.normalize("NFD", reading.lower()).replace("u\u0308", "v")
    return "".join(c for c in reading if not unicodedata.combining(c))


_tables_lock = threading.Lock()


def _tables():
    # pypinyin's dictionaries take about half a second to import: only
    # when a query or a vocabulary first needs them.
    if _TABLES:
        return _TABLES[0]
    with _tables_lock:
        if not _TABLES:
            _TABLES.append(_load_tables())
    return _TABLES[0]


_TABLES: list = []


def warm() -> None:
    """Load pypinyin's dictionaries now rather than on first need."""
    _tables()


def _load_tables():
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
    chars: dict[str, tuple[str, ...]] = {}
    syllables: set[str] = set()
    for code, readings in PINYIN_DICT.items():
        plain = tuple(dict.fromkeys(_toneless(r) for r in readings.split(",")))
        chars[chr(code)] = plain
        syllables.update(s for s in plain if _VOWELS & set(s))
    return chars, frozenset(syllables), PHRASES_DICT


def all_syllables() -> frozenset[str]:
    return _tables()[1]


def char_readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of one character (empty for a non-Han character)."""
    return _tables()[0].get(char, ())


def word_syllables(word: str) -> tuple[str, ...]:
    """The toneless reading of a (simplified) Han word, one syllable per character.

    ``lazy_pinyin(word, style=Style.NORMAL)``, by a shortcut where that is the
    same: a phrase of pypinyin's dictionary is read as the dictionary says,
    and a word whose characters each have one reading needs no context.
    """
    chars, _syllables, phrases = _tables()
    phrase = phrases.get(word)
    if phrase is not None and len(phrase) == len(word):
        return tuple(_toneless(r[0]) for r in phrase)
    out = []
    for c in word:
        readings = chars.get(c)
        if readings is None or len(readings) != 1:
            return _lazy(word)
        out.append(readings[0])
    return tuple(out)


def _lazy(word: str) -> tuple[str, ...]:
    """``lazy_pinyin(word, style=Style.NORMAL)`` as pypinyin computes it.

    pypinyin cuts the word into its dictionary's phrases (forward maximum
    matching, ``pypinyin.seg.mmseg``), reads a phrase as the dictionary says
    and any other character by its first reading; this does the same over
    the toneless tables, without pypinyin's per-syllable style conversion
    (five times faster; ``tests/test_pinyin.py`` checks they agree).
    """
    from pypinyin.seg.mmseg import seg
    chars, _syllables, phrases = _tables()
    out: list[str] = []
    for part in seg.cut(word):
        phrase = phrases.get(part)
        if phrase is not None and len(phrase) == len(part):
            out += _phrase_reading(part)
        else:
            for c in part:
                readings = chars.get(c)
                out.append(readings[0] if readings else c)
    return tuple(out)


@lru_cache(maxsize=100_000)
def _phrase_reading(phrase: str) -> tuple[str, ...]:
    return tuple(_toneless(r[0]) for r in _tables()[2][phrase])


def initials(syllables: tuple[str, ...]) -> str:
    return "".join(s[0] for s in syllables if s)


# ---------------------------------------------------------------------------
# Latin input


def latin_key(token: str) -> str | None:
    """A typed Latin token as a plain pinyin key, or None if it can't be pinyin.

    Lower case, tone marks and tone digits (after a syllable) removed, ü as v,
    apostrophes dropped.  Tokens with mixed case (``iPhone``, ``McDonald``),
    in capitals (``GDP``) or with digits that are not tones (``mp3``, ``2014``)
    are not pinyin.
    """
    if not token or not _PINYIN_CHARS.fullmatch(token):
        return None
    letters = re.sub(r"['’1-5]", "", token)
    if not letters:
        return None
    if not (letters.islower() or (letters[0].isupper() and letters[1:].islower())):
        return None
    if letters.isupper():
        return None
    if re.search(r"[1-5]", token):
        # Tone digits: each must close a whole syllable.
        for part in re.split(r"[1-5]", token.lower()):
            part = _toneless(part.replace("'", "").replace("’", ""))
            if part and syllables(part) is None:
                return None
        if re.match(r"[1-5]", token):
            return None
    key = _toneless(letters)
    return key if re.fullmatch(r"[a-z]+", key) else None


def syllables(key: str) -> list[str] | None:
    """``key`` split into valid syllables (the split with the fewest), or None."""
    if not key:
        return None
    found = _split(key)
    return list(found) if found is not None else None


@lru_cache(maxsize=50_000)
def _split(key: str):
    valid = all_syllables()
    n = len(key)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(i + 1, min(n, i + MAX_SYLLABLE) + 1):
            if key[i:j] in valid:
                cand = best[i] + [key[i:j]]
                if best[j] is None or len(cand) < len(best[j]):
                    best[j] = cand
    return tuple(best[n]) if best[n] is not None else None


def prefix_syllables(key: str) -> bool:
    """Whether ``key`` is whole syllables followed by the start of one (``luoy``)."""
    if syllables(key) is not None:
        return True
    starts = _syllable_prefixes()
    for cut in range(len(key) - 1, -1, -1):
        head, tail = key[:cut], key[cut:]
        if len(tail) > MAX_SYLLABLE:
            break
        if tail in starts and (not head or syllables(head) is not None):
            return True
    return False


@lru_cache(maxsize=1)
def _syllable_prefixes() -> frozenset[str]:
    out = set()
    for s in all_syllables():
        for i in range(1, len(s) + 1):
            out.add(s[:i])
    return frozenset(out)


def is_initials(key: str) -> bool:
    """Whether ``key`` is a run of consonant initials (``ly``, ``mdj``): no vowels."""
    return bool(key) and all(c in INITIAL_LETTERS for c in key)


def has_han(text: str) -> bool:
    return HAN_CHAR.search(text) is not None


# Common English words that are also valid pinyin of two or more syllables,
# and units and abbreviations that look like initials (km, kg, mb): typed
# alone, these are not pinyin.  (A word that occurs in the index as it is
# typed is taken literally anyway; this list covers indexes without it.)
ENGLISH = frozenset("""
a an and are bad bag bake ban banana bang bane bar beige bide bite bode cafe cage cake came cane
cave china chose cone cure cute dame dance date dean deli die dine done dose dote dude due dune fade
fake fame fan fang fate fine gale game gang gate gene guide hake hale hang he hen here hide hole
home hose human jane june kate lake lame lane late lean lie line lobe lode lone lune lure lute
made make male mane mango manga mate me mean men mine mode more mote mule mute name nine nope
nude one pale pan panda pane pie pine pose pure rake rang rate rebate ride rope rose rude rune
sage sake sale same sane shade shake shame she shine shore side sole some sure take tale tame 
tease tee tide tie tile time tine tone tote tune tuna wade wage wake wane we women wore yen you
zen zone sofa sea tea pea lea bee see gee nee wee fee mere gene hike bike like mike pike nike
mango ninja sushi tofu ranch rename resume remake refine relate
km cm mm nm kg mg ml dl kw kwh kb mb gb tb hz khz mhz ghz ppm bpm rpm pm bc hp pc
""".split())
