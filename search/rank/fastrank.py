"""Ranking in bulk: the top documents of a ranked query, as Whoosh ranks them.

Owns ``rank()``, a drop-in for Whoosh's collector (``whoosh_rank``): the same documents in
the same order with the same scores (bit for bit, not only after rounding),
computed from posting lists a block at a time instead of through Whoosh's
document-at-a-time matcher trees.  Scores are numpy arrays (document ids and
float64 scores, ``search.store.docsets`` order): every sum is the same IEEE
addition of the same two doubles Whoosh makes, vectorised.

How it stays equal to Whoosh:

* a term's BM25F score is Whoosh's expression on the same inputs: the
  parameters of the scorer the weighting gives (idf, average field length,
  B and K1 of the field), the one-byte length norms (``doc_field_length``)
  and the float32 term weights of the postings;
* partial scores are added in the order Whoosh's matcher tree adds them: the
  tree is built with Whoosh's own ``make_weighted_tree``/``make_binary_tree``
  from the same size estimates, and where Whoosh picks its array matcher
  (segments of at most 5,000 documents) the sum runs left to right as there;
* a phrase (``SpanNear2``) scores the sum of its words' scores when each word
  follows the previous one within ``slop`` positions.

How it stays fast: positions are read only where they can matter (every
phrase is first taken to match, an upper bound since every part adds a
non-negative score, and documents are checked best bound first until no
bound can beat the ``limit``-th exact score); and when a query's parts
include large ones that cannot lift a document into the top on their own
(their bounds add up to less than a ``limit``-th score already found), only
the documents of the other parts are scored, reading the large parts only in
the blocks that hold those documents.

Other query types, codecs or weightings go through Whoosh's own collector.

Whoosh's files are read through ``search.whoosh3`` (posting blocks, the term
table, the length column): what this module sees are numpy arrays of
document ids, weights and length bytes.

Out of time: a ranking scores no document before it has read every term, so
one cut short before its first document is run again, briefly, with only the
terms it can read in a moment (and those read before): the best documents by
those terms, rather than none.  ``doc_ids`` and ``prefix_doc_ids`` read the
documents of a term or of every term with a prefix, without scores, for the
matching set.

Where this differs from Whoosh's ``TopCollector``, Whoosh is wrong: once its
heap is full, ``matcher.replace(minscore)`` rebuilds unions into
intersections and ``AndMaybe`` matchers whose children were skipped along
separately, and a document can be scored without one of its parts (so it
drops out of the top); its ``AndNotMatcher`` returns an excluded document
when the exclusion's first posting comes before the first match.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from functools import reduce
from heapq import nlargest
from itertools import accumulate

import numpy as np
from whoosh import query as wq
from whoosh import scoring
from whoosh.collectors import TimeLimit, WrappingCollector
from whoosh.reading import TermNotFound
from whoosh.util import make_binary_tree, make_weighted_tree
from whoosh.util.numeric import byte_to_length

from ..store import docsets
from ..whoosh3 import postings as w3
from ..whoosh3 import termtable
from ..whoosh3.lengths import field_length_bytes

__all__ = ["clear_caches", "deleted_docs", "doc_ids", "prefix_doc_ids", "rank", "whoosh_rank"]

CHECK_EVERY = 4096      # postings read between two looks at the clock
PRUNE_FROM = 4096       # postings below which every match is simply scored


def _pays(sizes: list[int], need: int) -> bool:
    """Whether scoring only the documents of the first ``need`` parts (of
    these sizes) saves much: when the other parts are far larger, they are
    read only in the blocks that hold those documents instead of whole."""
    kept = sum(sizes[:need])
    return 2 * sum(n for n in sizes[need:] if n > 8 * kept) > sum(sizes)


class _Unsupported(Exception):
    """A query or index not reproduced here: Whoosh ranks it."""


class _OutOfTime(Exception):
    """The deadline passed: answer with the documents ranked so far."""


def rank(searcher, q, allowed: set[int] | None, limit: int, deadline: float,
         matched: set[int] | None = None) -> tuple[list[tuple[int, float]], bool]:
    """The best ``limit`` ``(docnum, round(score, 4))`` of ``q`` among
    ``allowed`` (None: every match), best first and ties by docnum; and
    whether ``deadline`` (a ``time.monotonic()`` value) cut the ranking short.

    ``matched``, with ``allowed`` None: ``q``'s matching set, when the caller
    has it.  Ranking every match is faster than ranking within a set, and is
    the same here; Whoosh's own path (for queries not reproduced here) is
    given the set, as its ``AndNot`` can let an excluded document through."""
    if allowed is not None and not len(allowed):
        return [], False
    try:
        top, partial = _rank(searcher, q, allowed, limit, deadline, False)
        if partial and not top:
            # Cut short before a single document was scored (scoring needs
            # every term's postings first): the best by the terms that can
            # be read in a moment (those read before cost nothing) beat
            # no answer.
            top, _ = _rank(searcher, q, allowed, limit, time.monotonic() + SALVAGE_SECONDS, True)
    except _Unsupported:
        return whoosh_rank(searcher, q, matched if allowed is None else allowed, limit, deadline)
    return [(-negdoc, round(score, 4)) for score, negdoc in top], partial


# Seconds a ranking cut short before its first document may spend reading
# terms for a ranking by the terms read (one term may overrun it: at most one
# pass over that term's postings).
SALVAGE_SECONDS = 0.1


def _rank(searcher, q, allowed, limit, deadline, salvage):
    top: list[tuple[float, int]] = []
    ranker = _Ranker(searcher, allowed, limit, deadline)
    ranker.salvage = salvage
    wanted = _query_terms(q, searcher.schema)
    plans = [(ranker.plan(q, sub), offset) for sub, offset in searcher.leaf_searchers()
             if wanted is None or _may_match(sub.reader(), wanted)]
    partial = ranker.cut
    for (seg, root), offset in plans:
        found, cut = ranker.run(seg, root, offset)
        top = nlargest(limit, top + found)
        if cut:
            partial = True
            break
    ranker.keep_terms(seg for (seg, _root), _offset in plans)
    return top, partial


# ---------------------------------------------------------------------------
# Whoosh's own path, for what is not reproduced here


class _BudgetCollector(WrappingCollector):
    """Collects only allowed documents into ``child``; ``TimeLimit`` past the
    deadline (as a Whoosh collector under a time limit would)."""

    def __init__(self, child, allowed, deadline):
        super().__init__(child)
        self.allowed = allowed
        self.deadline = deadline

    def collect_matches(self):
        child, allowed, offset = self.child, self.allowed, self.child.offset
        for n, sub_docnum in enumerate(child.matches()):
            if allowed is None or offset + sub_docnum in allowed:
                child.collect(sub_docnum)
            if n % 256 == 0 and time.monotonic() > self.deadline:
                raise TimeLimit


def whoosh_rank(searcher, q, allowed, limit, deadline):
    """What ``rank`` answers, by Whoosh's own collector (for the queries,
    codecs and weightings not reproduced here): ``allowed`` documents only."""
    if isinstance(allowed, np.ndarray):
        allowed = set(allowed.tolist())
    collector = _BudgetCollector(searcher.collector(limit=limit), allowed, deadline)
    partial = False
    try:
        searcher.search_with_collector(q, collector)
    except TimeLimit:
        partial = True
    return [(hit.docnum, round(hit.score, 4)) for hit in collector.results()], partial


# ---------------------------------------------------------------------------
# Documents of a term or of a prefix, for matching sets


def doc_ids(reader, fieldname: str, text: str) -> np.ndarray | None:
    """Every live document holding the term (a document set,
    ``search.store.docsets``), decoded a block at a time (Whoosh's matcher
    hands them out one by one, three calls each); None where this reader is
    not a plain whoosh3 segment."""
    if not w3.is_plain_segment(reader):
        return None
    if fieldname not in reader.schema:
        return docsets.NONE
    try:
        btext = text if isinstance(text, bytes) else reader.schema[fieldname].to_bytes(text)
        if not _has_term(reader, fieldname, btext):
            return docsets.NONE
        terminfo = w3.term_info(reader, fieldname, btext)
    except (KeyError, ValueError, TermNotFound):
        return docsets.NONE
    docs = None
    if not terminfo.is_inlined():
        with _TERMS_LOCK:
            kept = _DECODED.get((w3.segment_key(reader), fieldname, btext))
            whole = None if kept is None else kept.whole
        if whole is not None:
            docs = whole[0]
    if docs is None:
        docs = w3.term_doc_ids(reader, terminfo)
    return without_deleted(reader, docs)


# The terms of each small segment, as a set: a question asks a few hundred
# terms of every segment, and a live index holds many small ones (changes
# not merged yet), which hold few of them; a set answers "not here" in a
# fraction of a term-table look-up.  Kept for the most recent segments.
SMALL_SEGMENT = 512
_SMALL_TERMS: "OrderedDict[tuple, frozenset]" = OrderedDict()
_SMALL_TERMS_LOCK = threading.Lock()
_UNSET = object()
# Length norms by (K1, B, average field length, no lengths): see _Ranker._norms.
_NORMS: dict[tuple, np.ndarray] = {}


def small_segment_terms(reader) -> frozenset | None:
    """Every ``(fieldname, btext)`` of a plain segment of at most
    ``SMALL_SEGMENT`` documents; None for a larger one."""
    if reader.doc_count_all() > SMALL_SEGMENT or not w3.is_plain_segment(reader):
        return None
    key = w3.segment_key(reader)
    with _SMALL_TERMS_LOCK:
        got = _SMALL_TERMS.get(key)
        if got is not None:
            _SMALL_TERMS.move_to_end(key)
            return got
    got = frozenset(reader.all_terms())
    with _SMALL_TERMS_LOCK:
        _SMALL_TERMS[key] = got
        while len(_SMALL_TERMS) > 64:
            _SMALL_TERMS.popitem(last=False)
    return got


def _query_terms(q, schema) -> set[tuple[str, bytes]] | None:
    """The terms ``q``'s positive part reads, as ``(fieldname, btext)``, when a
    segment holding none of them matches nothing (every leaf a term or a
    phrase); else None."""
    positive = q.a if isinstance(q, wq.AndNot) else q
    out = set()
    leaves = [positive] if type(positive) in (wq.Term, wq.Phrase) else positive.leaves()
    for leaf in leaves:
        if type(leaf) is wq.Term:
            words = [leaf.text]
        elif type(leaf) is wq.Phrase:
            words = leaf.words
        else:
            return None
        if leaf.fieldname not in schema:
            continue
        for w in words:
            try:
                out.add((leaf.fieldname, schema[leaf.fieldname].to_bytes(w)))
            except ValueError:
                pass
    return out or None


def _may_match(reader, wanted: set) -> bool:
    """False when ``reader`` is a small segment with none of the ``wanted`` terms."""
    terms = small_segment_terms(reader)
    return terms is None or not terms.isdisjoint(wanted)


def _has_term(reader, fieldname: str, btext: bytes) -> bool:
    terms = small_segment_terms(reader)
    if terms is not None:
        return (fieldname, btext) in terms
    return True         # the term table says


# The deleted documents of a segment, by generation folder and segment: a
# generation's deletions never change (two copies of an index may hold one
# segment with different deletions).
_DELETED: "OrderedDict[tuple, np.ndarray]" = OrderedDict()
_DELETED_LOCK = threading.Lock()


def deleted_docs(reader) -> np.ndarray | None:
    """The deleted documents of a plain segment's reader (ascending), or None."""
    if not reader.has_deletions():
        return None
    key = (getattr(reader.storage(), "folder", id(reader.storage())), w3.segment_key(reader),
           reader.doc_count_all() - reader.doc_count())
    with _DELETED_LOCK:
        got = _DELETED.get(key)
        if got is not None:
            _DELETED.move_to_end(key)
            return got
    got = docsets.of(reader.deleted_docs_set)
    got.flags.writeable = False
    with _DELETED_LOCK:
        _DELETED[key] = got
        while len(_DELETED) > 64:
            _DELETED.popitem(last=False)
    return got


