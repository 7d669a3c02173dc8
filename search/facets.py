"""Facet tables: which documents have which facet values, built with the index.

A results page counts the values of every facet over the matching documents
and narrows by selected values.  Reading that from the index's postings
costs seconds on a large index, so the build writes the tables once
(``facets.pickle`` in the index generation) and a query counts with them:
for each facet field, its values, per value the sorted document numbers, and
per document its first value (most documents have one), the rest aside.
"""

from __future__ import annotations

import gc
import pickle
from array import array
from collections import Counter
from itertools import chain
from pathlib import Path

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

    def count(self, docs: set[int]) -> Counter:
        """How many of ``docs`` have each value."""
        if len(docs) == len(self.first):
            return self.totals
        by_index = Counter(map(self.first.__getitem__, docs))
        by_index.pop(NO_VALUE, None)
        if self.more:
            extra = self.more.keys() & docs if len(docs) > len(self.more) else \
                [d for d in docs if d in self.more]
            by_index.update(chain.from_iterable(self.more[d] for d in extra))
        values = self.values
        return Counter({values[i]: c for i, c in by_index.items()})

    def docs_with(self, wanted) -> set[int]:
        """The documents having any of the ``wanted`` values."""
        out: set[int] = set()
        for v in wanted:
            i = self.index_of.get(v)
            if i is not None:
                out.update(self.docs_by_value[i])
        return out

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


def load(generation: Path, doc_count: int) -> dict | None:
    """The tables saved with ``generation``, or None (an index built before
    they were saved, or one that does not agree with the index)."""
    path = generation / FILE
    if not path.exists():
        return None
    # The file is part of the index, trusted as Whoosh trusts its own
    # pickled table of contents.  Pausing the collector while millions of
    # small objects are made halves the time it takes.
    enabled = gc.isenabled()
    gc.disable()
    try:
        with open(path, "rb") as fh:
            data = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        return None
    finally:
        if enabled:
            gc.enable()
    if not isinstance(data, dict) or data.get("format") != FORMAT \
            or data.get("doc_count") != doc_count:
        return None
    return data
