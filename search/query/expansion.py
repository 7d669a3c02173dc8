"""Query expansion: what a query's words also stand for, OR'd into its ranked part.

Worked out per query against the index it is run on (``expand(parsed, gen)``)
by the expanders of ``EXPANDERS``, in that order, and OR'd into the ranked
part by ``search.query.build.build_query`` at the weights they give.  Two
kinds today:

* ``pinyin``: Latin text typed for Chinese words: full pinyin with or without
  spaces, tone marks or tone digits (``luoyang``, ``luo yang``, ``luòyáng``,
  ``luo4yang2``), initials (``ly``, ``mdj``) and Han characters mixed with
  pinyin (``牡丹jiang``, ``mudan江``).  Typed text is read as pinyin only when

  - it is written like pinyin: lower case (or one capital first: ``Luoyang``),
    tone digits only after whole syllables (so ``iPhone``, ``GDP``, ``mp3``,
    ``2014`` are not); it splits whole into valid syllables, or is two or more
    consonant initials (so ``call``, ``center`` are not);
  - it is not found in the index as it is typed (a collection that says
    ``call`` or ``women`` in English is searched for that);
  - typed alone, it is not a common English word that happens to spell pinyin
    (``women``, ``china``: ``pinyin.ENGLISH``);
  - and it is the reading of words of the index's vocabulary
    (``search.store.vocabulary``): those words are what is searched, the commonest
    first (at most ``PINYIN_WORDS``, each found at least ``PINYIN_SHARE`` as
    often as the commonest).

  Neighbouring pinyin tokens are read together (``luo yang`` is 洛阳).
* ``variant``: other regions' words for a query word (``search.text.variants``):
  软件 also finds 軟體/软体, 隨身碟 also finds U盘.  A table word counts where
  it starts and ends at boundaries of the query's jieba words (寮国, Laos,
  is not in 贡寮国际).  Only equivalents that can
  occur in the index (all their character pairs are in it) are added, at
  ``VARIANT_WEIGHT`` of a word's own weight, in short queries and questions
  alike.  The words are read in the query's region (``variants.region_of``:
  文件 typed in simplified script finds 檔案, in traditional 文档).  An other
  region's word for the same thing counts as the word itself (the document
  with the query's own word still comes first by its character pairs and
  exact text).  Measured (``bench.regional``, ``search.eval``): a question's
  variants at 0.7 of a word gave MRR@10 0.630/0.637 across regions, at 1.0
  0.643/0.649, with the relevance collection unchanged.  An other-region
  word rarer in the collection than the query's own word (a collection
  written mostly in one region) has its weight cut by the ratio of their
  inverse document frequencies (``_rarity_cap``), so rarity alone does not
  lift it above the query's own word.

Quoted phrases and exclusions are never expanded: they mean the exact text.
Every expansion's words are highlight needles too, so the marks land on the
document's own word (軟體 for a search for 软件).

Adding a kind of expansion touches this module only: write a class with the
``Expander`` interface and put an instance in ``EXPANDERS``::

    class AbbreviationExpander:
        kind = "abbreviation"
        announced = False       # True: its readings are told among the notices

        def expand(self, words, parsed, gen):
            return [Expansion(self.kind, w, [ABBREVIATIONS[w]], [0.8])
                    for w in words if w in ABBREVIATIONS]

Each expander sees the free words no earlier one has expanded; the Whoosh
query, the highlighting, ``explain`` and the JSON's ``expansions`` take its
``Expansion`` objects as they take the others.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from itertools import islice, product
from typing import Protocol

from whoosh import query as wq

from ..store.vocabulary import vocabulary
from ..text import pinyin, variants
from ..text.chars import HAN_RUN
from ..text.script import to_simplified
from ..text.segment import segment
from .build import query_grams
from .parse import ParsedQuery

PINYIN_WEIGHT = 1.0       # the commonest word a pinyin token stands for
PINYIN_OTHER = 0.6        # the further words, relative to it
PINYIN_WORDS = 3
PINYIN_SHARE = 0.05
VARIANT_WEIGHT = 1.0
MIXED_SCAN = 5_000        # vocabulary entries looked at per reading of a mixed token
MIXED_READINGS = 8        # readings tried of the Han characters of a mixed token

_LATIN_RUN = re.compile(r"[A-Za-z\u00c0-\u024f\u0300-\u036f\u1e00-\u1eff'’1-5]+")


@dataclass
class Expansion:
    """``source`` (the reader's text) also searched as ``words`` (simplified), with weights."""

    kind: str                       # the expander's: "pinyin", "variant"
    source: str
    words: list[str]
    weights: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "from": self.source, "to": list(self.words),
                "weights": [round(w, 3) for w in self.weights]}

    @property
    def label(self) -> str:
        return f"{self.kind} {self.source} → {'、'.join(self.words)}"