def without_deleted(reader, docs: np.ndarray) -> np.ndarray:
    deleted = deleted_docs(reader)
    if deleted is None or not len(docs):
        return docs
    return docs[~docsets.within(docs, deleted)]


# Documents by (segment, field, prefix): a one-character exclusion or phrase
# (``search.query.build.exact_query``) is every bigram starting with it, hundreds of terms,
# and hostile queries bring a hundred such characters.  At most
# PREFIX_CACHE_IDS document numbers are kept, least recently used dropped.
_PREFIXES: "OrderedDict[tuple, np.ndarray]" = OrderedDict()
_PREFIXES_LOCK = threading.Lock()
_prefix_ids_held = 0
PREFIX_CACHE_IDS = 4_000_000


def prefix_doc_ids(reader, fieldname: str, prefix: str) -> np.ndarray | None:
    """Every document holding a term of the field that starts with ``prefix``
    (what Whoosh's ``Prefix`` query matches), as a document set; None where
    this reader is not a plain whoosh3 segment (read from the term table in
    one piece: ``whoosh3.termtable.prefix_doc_ids``)."""
    if not w3.is_plain_segment(reader):
        return None
    if fieldname not in reader.schema or not prefix:
        return docsets.NONE
    # Kept with the deleted documents among them: the segment's files never
    # change, its deletions do.
    key = (w3.segment_key(reader), fieldname, prefix)
    with _PREFIXES_LOCK:
        docs = _PREFIXES.get(key)
        if docs is not None:
            _PREFIXES.move_to_end(key)
    if docs is None:
        docs = termtable.prefix_doc_ids(reader, fieldname, prefix)
        if docs is None or not len(docs):
            return docs if docs is None else docsets.NONE
        docs.flags.writeable = False
        _keep_prefix(key, docs)
    return without_deleted(reader, docs)


