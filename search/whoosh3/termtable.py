"""A segment's term table read in bulk, as Whoosh's W3 codec lays it out.

The terms file (``.trm``) is a hash table whose entries sit in key order: a
key is the field's number (two bytes) and the term's UTF-8 bytes, a value
the term's ``W3TermInfo`` (a fixed head: flags, total weight, document
count, length bytes, top weight, first and last document; then either the
inlined postings, pickled, or the offset and length of its postings).  So
every term of a field, or of a prefix, lies side by side: read in one piece
and decoded here, a scan costs microseconds a term instead of a hash look-up
and three file reads each.

* ``field_frequencies(reader, fieldname, min_df, keep)``: every term of a
  field with its document count;
* ``prefix_doc_ids(reader, fieldname, prefix)``: every document holding a
  term that starts with ``prefix``.

A compact term table (``compact``) is read block by block, to the same
answers.  Both answer None where the reader is not one the scan can read (another
codec, a Whoosh whose term table changed): the caller then asks Whoosh.
"""

from __future__ import annotations

import pickle
import struct

import numpy as np
from whoosh.codec.whoosh3 import W3TermInfo, W3TermsReader
from whoosh.filedb.filetables import _lengths

from .compact import table_of
from .postings import NotW3Postings, blocks_at

__all__ = ["field_frequencies", "prefix_doc_ids"]

_TERMINFO = W3TermInfo._struct     # the fixed head of a term-table value
_EXTENT = struct.Struct("!qi")     # postings offset and length, after the head
_KEY_VALUE_LENGTHS = _lengths      # key and value length of each entry
_DOC_FREQUENCY = struct.Struct("!I")    # after the flags (B) and total weight (f)


def _table(terms):
    table = terms._tindex
    return getattr(table, "_table", table)      # termcache.CachedTermIndex wraps it


def field_frequencies(reader, fieldname: str, min_df: int, keep=None) -> dict[str, int] | None:
    """Every term of ``fieldname`` in at least ``min_df`` documents, with its
    document count, read from the term table in one pass; ``keep``: a
    compiled pattern the terms must match in full.  None: not a W3 term table."""
    table = table_of(reader)
    if table is not None:
        return _compact_field_frequencies(table, fieldname, min_df, keep)
    try:
        terms = reader._terms
        if not isinstance(terms, W3TermsReader):
            return None
        table = terms._tindex
        fnum = terms._fieldmap[fieldname]
        prefix = struct.pack("!H", fnum)
        start = table.closest_key_pos(prefix)
        if start is None:
            return {}
        stop = table.closest_key_pos(struct.pack("!H", fnum + 1))
        stop = table.endofdata if stop is None else stop
        buf = getattr(table.dbfile, "_buf", None)
        # A memory-mapped term file is read in place, not copied.
        data = buf[start:stop] if isinstance(buf, memoryview) else table.dbfile.get(start, stop - start)
    except Exception:       # another reader or a Whoosh that changed: the slow way
        return None
    unpack_lengths = _KEY_VALUE_LENGTHS.unpack_from
    lsize = _KEY_VALUE_LENGTHS.size
    unpack_df = _DOC_FREQUENCY.unpack_from
    out = {}
    pos, end = 0, len(data)
    while pos < end:
        keylen, datalen = unpack_lengths(data, pos)
        keypos = pos + lsize
        datapos = keypos + keylen
        df = unpack_df(data, datapos + 5)[0]
        if df >= min_df:
            term = str(data[keypos + 2:datapos], "utf-8")
            if keep is None or keep.fullmatch(term):
                out[term] = df
        pos = datapos + datalen
    return out


def prefix_doc_ids(reader, fieldname: str, prefix: str) -> np.ndarray | None:
    """Every document holding a term of the field that starts with ``prefix``
    (what Whoosh's ``Prefix`` query matches), ascending and distinct (an
    empty array when no term has the prefix); None where the term table is
    not one read here.  A term in one or two documents names them in its
    entry's head; more, inlined or in the postings file."""
    terms = reader._terms
    compact = table_of(reader)
    if compact is not None:
        return _compact_prefix_doc_ids(reader, compact, fieldname, prefix)
    table = _table(terms)
    if not all(hasattr(table, name) for name in ("closest_key_pos", "endofdata", "dbfile")):
        return None
    try:
        start_key = terms._keycoder(fieldname, reader.schema[fieldname].to_bytes(prefix))
    except ValueError:
        return np.empty(0, np.int64)
    start = table.closest_key_pos(start_key)
    if start is None:
        return np.empty(0, np.int64)
    # No UTF-8 text holds the byte 0xff: every key with the prefix sorts below this.
    end = table.closest_key_pos(start_key + b"\xff")
    end = table.endofdata if end is None else end
    region = table.dbfile.get(start, end - start)
    postfile = terms._postfile
    few: list[int] = []
    blocks: list[np.ndarray] = []
    pos, head = 0, _TERMINFO.size
    while pos < len(region):
        keylen, datalen = _KEY_VALUE_LENGTHS.unpack_from(region, pos)
        value = pos + _KEY_VALUE_LENGTHS.size + keylen
        inlined, _weight, count, _minlen, _maxlen, _maxweight, first, last = \
            _TERMINFO.unpack_from(region, value)
        if count <= 2:
            few.append(first)
            if count == 2:
                few.append(last)
        elif inlined:
            few.extend(pickle.loads(region[value + head:value + datalen])[0])
        else:
            offset, length = _EXTENT.unpack_from(region, value + head)
            try:
                blocks += blocks_at(postfile, offset, length)
            except NotW3Postings:
                return None
        pos = value + datalen
    return np.unique(np.concatenate(blocks + [np.array(few, np.int64)]))


def _compact_field_frequencies(table, fieldname, min_df, keep) -> dict[str, int]:
    out = {}
    for b in table.field_blocks(fieldname):
        block = table.decode(b)
        for key, df in zip(block.keys, block.dfs):
            if df >= min_df:
                term = str(key[2:], "utf-8")
                if keep is None or keep.fullmatch(term):
                    out[term] = df
    return out


def _compact_prefix_doc_ids(reader, table, fieldname, prefix) -> np.ndarray | None:
    try:
        start_key = reader._terms._keycoder(fieldname, reader.schema[fieldname].to_bytes(prefix))
    except ValueError:
        return np.empty(0, np.int64)
    postfile = reader._terms._postfile
    few: list[int] = []
    blocks: list[np.ndarray] = []
    for block, i in table.entries_from(start_key, start_key + b"\xff"):
        count = block.dfs[i]
        if count <= 2:
            first, last, _inlined = block.min_max_ids(i)
            few.append(first)
            if count == 2:
                few.append(last)
            continue
        info = block.term_info(i)
        if info.is_inlined():
            few.extend(info.inlined_postings()[0])
        else:
            try:
                blocks += blocks_at(postfile, block.pst_offsets[i], block.pst_lengths[i])
            except NotW3Postings:
                return None
    return np.unique(np.concatenate(blocks + [np.array(few, np.int64)]))
