"""Sets of documents as sorted numpy arrays of document numbers.

A query's matching set is every document of its terms: tens of thousands on
a large index, narrowed by filters, counted by facets, ranked within.  Held
as ascending, distinct ``int64`` arrays, a union or an intersection is a few
vectorised passes instead of a Python operation per document, and facets
and ranking index with the array as it is.  Arrays handed out here may be
shared (a term's postings kept for the next queries): never change one in
place.
"""

from __future__ import annotations

from functools import reduce

import numpy as np

NONE = np.empty(0, np.int64)
NONE.flags.writeable = False


def of(docs) -> np.ndarray:
    """Any collection of document numbers as a document set."""
    if isinstance(docs, np.ndarray):
        return docs
    if not isinstance(docs, (set, frozenset, dict)):
        return np.unique(np.fromiter(docs, np.int64))
    out = np.fromiter(docs, np.int64, len(docs))
    out.sort()
    return out


def within(ids: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Whether each of ``ids`` (any order) is in the set ``docs``."""
    if not len(docs) or not len(ids):
        return np.zeros(len(ids), bool)
    top = int(docs[-1])
    if top < MARKS_PER_LOOKUP * len(ids) * int(len(docs)).bit_length():
        # Many look-ups: marking the set in an array as long as its greatest
        # number costs less than a binary search for each (a question's
        # matches and its concepts' are tens of thousands of documents).
        marks = np.zeros(top + 1, bool)
        marks[docs] = True
        if int(ids.max()) <= top:
            return marks[ids]
        found = np.zeros(len(ids), bool)
        low = ids <= top
        found[low] = marks[ids[low]]
        return found
    pos = np.searchsorted(docs, ids)
    np.minimum(pos, len(docs) - 1, out=pos)
    return docs[pos] == ids


# How many array elements marking may cost per step of one binary search.
MARKS_PER_LOOKUP = 16


def union(parts: list[np.ndarray], doc_count: int) -> np.ndarray:
    """Documents in any of ``parts``.  Many large parts: marked in one array
    of the index's size, which costs less than sorting them together."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return NONE
    if len(parts) == 1:
        return parts[0]
    total = sum(len(p) for p in parts)
    if total * 64 < doc_count:
        return np.unique(np.concatenate(parts))
    marks = np.zeros(doc_count, bool)
    for p in parts:
        marks[p] = True
    return np.flatnonzero(marks)


def intersection(parts: list[np.ndarray]) -> np.ndarray:
    """Documents in every one of ``parts``."""
    if not parts:
        return NONE
    parts = sorted(parts, key=len)
    return reduce(lambda a, b: a[within(a, b)], parts[1:], parts[0])


def minus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Documents of ``a`` not in ``b``."""
    if not len(a) or not len(b):
        return a
    return a[~within(a, b)]