def _keep_prefix(key, docs: np.ndarray) -> None:
    global _prefix_ids_held
    if len(docs) > PREFIX_CACHE_IDS:
        return
    with _PREFIXES_LOCK:
        old = _PREFIXES.pop(key, None)
        if old is not None:
            _prefix_ids_held -= len(old)
        _PREFIXES[key] = docs
        _prefix_ids_held += len(docs)
        while _prefix_ids_held > PREFIX_CACHE_IDS:
            _gone, gone = _PREFIXES.popitem(last=False)
            _prefix_ids_held -= len(gone)


class _Segment:
    def __init__(self, searcher):
        reader = searcher.reader()
        if not w3.is_plain_segment(reader):
            raise _Unsupported
        self.searcher = searcher
        self.reader = reader
        self.doc_count = reader.doc_count_all()
        self.deleted = deleted_docs(reader)
        self.key = w3.segment_key(reader)
        self.small_terms = small_segment_terms(reader)
        self.terms: dict[tuple[str, bytes], _Postings] = {}


# ---------------------------------------------------------------------------
# Scored documents as two numpy arrays: ids (int64, ascending, distinct) and
# their float64 scores.  Every sum below is one IEEE addition of the same two
# doubles Whoosh adds (a + b is b + a, bit for bit), so the scores stay exact.

_NO_IDS = docsets.NONE
_NO_SCORES = np.empty(0, np.float64)
_NONE = (_NO_IDS, _NO_SCORES)


def _pick(hits, docs: np.ndarray):
    """``hits`` restricted to ``docs``."""
    ids, scores = hits
    if not len(ids) or not len(docs):
        return _NONE
    if len(docs) < len(ids):
        pos = np.searchsorted(ids, docs)
        np.minimum(pos, len(ids) - 1, out=pos)
        hit = ids[pos] == docs
        return docs[hit], scores[pos[hit]]
    pos = np.searchsorted(docs, ids)
    np.minimum(pos, len(docs) - 1, out=pos)
    hit = docs[pos] == ids
    return ids[hit], scores[hit]


def _union(a, b):
    """Documents of either; where both, the sum of their scores."""
    if not len(a[0]):
        return b
    if not len(b[0]):
        return a
    ids = np.concatenate((a[0], b[0]))
    # Two ascending runs: the stable sort merges them in one pass.
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    scores = np.concatenate((a[1], b[1]))[order]
    twice = np.flatnonzero(ids[1:] == ids[:-1])
    if len(twice):
        scores[twice] = scores[twice] + scores[twice + 1]
        keep = np.ones(len(ids), bool)
        keep[twice + 1] = False
        ids, scores = ids[keep], scores[keep]
    return ids, scores


