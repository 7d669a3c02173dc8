"""The index's own vocabulary: its words with their frequencies, their pinyin, its titles.

What pinyin queries and the suggestions of the search box are answered from.
The build saves it beside the index (``vocabulary.pickle``, written by
``save``): read from the index's lexicon (the ``body`` and ``title`` fields)
and stored titles.  An index without the file (or with one that does not
agree with it) gets it built from the same sources when first needed.  It is
kept per index generation (a rebuilt index gets a new one).

* ``Vocabulary``: Han words of 2 to 8 characters and Latin words (``call``),
  each with its frequency (documents with it in the body plus in the title);
  Han words with their toneless pinyin (``search.text.pinyin.word_syllables``)
  and initials, in sorted lists for exact and prefix look-ups.  Words found
  in one document only are left out of an index of over ``SMALL_INDEX``
  documents, and words in two or fewer of one over ``LARGE_INDEX``: mostly
  segmentation noise (in the 333k poems, 1.3 million terms of the body
  field, 400k of them in two documents or more, 260k in three or more).
  Each word has a kind: ``NAME`` (a value of a stored facet: an author, a
  city, read from the facet fields' terms; its frequency counts the
  documents with the value too), ``WORD`` or ``FRAGMENT`` (a Han run of
  three or more characters that is no word of jieba's dictionary: 要识此,
  两相得, what segmentation leaves between words).  Lists in order of
  frequency go by ``rank``: the frequency weighed by the kind
  (``KIND_WEIGHT``: names twice, fragments a third), so ``luyou`` reads 陆游
  (the poet) before 陆有.
* ``Titles``: the distinct titles (simplified, lower case, for matching;
  the most common spelling for display) with how many documents carry each.

``vocabulary(gen)`` and ``titles(gen)`` build on first use (in the calling
thread, or with ``timeout`` in a background thread, returning None until ready),
so opening an index and answering its first query does not wait for them.
The lexicon is read straight from Whoosh's term table when the index uses the
W3 codec (as ``segment_writer`` writes it), else through ``iter_field``.
"""

from __future__ import annotations

import gc
import heapq
import logging
import os
import pickle
import re
import threading
import weakref
import zlib
from array import array
from bisect import bisect_left
from collections import Counter
from itertools import accumulate
from pathlib import Path

from ..errors import IndexDamaged
from ..text import pinyin
from ..text.chars import HAN
from ..text.script import to_simplified
from ..whoosh3 import termtable
from . import checksums, facet_types, saved
from .saved import ReadOnce
from .schema import FACET_PREFIX

SMALL_INDEX = 5_000
LARGE_INDEX = 100_000
MAX_WORD = 8
MAX_TITLE = 40
_HAN_WORD = re.compile(rf"[{HAN}]{{2,{MAX_WORD}}}")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9.\-]{1,29}")
_WORD = re.compile(_HAN_WORD.pattern + "|" + _LATIN_WORD.pattern)
_END = "\U0010ffff"

WORD, NAME, FRAGMENT = 0, 1, 2
KIND_NAMES = {WORD: "word", NAME: "name", FRAGMENT: "fragment"}
KIND_WEIGHT = {WORD: 1.0, NAME: 2.0, FRAGMENT: 0.3}
MIN_FRAGMENT = 3


def name_fields(reader) -> list[str]:
    """The index fields whose terms are facet values that name things (cities,
    ``facet_*``: authors...), not dates: the facets listed by value."""
    named = {t.field for t in facet_types.BUILTIN_FACETS if not t.by_value}
    return [f for f in reader.indexed_field_names() if f in named or f.startswith(FACET_PREFIX)]


def _dictionary():
    from ..text.segment import load_jieba
    import jieba
    load_jieba()
    return jieba.dt.FREQ