class Expander(Protocol):
    """One kind of expansion: what some free words of a query also stand for."""

    kind: str           # the ``Expansion.kind`` of what it finds
    announced: bool     # whether its expansions are told among the query's notices

    def expand(self, words: list[str], parsed: ParsedQuery, gen) -> list[Expansion]:
        """The expansions of ``words`` (the free words of ``parsed`` no earlier
        expander took) on ``gen``'s index, in query order."""
        ...


# ---------------------------------------------------------------------------
# Working out the expansions of a query


def expand(parsed: ParsedQuery, gen) -> list[Expansion]:
    """The expansions of ``parsed``'s free words on ``gen``'s index, expander
    by expander (``EXPANDERS``); a word one expander took is not offered to
    the next."""
    out: list[Expansion] = []
    for expander in EXPANDERS:
        taken = {e.source for e in out}
        words = [w for w in parsed.words if w not in taken]
        if words:
            out += expander.expand(words, parsed, gen)
    return out


def is_announced(expansion: Expansion) -> bool:
    """Whether the query's notices tell ``expansion`` (a reading the reader
    should see was taken, such as Latin text read as pinyin)."""
    return any(e.announced for e in EXPANDERS if e.kind == expansion.kind)


def in_index(reader, text: str) -> bool:
    """Whether ``text`` occurs in the index as typed (a word, or a whole Latin token)."""
    norm = to_simplified(text).lower()
    return any((f, norm) in reader for f in ("body", "title", "grams", "meta"))


def _literally(searcher, text: str) -> bool:
    """Whether some document holds ``text`` exactly (as the bigram field has it)."""
    grams = query_grams(text)
    if not grams or not all(("grams", g) in searcher.reader() for g in grams):
        return False
    q = wq.Phrase("grams", grams) if len(grams) > 1 else wq.Term("grams", grams[0])
    return any(True for _ in searcher.docs_for_query(q))


def may_occur(reader, text: str) -> bool:
    """Whether ``text`` can occur in the index: every character pair of it is there."""
    grams = query_grams(text)
    return bool(grams) and all(("grams", g) in reader for g in grams)


def classify_pinyin(token: str):
    """``("syllables"|"initials", key)``, ``("mixed", parts)`` or None (not pinyin)."""
    key = pinyin.latin_key(token)
    if key is not None:
        if pinyin.syllables(key) is not None:
            return "syllables", key
        if len(key) >= 2 and pinyin.is_initials(key):
            return "initials", key
        return None
    parts = mixed_parts(token)
    return ("mixed", parts) if parts else None


def mixed_parts(token: str, last_may_be_partial: bool = False):
    """``[("han", "牡丹"), ("latin", "jiang")]`` for Han text mixed with pinyin, else None.

    Latin parts must be pinyin (whole syllables, or consonant initials: two or
    more, or one last when ``last_may_be_partial``, as typed into the search box).
    """
    pieces, pos = [], 0
    while pos < len(token):
        m = HAN_RUN.match(token, pos) or _LATIN_RUN.match(token, pos)
        if not m:
            return None
        pieces.append(m)
        pos = m.end()
    kinds = {"han" if HAN_RUN.fullmatch(m.group(0)) else "latin" for m in pieces}
    if kinds != {"han", "latin"}:
        return None
    parts = []
    for i, m in enumerate(pieces):
        text = m.group(0)
        if HAN_RUN.fullmatch(text):
            parts.append(("han", to_simplified(text)))
            continue
        key = pinyin.latin_key(text)
        last = i == len(pieces) - 1
        if key is None:
            return None
        if pinyin.syllables(key) is not None:
            parts.append(("latin", key))
        elif pinyin.is_initials(key) and (len(key) >= 2 or last_may_be_partial and last):
            parts.append(("latin", key))
        elif last_may_be_partial and last and pinyin.prefix_syllables(key):
            parts.append(("latin", key))
        else:
            return None
    return parts


