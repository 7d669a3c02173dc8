"""Where the bytes of a segment's term table go, field by field.

A W3 term table (``.trm``) is a sequence of entries (a key and value length
header, the key: field number and term bytes, the value: a ``W3TermInfo``
head and either inlined postings or the offset and length of the term's
postings in ``.pst``), then one hash table per first hash byte (12 bytes a
slot) and an index of entry positions.  ``term_table_bytes(reader)`` reads
the entries once and adds them up per field, so that a reader of the
benchmark can see which part of the format holds the index's size, and what
a more compact one would save (``bench.index_size``).

A compact table (``compact``: ``.trb``) is reported in the same parts:
"lengths" are its blocks' counts and columns of lengths, "keys" the keys'
front-coded rests, "heads" the term infos, "pointers" the postings lengths;
each block's parts are its uncompressed bytes scaled to its size in the file.
"""

from __future__ import annotations

import struct
from collections import Counter

from whoosh.codec.whoosh3 import W3TermInfo, W3TermsReader
from whoosh.filedb.filetables import _lengths

from .compact import MAGIC, block_parts, table_of

__all__ = ["PARTS", "term_table_bytes"]

_HEAD = W3TermInfo._struct
_EXTENT = struct.Struct("!qi")
_FIELD = struct.Struct("!H")

# The parts of each field's entries, in the order reported.
PARTS = {
    "terms": "terms",
    "single": "terms in one document",
    "lengths": "entry headers (key and value lengths: 8 bytes an entry; compact: columns)",
    "keys": "keys (field number and term bytes)",
    "heads": "term info heads (23 bytes a term)",
    "inlined": "inlined postings (pickled ids, weights, positions)",
    "pointers": "pointers to postings (12 bytes)",
    "postings": "postings blocks in .pst",
}


def term_table_bytes(reader) -> dict[str, Counter] | None:
    """Per field of the segments of ``reader``: its entries' parts (``PARTS``)
    in bytes, and ``"(tables)"``: the hash tables, index and trailer of the
    files: hash slots, the index of entry positions, the rest (header,
    directory, extras).  Entries and these add up to the files' size.  None where a segment is not W3."""
    out: dict[str, Counter] = {}
    tables = Counter()
    leaves = [leaf for leaf, _offset in reader.leaf_readers()]
    for leaf in leaves:
        compact_table = table_of(leaf)
        if compact_table is not None:
            _compact_bytes(compact_table, out, tables)
            continue
        terms = getattr(leaf, "_terms", None)
        if not isinstance(terms, W3TermsReader):
            return None
        table = terms._tindex
        table = getattr(table, "_table", table)       # termcache wraps it
        names = {number: name for name, number in terms._fieldmap.items()}
        start, end = table.startofdata, table.endofdata
        data = table.dbfile.get(start, end - start)
        extras = getattr(table, "extras", {}) or {}
        itemsize = 8 if extras.get("indextype") == "q" else 4
        tables["hash slots (12 bytes each)"] += 12 * sum(n for _pos, n in table.tables)
        tables["index of entries"] += itemsize * int(extras.get("indexlen", 0))
        dbfile = table.dbfile
        here = dbfile.tell()
        dbfile.seek(0, 2)
        length = dbfile.tell() - table.startoffset
        dbfile.seek(here)
        # The rest: the file's header, the directory of hash tables, the
        # extras pickle and the trailer giving its length.
        tables["header, directory, extras"] += (length - (end - start)
                                                - 12 * sum(n for _pos, n in table.tables)
                                                - itemsize * int(extras.get("indexlen", 0)))
        pos, size, headsize = 0, _lengths.size, _HEAD.size
        while pos < len(data):
            keylen, valuelen = _lengths.unpack_from(data, pos)
            key = pos + size
            field = names[_FIELD.unpack_from(data, key)[0]]
            value = key + keylen
            inlined, _weight, count = _HEAD.unpack_from(data, value)[:3]
            parts = out.get(field)
            if parts is None:
                parts = out[field] = Counter()
            parts["terms"] += 1
            parts["single"] += count == 1
            parts["lengths"] += size
            parts["keys"] += keylen
            parts["heads"] += headsize
            if inlined:
                parts["inlined"] += valuelen - headsize
            else:
                parts["pointers"] += valuelen - headsize
                parts["postings"] += _EXTENT.unpack_from(data, value + headsize)[1]
            pos = value + valuelen
    out["(tables)"] = tables
    return out


def _compact_bytes(table, out: dict[str, Counter], tables: Counter) -> None:
    """A compact table's blocks by field and part; its header and trailer."""
    tables["compact: file header"] += len(MAGIC)
    tables["compact: block index and field map"] += table.trailer_bytes
    for b in range(len(table)):
        field = table.fieldnames[_FIELD.unpack_from(table.first_keys[b])[0]]
        parts = out.get(field)
        if parts is None:
            parts = out[field] = Counter()
        parts.update(block_parts(table, b))
        block = table.decode(b)
        parts["terms"] += len(block.keys)
        parts["single"] += block.dfs.count(1)
        parts["postings"] += sum(block.pst_lengths)