def field_frequencies(reader, fieldname: str, min_df: int = 1, keep=None) -> dict[str, int]:
    """Every term of ``fieldname`` found in at least ``min_df`` documents, with its count.

    ``keep``: a compiled pattern the terms must match in full (others are skipped).
    """
    if fieldname not in reader.indexed_field_names():
        return {}
    leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
    if len(leaves) == 1:
        fast = termtable.field_frequencies(leaves[0][0], fieldname, min_df, keep)
        if fast is not None:
            return fast
    counts: Counter = Counter()
    for leaf, _offset in leaves:
        part = termtable.field_frequencies(leaf, fieldname, 1, keep)
        if part is None:
            part = {}
            for t, ti in leaf.iter_field(fieldname):
                t = t.decode("utf-8") if isinstance(t, bytes) else t
                if keep is None or keep.fullmatch(t):
                    part[t] = ti.doc_frequency()
        counts.update(part)
    return {t: n for t, n in counts.items() if n >= min_df}


class Strings:
    """A sorted list of strings kept as one string and the ends of its items.

    A few hundred thousand words and titles as separate ``str`` objects cost
    over a hundred megabytes in every server process; as one string, a few.
    Indexing and ``bisect`` work as on a list.
    """

    __slots__ = ("blob", "ends")

    def __init__(self, items=()):
        items = list(items)
        self.blob = "".join(items)
        self.ends = array("I", accumulate(map(len, items)))

    def __len__(self):
        return len(self.ends)

    def __getitem__(self, i):
        if i < 0:
            i += len(self.ends)
        end = self.ends[i]
        return self.blob[self.ends[i - 1] if i else 0:end]

    def __iter__(self):
        blob, start = self.blob, 0
        for end in self.ends:
            yield blob[start:end]
            start = end

    def __eq__(self, other):
        return isinstance(other, Strings) and self.blob == other.blob and self.ends == other.ends

    def __getstate__(self):
        return (self.blob, self.ends)

    def __setstate__(self, state):
        self.blob, self.ends = state


