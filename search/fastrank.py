"""Ranking in bulk: the top documents of a ranked query, as Whoosh would rank them.

Owns ``rank()``, a drop-in for ``SearchIndex._ranked``: same documents, same
order, same scores (to the last bit, not just after rounding), computed from
whole posting lists instead of Whoosh's document-at-a-time matcher trees.

How it stays equal to Whoosh:

* each term's BM25F score comes from the same expression, the same idf and
  average length (the searcher's own), the same one-byte length norms and the
  same float32 term weights;
* the partial scores are added in the order Whoosh's matcher tree adds them:
  the tree is built by Whoosh's own ``make_weighted_tree`` /
  ``make_binary_tree`` from the same size estimates, and small segments use
  the left-to-right sum of Whoosh's ``ArrayUnionMatcher`` as Whoosh does;
* a phrase scores the sum of its words' scores (Whoosh's ``SpanNear2``) when
  its words occur in order within ``slop``.  Positions are read only for the
  documents that could still reach the top: every phrase is first assumed to
  match (an upper bound, since all parts add non-negative scores), and
  documents are checked best bound first until no bound can beat the
  ``limit``-th exact score.

Anything else (other query types, another codec or weighting) goes through
Whoosh itself, so ``rank()`` always answers.

Two places where this is *more* exact than Whoosh's ``TopCollector``, whose
block-quality pruning can skip a document that belongs in the top ``limit``
(``WrappingMatcher.replace`` passes its unboosted bound down, and
``ArrayUnionMatcher.max_quality`` is a max where it should be a sum), and whose
``AndNotMatcher`` can return an excluded document when the exclusion's first
posting lies before the first match.  Here every matching document is scored.
"""

from __future__ import annotations

import io
import pickle
import struct
import time
import weakref
import zlib
from bisect import bisect_left
from heapq import nlargest
from itertools import accumulate, repeat
from operator import add, mul, neg

from whoosh import query as wq
from whoosh import scoring
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec
from whoosh.collectors import TimeLimit, WrappingCollector
from whoosh.reading import SegmentReader
from whoosh.util import make_binary_tree, make_weighted_tree
from whoosh.util.numeric import byte_to_length

__all__ = ["rank"]

_INT = struct.Struct("!i")
# Postings between two looks at the clock.
CHECK_EVERY = 4096


class _Unsupported(Exception):
    """A query or index this module does not reproduce: Whoosh ranks it."""


class _OutOfTime(Exception):
    pass


def rank(searcher, q, allowed: set[int] | None, limit: int,
         deadline: float) -> tuple[list[tuple[int, float]], bool]:
    """The top ``limit`` ``(docnum, round(score, 4))`` of ``q`` among ``allowed``
    (None: every match), best first, ties by docnum; and whether ``deadline``
    (a ``time.monotonic()`` value) cut the ranking short."""
    if allowed is not None and not allowed:
        return [], False
    try:
        ranker = _Ranker(searcher, allowed, limit, deadline)
        plans = [(ranker.plan(q, sub), offset) for sub, offset in searcher.leaf_searchers()]
    except _Unsupported:
        return _whoosh_rank(searcher, q, allowed, limit, deadline)
    top: list[tuple[float, int]] = []
    partial = False
    for (seg, root), offset in plans:
        found, cut = ranker.run(seg, root, offset)
        top = nlargest(limit, top + found)
        if cut:
            partial = True
            break
    return [(-negdoc, round(score, 4)) for score, negdoc in top], partial


# ---------------------------------------------------------------------------
# Whoosh's own path, for what is not reproduced here


class _BudgetCollector(WrappingCollector):
    """Collects only allowed documents into ``child``, raising ``TimeLimit``
    past the deadline (a copy of ``querying._BudgetCollector``)."""

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


def _whoosh_rank(searcher, q, allowed, limit, deadline):
    collector = _BudgetCollector(searcher.collector(limit=limit), allowed, deadline)
    partial = False
    try:
        searcher.search_with_collector(q, collector)
    except TimeLimit:
        partial = True
    return [(hit.docnum, round(hit.score, 4)) for hit in collector.results()], partial


# ---------------------------------------------------------------------------
# Per segment: length norms (kept while the reader lives) and postings