def matches_parts(word: str, parts, partial_last: bool = False) -> bool:
    """Whether ``word`` is what the mixed ``parts`` spell (Han as is, Latin as pinyin or initials).

    With ``partial_last``, the last Latin part may be the start of the rest of
    the word's reading (``牡丹j`` for 牡丹江, as typed into the search box).
    """
    syl = pinyin.word_syllables(word)
    if len(syl) != len(word):
        return False

    def walk(i: int, pos: int) -> bool:
        if i == len(parts):
            return pos == len(word)
        kind, text = parts[i]
        if kind == "han":
            return word.startswith(text, pos) and walk(i + 1, pos + len(text))
        last = i == len(parts) - 1
        for end in range(pos + 1, len(word) + 1):
            full = "".join(syl[pos:end])
            ini = "".join(s[0] for s in syl[pos:end])
            if (full == text or ini == text) and walk(i + 1, end):
                return True
            if partial_last and last and end == len(word) and (
                    full.startswith(text) or ini.startswith(text)):
                return True
        return False

    return walk(0, 0)


def _reading_prefixes(parts) -> tuple[set[str], set[str]]:
    """Pinyin and initials prefixes the words spelled by ``parts`` must start with.

    Han parts are read every way their characters can be (the reading in
    context first, at most ``MIXED_READINGS`` ways); a Latin part that is not
    whole syllables ends the pinyin prefix, one that is not initials ends the
    initials prefix.
    """
    pins, inis = {""}, {""}
    pin_open = ini_open = True
    for kind, text in parts:
        if kind == "han":
            syl = pinyin.word_syllables(text)
            ways = [(r,) + tuple(x for x in pinyin.char_readings(c) if x != r) for c, r in zip(text, syl)]
            readings = list(islice(product(*ways), MIXED_READINGS))
            if pin_open:
                pins = {p + "".join(r) for p in pins for r in readings}
            if ini_open:
                inis = {p + "".join(x[0] for x in r) for p in inis for r in readings}
            continue
        whole = pinyin.syllables(text)
        if pin_open:
            pins = {p + text for p in pins}
            pin_open = whole is not None
        if ini_open:
            if pinyin.is_initials(text):
                inis = {p + text for p in inis}
            elif whole is not None:
                inis = {p + "".join(x[0] for x in whole) for p in inis}
            else:
                ini_open = False
    return pins, inis


def mixed_candidates(vocab, parts, partial_last: bool = False, limit: int = 10) -> list[str]:
    """Vocabulary words spelled by mixed Han-pinyin ``parts``, commonest first.

    The candidates are the words whose pinyin or initials start as the parts
    read (two look-ups in the sorted keys), then checked part by part.
    """
    pins, inis = _reading_prefixes(parts)
    pool: set[int] = set()
    for key in pins:
        if key:
            pool.update(vocab.pin_range(key)[:MIXED_SCAN])
    for key in inis:
        if key:
            pool.update(vocab.ini_range(key)[:MIXED_SCAN])
    first_kind, first = parts[0]
    found = [i for i in pool
             if (first_kind != "han" or vocab.words[i].startswith(first))
             and matches_parts(vocab.words[i], parts, partial_last)]
    found.sort(key=lambda i: (-vocab.freq[i], vocab.words[i]))
    return [vocab.words[i] for i in found[:limit]]


def _pick(vocab, words: list[str]) -> list[str]:
    """The commonest words, and those found nearly as often (``PINYIN_SHARE``)."""
    if not words:
        return []
    top = vocab.frequency(words[0]) or 1
    return [w for w in words[:PINYIN_WORDS] if vocab.frequency(w) >= PINYIN_SHARE * top]


def _pinyin_expansion(source: str, words: list[str]) -> Expansion:
    return Expansion("pinyin", source, words,
                     [PINYIN_WEIGHT if i == 0 else PINYIN_WEIGHT * PINYIN_OTHER
                      for i in range(len(words))])


