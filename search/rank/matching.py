"""The documents a Whoosh query matches, without scoring, as document sets."""

from __future__ import annotations

import time

import numpy as np
from whoosh import query as wq
from whoosh.collectors import TimeLimit

from ..store import docsets
from . import fastrank


def _every_document(reader) -> np.ndarray:
    """Every live document (browsing without a query starts from them)."""
    if reader.has_deletions():
        return docsets.of(reader.all_doc_ids())
    return np.arange(reader.doc_count_all(), dtype=np.int64)


def _prefix_docs(reader, fieldname: str, prefix: str) -> np.ndarray | None:
    """Documents with a term starting with ``prefix``, segment by segment;
    None where a segment is not one ``fastrank.prefix_doc_ids`` reads."""
    if reader.is_atomic():
        return fastrank.prefix_doc_ids(reader, fieldname, prefix)
    parts = []
    for sub, offset in reader.leaf_readers():
        docs = fastrank.prefix_doc_ids(sub, fieldname, prefix)
        if docs is None:
            return None
        parts.append(docs + offset)
    return docsets.union(parts, reader.doc_count_all())


def matching_docs(searcher, q: wq.Query, deadline: float | None = None) -> np.ndarray:
    """Every document ``q`` matches, without scoring, as a document set
    (``search.store.docsets``: ascending document numbers).

    Whoosh's ``docs_for_query`` merges all postings of a large OR through its
    matchers; reading each term's postings a block at a time (or as the
    ranking keeps them) is many times faster, and an OR of terms is what
    ranked queries are.  A phrase inside an OR adds nothing when its words
    are OR'd beside it.

    Reading postings costs at most one pass over the index; matching phrases
    document by document has no such bound, so past ``deadline`` (a
    ``time.monotonic()`` value) that part raises ``TimeLimit``.
    """
    reader = searcher.reader()
    if isinstance(q, wq.Every):
        return _every_document(reader)
    if isinstance(q, wq.Term):
        docs = fastrank.doc_ids(reader, q.fieldname, q.text)
        if docs is not None:
            return docs
        if (q.fieldname, q.text) not in reader:
            return docsets.NONE
        return docsets.of(reader.postings(q.fieldname, q.text).all_ids())
    if type(q) is wq.Prefix:
        docs = _prefix_docs(reader, q.fieldname, q.text)
        if docs is not None:
            return docs
    if isinstance(q, wq.Or):
        siblings = {(t.fieldname, t.text) for t in q.subqueries if isinstance(t, wq.Term)}
        return docsets.union([
            matching_docs(searcher, sub, deadline) for sub in q.subqueries
            if not (isinstance(sub, wq.Phrase)
                    and all((sub.fieldname, w) in siblings for w in sub.words))],
            reader.doc_count_all())
    if isinstance(q, wq.AndMaybe):
        return matching_docs(searcher, q.a, deadline)
    if isinstance(q, wq.AndNot):
        return docsets.minus(matching_docs(searcher, q.a, deadline),
                             matching_docs(searcher, q.b, deadline))
    if isinstance(q, wq.And):
        return docsets.intersection([matching_docs(searcher, sub, deadline)
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
