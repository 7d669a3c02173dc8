"""A shared memory of term look-ups, for every reader of one index generation.

Whoosh finds a term's entry in the terms file by hashing its key and reading
the hash table from the file, a few struct reads each time; a question asks
for a few hundred terms, and the query path looks each one up more than once
(is it there, its statistics, its postings).  The answers never change for
a generation, so every searcher of the generation shares them here.
A compact term table (``compact``) needs no memo: its readers share the
segment's cache of decoded blocks.
"""

from __future__ import annotations

MAX_KEYS = 200_000
_MISSING = object()


class CachedTermIndex:
    """Wraps a Whoosh terms hash table (``W3TermsReader._tindex``)."""

    def __init__(self, table, memo: dict):
        self._table = table
        self._memo = memo          # key bytes -> (value bytes, (pos, length)) or _MISSING

    def _entry(self, key):
        entry = self._memo.get(key)
        if entry is None:
            table = self._table
            try:
                pos, length = table.range_for_key(key)
                entry = (table.dbfile.get(pos, length), (pos, length))
            except KeyError:
                entry = _MISSING
            if len(self._memo) >= MAX_KEYS:
                self._memo.clear()     # simple bound: rare, and refilled by use
            self._memo[key] = entry
        return entry

    def __contains__(self, key) -> bool:
        return self._entry(key) is not _MISSING

    def __getitem__(self, key):
        entry = self._entry(key)
        if entry is _MISSING:
            raise KeyError(key)
        return entry[0]

    def range_for_key(self, key):
        entry = self._entry(key)
        if entry is _MISSING:
            raise KeyError(key)
        return entry[1]

    def get(self, key, default=None):
        entry = self._entry(key)
        return default if entry is _MISSING else entry[0]

    def __getattr__(self, name):
        # Everything else (key iteration, closing) is the table's own.
        return getattr(self._table, name)


def term_table(reader):
    """The term hash table a segment reader looks terms up in (a
    ``CachedTermIndex`` once shared), or None for readers of other codecs."""
    return getattr(getattr(reader, "_terms", None), "_tindex", None)


def share(searcher, memos: dict) -> None:
    """Make ``searcher``'s segment readers use the generation's ``memos``
    (one dict per segment).  Readers of other codecs are left alone."""
    for reader, _offset in searcher.reader().leaf_readers():
        table = term_table(reader)
        if table is None or isinstance(table, CachedTermIndex) \
                or not hasattr(table, "range_for_key") or not hasattr(table, "dbfile"):
            continue
        segment = getattr(reader, "_segment", None)
        key = segment.segment_id() if segment is not None else id(reader)
        reader._terms._tindex = CachedTermIndex(table, memos.setdefault(key, {}))


def remember_statistics(searcher) -> None:
    """Sum each field's length over the segments once per searcher: Whoosh
    sums it whenever a term's scorer is made (per term and segment), which
    over many segments costs more than the scoring.  A searcher's segments
    never change, nor do the sums."""
    totals: dict = {}
    summed = searcher.field_length

    def field_length(fieldname):
        total = totals.get(fieldname)
        if total is None:
            total = totals[fieldname] = summed(fieldname)
        return total
    searcher.field_length = field_length