_LENGTHS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _lengths(reader, fieldname: str) -> bytes | None:
    """One length byte per document (what ``doc_field_length`` decodes), or
    None when the field has no length column (Whoosh then uses length 1)."""
    per_reader = _LENGTHS.get(reader)
    if per_reader is None:
        per_reader = _LENGTHS[reader] = {}
    if fieldname not in per_reader:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        col = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if col is None:
            per_reader[fieldname] = None
        else:
            count = min(col._count, reader.doc_count_all())
            raw = col._dbfile.get(col._basepos, count)
            per_reader[fieldname] = bytes(raw) + bytes(reader.doc_count_all() - count)
    return per_reader[fieldname]


class _Segment:
    def __init__(self, searcher):
        reader = searcher.reader()
        if type(reader) is not SegmentReader or not isinstance(reader._codec, W3Codec):
            raise _Unsupported
        self.searcher = searcher
        self.reader = reader
        self.doc_count = reader.doc_count_all()
        self.deleted = reader.deleted_docs_set if reader.has_deletions() else None
        self.terms: dict[tuple[str, bytes], _Postings] = {}


class _Postings:
    """One term's postings in one segment: unboosted scores, and the blocks
    (kept for the positions of the few documents a phrase is checked in)."""

    __slots__ = ("scores", "maxids", "blocks", "decode")

    def __init__(self, scores, maxids, blocks, decode):
        self.scores = scores
        self.maxids = maxids
        self.blocks = blocks
        self.decode = decode

    def positions(self, doc: int) -> list[int]:
        ids, values = self.blocks[bisect_left(self.maxids, doc)]
        return self.decode(values[bisect_left(ids, doc)])


class _Scores(dict):
    """BM25F score by ``(weight, length byte)``, computed as Whoosh's
    ``BM25FScorer._score`` computes it, once per distinct pair."""

    def __init__(self, idf, norms, k1):
        super().__init__()
        self.idf, self.norms, self.k1 = idf, norms, k1

    def __missing__(self, key):
        tf, lb = key
        value = self[key] = self.idf * ((tf * (self.k1 + 1)) / (tf + self.norms[lb]))
        return value


class _Weights(dict):
    """A field that is not scorable scores the weight (``WeightScorer``)."""

    def __missing__(self, key):
        return key[0]


# ---------------------------------------------------------------------------
# The plan: nodes mirroring the matcher tree Whoosh would build


class _Node:
    neg = False

    def ev(self, run, docs):
        """Scores (positive side) or a set (negative side) of the documents
        matched, restricted to ``docs`` when given: for unchecked phrases an
        upper bound (positive side) or a lower bound (negative side)."""
        raise NotImplementedError

    def phrases(self):
        return []


class _Null(_Node):
    def ev(self, run, docs):
        return set() if self.neg else {}


class _Leaf(_Node):
    def __init__(self, postings, boost, neg):
        self.postings, self.boost, self.neg = postings, boost, neg

    def ev(self, run, docs):
        scores = self.postings.scores
        if self.neg:
            return set(scores) if docs is None else docs & scores.keys()
        if docs is not None:
            keys = docs & scores.keys()
            scores = dict(zip(keys, map(scores.__getitem__, keys)))
        if self.boost != 1.0:
            return dict(zip(scores.keys(), map(mul, scores.values(), repeat(self.boost))))
        return scores


class _Every(_Node):
    def __init__(self, seg, boost, neg):
        self.seg, self.boost, self.neg = seg, boost, neg

    def ev(self, run, docs):
        ids = range(self.seg.doc_count) if docs is None else docs
        if self.seg.deleted:
            ids = set(ids) - self.seg.deleted
        return set(ids) if self.neg else dict.fromkeys(ids, self.boost)


class _Wrap(_Node):
    def __init__(self, child, boost, neg):
        self.child, self.boost, self.neg = child, boost, neg

    def ev(self, run, docs):
        got = self.child.ev(run, docs)
        if self.neg:
            return got
        return dict(zip(got.keys(), map(mul, got.values(), repeat(self.boost))))

    def phrases(self):
        return self.child.phrases()


class _Bi(_Node):
    def __init__(self, a, b, neg=False):
        self.a, self.b, self.neg = a, b, neg

    def phrases(self):
        return self.a.phrases() + self.b.phrases()


def _sums(a, b, keys):
    return zip(keys, map(add, map(a.__getitem__, keys), map(b.__getitem__, keys)))


class _Union(_Bi):
    def ev(self, run, docs):
        a, b = self.a.ev(run, docs), self.b.ev(run, docs)
        if self.neg:
            return a | b
        common = a.keys() & b.keys()
        out = a | b
        out.update(_sums(a, b, common))
        return out


