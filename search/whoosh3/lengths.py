"""The length column of a W3 segment: each document's field length, one byte.

Whoosh keeps a scorable field's length per document as one byte
(``length_to_byte``; ``doc_field_length`` decodes it) in a fixed-width
column of the segment's per-document file.  BM25F reads it for every
scored posting: here the column is read once a segment, as a numpy array
indexed by document number, and shared by the readers of every thread (a
segment's files never change once written).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

from .postings import segment_key

__all__ = ["field_length_bytes"]

# Length bytes by segment, the most recently used last.
_LENGTHS: "OrderedDict[tuple, dict]" = OrderedDict()
_LENGTHS_KEPT = 16
_LENGTHS_LOCK = threading.Lock()


def field_length_bytes(reader, fieldname: str) -> np.ndarray | None:
    """The field's length byte of every document of the segment (uint8, by
    document number; documents past the column's end read as its default,
    0), or None without a length column (Whoosh then takes length 1)."""
    key = segment_key(reader)
    with _LENGTHS_LOCK:
        per_segment = _LENGTHS.get(key)
        if per_segment is None:
            per_segment = _LENGTHS[key] = {}
            while len(_LENGTHS) > _LENGTHS_KEPT:
                _LENGTHS.popitem(last=False)
        else:
            _LENGTHS.move_to_end(key)
    if fieldname not in per_segment:
        col = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if col is None:
            per_segment[fieldname] = None
        else:
            total = reader.doc_count_all()
            count = min(col._count, total)
            lens = np.zeros(total, np.uint8)
            lens[:count] = np.frombuffer(col._dbfile.get(col._basepos, count), np.uint8)
            per_segment[fieldname] = lens
    return per_segment[fieldname]
