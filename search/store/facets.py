"""Facet tables: which documents have which facet values, built with the index.

A results page counts the values of every facet over the matching documents
and narrows by selected values.  Reading that from the index's postings
costs seconds on a large index, so the build writes the tables once
(``facets.pickle`` in the index generation) and a query counts with them:
for each facet field, its values, per value the sorted document numbers, and
per document its first value (most documents have one), the rest aside.

Counting runs in numpy: a question can match tens of thousands of documents
and a facet such as author has thousands of values, which counted one
document at a time in Python took longer than ranking.
"""

from __future__ import annotations

import gc
import pickle
from array import array
from collections import Counter
from itertools import chain
from pathlib import Path

import numpy as np

from . import checksums, docsets, saved
from .saved import ReadOnce

FILE = "facets.pickle"
FORMAT = 1
NO_VALUE = -1


class FacetTable:
    """The values of one facet field, per document and per value."""

    def __init__(self, values: list[str], docs_by_value: list[array], first: array,
                 more: dict[int, tuple[int, ...]]):
        self.values = values
        self.docs_by_value = docs_by_value
        self.first = first            # per document: index of its first value, or NO_VALUE
        self.more = more              # document -> indexes of its other values
        self.index_of = {v: i for i, v in enumerate(values)}
        self.totals = Counter({v: len(d) for v, d in zip(values, docs_by_value)})
        self._first = np.asarray(first, dtype=np.int32)
        self._more_docs = np.array(sorted(more), dtype=np.int64)
        self._docs_of: dict[int, np.ndarray] = {}     # value index: its documents
        self._totals = np.array([len(d) for d in docs_by_value], dtype=np.int64)
        # The lexicon's order; facets of dates list their values newest first.
        self._in_order = all(a < b for a, b in zip(values, values[1:]))

    @classmethod
    def from_postings(cls, reader, fieldname: str) -> "FacetTable":
        doc_count = reader.doc_count_all()
        values: list[str] = []
        docs_by_value: list[array] = []
        if fieldname in reader.indexed_field_names():
            for raw in reader.lexicon(fieldname):
                values.append(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
                docs_by_value.append(array("i", reader.postings(fieldname, raw).all_ids()))
        first = array("i", [NO_VALUE]) * doc_count
        more: dict[int, list[int]] = {}
        for i, docs in enumerate(docs_by_value):
            for d in docs:
                if first[d] == NO_VALUE:
                    first[d] = i
                else:
                    more.setdefault(d, []).append(i)
        return cls(values, docs_by_value, first, {d: tuple(v) for d, v in more.items()})

    def counts(self, docs) -> np.ndarray:
        """How many of ``docs`` (a document set, ``search.store.docsets``) have each
        value, by value index."""
        docs = docsets.of(docs)
        if len(docs) == len(self.first):
            return self._totals
        firsts = self._first[docs]
        counts = np.bincount(firsts[firsts != NO_VALUE], minlength=len(self.values))
        if self.more:
            if len(docs) > len(self._more_docs):
                extra = self._more_docs[docsets.within(self._more_docs, docs)]
            else:
                extra = docs[docsets.within(docs, self._more_docs)]
            for i in chain.from_iterable(self.more[d] for d in extra.tolist()):
                counts[i] += 1
        return counts

    def count(self, docs) -> Counter:
        """How many of ``docs`` have each value."""
        counts = self.counts(docs)
        found = np.flatnonzero(counts)
        return Counter(dict(zip(map(self.values.__getitem__, found.tolist()),
                                counts[found].tolist())))

    def top(self, docs, limit: int, by_value: bool = False,
            always: list[str] = ()) -> tuple[list[tuple[str, int]], int]:
        """The ``limit`` values most of ``docs`` have, as ``(value, count)``,
        most first and ties by value (``by_value``: greatest value first, as
        dates are listed), then the ``always`` values not among them (with
        their counts, maybe 0); and how many values ``docs`` have besides."""
        counts = self.counts(docs)
        found = np.flatnonzero(counts)
        if by_value:
            if self._in_order:
                order = found[::-1]
            else:
                order = np.array(sorted(found.tolist(), key=self.values.__getitem__, reverse=True),
                                 dtype=np.int64)
        elif self._in_order:
            order = found[np.lexsort((found, -counts[found]))]
        else:
            order = np.array(sorted(found.tolist(), key=lambda i: (-counts[i], self.values[i])),
                             dtype=np.int64)
        shown = order[:limit].tolist()
        out = [(self.values[i], int(counts[i])) for i in shown]
        listed = {v for v, _ in out}
        extra = 0
        for v in dict.fromkeys(always):
            if v not in listed:
                i = self.index_of.get(v)
                count = 0 if i is None else int(counts[i])
                out.append((v, count))
                extra += count > 0
        return out, len(found) - len(shown) - extra

    def docs_with(self, wanted) -> np.ndarray:
        """The documents having any of the ``wanted`` values (a document set)."""
        parts = []
        for v in wanted:
            i = self.index_of.get(v)
            if i is not None:
                docs = self._docs_of.get(i)
                if docs is None:
                    # Postings order: ascending already.
                    docs = self._docs_of[i] = np.asarray(self.docs_by_value[i], np.int64)
                    docs.flags.writeable = False
                parts.append(docs)
        return docsets.union(parts, len(self.first))

    def values_of(self, doc: int) -> tuple[str, ...]:
        i = self.first[doc]
        if i == NO_VALUE:
            return ()
        return (self.values[i],) + tuple(self.values[j] for j in self.more.get(doc, ()))

    def __getstate__(self):
        return (self.values, self.docs_by_value, self.first, self.more)

    def __setstate__(self, state):
        self.__init__(*state)


def build(reader, fieldnames) -> dict:
    """Every facet table and the documents' date keys, from a built index."""
    doc_count = reader.doc_count_all()
    dates = array("q")
    if doc_count and "date_key" in reader.schema:
        col = reader.column_reader("date_key")
        dates = array("q", (col[d] for d in range(doc_count)))
    return {"format": FORMAT, "doc_count": doc_count, "date_keys": dates,
            "tables": {name: FacetTable.from_postings(reader, name) for name in fieldnames}}


def save(generation: Path, data: dict) -> None:
    with open(generation / FILE, "wb") as fh:
        pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _read(generation: Path, doc_count: int) -> dict | None:
    """The tables saved with ``generation``, or None (an index built before
    they were saved, or one that does not agree with the index)."""
    raw = checksums.read_saved(generation, FILE)
    if raw is None:
        return None
    # The file is part of the index, trusted as Whoosh trusts its own
    # pickled table of contents.  Pausing the collector while millions of
    # small objects are made halves the time it takes.
    enabled = gc.isenabled()
    gc.disable()
    try:
        data = checksums.unpickle_saved(generation, FILE, raw, saved.loads)
    finally:
        if enabled:
            gc.enable()
    if not isinstance(data, dict) or data.get("format") != FORMAT \
            or data.get("doc_count") != doc_count:
        return None
    return data


# What the build saved in a generation (see ``_read``), read once per file version.
load = ReadOnce(FILE, _read)