class _Intersection(_Bi):
    def ev(self, run, docs):
        a, b = self.a.ev(run, docs), self.b.ev(run, docs)
        if self.neg:
            return a & b
        return dict(_sums(a, b, a.keys() & b.keys()))


class _AndMaybe(_Bi):
    def ev(self, run, docs):
        a = self.a.ev(run, docs)
        if self.neg:
            return a
        b = self.b.ev(run, docs)
        out = dict(a)
        out.update(_sums(a, b, a.keys() & b.keys()))
        return out


class _AndNot(_Bi):
    # ``b`` is built on the other side (neg flipped): a lower bound of what it
    # excludes keeps ``a - b`` an upper bound.
    def ev(self, run, docs):
        a = self.a.ev(run, docs)
        gone = a.keys() & self.b.ev(run, docs if docs is not None else set(a))
        if self.neg:
            return a - gone
        return {k: v for k, v in a.items() if k not in gone} if gone else a


class _ArrayUnion(_Node):
    """Whoosh's ``ArrayUnionMatcher``: the children's scores (times the Or's
    boost) summed left to right into 0.0; only positive sums match."""

    def __init__(self, children, boost, scored, neg):
        self.children, self.boost, self.scored, self.neg = children, boost, scored, neg

    def ev(self, run, docs):
        parts = [c.ev(run, docs) for c in self.children]
        if self.neg:
            return set().union(*parts)
        if not self.scored:
            return dict.fromkeys(set().union(*parts), 1.0)
        out: dict = {}
        for part in parts:
            if self.boost != 1.0:
                part = dict(zip(part.keys(), map(mul, part.values(), repeat(self.boost))))
            common = out.keys() & part.keys()
            sums = list(_sums(out, part, common))
            out.update(part)
            out.update(sums)
        if out and min(out.values()) <= 0:
            out = {k: v for k, v in out.items() if v > 0}
        return out

    def phrases(self):
        return [p for c in self.children for p in c.phrases()]


class _Phrase(_Node):
    """Whoosh's ``SpanNear2`` (ordered, mindist 1): the words' summed scores
    where each next word follows the previous within ``slop`` positions."""

    def __init__(self, words, isect, slop, neg):
        self.words, self.isect, self.slop, self.neg = words, isect, slop, neg
        self.candidates = None      # docs with every word: (unboosted) score
        self.known: dict[int, bool] = {}

    def ev(self, run, docs):
        if self.candidates is None:
            self.candidates = self.isect.ev(run, None)
        cand, known = self.candidates, self.known
        keys = cand.keys() if docs is None else docs & cand.keys()
        if self.neg:
            return {d for d in keys if known.get(d)} if known else set()
        if docs is None and not known:
            return cand
        return {d: cand[d] for d in keys if known.get(d, True)}

    def phrases(self):
        return [self]

    def check(self, doc: int) -> bool:
        ends = self.words[0].positions(doc)
        slop = self.slop
        for word in self.words[1:]:
            if not ends:
                return False
            starts = word.positions(doc)
            if slop == 1:
                ends = [p for p in starts if p - 1 in ends] if len(ends) < 8 else \
                    sorted(set(starts) & {e + 1 for e in ends})
            else:
                ends = [p for p in starts if any(1 <= p - e <= slop for e in ends)]
        return bool(ends)


# ---------------------------------------------------------------------------