def _pinyin_expansions(words: list[str], gen, reader) -> list[Expansion]:
    """Pinyin read in the query's free words (see the module's rules)."""
    kinds = [classify_pinyin(w) for w in words]
    if not any(kinds):
        return []
    out: list[Expansion] = []
    vocab = None
    i, n = 0, len(words)
    while i < n:
        kind = kinds[i]
        if kind is None:
            i += 1
            continue
        if vocab is None:
            vocab = vocabulary(gen)
            if vocab is None:       # its build failed: no pinyin, the words as typed
                return out
        if kind[0] == "syllables":
            last = i
            while last + 1 < n and kinds[last + 1] and kinds[last + 1][0] == "syllables":
                last += 1
            for j in range(last, i - 1, -1):
                group = words[i:j + 1]
                if all(in_index(reader, w) for w in group):
                    continue
                if j == i and group[0].lower() in pinyin.ENGLISH:
                    continue
                found = _pick(vocab, vocab.by_pinyin("".join(k[1] for k in kinds[i:j + 1]),
                                                     limit=PINYIN_WORDS))
                if found:
                    out.append(_pinyin_expansion(" ".join(group), found))
                    i = j + 1
                    break
            else:
                i += 1
            continue
        token = words[i]
        i += 1
        if in_index(reader, token) or token.lower() in pinyin.ENGLISH:
            continue
        if kind[0] == "initials":
            found = vocab.by_initials(kind[1], limit=PINYIN_WORDS)
        else:
            if _literally(gen.searcher(), token):
                continue
            found = mixed_candidates(vocab, kind[1], limit=PINYIN_WORDS)
        found = _pick(vocab, found)
        if found:
            out.append(_pinyin_expansion(token, found))
    return out


def _variant_expansions(words: list[str], reader, query_text: str = "",
                       weight: float = VARIANT_WEIGHT,
                       region: str | None = None) -> list[Expansion]:
    """Other regions' words for the query's words, where the index may hold them,
    the words read in ``region`` (``variants.region_of`` the query)."""
    out: list[Expansion] = []
    seen: set[str] = set()
    for token in words:
        found_here = variants.find(token, region)
        if not found_here:
            continue
        # Only where the query's own words start and end: 寮国 is not in 贡寮国际.
        pieces = segment(to_simplified(token).lower())
        starts, ends = {p[1] for p in pieces}, {p[2] for p in pieces}
        for word, start, end, equivalents in found_here:
            if start not in starts or end not in ends:
                continue
            found = [e for e in equivalents
                     if e not in seen and e not in query_text and may_occur(reader, e)]
            if found:
                seen.update(found)
                out.append(Expansion("variant", token[start:end], found,
                                     [weight * _rarity_cap(reader, word, e) for e in found]))
    return out


def _idf(reader, word: str) -> float:
    # Whoosh's own inverse document frequency (``Weighting.idf``), over the body.
    return math.log(reader.doc_count_all() / (reader.doc_frequency("body", word) + 1)) + 1


def _rarity_cap(reader, word: str, other: str) -> float:
    """At most 1: what keeps ``other`` (another region's word for ``word``)
    from counting for more than ``word`` itself only because the collection,
    written mostly in one region, holds it more rarely."""
    if reader.doc_frequency("body", word) == 0 or reader.doc_frequency("body", other) == 0:
        return 1.0
    return min(1.0, _idf(reader, word) / _idf(reader, other))


class PinyinExpander:
    """Latin text read as the Chinese words it spells (see the module's rules)."""

    kind = "pinyin"
    # Reading Latin text as Chinese is a guess: the reader is told of it.
    announced = True

    def expand(self, words: list[str], parsed: ParsedQuery, gen) -> list[Expansion]:
        return _pinyin_expansions(words, gen, gen.searcher().reader())


class VariantExpander:
    """Other regions' words for the query's words (see the module's rules)."""

    kind = "variant"
    announced = False

    def expand(self, words: list[str], parsed: ParsedQuery, gen) -> list[Expansion]:
        if not any(variants.find(w) for w in words):
            return []
        text = " ".join(parsed.words)
        return _variant_expansions(words, gen.searcher().reader(),
                                   query_text=to_simplified(text).lower(),
                                   region=variants.region_of(text))


# The kinds of expansion, in the order they take a query's words.
EXPANDERS: tuple[Expander, ...] = (PinyinExpander(), VariantExpander())
