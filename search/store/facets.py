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
import os
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
# The tables of one segment added to a live index (``search.store.writing``).
SEGMENT_FILE = "facets-{}.pickle"


def segment_file(segment_id: str) -> str:
    return SEGMENT_FILE.format(segment_id)


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
        shown = order[:limit]
        out = list(zip(map(self.values.__getitem__, shown.tolist()), counts[shown].tolist()))
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


class _DocsByValue:
    """Per value index, its documents, found when first asked for (a composed
    table holds its documents per value only as ``first`` and ``more``)."""

    def __init__(self, first: np.ndarray, more: dict, counts: np.ndarray):
        self._first, self._more, self._counts = first, more, counts
        self._more_docs = np.array(sorted(more), dtype=np.int64)

    def __len__(self):
        return len(self._counts)

    def __getitem__(self, i: int) -> np.ndarray:
        docs = np.flatnonzero(self._first == i)
        if self._more:
            extra = [d for d in self._more_docs.tolist() if i in self._more[d]]
            if extra:
                docs = np.union1d(docs, np.array(extra, dtype=np.int64))
        return docs


class ComposedFacetTable(FacetTable):
    """The table of a whole index of several segments: each segment's table
    (``parts``: ``(first document number, table or None)``), their values
    merged, their deleted documents left out (``deleted``: whole-index
    document numbers).  Composed with numpy when a generation opens."""

    def __init__(self, parts, doc_count: int, deleted: np.ndarray):
        values = sorted(set().union(*(t.values for _, t in parts if t is not None)))
        index_of = {v: i for i, v in enumerate(values)}
        first = np.full(doc_count, NO_VALUE, dtype=np.int32)
        more: dict[int, tuple[int, ...]] = {}
        for offset, table in parts:
            if table is None or not len(table.first):
                continue
            remap = np.array([index_of[v] for v in table.values] + [NO_VALUE], dtype=np.int32)
            # NO_VALUE (-1) picks the last entry of ``remap``: NO_VALUE again.
            first[offset:offset + len(table.first)] = remap[table._first]
            for d, extra in table.more.items():
                more[offset + d] = tuple(int(remap[i]) for i in extra)
        if len(deleted):
            first[deleted] = NO_VALUE
            for d in deleted.tolist():
                more.pop(d, None)
        counts = np.bincount(first[first != NO_VALUE], minlength=len(values)).astype(np.int64)
        for extra in more.values():
            for i in extra:
                counts[i] += 1
        self.values = values
        self.docs_by_value = _DocsByValue(first, more, counts)
        self.first = first
        self.more = more
        self.index_of = index_of
        self.totals = Counter({v: int(n) for v, n in zip(values, counts.tolist()) if n})
        self._first = first
        self._more_docs = np.array(sorted(more), dtype=np.int64)
        self._docs_of = {}
        self._totals = counts
        self._in_order = True
        self._live = doc_count - len(deleted)

    def counts(self, docs) -> np.ndarray:
        docs = docsets.of(docs)
        if len(docs) == self._live and self._live == len(self.first):
            return self._totals
        return super().counts(docs)

    def __getstate__(self):
        raise TypeError("a composed facet table is made when an index opens, never saved")


def compose(parts: list[tuple[int, int, dict | None]], doc_count: int,
            deleted: np.ndarray) -> dict:
    """The tables and date keys of a whole index from its segments' saved data
    (``parts``: ``(first document number, document count, data or None)``)."""
    names = sorted({n for _, _, data in parts if data for n in data["tables"]})
    dates = np.zeros(doc_count, dtype=np.int64)
    for offset, count, data in parts:
        if data and len(data["date_keys"]):
            dates[offset:offset + count] = np.frombuffer(data["date_keys"], dtype=np.int64) \
                if isinstance(data["date_keys"], array) else data["date_keys"]
    tables = {name: ComposedFacetTable(
        [(offset, data["tables"].get(name) if data else None) for offset, _, data in parts],
        doc_count, deleted) for name in names}
    return {"format": FORMAT, "doc_count": doc_count, "date_keys": dates, "tables": tables}


def build(reader, fieldnames) -> dict:
    """Every facet table and the documents' date keys, from a built index."""
    doc_count = reader.doc_count_all()
    dates = array("q")
    if doc_count and "date_key" in reader.schema:
        col = reader.column_reader("date_key")
        dates = array("q", (col[d] for d in range(doc_count)))
    return {"format": FORMAT, "doc_count": doc_count, "date_keys": dates,
            "tables": {name: FacetTable.from_postings(reader, name) for name in fieldnames}}


def save(generation: Path, data: dict, name: str = FILE) -> None:
    # Written aside and renamed: the name may be a link to a file of the live
    # generation (``search.store.writing``), which must not change.
    partial = generation / (name + ".part")
    with open(partial, "wb") as fh:
        pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, generation / name)


def _read(generation: Path, doc_count: int, name: str = FILE) -> dict | None:
    """The tables saved with ``generation``, or None (an index built before
    they were saved, or one that does not agree with the index)."""
    raw = checksums.read_saved(generation, name)
    if raw is None:
        return None
    # The file is part of the index, trusted as Whoosh trusts its own
    # pickled table of contents.  Pausing the collector while millions of
    # small objects are made halves the time it takes.
    enabled = gc.isenabled()
    gc.disable()
    try:
        data = checksums.unpickle_saved(generation, name, raw, saved.loads)
    finally:
        if enabled:
            gc.enable()
    if not isinstance(data, dict) or data.get("format") != FORMAT \
            or data.get("doc_count") != doc_count:
        return None
    return data


# What the build saved in a generation (see ``_read``), read once per file version.
load = ReadOnce(FILE, _read)


# A segment's tables, read once per file: a generation made by a change
# holds the unchanged segments' files as links to the same files, so they
# are not read again.
_segment_tables = ReadOnce(None, _read)


def load_file(generation: Path, name: str, doc_count: int) -> dict | None:
    """The tables saved in the file ``name`` of ``generation``, for a segment
    of ``doc_count`` documents (None when absent or not that segment's)."""
    return _segment_tables(generation, doc_count, name)