class Vocabulary:
    """Words of the index by frequency, by prefix and by pinyin (see the module)."""

    def __init__(self, freqs: dict[str, int], names: dict[str, int] | None = None):
        names = names or {}
        if names:
            freqs = Counter(freqs)
            freqs.update(names)
        words = sorted(freqs)
        self.words = Strings(words)
        self.freq = array("I", (freqs[w] for w in words))
        common = _dictionary() if any(len(w) >= MIN_FRAGMENT for w in words) else {}
        self.kinds = array("B", (
            NAME if w in names else FRAGMENT if len(w) >= MIN_FRAGMENT and _HAN_WORD.fullmatch(w)
            and not common.get(w) else WORD for w in words))
        han, pin, ini = [], [], []
        for i, word in enumerate(words):
            if _HAN_WORD.fullmatch(word):
                syl = pinyin.word_syllables(word)
                if len(syl) == len(word):
                    han.append(i)
                    pin.append("".join(syl))
                    ini.append(pinyin.initials(syl))
        # Sorted by key, commonest first within a key: a stable sort by key
        # of the words in order of frequency (two cheap sorts, not one of tuples).
        rank = self.rank
        by_freq = sorted(range(len(han)), key=lambda j: -rank(han[j]))
        for name, keys in (("pin", pin), ("ini", ini)):
            order = sorted(by_freq, key=keys.__getitem__)
            setattr(self, f"{name}_keys", Strings(keys[j] for j in order))
            setattr(self, f"{name}_words", array("I", (han[j] for j in order)))

    def __len__(self):
        return len(self.words)

    def frequency(self, word: str) -> int:
        i = bisect_left(self.words, word)
        return self.freq[i] if i < len(self.words) and self.words[i] == word else 0

    def rank(self, i: int) -> float:
        """Word ``i``'s frequency weighed by its kind (``KIND_WEIGHT``)."""
        return self.freq[i] * KIND_WEIGHT[self.kinds[i]]

    def _index(self, word: str) -> int | None:
        i = bisect_left(self.words, word)
        return i if i < len(self.words) and self.words[i] == word else None

    def kind(self, word: str) -> str | None:
        """``"name"``, ``"word"`` or ``"fragment"``; None for a word not in the vocabulary."""
        i = self._index(word)
        return None if i is None else KIND_NAMES[self.kinds[i]]

    def weighed(self, word: str) -> float:
        """``rank`` of a word by its text (0 if it is not in the vocabulary)."""
        i = self._index(word)
        return 0.0 if i is None else self.rank(i)

    def _top(self, indexes, limit):
        return [self.words[i] for i in heapq.nlargest(limit, indexes, key=self.rank)]

    def prefix_range(self, prefix: str) -> tuple[int, int]:
        """``(lo, hi)``: the words starting with ``prefix`` are ``words[lo:hi]``."""
        lo = bisect_left(self.words, prefix)
        return lo, bisect_left(self.words, prefix + _END, lo)

    def pin_range(self, prefix: str):
        """Indexes of the words whose pinyin starts with ``prefix``."""
        lo = bisect_left(self.pin_keys, prefix)
        return self.pin_words[lo:bisect_left(self.pin_keys, prefix + _END, lo)]

    def has_pinyin_prefix(self, prefix: str) -> bool:
        """Whether the pinyin of some word starts with ``prefix``."""
        lo = bisect_left(self.pin_keys, prefix)
        return lo < len(self.pin_keys) and self.pin_keys[lo].startswith(prefix)

    def ini_range(self, prefix: str):
        """Indexes of the words whose initials start with ``prefix``."""
        lo = bisect_left(self.ini_keys, prefix)
        return self.ini_words[lo:bisect_left(self.ini_keys, prefix + _END, lo)]

    def with_prefix(self, prefix: str, limit: int = 10, scan: int = 200_000) -> list[str]:
        """The commonest words starting with ``prefix`` (simplified, lower case)."""
        lo = bisect_left(self.words, prefix)
        hi = bisect_left(self.words, prefix + _END, lo)
        return self._top(range(lo, min(hi, lo + scan)), limit)

    def _keyed(self, keys, idx, key, limit, prefix):
        lo = bisect_left(keys, key)
        hi = bisect_left(keys, key + _END if prefix else key + "\0", lo)
        if not prefix:
            # Within one key the entries are already first by rank.
            return [self.words[i] for i in idx[lo:min(hi, lo + limit)]]
        return self._top(idx[lo:hi], limit)

    def by_pinyin(self, key: str, limit: int = 10, prefix: bool = False) -> list[str]:
        """Words read ``key`` (``luoyang``), or starting so with ``prefix``; first by rank."""
        return self._keyed(self.pin_keys, self.pin_words, key, limit, prefix)

    def by_initials(self, key: str, limit: int = 10, prefix: bool = False) -> list[str]:
        """Words with these initials (``mdj``), or starting so with ``prefix``."""
        return self._keyed(self.ini_keys, self.ini_words, key, limit, prefix)


class Titles:
    """Distinct titles by their simplified form, with how many documents carry each."""

    def __init__(self, titles):
        counts: Counter = Counter()
        shown: dict[str, Counter] = {}
        for title in titles:
            title = " ".join((title or "").split())
            if not title or len(title) > MAX_TITLE:
                continue
            norm = to_simplified(title).lower()
            counts[norm] += 1
            shown.setdefault(norm, Counter())[title] += 1
        keys = sorted(counts)
        self.keys = Strings(keys)
        self.count = array("I", (counts[k] for k in keys))
        self.display = Strings(shown[k].most_common(1)[0][0] for k in keys)

    def __len__(self):
        return len(self.keys)

    def with_prefix(self, prefix: str, limit: int = 10) -> list[tuple[str, int]]:
        """``(title, documents)`` of the commonest titles starting with ``prefix``."""
        lo = bisect_left(self.keys, prefix)
        hi = bisect_left(self.keys, prefix + _END, lo)
        best = heapq.nlargest(limit, range(lo, min(hi, lo + 200_000)), key=self.count.__getitem__)
        return [(self.display[i], self.count[i]) for i in best]


