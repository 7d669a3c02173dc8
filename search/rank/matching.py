"""The documents a query plan matches, and those matches ranked as the results page ranks them.

``match(plan, searcher, deadline)`` matches a ``QueryPlan`` (falling back to
its quoted text read as words when no document holds that text, and to a
cheaper reading without word order when phrases run out of time) and
``rank_matches`` ranks the matches; ``SearchIndex.search``, ``explain`` and
the ranking benchmark all take these two steps, so they agree on a query's
matches, ranks and scores.  Below them, ``matching_docs``: the documents a
Whoosh query matches, without scoring, as document sets
(``search.store.docsets``).
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field

import numpy as np
from whoosh import query as wq
from whoosh.collectors import TimeLimit

from ..query import budget
from ..query.budget import NOT_MATCHED_NOTICE
from ..query.build import without_order
from ..query.concepts import holds
from ..query.plan import QueryPlan
from ..store import docsets
from . import fastrank

# The share of the time budget a query cut short still gets for its cheaper
# reading, and for ranking what it found: a cut-short answer still shows its
# best documents.
GRACE = 0.2


@dataclass(frozen=True)
class Matches:
    """The documents a plan matches on one searcher, and how far matching got."""

    docs: np.ndarray            # ascending document numbers (``search.store.docsets``)
    plan_used: QueryPlan        # the plan, or its ``quoted_as_words`` when that was matched
    # The deadline cut matching short: ``docs`` are those of the reading
    # without word order (``without_order``), or none when that did not finish.
    partial: bool
    # Whether some reading finished; if not, ``docs`` is empty and says
    # nothing about how many documents match.
    finished: bool
    notices: list[str]          # the plan's, and what matching adds
    # Per concept of the query (``search.query.concepts``), the matches
    # holding it: those holding every one are the full matches.
    held: list[np.ndarray] = field(default_factory=list)

    @property
    def full(self) -> np.ndarray:
        """The matches holding every concept (the rest match in part)."""
        return docsets.intersection([self.docs] + self.held) if self.held else self.docs

    def lacking(self, docnums) -> list[list] | None:
        """Per document of ``docnums``, the concepts of the query it does not
        hold in any form; None when the query has none to hold (browsing)."""
        concepts = self.plan_used.concepts
        if not concepts:
            return None
        ids = np.asarray(docnums, np.int64)
        held = [docsets.within(ids, h) for h in self.held] if self.held else \
            [np.zeros(len(ids), bool)] * len(concepts)
        return [[c for c, has in zip(concepts, held) if not has[i]] for i in range(len(ids))]

    def tiers(self, pool: np.ndarray) -> list[np.ndarray]:
        """``pool`` (a document set) by how many concepts each holds, most first."""
        if not self.held or not len(pool):
            return [pool]
        counts = sum(docsets.within(pool, h).astype(np.int32) for h in self.held)
        return [pool[counts == n] for n in sorted(set(counts.tolist()), reverse=True)]

    @property
    def exact(self) -> bool:
        """Whether ``docs`` is every match (the count is not of a cheaper reading)."""
        return not self.partial

    @property
    def ranked_query(self) -> wq.Query:
        """The query the matches are ranked (and scored) by: the plan's, or
        its reading without word order when matching was cut short."""
        q = self.plan_used.whoosh_query
        return (without_order(q) or q) if self.partial else q


def match(plan: QueryPlan, searcher, deadline: float) -> Matches:
    """The documents ``plan`` matches, by ``deadline`` (a ``time.monotonic()``
    value); notices say when its quoted text was read as words or matching
    did not finish (``NOT_MATCHED_NOTICE``)."""
    notices = list(plan.notices)
    used = plan
    memo: dict = {}
    docs, partial, finished = _within_deadline(searcher, plan.matches_query, deadline, memo)
    if not len(docs) and plan.quoted_as_words is not None and not partial:
        # People quote names inside questions; when nothing holds the
        # quoted text exactly, answer for its words and say so.
        used = plan.quoted_as_words
        docs, partial, finished = _within_deadline(searcher, used.matches_query, deadline, memo)
        if len(docs):
            quoted = "、".join(f"“{p}”" for p in plan.parsed.phrases)
            notices.append(f"no document contains {quoted} exactly; "
                           "showing documents with its words")
    if not finished:
        notices.append(NOT_MATCHED_NOTICE)
    held, held_cut = held_by(searcher, used, docs, deadline, memo)
    return Matches(docs, used, partial or held_cut, finished, notices, held)


def held_by(searcher, plan: QueryPlan, docs: np.ndarray, deadline: float,
            memo: dict | None = None) -> tuple[list[np.ndarray], bool]:
    """Per concept of ``plan``, those of ``docs`` holding it; and whether the
    deadline cut that short (then: by a reading without word order)."""
    if not len(docs) or not plan.concepts:
        return [], False
    held, cut = [], False
    for concept in plan.concepts:
        got, was_cut, _finished = _within_deadline(searcher, holds(concept), deadline, memo)
        cut = cut or was_cut
        held.append(docsets.intersection([docs, got]))
    return held, cut


def _within_deadline(searcher, q, deadline, memo=None) -> tuple[np.ndarray, bool, bool]:
    """The documents ``q`` matches, whether the deadline cut that short
    (then: those found by a cheaper reading, its words without order),
    and whether either reading finished (if not: no documents, which
    says nothing about how many match)."""
    try:
        return matching_docs(searcher, q, deadline, memo), False, True
    except TimeLimit:
        loose = without_order(q)
        if loose is None:
            return docsets.NONE, True, False
        try:
            return (matching_docs(searcher, loose, time.monotonic() + GRACE * budget.TIME_BUDGET),
                    True, True)
        except TimeLimit:
            return docsets.NONE, True, False


def rank_matches(searcher, matches: Matches, within: np.ndarray | None, limit: int,
                 deadline: float) -> tuple[list[tuple[int, float]], bool]:
    """The best ``limit`` ``(docnum, score)`` of the matches (of those in
    ``within``, a document set, when given: the filtered matches, or one
    document), best first, as the results page ranks them; and whether time
    cut the ranking short.

    For a query of a few words (``QueryPlan.full_first``) the full matches
    come first, by score, then those holding one concept fewer, and so on."""
    # Past the deadline, a short grace so a cut-short answer still
    # shows its best documents.
    rank_by = (max(deadline, time.monotonic() + GRACE * budget.TIME_BUDGET) if matches.partial
               else deadline)
    pool = matches.docs if within is None else within
    if not matches.plan_used.full_first:
        return _ranked(searcher, matches, pool, within is None, limit, rank_by)
    top, cut = [], False
    for tier in matches.tiers(pool):
        more, cut = _ranked(searcher, matches, tier, False, limit - len(top), rank_by)
        top += more
        if cut or len(top) >= limit:
            break
    return top, cut


# Documents ranked beyond those asked for, when the ranked query may score
# documents that are no match (they hold only a pair crossing its words).
OVERFETCH = 30


def _ranked(searcher, matches: Matches, pool: np.ndarray, every: bool, limit: int,
            rank_by: float) -> tuple[list[tuple[int, float]], bool]:
    """The best ``limit`` of ``pool`` by the matches' ranked query (``every``:
    the pool is every match)."""
    q = matches.ranked_query
    if isinstance(q, wq.AndNot):
        # The matching set has the exclusions applied already, and a
        # document scores what the query's positive part gives it:
        # ranking that part within the set never reads the exclusions
        # again (a hundred excluded characters are tens of thousands of
        # bigrams, which planning a ranking would look up one by one).
        return fastrank.rank(searcher, q.a, pool, limit, rank_by)
    if every and not matches.partial:
        # Ranking every document the ranked query scores skips looking each
        # one up in the set (Whoosh's own path, for queries the fast ranking
        # does not reproduce, is given the set).  The matches are those of
        # them touching a concept: when the best are all matches, they are
        # the best matches; when one is not (it holds only a pair crossing
        # the query's words), the set is ranked.
        if matches.plan_used.admit_query is None:
            return fastrank.rank(searcher, q, None, limit, rank_by, matches.docs)
        # A few more than asked for: those left after the ones that are no
        # match are the best matches when at least ``limit`` are left (or the
        # ranking ran out of documents), as nothing below them scores more.
        wanted = limit + max(limit, OVERFETCH)
        top, cut = fastrank.rank(searcher, q, None, wanted, rank_by, matches.docs)
        if top:
            keep = docsets.within(np.array([d for d, _s in top], np.int64), matches.docs)
            kept = [hit for hit, ok in zip(top, keep) if ok]
            if cut or len(kept) >= limit or len(top) < wanted:
                return kept[:limit], cut
        else:
            return top, cut
    return fastrank.rank(searcher, q, pool, limit, rank_by)


# Candidates a phrase checks document by document, position lists skipped to
# each; more are matched by Whoosh's phrase matcher over the index.
PHRASE_CHECKS = 2_000


def _phrase_among(searcher, q: wq.Phrase, candidates: np.ndarray, deadline: float | None,
                  memo: dict | None) -> np.ndarray:
    """Those of ``candidates`` (documents holding every word of ``q``) where
    the words follow each other within its slop."""
    if len(candidates) > PHRASE_CHECKS:
        return docsets.intersection([matching_docs(searcher, q, deadline, memo), candidates])
    reader = searcher.reader()
    leaves = [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())
    starts = [offset for _leaf, offset in leaves]
    found = []
    for (leaf, offset), group in zip(leaves, np.split(candidates, np.searchsorted(
            candidates, starts[1:]))):
        if not len(group):
            continue
        matchers = [leaf.postings(q.fieldname, w) for w in q.words]
        for n, docnum in enumerate(group.tolist()):
            local, ends = docnum - offset, None
            for m in matchers:
                if not m.is_active():
                    break
                m.skip_to(local)
                if not m.is_active() or m.id() != local:
                    ends = set()
                    break
                found_at = m.value_as("positions")
                ends = set(found_at) if ends is None else \
                    {p for p in found_at if any(1 <= p - e <= q.slop for e in ends)}
                if not ends:
                    break
            if ends:
                found.append(docnum)
            if deadline is not None and n % 64 == 0 and time.monotonic() > deadline:
                raise TimeLimit
    return docsets.of(found)


def every_document(reader) -> np.ndarray:
    """Every live document (browsing without a query starts from them)."""
    docs = np.arange(reader.doc_count_all(), dtype=np.int64)
    if not reader.has_deletions():
        return docs
    deleted = [fastrank.deleted_docs(leaf) + offset           # kept per segment
               for leaf, offset in reader.leaf_readers() if leaf.has_deletions()]
    return docsets.minus(docs, np.concatenate(deleted)) if deleted else docs


def _by_segment(reader, read) -> np.ndarray | None:
    """``read(segment reader)`` (a document set of one segment, or None)
    segment by segment, as the whole reader's document set; None where a
    segment gives None."""
    if reader.is_atomic():
        return read(reader)
    parts = []
    for sub, offset in reader.leaf_readers():
        docs = read(sub)
        if docs is None:
            return None
        if len(docs):
            parts.append(docs + offset)
    # Segments hold consecutive, disjoint ranges of documents: in order already.
    return np.concatenate(parts) if parts else docsets.NONE


def prefix_docs(reader, fieldname: str, prefix: str) -> np.ndarray | None:
    """Documents with a term starting with ``prefix``, segment by segment;
    None where a segment is not one ``fastrank.prefix_doc_ids`` reads."""
    return _by_segment(reader, lambda sub: fastrank.prefix_doc_ids(sub, fieldname, prefix))


# Per multi-segment reader: its segments with their offsets and, for the
# small ones, their terms (``fastrank.small_segment_terms``).
_LEAVES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _leaves(reader) -> list:
    got = _LEAVES.get(reader)
    if got is None:
        got = _LEAVES[reader] = [(sub, offset, fastrank.small_segment_terms(sub))
                                 for sub, offset in reader.leaf_readers()]
    return got


def term_docs(reader, fieldname: str, text: str) -> np.ndarray | None:
    """Documents with the term, segment by segment; None where a segment is
    not one ``fastrank.doc_ids`` reads."""
    if reader.is_atomic():
        return fastrank.doc_ids(reader, fieldname, text)
    if fieldname not in reader.schema:
        return docsets.NONE
    try:        # the same bytes in every segment: found once
        key = (fieldname, reader.schema[fieldname].to_bytes(text))
    except ValueError:
        return docsets.NONE
    parts = []
    for sub, offset, small in _leaves(reader):
        if small is not None and key not in small:
            continue
        docs = fastrank.doc_ids(sub, fieldname, key[1])
        if docs is None:
            return None
        if len(docs):
            parts.append(docs + offset)
    return np.concatenate(parts) if parts else docsets.NONE


def matching_docs(searcher, q: wq.Query, deadline: float | None = None,
                  memo: dict | None = None) -> np.ndarray:
    """Every document ``q`` matches, without scoring, as a document set
    (``search.store.docsets``: ascending document numbers).

    Whoosh's ``docs_for_query`` merges all postings of a large OR through its
    matchers; reading each term's postings a block at a time (or as the
    ranking keeps them) is many times faster, and an OR of terms is what
    ranked queries are.  A phrase inside an OR adds nothing when its words
    are OR'd beside it.

    Reading postings costs at most one pass over the index; matching phrases
    document by document has no such bound, so past ``deadline`` (a
    ``time.monotonic()`` value) that part raises ``TimeLimit``.  ``memo``
    (a dict): the documents of each query and sub-query matched so far in
    one query's matching, looked up before matching again.
    """
    if memo is None:
        return _matching_docs(searcher, q, deadline, None)
    # One query's parts recur (a concept's documents are part of the matches'
    # query and are asked for again on their own): each is matched once.
    key = memo_key(q, memo.setdefault(_KEYS, {}))
    got = memo.get(key)
    if got is None:
        got = memo[key] = _matching_docs(searcher, q, deadline, memo)
    return got


# Where a memo keeps each query's key, by the query object's id (the query
# kept beside it, so that the id is not reused while the memo lives).
_KEYS = object()


def memo_key(q: wq.Query, keys: dict) -> str:
    """A text equal for equal queries, made once per query object.

    Whoosh hashes a compound query as the XOR of its parts and compares it
    part by part in Python, so a dict keyed by the queries themselves spends
    a long query's time in ``__eq__``; a string hashes once and compares as
    bytes."""
    known = keys.get(id(q))
    if known is not None:
        return known[1]
    if type(q) is wq.Term:
        # Its repr, without Whoosh's Python-level __repr__.
        key = f"Term:{q.fieldname!r},{q.text!r}^{q.boost!r}"
        keys[id(q)] = (q, key)
        return key
    children = list(q.children())
    if children:
        # What else tells two such queries apart (a span's slop, say).
        settings = sorted((name, repr(value)) for name, value in vars(q).items()
                          if not name.startswith("_") and not _holds_queries(value))
        inner = ",".join(memo_key(c, keys) for c in children)
        key = f"{type(q).__name__}{settings!r}({inner})"
    else:
        key = f"{type(q).__name__}:{q!r}^{q.boost!r}"
    keys[id(q)] = (q, key)
    return key


def _holds_queries(value) -> bool:
    if isinstance(value, wq.Query):
        return True
    return isinstance(value, (list, tuple)) and any(isinstance(v, wq.Query) for v in value)


def _matching_docs(searcher, q: wq.Query, deadline: float | None, memo: dict | None) -> np.ndarray:
    reader = searcher.reader()
    if isinstance(q, wq.Every):
        return every_document(reader)
    if isinstance(q, wq.Term):
        docs = term_docs(reader, q.fieldname, q.text)
        if docs is not None:
            return docs
        if (q.fieldname, q.text) not in reader:
            return docsets.NONE
        return docsets.of(reader.postings(q.fieldname, q.text).all_ids())
    if type(q) is wq.Prefix:
        docs = prefix_docs(reader, q.fieldname, q.text)
        if docs is not None:
            return docs
    if isinstance(q, wq.Or):
        siblings = {(t.fieldname, t.text) for t in q.subqueries if isinstance(t, wq.Term)}
        phrases = [sub for sub in q.subqueries if type(sub) is wq.Phrase and sub.words
                   and not all((sub.fieldname, w) in siblings for w in sub.words)]
        found = docsets.union([matching_docs(searcher, sub, deadline, memo)
                               for sub in q.subqueries if type(sub) is not wq.Phrase],
                              reader.doc_count_all())
        for phrase in phrases:
            # Only documents with every word of the phrase, and not found by
            # the rest already (a word's exact text is mostly that word),
            # need its positions read.
            words = [term_docs(reader, phrase.fieldname, w) for w in phrase.words]
            if any(w is None for w in words):
                found = docsets.union([found, matching_docs(searcher, phrase, deadline, memo)],
                                      reader.doc_count_all())
                continue
            candidates = docsets.minus(docsets.intersection(words), found)
            if len(candidates):
                found = docsets.union([found, _phrase_among(searcher, phrase, candidates,
                                                            deadline, memo)],
                                      reader.doc_count_all())
        return found
    if isinstance(q, wq.AndMaybe):
        return matching_docs(searcher, q.a, deadline, memo)
    if isinstance(q, wq.AndNot):
        return docsets.minus(matching_docs(searcher, q.a, deadline, memo),
                             matching_docs(searcher, q.b, deadline, memo))
    if isinstance(q, wq.And):
        return docsets.intersection([matching_docs(searcher, sub, deadline, memo)
                                     for sub in q.subqueries])
    if deadline is None:
        return docsets.of(searcher.docs_for_query(q))
    # Phrases and spans match document by document: watch the clock as they go.
    docs = []
    for n, docnum in enumerate(searcher.docs_for_query(q)):
        docs.append(docnum)
        if n % 64 == 0 and time.monotonic() > deadline:
            raise TimeLimit
    return docsets.of(docs)
