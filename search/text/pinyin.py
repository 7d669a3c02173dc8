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


# ---------------------------------------------------------------------------
# Slips: pinyin typed with a typo (luoyng, louyang, mudanjang)

# Keys next to each other on a QWERTY keyboard: the letter hit instead.
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# Sounds that readers of one region or another write one for the other
# (z/zh, an/ang, l/n): cheaper than a slip of the finger.
CONFUSIONS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("ang", "an"), ("eng", "en"),
              ("ing", "in"), ("ong", "on"), ("l", "n"), ("f", "h"), ("r", "l"))
SLIP_COST = 1.0
CONFUSION_COST = 0.5
SWAP_COST = 1.0
# A syllable of fewer letters than this is taken as typed: one slip turns
# a two-letter syllable into too many others.
MIN_SLIP_LETTERS = 2
NEAR_BEAM = 60
# Longer keys (four words or more typed as one) are read as typed.
MAX_NEAR_KEY = 24


@lru_cache(maxsize=1)
def near_keys() -> dict[str, str]:
    """Letter -> the letters around it on a QWERTY keyboard."""
    out: dict[str, str] = {}
    for r, row in enumerate(_ROWS):
        for c, letter in enumerate(row):
            near = set()
            for rr in (r - 1, r, r + 1):
                if 0 <= rr < len(_ROWS):
                    for cc in (c - 1, c, c + 1):
                        if 0 <= cc < len(_ROWS[rr]) and (rr, cc) != (r, c):
                            near.add(_ROWS[rr][cc])
            out[letter] = "".join(sorted(near))
    return out


def slips(syllable: str) -> dict[str, float]:
    """What ``syllable`` becomes when typed with one slip, with the slip's cost.

    A key next to the right one, a letter missing, one extra (a neighbour of
    either side, or doubled), two letters swapped, and the confusions of
    ``CONFUSIONS`` (``zhong`` typed ``zong``, ``yang`` typed ``yan``).
    """
    out: dict[str, float] = {}

    def add(typed: str, cost: float):
        if typed and typed != syllable and out.get(typed, 9.0) > cost:
            out[typed] = cost

    near = near_keys()
    n = len(syllable)
    for i, letter in enumerate(syllable):
        if n > 1:
            add(syllable[:i] + syllable[i + 1:], SLIP_COST)                 # missing
        for other in near.get(letter, ""):
            add(syllable[:i] + other + syllable[i:], SLIP_COST)             # extra, before
            add(syllable[:i + 1] + other + syllable[i + 1:], SLIP_COST)     # extra, after
            add(syllable[:i] + other + syllable[i + 1:], SLIP_COST)         # next key
        add(syllable[:i + 1] + letter + syllable[i + 1:], SLIP_COST)        # doubled
        if i + 1 < n:
            add(syllable[:i] + syllable[i + 1] + letter + syllable[i + 2:], SWAP_COST)
    for long, short in CONFUSIONS:
        for a, b in ((long, short), (short, long)):
            if syllable.startswith(a) and a in ("zh", "ch", "sh", "z", "c", "s", "l", "n", "f",
                                                "h", "r"):
                add(b + syllable[len(a):], CONFUSION_COST)
            elif syllable.endswith(a) and len(a) >= 2 and a[0] in "aeio":
                add(syllable[:-len(a)] + b, CONFUSION_COST)
    return out


@lru_cache(maxsize=1)
def _slip_table() -> dict[str, tuple[tuple[str, float], ...]]:
    """Typed text -> the syllables it may be a slip of, with the slip's cost."""
    table: dict[str, list[tuple[str, float]]] = {}
    for syllable in all_syllables():
        if len(syllable) < MIN_SLIP_LETTERS:
            continue
        for typed, cost in slips(syllable).items():
            table.setdefault(typed, []).append((syllable, cost))
    return {k: tuple(v) for k, v in table.items()}


def max_slips(key: str) -> float:
    """The slips a key of this length may hold: none below 3 letters, one up
    to 7, two beyond (a short key with a slip reads as too many words)."""
    return 0.0 if len(key) < 3 else 1.0 if len(key) < 8 else 2.0


def syllables_near(key: str, max_cost: float | None = None, beam: int = NEAR_BEAM,
                   keep=None) -> list[tuple[tuple[str, ...], float]]:
    """Readings of ``key`` as syllables with slips: ``[(syllables, cost)]``, cheapest first.

    At most one slip per syllable (``slips``), or one swap of neighbouring
    letters anywhere in the key (``luyoang``: across syllables); the whole
    reading at most ``max_cost`` (``max_slips(key)`` by default).  The exact
    split (cost 0) is among them when there is one.  ``beam`` readings are
    kept at each letter, so the answer stays small for any key.  ``keep``:
    a test of a reading's first syllables, joined (``luoyang``), so that
    readings no word of an index starts with are dropped early.
    """
    if not key or not re.fullmatch(r"[a-z]+", key) or len(key) > MAX_NEAR_KEY:
        return []
    if max_cost is None:
        max_cost = max_slips(key)
    found: dict[tuple[str, ...], float] = {}
    for typed, extra in _swapped(key, max_cost):
        for reading, cost in _near(typed, max_cost - extra, beam, keep):
            cost += extra
            if cost <= max_cost and found.get(reading, 99.0) > cost:
                found[reading] = cost
    return sorted(found.items(), key=lambda rc: (rc[1], len(rc[0])))


def _swapped(key: str, max_cost: float):
    yield key, 0.0
    if max_cost >= SWAP_COST:
        for i in range(len(key) - 1):
            if key[i] != key[i + 1]:
                yield key[:i] + key[i + 1] + key[i] + key[i + 2:], SWAP_COST


def _near(key: str, max_cost: float, beam: int, keep=None):
    valid, table = all_syllables(), _slip_table()
    n = len(key)
    # states[i]: readings of key[:i] with their cost, cheapest first.
    states: list[dict[tuple[str, ...], float]] = [dict() for _ in range(n + 1)]
    states[0][()] = 0.0
    for i in range(n):
        if not states[i]:
            continue
        here = sorted(states[i].items(), key=lambda rc: rc[1])[:beam]
        for j in range(i + 1, min(n, i + MAX_SYLLABLE + 1) + 1):
            piece = key[i:j]
            options = [(piece, 0.0)] if piece in valid else []
            if max_cost > 0:
                options += table.get(piece, ())
            for syllable, cost in options:
                for reading, before in here:
                    total = before + cost
                    if total <= max_cost:
                        out = reading + (syllable,)
                        if keep is not None and not keep("".join(out)):
                            continue
                        if states[j].get(out, 99.0) > total:
                            states[j][out] = total
    return states[n].items()