class _Joined:
    """Two sequences read as one (the words of a base and an added vocabulary)."""

    def __init__(self, first, second, get=None):
        self.first, self.second, self._get = first, second, get
        self.n = len(first)

    def __len__(self):
        return self.n + len(self.second)

    def __getitem__(self, i):
        if self._get is not None:
            return self._get(i)
        return self.first[i] if i < self.n else self.second[i - self.n]


class LayeredVocabulary:
    """The vocabulary of a live index: the one saved with its large segments
    (``base``) and the words of the segments added since (``added``: their
    frequencies), read as one ``Vocabulary``.  A word of both counts both;
    a word only added is in ``extra`` (indexes after the base's)."""

    def __init__(self, base: Vocabulary, added: dict[str, int], min_df: int,
                 added_names: dict[str, int] | None = None):
        self.base = base
        self.bump: dict[int, int] = {}
        new, new_names = {}, {}
        added_names = added_names or {}
        for word in set(added) | set(added_names):
            n = added.get(word, 0) + added_names.get(word, 0)
            i = bisect_left(base.words, word)
            if i < len(base.words) and base.words[i] == word:
                self.bump[i] = n
            elif word in added_names:
                new_names[word] = added_names[word]
                if word in added:
                    new[word] = added[word]
            elif n >= min_df:
                new[word] = n
        self.extra = Vocabulary(new, new_names)
        nb = len(base.words)
        self.words = _Joined(base.words, self.extra.words)
        self.freq = _Joined(base.freq, self.extra.freq, get=lambda i: (
            base.freq[i] + self.bump.get(i, 0) if i < nb else self.extra.freq[i - nb]))

    def __len__(self):
        return len(self.words)

    def frequency(self, word: str) -> int:
        i = bisect_left(self.base.words, word)
        if i < len(self.base.words) and self.base.words[i] == word:
            return self.freq[i]
        return self.extra.frequency(word)

    def kind(self, word: str) -> str | None:
        return self.base.kind(word) or self.extra.kind(word)

    def weighed(self, word: str) -> float:
        i = self.base._index(word)
        if i is None:
            return self.extra.weighed(word)
        return self.freq[i] * KIND_WEIGHT[self.base.kinds[i]]

    def _shifted(self, base_part, extra_part):
        nb = len(self.base.words)
        return array("I", base_part) + array("I", (j + nb for j in extra_part))

    def pin_range(self, prefix: str):
        return self._shifted(self.base.pin_range(prefix), self.extra.pin_range(prefix))

    def has_pinyin_prefix(self, prefix: str) -> bool:
        return self.base.has_pinyin_prefix(prefix) or self.extra.has_pinyin_prefix(prefix)

    def ini_range(self, prefix: str):
        return self._shifted(self.base.ini_range(prefix), self.extra.ini_range(prefix))

    def _best(self, words: list[str], limit: int) -> list[str]:
        words = list(dict.fromkeys(words))
        words.sort(key=lambda w: -self.weighed(w))
        return words[:limit]

    def with_prefix(self, prefix: str, limit: int = 10, scan: int = 200_000) -> list[str]:
        return self._best(self.base.with_prefix(prefix, limit * 4, scan)
                          + self.extra.with_prefix(prefix, limit, scan), limit)

    def by_pinyin(self, key: str, limit: int = 10, prefix: bool = False) -> list[str]:
        return self._best(self.base.by_pinyin(key, limit * 4, prefix)
                          + self.extra.by_pinyin(key, limit, prefix), limit)

    def by_initials(self, key: str, limit: int = 10, prefix: bool = False) -> list[str]:
        return self._best(self.base.by_initials(key, limit * 4, prefix)
                          + self.extra.by_initials(key, limit, prefix), limit)