class _Ranker:
    def __init__(self, searcher, allowed, limit, deadline):
        w = searcher.weighting
        if not isinstance(w, scoring.BM25F) or type(w).scorer is not scoring.BM25F.scorer \
                or w.use_final:
            raise _Unsupported
        self.top = searcher
        self.weighting = w
        self.allowed = allowed
        self.limit = limit
        self.deadline = deadline
        self.budget = CHECK_EVERY

    # -- planning: the tree Whoosh's ``q.matcher(segment_searcher, context)`` builds

    def plan(self, q, subsearcher):
        seg = _Segment(subsearcher)
        return seg, self._node(q, seg, scored=True, neg=False)

    def _node(self, q, seg, scored, neg):
        cls = type(q)
        if q is wq.NullQuery or cls is type(wq.NullQuery):
            return _Null()
        if cls is wq.Term:
            return self._term(q, seg, neg)
        if cls in (wq.Or, wq.And):
            subs = q.subqueries
            if not subs:
                return _Null()
            if len(subs) == 1:      # Whoosh ignores the compound's boost here
                return self._node(subs[0], seg, scored, neg)
            nodes = [self._node(s, seg, scored, neg) for s in subs]
            reader = seg.reader
            if cls is wq.And:
                tree = make_weighted_tree(lambda a, b: _Intersection(a, b, neg), [
                    (0 - s.estimate_size(reader), n) for s, n in zip(subs, nodes)])
            else:
                if q.matcher_type != q.AUTO_MATCHER or q.scale:
                    raise _Unsupported
                # Or's AUTO_MATCHER (the collector's context never needs_current).
                if not (len(subs) < q.TOO_MANY_CLAUSES and (len(subs) == 2 or seg.doc_count > 5000)):
                    return _ArrayUnion(nodes, q.boost, scored, neg)
                tree = make_weighted_tree(lambda a, b: _Union(a, b, neg), [
                    (s.estimate_size(reader), n) for s, n in zip(subs, nodes)])
            return _Wrap(tree, q.boost, neg) if q.boost != 1.0 else tree
        if cls is wq.AndMaybe:
            return _AndMaybe(self._node(q.a, seg, scored, neg),
                             self._node(q.b, seg, scored, neg), neg)
        if cls is wq.AndNot:
            # Whoosh matches the exclusion in a boolean (unscored) context.
            return _AndNot(self._node(q.a, seg, scored, neg),
                           self._node(q.b, seg, False, not neg), neg)
        if cls is wq.Phrase:
            return self._phrase(q, seg, neg)
        if cls is wq.Every and q.fieldname in (None, "", "*"):
            return _Every(seg, q.boost, neg)
        if cls is wq.Prefix and q.text and q.fieldname in seg.reader.schema:
            words = [w for w in q._btexts(seg.reader) if w]
            if not words:
                return _Null()
            if len(words) == 1:     # Whoosh drops the prefix's boost here
                return self._term(wq.Term(q.fieldname, words[0]), seg, neg)
            # A constant-score Or: Whoosh unsets the weighting, which only the
            # array matcher heeds (the terms still score BM25F otherwise).
            return self._node(wq.Or([wq.Term(q.fieldname, w) for w in words], boost=q.boost),
                              seg, scored and not q.constantscore, neg)
        raise _Unsupported

    def _btext(self, seg, fieldname, text):
        schema = seg.reader.schema
        if fieldname not in schema:
            return None
        try:
            btext = schema[fieldname].to_bytes(text)
        except ValueError:
            return None
        return btext if (fieldname, btext) in seg.reader else None

    def _term(self, q, seg, neg):
        btext = self._btext(seg, q.fieldname, q.text)
        if btext is None:
            return _Null()
        leaf = _Leaf(self._postings(seg, q.fieldname, btext), q.boost, neg)
        return leaf

    def _phrase(self, q, seg, neg):
        schema = seg.reader.schema
        if q.fieldname not in schema:
            return _Null()
        field = schema[q.fieldname]
        if not field.format or not field.format.supports("positions") \
                or field.format.supports("characters"):
            raise _Unsupported
        words = []
        for word in q.words:
            btext = self._btext(seg, q.fieldname, word)
            if btext is None:
                return _Null()
            words.append(self._postings(seg, q.fieldname, btext))
        isect = make_binary_tree(lambda a, b: _Intersection(a, b, False),
                                 [_Leaf(p, 1.0, False) for p in words])
        node = _Phrase(words, isect, q.slop, neg)
        return _Wrap(node, q.boost, neg) if q.boost != 1.0 else node

    # -- postings, read whole

    def _tick(self, postings: int):
        self.budget -= postings
        if self.budget <= 0:
            self.budget = CHECK_EVERY
            if time.monotonic() > self.deadline:
                raise _OutOfTime

    def _postings(self, seg, fieldname, btext) -> _Postings:
        key = (fieldname, btext)
        got = seg.terms.get(key)
        if got is not None:
            return got
        if time.monotonic() > self.deadline:
            raise _OutOfTime
        reader, top, w = seg.reader, self.top, self.weighting
        field = reader.schema[fieldname]
        terminfo = reader._terms.term_info(fieldname, btext)
        if terminfo.is_inlined():
            ids, weights, values = terminfo.inlined_postings()
            blocks = [(tuple(ids), tuple(weights), values)]
        else:
            blocks = self._blocks(reader, terminfo)
        lens = _lengths(reader, fieldname)
        if not field.scorable:
            table, ones = _Weights(), [1.0] * 256
        else:
            idf = top.idf(fieldname, btext)
            avgfl = top.avg_field_length(fieldname) or 1
            k1 = w.K1
            b = w._field_B.get(fieldname, w.B)
            if lens is None:
                lens = bytes(seg.doc_count)
                norms = [k1 * ((1 - b) + b * 1 / avgfl)] * 256
            else:
                norms = [k1 * ((1 - b) + b * byte_to_length(lb) / avgfl) for lb in range(256)]
            table = _Scores(idf, norms, k1)
            ones = [table[(1.0, lb)] for lb in range(256)]
        scores: dict = {}
        for ids, weights, _ in blocks:
            lbs = map(lens.__getitem__, ids) if lens is not None else repeat(0, len(ids))
            if weights is None:
                scores.update(zip(ids, map(ones.__getitem__, lbs)))
            elif isinstance(weights, float):
                scores.update(zip(ids, map(table.__getitem__, zip(repeat(weights), lbs))))
            else:
                scores.update(zip(ids, map(table.__getitem__, zip(weights, lbs))))
        decode = field.format.decoder("positions") if field.format.supports("positions") else None
        got = seg.terms[key] = _Postings(
            scores, [ids[-1] for ids, _, _ in blocks], [(ids, v) for ids, _, v in blocks], decode)
        return got

    def _blocks(self, reader, terminfo):
        """The term's posting blocks as ``(ids, weights, values)``, weights
        None (all 1.0), one float, or one per posting (``W3LeafMatcher``'s format)."""
        offset, length = terminfo.extent()
        if isinstance(length, tuple):       # W3TermInfo.from_bytes leaves it packed
            length = length[0]
        buf = reader._terms._postfile.get(offset, length)
        if buf[:4] != WHOOSH3_HEADER_MAGIC:
            raise _Unsupported
        stream = io.BytesIO(buf)
        pos = 4
        blocks = []
        while True:
            (size,) = _INT.unpack_from(buf, pos)
            last = size < 0
            pos += 4
            end = pos + abs(size)
            stream.seek(pos)
            count, _, _, compression, _, _ = pickle.load(stream)
            data = buf[stream.tell():end]
            if compression:
                data = zlib.decompress(data)
            delta, weights, values = pickle.loads(data)
            blocks.append((tuple(accumulate(delta)), weights, values))
            self._tick(count)
            if last or end >= len(buf):
                return blocks
            pos = end

    # -- running a plan on one segment

    def run(self, seg, root, offset) -> tuple[list[tuple[float, int]], bool]:
        """The segment's top ``limit`` as ``(score, -docnum)`` and whether time ran out."""
        try:
            bounds = root.ev(self, None)
        except _OutOfTime:
            return [], True
        bounds = self._admit(seg, bounds, offset)
        limit = self.limit
        phrases = root.phrases()
        unsure = set()
        for p in phrases:
            if p.candidates:
                unsure |= bounds.keys() & p.candidates.keys()
        if unsure:
            sure = {d: s for d, s in bounds.items() if d not in unsure}
        else:
            sure = bounds
        top = nlargest(limit, zip(sure.values(), map(neg, sure.keys())))
        if unsure:
            # Best bound first; a bound that cannot beat the limit-th exact
            # score ends the search (all parts add non-negative scores).
            pending = sorted(zip(map(bounds.__getitem__, unsure), map(neg, unsure)), reverse=True)
            i, step = 0, max(2 * limit, 32)
            while i < len(pending):
                if len(top) >= limit and pending[i] < top[-1]:
                    break
                if time.monotonic() > self.deadline:
                    return self._shift(top, offset), True
                batch = [-d for _, d in pending[i:i + step]]
                i += step
                step *= 2
                docs = set(batch)
                for p in phrases:
                    if p.candidates:
                        known = p.known
                        for d in docs & p.candidates.keys():
                            if d not in known:
                                known[d] = p.check(d)
                exact = root.ev(self, docs)
                top = nlargest(limit, top + list(zip(exact.values(), map(neg, exact.keys()))))
        return self._shift(top, offset), False

    def _admit(self, seg, scores, offset):
        keep = None
        if self.allowed is not None:
            keep = self.allowed if offset == 0 else \
                {d - offset for d in self.allowed if offset <= d < offset + seg.doc_count}
        if keep is not None:
            keys = scores.keys() & keep
        else:
            keys = None
        if seg.deleted:
            keys = (keys if keys is not None else scores.keys()) - seg.deleted
        if keys is None:
            return scores
        return dict(zip(keys, map(scores.__getitem__, keys)))

    @staticmethod
    def _shift(top, offset):
        if not offset:
            return top
        return [(s, negdoc - offset) for s, negdoc in top]
