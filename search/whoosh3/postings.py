"""A term's postings as Whoosh's W3 codec stores them, decoded a block at a time.

Whoosh's matchers hand postings out one at a time, three calls each; the
bulk readers (``search.rank``) take them a block at a time as numpy arrays.
This module owns how the W3 codec lays them out: the postings file (``.pst``)
holds, after a four-byte magic, for each term a run of blocks of at most 128
postings, each a length (negative for the last), a pickled header ``(count,
last id, ..., compression, ...)`` and a pickled, maybe zlib-compressed,
``(id deltas, weights, position values)``; a term in few documents keeps its
postings inlined in its term-table entry instead (``W3TermInfo.is_inlined``).

The API:

* ``is_plain_segment(reader)``: a ``SegmentReader`` of the W3 codec, the
  only reader the functions below read;
* ``segment_key(reader)``: what names a segment's files for as long as they
  exist (a key for what is kept of a segment across readers);
* ``term_info(reader, fieldname, btext)``: the term's entry (``KeyError``
  when the segment lacks it);
* ``TermBlocks(reader, terminfo)``: a term's blocks, their last ids and
  ``read(i) -> (ids, weights, values)``;
* ``term_doc_ids(reader, terminfo)``: every document of the term;
* ``read_every_block(matcher)``: decode all of a matcher's postings (a
  whole-index check).
"""

from __future__ import annotations

import io
import pickle
import struct
import zlib

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec
from whoosh.reading import SegmentReader

__all__ = ["NotW3Postings", "TermBlocks", "decode_block", "is_plain_segment",
           "read_every_block", "segment_key", "term_doc_ids", "term_info"]

_INT = struct.Struct("!i")


class NotW3Postings(Exception):
    """A term's postings do not start with the W3 magic: another format."""


def is_plain_segment(reader) -> bool:
    """Whether ``reader`` reads one segment of the W3 codec (not a multi-
    segment reader, not another codec)."""
    return type(reader) is SegmentReader and isinstance(reader._codec, W3Codec)


def segment_key(reader) -> tuple:
    """The segment's id and document count: its files never change once
    written (deletions are kept apart), so what is read of them can be
    shared by every reader of the segment, in every generation of the index
    that holds it (a change links the files it keeps).  The id is random,
    sixteen letters and digits: segments of other indexes have others.
    ``AttributeError`` for a reader that is not one segment's."""
    return (reader._segment.segment_id(), reader.doc_count_all())


def term_info(reader, fieldname: str, btext: bytes):
    """The term's ``W3TermInfo`` (``KeyError`` when the segment lacks it),
    read from the term table without the reader's checks of the field."""
    return reader._terms.term_info(fieldname, btext)


def decode_block(data: bytes, compression):
    """One block's ``(ids, weights, position values)``: ids as an ascending
    int64 array, the rest as the codec pickled them."""
    delta, weights, values = pickle.loads(zlib.decompress(data) if compression else data)
    return np.cumsum(np.array(delta, np.int64)), weights, values


def _block_headers(buf):
    """``(count, lastid, compression, data start, data end)`` of each block of
    a term's postings as the whoosh3 codec writes them."""
    stream = io.BytesIO(buf)
    pos = 4
    while True:
        (size,) = _INT.unpack_from(buf, pos)
        pos += 4
        end = pos + abs(size)
        stream.seek(pos)
        count, lastid, _, compression, _, _ = pickle.load(stream)
        yield count, lastid, compression, stream.tell(), end
        if size < 0 or end >= len(buf):
            return
        pos = end


def _postings_bytes(postfile, terminfo) -> bytes:
    offset, length = terminfo.extent()
    if isinstance(length, tuple):   # W3TermInfo.from_bytes leaves it unpacked
        length = length[0]
    buf = postfile.get(offset, length)
    if buf[:4] != WHOOSH3_HEADER_MAGIC:
        raise NotW3Postings
    return buf


def blocks_at(postfile, offset: int, length: int) -> list[np.ndarray]:
    """The document ids of each block of the postings at ``offset`` of the
    postings file (what a term-table entry points to)."""
    buf = postfile.get(offset, length)
    if buf[:4] != WHOOSH3_HEADER_MAGIC:
        raise NotW3Postings
    return [decode_block(buf[s:e], compression)[0]
            for _count, _lastid, compression, s, e in _block_headers(buf)]


class TermBlocks:
    """A term's postings in one segment, block by block: ``lastids`` (the
    last document of each block, ascending, to find the block of a
    document), ``len()`` blocks and ``read(i)``.  Read once, never changed:
    readers in several threads may share one.  ``NotW3Postings`` when the
    postings are in another format."""

    __slots__ = ("terminfo", "lastids", "_blocks", "_buf")

    def __init__(self, reader, terminfo):
        self.terminfo = terminfo
        if terminfo.is_inlined():
            self.lastids = np.array(terminfo.inlined_postings()[0][-1:], np.int64)
            self._blocks, self._buf = [None], None
            return
        buf = _postings_bytes(reader._terms._postfile, terminfo)
        lastids, blocks = [], []
        for _count, lastid, compression, start, end in _block_headers(buf):
            blocks.append((start, end, compression))
            lastids.append(lastid)
        self.lastids = np.array(lastids, np.int64)
        self._blocks, self._buf = blocks, buf

    def __len__(self) -> int:
        return len(self._blocks)

    def read(self, i: int):
        """Block ``i``: ids (int64 array), weights (None: 1.0 each) and
        position values."""
        if self._buf is None:           # inlined in the term table
            ids, weights, values = self.terminfo.inlined_postings()
            # ListMatcher reads empty (or no) weights as 1.0 each.
            return np.array(ids, np.int64), tuple(weights) if weights else None, values
        start, end, compression = self._blocks[i]
        return decode_block(self._buf[start:end], compression)


def term_doc_ids(reader, terminfo) -> np.ndarray | None:
    """Every document of the term, ascending; None when its postings are
    in another format."""
    if terminfo.is_inlined():
        return np.array(terminfo.inlined_postings()[0], np.int64)
    try:
        buf = _postings_bytes(reader._terms._postfile, terminfo)
    except NotW3Postings:
        return None
    return np.concatenate([decode_block(buf[start:end], compression)[0]
                           for _count, _lastid, compression, start, end in _block_headers(buf)])


def read_every_block(matcher) -> None:
    """Decode every posting of ``matcher``: ids, weights and values (raising
    whatever a damaged file makes Whoosh raise)."""
    if all(hasattr(matcher, n) for n in ("_read_ids", "_read_weights", "_read_values",
                                         "_next_block")):
        # Whoosh's block matcher: a block at a time, not a posting at a time.
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            matcher._read_values()
            matcher._next_block()
        return
    while matcher.is_active():
        matcher.id()
        matcher.weight()
        matcher.value()
        matcher.next()