def _sum_in_order(parts):
    """Documents of any part, each scoring the sum of its parts' scores added
    left to right (0.0 + x is x: a document's first part is taken as it is),
    as a chain of ``_union`` would, in one pass over all of them."""
    parts = [p for p in parts if len(p[0])]
    if len(parts) < 2:
        return parts[0] if parts else _NONE
    ids = np.concatenate([p[0] for p in parts])
    # Stable: a document's postings stay in the parts' order.
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    scores = np.concatenate([p[1] for p in parts])[order]
    new = np.empty(len(ids), bool)
    new[0] = True
    np.not_equal(ids[1:], ids[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    if len(starts) == len(ids):
        return ids, scores
    out = scores[starts]
    group = np.cumsum(new) - 1
    later = np.flatnonzero(~new)
    group, rank, scores = group[later], later - starts[group[later]], scores[later]
    # The second part of every document that has one, then the third...
    for k in range(1, int(rank.max()) + 1):
        at = rank == k
        out[group[at]] += scores[at]
    return ids[starts], out


def _meet(a, b):
    """Documents of both, with the sum of their scores."""
    small, large = (a, b) if len(a[0]) <= len(b[0]) else (b, a)
    if not len(small[0]) or not len(large[0]):
        return _NONE
    pos = np.searchsorted(large[0], small[0])
    np.minimum(pos, len(large[0]) - 1, out=pos)
    hit = large[0][pos] == small[0]
    return small[0][hit], small[1][hit] + large[1][pos[hit]]


def _boosted(hits, boost):
    if boost == 1.0:
        return hits
    return hits[0], hits[1] * boost


# ---------------------------------------------------------------------------
# Terms


class _Term:
    """What a query needs of a term that never changes for the segment (and
    the weighting and the index's statistics): its terms-file entry, its
    scoring, its bound, and what has been read of its postings: all of them
    (``whole``: ids and scores) or some blocks (``parts``).  Kept across
    queries in ``_TERMS``.  Numpy arrays, never changed once made: the
    threads of a server share them."""

    __slots__ = ("terminfo", "ones", "norms", "idf", "k1", "plain", "ub",
                 "blocks", "parts", "whole", "over", "cost")

    def __init__(self, terminfo, ones, norms, idf, k1, plain, ub):
        self.terminfo, self.ones, self.norms, self.idf, self.k1, self.plain, self.ub = \
            terminfo, ones, norms, idf, k1, plain, ub
        self.blocks = None      # its postings' blocks (``whoosh3.postings.TermBlocks``)
        self.parts: dict[int, tuple] = {}   # block number: (ids, scores, values)
        self.whole = None       # (ids, scores, index of each block's first posting)
        self.over = False       # a score above ub (bounds then prune nothing)
        self.cost = 1

    def held(self) -> int:
        return (len(self.whole[0]) if self.whole is not None else 0) + \
            sum(len(p[0]) for p in self.parts.values())

    def scores(self, ids: np.ndarray, weights, lens: np.ndarray) -> np.ndarray:
        """BM25F as ``BM25FScorer._score`` computes it (the same operations in
        the same order, on doubles), or the weight itself (``WeightScorer``)."""
        if weights is None:
            return self.ones[lens[ids]]
        tf = np.full(len(ids), weights) if isinstance(weights, float) \
            else np.asarray(weights, np.float64)
        if self.plain:
            return tf
        return self.idf * ((tf * (self.k1 + 1)) / (tf + self.norms[lens[ids]]))


# Terms by (segment, statistics, weighting, field, term), least recently used
# first, holding at most TERM_CACHE_POSTINGS decoded postings in all: a
# question's common words and bigrams come back query after query, and
# decoding and scoring their postings is most of a ranking.
_TERMS: "OrderedDict[tuple, _Term]" = OrderedDict()
_TERMS_LOCK = threading.Lock()
_terms_held = 0
# The kept terms read whole, by (segment, field, term): what the matching set
# of a query reads, whatever the weighting.
_DECODED: "dict[tuple, _Term]" = {}


def _term_cache_postings() -> int:
    raw = os.environ.get("SEARCH_TERM_CACHE", "")
    try:
        return max(0, int(raw)) if raw else 2_000_000
    except ValueError:
        return 2_000_000


TERM_CACHE_POSTINGS = _term_cache_postings()


def _cached_term(key) -> _Term | None:
    with _TERMS_LOCK:
        got = _TERMS.get(key)
        if got is not None:
            _TERMS.move_to_end(key)
        return got


def _keep_term(key, term: _Term) -> None:
    """Remember ``term`` (again) at what it holds; evict the least used."""
    global _terms_held
    with _TERMS_LOCK:
        old = _TERMS.pop(key, None)
        if old is not None:
            _terms_held -= old.cost
        cost = max(1, term.held())
        if cost > TERM_CACHE_POSTINGS:
            term.whole, term.parts, cost = None, {}, 1
        term.cost = cost
        _TERMS[key] = term
        _terms_held += cost
        if term.whole is not None:
            _DECODED[(key[0], *key[2])] = term
        while _terms_held > TERM_CACHE_POSTINGS or len(_TERMS) > 4 * TERM_CACHE_POSTINGS // 10 + 1000:
            gone_key, gone = _TERMS.popitem(last=False)
            _terms_held -= gone.cost
            short = (gone_key[0], *gone_key[2])
            if _DECODED.get(short) is gone:
                del _DECODED[short]


def clear_caches() -> None:
    """Forget every kept term, decoded block and prefix's documents (this
    process's memory of earlier queries): the next query reads from scratch."""
    global _terms_held
    with _TERMS_LOCK:
        _TERMS.clear()
        _DECODED.clear()
        _terms_held = 0
    with _PREFIXES_LOCK:
        _PREFIXES.clear()


class _Postings:
    """A term's postings in a segment: all of them (``full``, read in one
    pass), or only the blocks that hold some documents (``some``).

    ``ub`` bounds the term's unboosted score: Whoosh's own ``max_quality``,
    from the term's highest weight and shortest length."""

    def __init__(self, ranker, reader, term: _Term, fmt, lens, neg):
        self.ranker, self.reader, self.term, self.lens = ranker, reader, term, lens
        self.decode = fmt.decoder("positions") if fmt.supports("positions") else None
        self.ub = term.ub
        self.deadline = None if neg else ranker.deadline
        self.count = term.terminfo.doc_frequency()
        self.in_phrase = False      # its positions will be read
        self.wanted_whole = False   # a term of the query: read whole unless pruning
        self.changed = False        # read more than its _Term held

    def _tick(self, n):
        if self.deadline is not None:
            self.ranker.tick(n, self.deadline)

    def _blocks(self) -> w3.TermBlocks:
        term = self.term
        if term.blocks is None:
            try:
                term.blocks = w3.TermBlocks(self.reader, term.terminfo)
            except w3.NotW3Postings:
                raise _Unsupported from None
        return term.blocks

    def _block(self, i, values=False):
        """Block ``i``: ids, scores and (if ``values``, else maybe None)
        position values."""
        term = self.term
        got = term.parts.get(i)
        if got is None and term.whole is not None:
            ids, scores, firsts = term.whole
            end = firsts[i + 1] if i + 1 < len(firsts) else len(ids)
            got = (ids[firsts[i]:end], scores[firsts[i]:end], None)
        if got is None:
            ids, weights, vals = self._blocks().read(i)
            got = term.parts[i] = (ids, term.scores(ids, weights, self.lens), vals)
            self._tick(len(ids))
            self.changed = True
        elif values and got[2] is None:
            got = term.parts[i] = (got[0], got[1], self._blocks().read(i)[2])
        return got

    def full(self):
        term = self.term
        if term.whole is None:
            nblocks = len(self._blocks())
            blocks = [self._block(i) for i in range(nblocks)]
            ids = np.concatenate([b[0] for b in blocks])
            scores = np.concatenate([b[1] for b in blocks])
            firsts = np.cumsum([0] + [len(b[0]) for b in blocks[:-1]])
            term.over = bool(len(scores)) and float(scores.max()) > term.ub
            # Position values are read again when asked for: kept, they would
            # cost more than the ids and scores.
            ids.flags.writeable = scores.flags.writeable = False
            term.whole = (ids, scores, firsts)
            term.parts = {}
            self.changed = True
        if term.over:
            self.ranker.bounds_broken = True
        return term.whole[0], term.whole[1]

    def some(self, docs: np.ndarray):
        """The scores of ``docs`` that have the term."""
        term = self.term
        if term.whole is not None or len(docs) * 8 > self.count or \
                self.wanted_whole and not self.ranker.pruning:
            return _pick(self.full(), docs)
        lastids = self._blocks().lastids
        blocks = np.searchsorted(lastids, docs)
        wanted = np.unique(blocks[blocks < len(lastids)]).tolist()
        if not wanted:
            return _NONE
        got = [self._block(i) for i in wanted]
        if len(got) == 1:
            return _pick(got[0][:2], docs)
        return _pick((np.concatenate([b[0] for b in got]),
                      np.concatenate([b[1] for b in got])), docs)

    def positions(self, doc: int) -> list[int]:
        ids, _, values = self._block(int(np.searchsorted(self._blocks().lastids, doc)), values=True)
        return self.decode(values[int(np.searchsorted(ids, doc))])


# ---------------------------------------------------------------------------
# Plans: nodes mirroring the matcher tree Whoosh builds for a segment


class _Node:
    """``ev(docs)``: the documents matched (within ``docs``, sorted ids, if
    given) as ``(ids, scores)``, or their ids alone on the excluded side
    (``neg``).  Unchecked phrases make it an upper bound of the scores and
    matches, a lower bound on the excluded side, so that what it leaves out
    is left out for sure."""

    neg = False

    def phrases(self):
        return []

    def __lt__(self, other):
        # Whoosh's make_weighted_tree sorts (size, matcher) pairs; matchers
        # never compare less, so equal sizes keep their order.
        return False


class _Null(_Node):
    def __init__(self, neg=False):
        self.neg = neg

    def ev(self, docs):
        return _NO_IDS if self.neg else _NONE

    def ub(self):
        return 0.0

    def size(self):
        return 0


class _Leaf(_Node):
    def __init__(self, postings, boost, neg):
        self.postings, self.boost, self.neg = postings, boost, neg

    def ev(self, docs):
        p = self.postings
        hits = p.full() if docs is None else p.some(docs)
        return hits[0] if self.neg else _boosted(hits, self.boost)

    def ub(self):
        return self.postings.ub * self.boost

    def size(self):
        return self.postings.count


class _Every(_Node):
    def __init__(self, seg, boost, neg):
        self.seg, self.neg = seg, neg
        self.score = boost or 1.0       # ListMatcher(all_weights=boost)

    def ev(self, docs):
        ids = np.arange(self.seg.doc_count, dtype=np.int64) if docs is None else docs
        if self.seg.deleted is not None:
            ids = ids[~docsets.within(ids, self.seg.deleted)]
        return ids if self.neg else (ids, np.full(len(ids), float(self.score)))

    def ub(self):
        return self.score

    def size(self):
        return self.seg.doc_count


class _Wrap(_Node):
    def __init__(self, child, boost, neg):
        self.child, self.boost, self.neg = child, boost, neg

    def ev(self, docs):
        got = self.child.ev(docs)
        return got if self.neg else _boosted(got, self.boost)

    def phrases(self):
        return self.child.phrases()

    def ub(self):
        return self.child.ub() * self.boost

    def size(self):
        return self.child.size()


class _Bi(_Node):
    def __init__(self, a, b, neg):
        self.a, self.b, self.neg = a, b, neg

    def phrases(self):
        return self.a.phrases() + self.b.phrases()

    def ub(self):
        return self.a.ub() + self.b.ub()

    def size(self):
        return self.a.size() + self.b.size()


class _Union(_Bi):
    def ev(self, docs):
        a, b = self.a.ev(docs), self.b.ev(docs)
        if self.neg:
            return np.union1d(a, b)
        return _union(a, b)


class _Intersection(_Bi):
    def ev(self, docs):
        # The rarer side first, the other only where it matched (a + b is b + a).
        first, second = (self.a, self.b) if self.a.size() <= self.b.size() else (self.b, self.a)
        a = first.ev(docs)
        if not len(a if self.neg else a[0]):
            return a
        if docs is None and type(second) is _Leaf and second.postings.wanted_whole \
                and not second.postings.ranker.pruning:
            b = second.ev(None)     # read whole anyway: no need to look up
        else:
            ids = a if self.neg else a[0]
            b = second.ev(ids if docs is None or len(ids) < len(docs) else docs)
        if self.neg:
            return np.intersect1d(a, b, assume_unique=True)
        return _meet(a, b)

    def size(self):
        return min(self.a.size(), self.b.size())


class _AndMaybe(_Bi):
    def ev(self, docs):
        a = self.a.ev(docs)
        if self.neg:
            return a
        b = self.b.ev(a[0])
        if not len(b[0]):
            return a
        scores = a[1].copy()
        pos = np.searchsorted(a[0], b[0])       # b's documents are a's
        scores[pos] = scores[pos] + b[1]
        return a[0], scores

    def size(self):
        return self.a.size()


class _AndNot(_Bi):
    # ``b`` is planned on the other side (neg flipped): a lower bound of what
    # it excludes keeps this an upper bound.
    def ev(self, docs):
        a = self.a.ev(docs)
        ids = a if self.neg else a[0]
        gone = self.b.ev(ids if docs is not None or len(ids) < 50_000 else None)
        if not len(gone):
            return a
        keep = ~docsets.within(ids, gone)
        return ids[keep] if self.neg else (ids[keep], a[1][keep])

    def ub(self):
        return self.a.ub()

    def size(self):
        return self.a.size()


class _ArrayUnion(_Node):
    """Whoosh's ``ArrayUnionMatcher``: each child's score times the Or's boost,
    summed left to right into 0.0 (or 1.0 when unscored); a positive sum matches."""

    def __init__(self, children, boost, scored, neg):
        self.children, self.boost, self.scored, self.neg = children, boost, scored, neg

    def ev(self, docs):
        parts = [c.ev(docs) for c in self.children]
        if self.neg:
            return reduce(np.union1d, parts, _NO_IDS)
        if not self.scored:
            ids = reduce(np.union1d, [p[0] for p in parts], _NO_IDS)
            return ids, np.ones(len(ids))
        out = _sum_in_order([_boosted(p, self.boost) for p in parts])
        if len(out[1]) and out[1].min() <= 0:
            keep = out[1] > 0
            out = out[0][keep], out[1][keep]
        return out

    def phrases(self):
        return [p for c in self.children for p in c.phrases()]

    def ub(self):
        if not self.scored:
            return 1.0
        return sum(c.ub() * self.boost for c in self.children)

    def size(self):
        return sum(c.size() for c in self.children)


class _Phrase(_Node):
    """Whoosh's ``SpanNear2`` (ordered, mindist 1) without the outer boost.

    Documents with every word are candidates; a checked candidate goes to
    ``yes`` or ``no``.  An unchecked one is taken to match (an upper bound),
    or on the excluded side not to."""

    def __init__(self, words, isect, slop, neg):
        self.words, self.isect, self.slop, self.neg = words, isect, slop, neg
        self.candidates = None      # documents with every word: summed scores
        self.yes: set[int] = set()
        self.no: set[int] = set()

    def ev(self, docs):
        if self.candidates is None:
            self.candidates = self.isect.ev(None)
        cand = self.candidates if docs is None else _pick(self.candidates, docs)
        if not self.neg:        # unchecked ones match
            if self.no:
                keep = ~docsets.within(cand[0], docsets.of(self.no))
                cand = cand[0][keep], cand[1][keep]
            return cand
        return cand[0][docsets.within(cand[0], docsets.of(self.yes))]

    def resolve(self, docs: np.ndarray):
        for d in _pick(self.candidates, docs)[0].tolist():
            if d not in self.yes and d not in self.no:
                (self.yes if self.check(d) else self.no).add(d)

    def phrases(self):
        return [self]

    def ub(self):
        return self.isect.ub()

    def size(self):
        return self.isect.size()

    def check(self, doc: int) -> bool:
        """Whether the words occur in order, each 1 to ``slop`` positions after
        the previous one (only the end of a partial match matters then)."""
        ends = self.words[0].positions(doc)
        slop = self.slop
        for word in self.words[1:]:
            if not ends:
                return False
            starts = word.positions(doc)
            if slop == 1:
                follow = {e + 1 for e in ends}
                ends = [p for p in starts if p in follow]
            else:
                ends = [p for p in starts if any(1 <= p - e <= slop for e in ends)]
        return bool(ends)


# ---------------------------------------------------------------------------


def _estimate_size(q, node, reader) -> int:
    """``q.estimate_size(reader)``, the size Whoosh orders a tree's branches
    by: a term's is its document frequency, which its postings read already."""
    if type(q) is wq.Term and type(node) is _Leaf:
        return node.postings.count
    return q.estimate_size(reader)


class _Ranker:
    def __init__(self, searcher, allowed, limit, deadline):
        w = searcher.weighting
        if w is None or w.use_final:
            raise _Unsupported
        self.top = searcher
        self.weighting = w
        self.allowed = None if allowed is None else docsets.of(allowed)
        self.limit = limit
        self.deadline = deadline
        self.budget = CHECK_EVERY
        self.cut = False            # a term left unread for lack of time
        self.monotone = True        # every part adds a score >= 0
        self.pruning = False        # scoring only the documents that can be in the top
        self.bounds_broken = False  # a term scored above its bound: prune nothing
        self.found: list[tuple[float, int]] = []
        self.btexts: dict = {}
        self.stats_key = self._stats_key(searcher, w)
        # Terms read whole while planning until the deadline, then only the
        # ones held already (``rank``: after a cut).
        self.salvage = False

    @staticmethod
    def _stats_key(searcher, w):
        """What a term's scores depend on besides the term and its segment:
        the weighting's parameters and the index's statistics (its set of
        segments and live documents).  None: not kept across queries."""
        params = getattr(w, "cache_key", None)
        if params is None or TERM_CACHE_POSTINGS == 0:
            return None
        reader = searcher.reader()
        try:
            segments = tuple(w3.segment_key(r) for r, _offset in reader.leaf_readers())
        except AttributeError:
            return None
        return (type(w), params(), segments, reader.doc_count())

    def keep_terms(self, segments) -> None:
        if self.stats_key is None:
            return
        for seg in segments:
            for key, postings in seg.terms.items():
                if postings.changed:
                    _keep_term((seg.key, self.stats_key, key), postings.term)

    # -- the tree ``q.matcher(segment_searcher, collector_context)`` builds

    def plan(self, q, subsearcher):
        seg = _Segment(subsearcher)
        return seg, self._node(q, seg, True, False)

    def _node(self, q, seg, scored, neg):
        cls = type(q)
        if cls is type(wq.NullQuery):
            return _Null(neg)
        if cls is wq.Term:
            return self._term(q.fieldname, q.text, q.boost, seg, neg)
        if cls in (wq.Or, wq.And):
            subs = q.subqueries
            if not subs:
                return _Null(neg)
            if len(subs) == 1:      # Whoosh ignores the compound's boost here
                return self._node(subs[0], seg, scored, neg)
            nodes = [self._node(s, seg, scored, neg) for s in subs]
            reader = seg.reader
            if cls is wq.And:
                tree = make_weighted_tree(lambda a, b: _Intersection(a, b, neg), [
                    (0 - _estimate_size(s, n, reader), n) for s, n in zip(subs, nodes)])
            else:
                if q.matcher_type != q.AUTO_MATCHER or q.scale:
                    raise _Unsupported
                # AUTO_MATCHER, for a context that does not need_current.
                if not (len(subs) < q.TOO_MANY_CLAUSES
                        and (len(subs) == 2 or seg.doc_count > 5000)):
                    self._check_boost(q.boost)
                    return _ArrayUnion(nodes, q.boost, scored, neg)
                tree = make_weighted_tree(lambda a, b: _Union(a, b, neg), [
                    (_estimate_size(s, n, reader), n) for s, n in zip(subs, nodes)])
            return self._wrap(tree, q.boost, neg)
        if cls is wq.AndMaybe:
            return _AndMaybe(self._node(q.a, seg, scored, neg),
                             self._node(q.b, seg, scored, neg), neg)
        if cls is wq.AndNot:
            # Whoosh matches the exclusion in an unscored context.
            return _AndNot(self._node(q.a, seg, scored, neg),
                           self._node(q.b, seg, False, not neg), neg)
        if cls is wq.Phrase:
            return self._phrase(q, seg, neg)
        if cls is wq.Every and q.fieldname in (None, "", "*"):
            self._check_boost(q.boost or 1.0)
            return _Every(seg, q.boost, neg)
        if cls is wq.Prefix and q.text and q.fieldname in seg.reader.schema:
            words = [w for w in seg.reader.expand_prefix(q.fieldname, q.text) if w]
            if not words:
                return _Null(neg)
            if len(words) == 1:     # Whoosh drops the prefix's boost here
                return self._term(q.fieldname, words[0], 1.0, seg, neg)
            # Constant score: Whoosh unsets the weighting, which only its
            # array matcher heeds (the terms still score BM25F otherwise).
            return self._node(wq.Or([wq.Term(q.fieldname, w) for w in words], boost=q.boost),
                              seg, scored and not q.constantscore, neg)
        raise _Unsupported

    def _check_boost(self, boost):
        if not boost > 0:
            self.monotone = False

    def _wrap(self, node, boost, neg):
        if boost == 1.0:
            return node
        self._check_boost(boost)
        return _Wrap(node, boost, neg)

    def _btext(self, seg, fieldname, text):
        key = (fieldname, text)
        btext = self.btexts.get(key, _UNSET)
        if btext is _UNSET:
            # The same for every segment (one schema): found once a query.
            schema = seg.reader.schema
            btext = None
            if fieldname in schema:
                try:
                    btext = schema[fieldname].to_bytes(text)
                except ValueError:
                    pass
            self.btexts[key] = btext
        if btext is None:
            return None
        terms = seg.small_terms
        if terms is not None:
            return btext if (fieldname, btext) in terms else None
        return btext if (fieldname, btext) in seg.reader else None

    def _term(self, fieldname, text, boost, seg, neg):
        btext = self._btext(seg, fieldname, text)
        postings = None if btext is None else self._postings(seg, fieldname, btext, neg)
        if postings is None:
            return _Null(neg)
        self._check_boost(boost)
        postings.wanted_whole = postings.wanted_whole or not neg
        return _Leaf(postings, boost, neg)

    def _phrase(self, q, seg, neg):
        schema = seg.reader.schema
        if q.fieldname not in schema:
            return _Null(neg)
        fmt = schema[q.fieldname].format
        if not fmt or not fmt.supports("positions") or fmt.supports("characters"):
            raise _Unsupported
        words = []
        for word in q.words:
            btext = self._btext(seg, q.fieldname, word)
            postings = None if btext is None else self._postings(seg, q.fieldname, btext, neg)
            if postings is None:
                return _Null(neg)
            words.append(postings)
            postings.in_phrase = True
        isect = make_binary_tree(lambda a, b: _Intersection(a, b, False),
                                 [_Leaf(p, 1.0, False) for p in words])
        return self._wrap(_Phrase(words, isect, q.slop, neg), q.boost, neg)

    # -- postings

    def _postings(self, seg, fieldname, btext, neg) -> _Postings | None:
        """The term's postings; None when time ran out, except on the excluded
        side, which is always read whole (leaving out an exclusion would let
        excluded documents in, leaving out anything else only loses matches)."""
        key = (fieldname, btext)
        got = seg.terms.get(key)
        if got is not None:
            return got
        shared_key = None if self.stats_key is None else (seg.key, self.stats_key, key)
        if not neg and time.monotonic() > self.deadline:
            # Salvaging, a term read whole before is free: it costs no reading.
            term = _cached_term(shared_key) if self.salvage and shared_key is not None else None
            if term is None or term.whole is None:
                self.cut = True
                return None
        reader = seg.reader
        lens = field_length_bytes(reader, fieldname)
        term = None if shared_key is None else _cached_term(shared_key)
        if term is None:
            # The scorer Whoosh would use, for its parameters: only BM25F's is
            # reproduced (the weighting may choose B and K1 by field).
            scorer = self.weighting.scorer(seg.searcher, fieldname, btext)
            terminfo = w3.term_info(reader, fieldname, btext)
            if type(scorer) is scoring.BM25FScorer:
                norms = self._norms(seg, fieldname, lens is None, scorer)
                idf, k1 = scorer.idf, scorer.K1
                # BM25FScorer._score at weight 1.0, by length byte (the same
                # double operations, element by element).
                ones = idf * ((1.0 * (k1 + 1)) / (1.0 + norms))
                term = _Term(terminfo, ones, norms, idf, k1, False, scorer.max_quality())
            elif type(scorer) is scoring.WeightScorer:
                term = _Term(terminfo, np.ones(256), None, 0.0, 0.0, True, scorer.max_quality())
            else:
                raise _Unsupported
            if shared_key is not None:
                _keep_term(shared_key, term)
        if not term.plain and not term.idf >= 0:
            self.monotone = False
        got = seg.terms[key] = _Postings(
            self, reader, term, reader.schema[fieldname].format,
            np.zeros(seg.doc_count, np.uint8) if lens is None else lens, neg)
        if self.salvage and not neg:
            # Every term is read whole while planning, as long as time
            # allows, so that the documents are scored by the terms read in
            # time instead of by none.
            got.deadline = None
            got.full()
        return got

    def _norms(self, seg, fieldname, no_column, scorer):
        """``K1 * ((1 - B) + B * fl / avgfl)`` by length byte, as ``bm25()``
        computes that part of the score.  The same for every segment (the
        average length is the whole index's): kept across segments and queries."""
        key = (scorer.K1, scorer.B, scorer.avgfl, no_column)
        norms = _NORMS.get(key)
        if norms is None:
            k1, b, avgfl = key[:3]
            lengths = [1] * 256 if no_column else [byte_to_length(lb) for lb in range(256)]
            norms = np.array([k1 * ((1 - b) + b * fl / avgfl) for fl in lengths])
            norms.flags.writeable = False
            if len(_NORMS) >= 256:
                _NORMS.clear()
            _NORMS[key] = norms
        return norms

    def tick(self, postings, deadline):
        self.budget -= postings
        if self.budget <= 0:
            self.budget = CHECK_EVERY
            if time.monotonic() > deadline:
                raise _OutOfTime

    # -- running a plan on one segment

    def run(self, seg, root, offset) -> tuple[list[tuple[float, int]], bool]:
        """The segment's best ``limit`` as ``(score, -docnum)``, and whether time
        ran out before all were checked."""
        keep = self.allowed
        if keep is not None:
            if seg.doc_count != self.top.doc_count_all():
                keep = keep[(keep >= offset) & (keep < offset + seg.doc_count)] - offset
        self.found, self.pruning = [], False
        try:
            self._run(seg, root, keep, self.monotone)
            if self.pruning and self.bounds_broken:
                self.pruning, self.found = False, []
                self._run(seg, root, keep, False)
        except _OutOfTime:
            return self._shift(self.found, offset), True
        return self._shift(self.found, offset), False

    def _run(self, seg, root, keep, prune):
        limit = self.limit
        docs, bounds = self._candidates(seg, root, keep) if prune else (keep, None)
        if bounds is None:
            bounds = root.ev(docs)
            if seg.deleted is not None:
                live = ~docsets.within(bounds[0], seg.deleted)
                bounds = bounds[0][live], bounds[1][live]
        ids, scores = bounds
        if not len(ids):
            return
        phrases = [p for p in root.phrases() if p.candidates is not None and len(p.candidates[0])]
        # Only documents whose bound reaches the limit-th exact score can be
        # in the top: first those with the best bounds (a few times limit, as
        # some bounds are phrases that do not match), then those whose bound
        # reaches the limit-th exact score found, if that is lower.
        floor = _nth_largest(scores, 3 * limit) if self.monotone else float("-inf")
        seen = np.zeros(len(ids), bool)
        while True:
            new = scores >= floor
            new &= ~seen
            seen |= new
            if not phrases:     # the bounds are the scores
                self._add(zip(scores[new].tolist(), (-ids[new]).tolist()))
            else:
                pending = sorted(zip(scores[new].tolist(), (-ids[new]).tolist()), reverse=True)
                i, step = 0, max(2 * limit, 32)
                while i < len(pending):
                    top = self.found
                    if self.monotone and len(top) >= limit and pending[i] < top[-1]:
                        break
                    if time.monotonic() > self.deadline:
                        raise _OutOfTime
                    batch = docsets.of({-d for _, d in pending[i:i + step]})
                    i, step = i + step, step * 2
                    for p in phrases:
                        p.resolve(batch)
                    exact = root.ev(batch)
                    self._add(zip(exact[1].tolist(), (-exact[0]).tolist()))
            top = self.found
            lowest = top[-1][0] if len(top) >= limit else float("-inf")
            if lowest >= floor:
                return
            floor = lowest

    def _add(self, scored):
        self.found = nlargest(self.limit, self.found + list(scored))

    # -- pruning: which documents can be in the top at all

    def _candidates(self, seg, root, keep):
        """The documents that can be in the top and their bounds, or ``(keep,
        None)`` when pruning does not pay.

        The root's score is a sum of parts (an Or's subqueries).  A document
        whose parts' bounds add up to less than the limit-th best exact score
        found so far cannot be in the top, so only the documents of the parts
        with the highest bounds need scoring: the others' postings are read
        only in the blocks that hold those documents.
        """
        parts = self._parts(root, 1.0)
        total = sum(p.size() for p, _ in parts)
        if len(parts) < 2 or total < PRUNE_FROM:
            return keep, None
        ranked = sorted(((p.ub() * m, i) for i, (p, m) in enumerate(parts)), reverse=True)
        sizes = [parts[i][0].size() for _, i in ranked]
        # tails[j]: the most the parts from j on can add, with a margin for
        # adding in another order.
        tails = [t * (1 + 1e-9) for t in accumulate(u for u, _ in reversed(ranked))][::-1] + [0.0]

        # A guess first, so that a query where pruning cannot pay costs
        # nothing more: the limit-th score as high as the bound of the part
        # that brings the limit-th document.
        guess = next((u for (u, _), n in zip(ranked, accumulate(sizes)) if n >= self.limit), 0.0)
        if not _pays(sizes, next(e for e, tail in enumerate(tails) if tail <= guess)):
            return keep, None

        def docs_of(i):
            node = parts[i][0]
            docs = node.postings.full()[0] if type(node) is _Leaf else node.ev(None)[0]
            if keep is not None:
                docs = docs[docsets.within(docs, keep)]
            return docs[~docsets.within(docs, seg.deleted)] if seg.deleted is not None else docs

        # A limit-th exact score, from the documents of the best parts.
        docs = _NO_IDS
        j = 0
        while j < len(ranked) and len(docs) < self.limit:
            docs = np.union1d(docs, docs_of(ranked[j][1]))
            j += 1
        self.pruning = True
        floor = self._floor(root, root.ev(docs))
        need = next((e for e, tail in enumerate(tails) if tail < floor), len(ranked))
        if not _pays(sizes, need):
            self.pruning = False
            return keep, None
        if need > j:
            docs = reduce(np.union1d, [docs_of(i) for _, i in ranked[j:need]], docs)
        return docs, root.ev(docs)

    def _parts(self, node, boost):
        cls = type(node)
        if cls is _Union:
            return self._parts(node.a, boost) + self._parts(node.b, boost)
        if cls is _Wrap:
            return self._parts(node.child, boost * node.boost)
        if cls is _ArrayUnion and node.scored:
            return [p for c in node.children for p in self._parts(c, boost * node.boost)]
        if cls is _AndNot:
            return self._parts(node.a, boost)
        return [(node, boost)]

    def _floor(self, root, bounds):
        """The limit-th best exact score among the documents with the best
        bounds (a score some ``limit`` documents reach), or -inf."""
        ids, scores = bounds
        if len(ids) > 4 * self.limit:
            best = np.argpartition(scores, len(ids) - 4 * self.limit)[len(ids) - 4 * self.limit:]
            ids = np.sort(ids[best])
        for p in root.phrases():
            if p.candidates is not None:
                p.resolve(ids)
        exact = root.ev(ids)[1]
        if len(exact) < self.limit:
            return float("-inf")
        return _nth_largest(exact, self.limit)

    @staticmethod
    def _shift(top, offset):
        return [(s, negdoc - offset) for s, negdoc in top] if offset else top


def _nth_largest(values: np.ndarray, n: int) -> float:
    """The ``n``-th largest of ``values`` (the smallest, if fewer)."""
    if len(values) <= n:
        return float(values.min())
    return float(np.partition(values, len(values) - n)[len(values) - n])