class LayeredTitles:
    """The titles of a live index: the saved ones and those of the segments added since."""

    def __init__(self, base: Titles, added: Titles):
        self.base, self.added = base, added

    def __len__(self):
        return len(self.base) + len(self.added)

    def _count(self, part: Titles, key: str) -> int:
        i = bisect_left(part.keys, key)
        return part.count[i] if i < len(part.keys) and part.keys[i] == key else 0

    def with_prefix(self, prefix: str, limit: int = 10) -> list[tuple[str, int]]:
        found: dict[str, list] = {}
        for part, other in ((self.base, self.added), (self.added, self.base)):
            for title, n in part.with_prefix(prefix, limit):
                key = to_simplified(title).lower()
                if key not in found:
                    found[key] = [title, n + self._count(other, key)]
        best = sorted(found.values(), key=lambda tn: -tn[1])[:limit]
        return [(t, n) for t, n in best]


def min_df_of(doc_count: int) -> int:
    return 1 if doc_count <= SMALL_INDEX else 2 if doc_count <= LARGE_INDEX else 3


def build_vocabulary(reader, doc_count: int) -> Vocabulary:
    min_df = min_df_of(doc_count)
    freqs: Counter = Counter()
    for fieldname in ("body", "title"):
        # A word in min_df documents is in at least half as many in one of
        # the fields: terms rarer in a field are not even decoded.
        freqs.update(field_frequencies(reader, fieldname, -(-min_df // 2), keep=_WORD))
    return Vocabulary({w: n for w, n in freqs.items() if n >= min_df}, name_frequencies(reader))


def name_frequencies(reader) -> Counter:
    """Stored facet values (Han, 2 to ``MAX_WORD`` characters) with the documents
    holding each: every one kept, however rare (an author of one poem is a name)."""
    names: Counter = Counter()
    for fieldname in name_fields(reader):
        names.update(field_frequencies(reader, fieldname, 1, keep=_HAN_WORD))
    return names


def added_frequencies(leaves) -> Counter:
    """Word frequencies of the segments ``leaves`` (readers), every word kept."""
    freqs: Counter = Counter()
    for leaf in leaves:
        for fieldname in ("body", "title"):
            freqs.update(field_frequencies(leaf, fieldname, 1, keep=_WORD))
    return freqs


def added_names(leaves) -> Counter:
    """``name_frequencies`` of the segments ``leaves``."""
    names: Counter = Counter()
    for leaf in leaves:
        names.update(name_frequencies(leaf))
    return names


def _titles_of(reader):
    for docnum in range(reader.doc_count_all()):
        if not reader.is_deleted(docnum):
            yield reader.stored_fields(docnum).get("title", "")


def build_titles(reader) -> Titles:
    return Titles(_titles_of(reader))


# ---------------------------------------------------------------------------
# Saved with the index

FILE = "vocabulary.pickle"
# 2: words have kinds (names from the facet fields), lists go by rank.  A
# file of another format is not this code's: the vocabulary is built anew.
FORMAT = 2


def save(generation: Path, ix) -> None:
    """Write the vocabulary and titles of the index being built in ``generation``."""
    with ix.reader() as reader:
        doc_count = reader.doc_count_all()
        data = {"format": FORMAT, "doc_count": doc_count,
                "vocabulary": build_vocabulary(reader, doc_count), "titles": build_titles(reader)}
    partial = generation / (FILE + ".part")
    # Compressed: the index on disk stays smaller than a plain Whoosh one.
    partial.write_bytes(zlib.compress(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL), 6))
    os.replace(partial, generation / FILE)


def _read(generation: Path, doc_count: int) -> dict | None:
    """``{"vocabulary", "titles"}`` saved with ``generation``, or None."""
    raw = checksums.read_saved(generation, FILE)
    if raw is None:
        return None
    enabled = gc.isenabled()
    gc.disable()        # many small objects: the collector would run over and over
    try:
        data = checksums.unpickle_saved(generation, FILE, raw,
                                        lambda b: saved.loads(zlib.decompress(b)))
    finally:
        if enabled:
            gc.enable()
    if not isinstance(data, dict) or data.get("format") != FORMAT \
            or data.get("doc_count") != doc_count \
            or not isinstance(data.get("vocabulary"), Vocabulary) \
            or not isinstance(data.get("titles"), Titles):
        return None
    return data


# What the build saved in a generation (see ``_read``), read once per file version.
load = ReadOnce(FILE, _read)


# ---------------------------------------------------------------------------
# Per generation, built once


class _Lazy:
    """A value built once, in the caller's thread or in a background thread."""

    def __init__(self, build):
        self._build = build
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._started = False
        self.value = None
        self.error: BaseException | None = None

    def _run(self):
        try:
            self.value = self._build()
        except IndexDamaged as exc:     # said by every caller, see get()
            self.error = exc
        except Exception as exc:    # kept, so a failed build is not retried forever
            self.error = exc
            logging.getLogger(__name__).exception("building the index vocabulary failed")
        finally:
            self._done.set()

    def get(self, timeout: float | None = None):
        if not self._done.is_set():
            with self._lock:
                start, self._started = not self._started, True
            if start:
                if timeout is None:
                    self._run()
                else:
                    threading.Thread(target=self._run, name="search-vocabulary",
                                     daemon=True).start()
            if not self._done.wait(timeout):
                return None
        if isinstance(self.error, IndexDamaged):
            # A saved file that cannot be decoded is a damaged index, not a
            # vocabulary to do without.
            raise self.error
        return self.value


_slots: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_slots_lock = threading.Lock()


def _slot(gen) -> dict:
    slot = _slots.get(gen)
    if slot is None:
        with _slots_lock:
            slot = _slots.get(gen)
            if slot is None:
                # The builders hold the Whoosh index, not the generation: the
                # slot must not keep its own (weak) key alive.  They take
                # turns: each opens a reader of its own (not the searchers'
                # one per thread), and a Whoosh reader costs memory while open
                # (Whoosh copies a segment's term and posting files into
                # memory for each reader: about 0.5 GB for the 333k poems).
                ix, doc_count, turn = gen.ix, gen.doc_count, threading.Lock()
                path, saved = Path(gen.path), {}
                # A live index's saved vocabulary covers the segments it was
                # written for (``vocabulary_segments`` of the manifest); the
                # words of segments added since are read from them, which
                # are small.  Deleted documents still count until a merge
                # rewrites the file.
                covered = gen.manifest.get("vocabulary_segments")
                base_count = gen.manifest.get("vocabulary_documents", doc_count)
                current = {seg.segment_id for seg in gen.segments}
                if covered is not None and not set(covered) <= current:
                    covered = None          # not this index's: build it whole
                added_ids = current - set(covered) if covered is not None else set()
                # An index changed since the file was written, which no longer
                # says what the file counts: the file is not its vocabulary.
                file_holds = covered is not None or not gen.manifest.get("segment_tables")

                def from_file(part):
                    with turn:
                        if "data" not in saved:
                            saved["data"] = load(path, base_count) if file_holds else None
                        return (saved["data"] or {}).get(part)

                def added_leaves(reader):
                    return [leaf for leaf, _off in reader.leaf_readers()
                            if leaf.segment() is not None
                            and leaf.segment().segment_id() in added_ids]

                def vocab():
                    got = from_file("vocabulary")
                    if got is not None and not added_ids:
                        return got
                    with turn, ix.reader() as reader:
                        if got is None:
                            return build_vocabulary(reader, doc_count)
                        leaves = added_leaves(reader)
                        return LayeredVocabulary(got, added_frequencies(leaves),
                                                 min_df_of(doc_count), added_names(leaves))

                def titles():
                    got = from_file("titles")
                    if got is not None and not added_ids:
                        return got
                    with turn, ix.reader() as reader:
                        if got is None:
                            return build_titles(reader)
                        return LayeredTitles(got, Titles(
                            t for leaf in added_leaves(reader) for t in _titles_of(leaf)))
                slot = _slots[gen] = {"vocabulary": _Lazy(vocab), "titles": _Lazy(titles)}
    return slot


def vocabulary(gen, timeout: float | None = None) -> Vocabulary | None:
    """The generation's ``Vocabulary``; with ``timeout``, None while it is still being built."""
    return _slot(gen)["vocabulary"].get(timeout)


def titles(gen, timeout: float | None = None) -> Titles | None:
    return _slot(gen)["titles"].get(timeout)
