"""The compact term table: a Whoosh codec whose terms file is sorted blocks.

Whoosh's W3 terms file (``.trm``) is a hash table of ``W3TermInfo`` records,
84 bytes a term on the poetry corpus; this codec (``CompactCodec``, a
``W3Codec``: the same per-document files, the same postings file read by the
same ``W3LeafMatcher``) keeps the terms in a file of its own (``.trb``) at
about a fifth of that:

* entries in key order (field number, term bytes), in blocks of at most
  ``BLOCK_ENTRIES`` that never span two fields, each block compressed with
  zlib when that makes it smaller;
* in a block: the number of entries, then five columns of varints (the
  length of the prefix each key shares with the one before, the length of
  the rest, the document count, the length of the term info, the length of
  the postings in ``.pst``), the keys' rests, and the term infos: flags, the
  statistics (a whole weight as a varint, a weight equal to the document
  count omitted), the first document and the span to the last, and the
  postings of a term in few documents inlined as id gaps, whole weights and
  position gaps;
* postings offsets are not stored: a term's postings follow the previous
  term's in ``.pst``, so a block records where its first term's start;
* after the blocks, a trailer: the field map and the block index (each
  block's first key, place in the file and postings offset), then its own
  length in the file's last eight bytes.

A look-up is a binary search of the block index and of the block's keys; a
decoded block is kept in a cache bounded in size, one per segment, shared by
every reader of the segment (the files never change once written).  The
terms reader answers ``W3TermInfo`` objects, so Whoosh's searcher, matchers
and the project's readers work unchanged.

Written by the parallel build (``CompactTermEncoder`` in its workers,
``CompactTermsFile`` in the writing process; ``search.store.parallel``) when
asked to (``term_table="compact"``); a segment's codec is pickled in the
index's table of contents by reference to ``CompactCodec``, so any process
that can import this module opens it, with ``whoosh.index.open_dir`` too.
Whoosh's own writer (updates, merges) keeps writing W3 segments beside it.
"""

from __future__ import annotations

import bisect
import mmap
import os
import pickle
import struct
import threading
import weakref
import zlib
from array import array
from collections import OrderedDict
from itertools import accumulate

import numpy as np
from whoosh.codec import base
from whoosh.codec.whoosh3 import W3Codec, W3TermInfo
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from .segment_writer import _TERMINFO, FieldInfo, TermEncoder, positions_value

__all__ = ["BLOCK_ENTRIES", "CompactCodec", "CompactTermEncoder", "CompactTermsFile",
           "CompactTermsReader", "TERM_TABLES", "codec_for", "is_compact", "table_of",
           "writers_for"]

TERM_TABLES = ("w3", "compact")
EXTENSION = ".trb"
MAGIC = b"ZHTB\x01"
# Entries per block: a look-up decodes a whole block (about 2 µs an entry);
# 128 would make the table 15% smaller and each first look-up four times slower.
BLOCK_ENTRIES = 32
ZLIB_LEVEL = 6
# Decoded blocks kept per segment (about 2 KB each).
BLOCKS_KEPT = 16384

_F32 = struct.Struct("<f")
_U64 = struct.Struct("<Q")
_USHORT = struct.Struct("!H")
_UINT = struct.Struct("!I")

# Flag bits of a term info.
_INLINED = 1
_VALUES_SHIFT = 1          # 2 bits: positions / none / whole counts / raw bytes
_WEIGHT_SHIFT = 3          # 2 bits: equal to the count / whole / float32
_WEIGHTS_SHIFT = 5         # 2 bits (inlined weights): none / whole / float32
_MAXWEIGHT_F32 = 128

_V_POSITIONS, _V_NONE, _V_COUNTS, _V_RAW = range(4)
_W_COUNT, _W_WHOLE, _W_F32 = range(3)


# Varints: seven bits a byte, low first, the high bit set on all but the last.

_SMALL = [bytes((i,)) for i in range(128)]


def _put(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _SMALL[n]
    out = bytearray()
    _put(out, n)
    return bytes(out)


# Below this many values a Python loop is faster than numpy's set-up.
_NUMPY_FROM = 64


def encode_varints(values) -> bytes:
    """Varints of non-negative integers (a sequence or an array); many at
    once without a Python loop per value."""
    if len(values) < _NUMPY_FROM:
        return b"".join([_SMALL[x] if x < 0x80 else _varint(x) for x in values])
    v = np.asarray(values, dtype=np.uint64)
    top = int(v.max())
    if top < 0x80:
        return v.astype(np.uint8).tobytes()
    sizes = np.ones(len(v), np.int64)
    for k in range(1, (top.bit_length() + 6) // 7):
        sizes += v >= (np.uint64(1) << np.uint64(7 * k))
    starts = np.cumsum(sizes) - sizes
    out = np.empty(int(sizes.sum()), np.uint8)
    for k in range(int(sizes.max())):
        mask = sizes > k
        byte = (v[mask] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (sizes[mask] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[mask] + k] = (byte | more).astype(np.uint8)
    return out.tobytes()


def decode_varints(buf, count: int) -> list[int]:
    """The first ``count`` varints of ``buf``."""
    if not count:
        return []
    if len(buf) == count:           # each byte a whole varint
        return list(buf)
    if count < _NUMPY_FROM * 4:
        out, pos = [], 0
        for _ in range(count):
            v, pos = _get(buf, pos)
            out.append(v)
        return out
    b = np.frombuffer(buf, np.uint8)
    ends = np.flatnonzero(b < 0x80)[:count]
    if len(ends) < count:
        raise ValueError("truncated varints")
    b = b[:ends[-1] + 1]
    starts = np.empty(count, np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    group = np.zeros(len(b), np.int64)
    group[starts[1:]] = 1
    group = np.cumsum(group)
    shift = (np.arange(len(b)) - starts[group]).astype(np.uint64) * np.uint64(7)
    parts = (b & 0x7F).astype(np.uint64) << shift
    return np.add.reduceat(parts, starts).tolist()


def _get(buf, pos: int) -> tuple[int, int]:
    b = buf[pos]
    if b < 0x80:
        return b, pos + 1
    n, shift = b & 0x7F, 7
    while True:
        pos += 1
        b = buf[pos]
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, pos + 1
        shift += 7


def _f32(x: float) -> float:
    return _F32.unpack(_F32.pack(x))[0]


def _whole(x: float) -> bool:
    return 0 <= x < 2 ** 53 and x == int(x)


# --- The codec -------------------------------------------------------------

class CompactCodec(W3Codec):
    """``W3Codec`` with the compact terms file (``.trb``) for its term table."""

    TERMS_EXT = EXTENSION

    def terms_reader(self, storage, segment):
        return CompactTermsReader(self, storage, segment)

    def field_writer(self, storage, segment):
        raise NotImplementedError(
            "Whoosh's writer writes W3 segments; the compact term table is written by "
            "the parallel build (search.whoosh3.compact.CompactTermsFile)")


def codec_for(term_table: str):
    """The codec a build writes its segment with: ``"w3"`` or ``"compact"``."""
    if term_table == "compact":
        return CompactCodec()
    if term_table == "w3":
        return W3Codec()
    raise ValueError(f"unknown term table {term_table!r}; use one of {', '.join(TERM_TABLES)}")


def writers_for(term_table: str):
    """``(codec, encoder class, terms file class)`` a build writes a segment
    with: ``"w3"`` (Whoosh's hash table) or ``"compact"``."""
    from .segment_writer import TermsFile
    if term_table == "compact":
        return CompactCodec(), CompactTermEncoder, CompactTermsFile
    return codec_for(term_table), TermEncoder, TermsFile


def is_compact(reader) -> bool:
    """Whether a segment reader's terms are in a compact table."""
    return isinstance(getattr(reader, "_terms", None), CompactTermsReader)


def table_of(reader) -> "CompactTable | None":
    terms = getattr(reader, "_terms", None)
    return terms.table if isinstance(terms, CompactTermsReader) else None


# --- Writing ---------------------------------------------------------------

class CompactTermEncoder(TermEncoder):
    """``TermEncoder`` whose term records are compact blocks: postings
    blocks go to ``pst`` as for W3; ``blocks`` collects ``(first key, block
    bytes, compressed, postings offset in pst)``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.blocks: list[tuple[bytes, bytes, bool, int]] = []
        self._keys: list[bytes] = []
        self._dfs: list[int] = []
        self._infos: list[bytes] = []
        self._pstlens: list[int] = []
        self._pst_base = 0
        self._values: dict[bytes, bytes | None] = {}
        self._single: dict[bytes, tuple[int, bytes]] = {}

    def add_term(self, field: FieldInfo, btext: bytes, ids: list[int], weights: list[float],
                 values: list[bytes]) -> None:
        key = _USHORT.pack(field.fieldid) + btext
        keys = self._keys
        if keys and (len(keys) >= BLOCK_ENTRIES or keys[0][:2] != key[:2]):
            self._flush()
            keys = self._keys
        if not keys:
            self._pst_base = len(self.pst)
        n = len(ids)
        if n >= self.inline_limit or self.inline_limit <= 1:
            start = len(self.pst)
            value, _patch = self._encode(field, ids, weights, values)
            _, weight, df, minbyte, maxbyte, maxweight, minid, maxid = \
                _TERMINFO.unpack_from(value)
            info = self._head(0, weight, df, minbyte, maxbyte, maxweight, minid, maxid, True)
            pstlen = len(self.pst) - start
        else:
            info, df = self._inlined(field, ids, weights, values), n
            pstlen = 0
        keys.append(key)
        self._dfs.append(df)
        self._infos.append(info)
        self._pstlens.append(pstlen)

    @staticmethod
    def _head(flags, weight, df, minbyte, maxbyte, maxweight, minid, maxid, span) -> bytearray:
        out = bytearray()
        tail = bytearray()
        if weight == df:
            pass
        elif _whole(weight):
            flags |= _W_WHOLE << _WEIGHT_SHIFT
            _put(tail, int(weight))
        else:
            flags |= _W_F32 << _WEIGHT_SHIFT
            tail += _F32.pack(weight)
        tail.append(minbyte)
        tail.append(maxbyte)
        if _whole(maxweight):
            _put(tail, int(maxweight))
        else:
            flags |= _MAXWEIGHT_F32
            tail += _F32.pack(maxweight)
        _put(tail, minid)
        if span and df > 1:
            _put(tail, maxid - minid)
        _put(out, flags)
        out += tail
        return out

    def _inlined(self, field: FieldInfo, ids, weights, values) -> bytes:
        # The statistics and tuples a W3 table's entry reads back as
        # (TermEncoder._inline and _inline1): float32 weights, length bytes
        # of the documents that have one.
        lbytes = field.lengths
        if len(ids) == 1:
            return self._inlined1(field, ids[0], weights[0], values[0])
        fw = array("f", weights)
        if lbytes is not None:
            lens = [lbytes[d] for d in ids]
            nonzero = [x for x in lens if x]
            minbyte = min(nonzero) if nonzero else 0
            maxbyte = max(nonzero) if nonzero else 0
        else:
            minbyte = maxbyte = 0
        weight = _f32(sum(fw))
        maxweight = max(weights)
        maxweight = _f32(maxweight if maxweight > 0 else 0)
        flags = _INLINED
        if min(fw) == max(fw) == 1.0:
            weights_kind, wbytes = 0, b""
        elif all(_whole(w) for w in fw):
            weights_kind, wbytes = _W_WHOLE, encode_varints([int(w) for w in fw])
        else:
            weights_kind, wbytes = _W_F32, np.asarray(fw, "<f4").tobytes()
        flags |= weights_kind << _WEIGHTS_SHIFT
        kind, vbytes = self._values_bytes(field, values)
        flags |= kind << _VALUES_SHIFT
        out = self._head(flags, weight, len(ids), minbyte, maxbyte, maxweight, ids[0], ids[-1],
                         False)
        out += encode_varints(list(map(int.__sub__, ids[1:], ids[:-1])))
        out += wbytes
        out += vbytes
        return bytes(out)

    def _inlined1(self, field: FieldInfo, docnum: int, w: float, v: bytes) -> bytes:
        """``_inlined`` of a term in one document (most terms)."""
        lbytes = field.lengths
        lb = lbytes[docnum] if lbytes is not None else 0
        if w == 1.0:
            # The usual case, in one piece: weight (equal to the count), the
            # length bytes, a maximum weight of 1, the document, its value.
            if field.fixedsize == 0 or not v:
                kind, vbytes = _V_NONE, b""
            else:
                found = self._single.get(v)
                if found is None:
                    if len(self._single) > 100_000:
                        self._single.clear()
                    found = self._single[v] = self._values_bytes(field, (v,))
                kind, vbytes = found
            return b"".join((_SMALL[_INLINED | kind << _VALUES_SHIFT], bytes((lb, lb, 1)),
                             _SMALL[docnum] if docnum < 0x80 else _varint(docnum), vbytes))
        flags = _INLINED
        weight = _f32(w)
        maxweight = _f32(w if w > 0 else 0)
        if _whole(weight):
            flags |= _W_WHOLE << _WEIGHTS_SHIFT
            wbytes = _varint(int(weight))
        else:
            flags |= _W_F32 << _WEIGHTS_SHIFT
            wbytes = _F32.pack(weight)
        if field.fixedsize == 0 or not v:
            kind, vbytes = _V_NONE, b""
        else:
            kind, vbytes = self._values_bytes(field, (v,))
        flags |= kind << _VALUES_SHIFT
        out = self._head(flags, weight, 1, lb, lb, maxweight, docnum, docnum, False)
        out += wbytes
        out += vbytes
        return bytes(out)

    def _values_bytes(self, field: FieldInfo, values) -> tuple[int, bytes]:
        if field.fixedsize == 0:
            return _V_NONE, b""
        kept = [v for v in values if v]
        if not kept:
            return _V_NONE, b""
        if len(kept) == len(values):
            memo = self._values
            parts = []
            for v in kept:
                enc = memo.get(v, False)
                if enc is False:
                    enc = memo[v] = _positions_bytes(v)
                    if len(memo) > 100_000:
                        memo.clear()
                if enc is None:
                    break
                parts.append(enc)
            else:
                return _V_POSITIONS, b"".join(parts)
            if field.fixedsize == 4 and all(len(v) == 4 for v in kept):
                return _V_COUNTS, encode_varints([_UINT.unpack(v)[0] for v in kept])
        out = bytearray()
        _put(out, len(kept))
        for v in kept:
            _put(out, len(v))
            out += v
        return _V_RAW, bytes(out)

    def _flush(self) -> None:
        keys = self._keys
        if not keys:
            return
        prefixes, rests = [], []
        prev = b""
        for key in keys:
            p = 0
            for x, y in zip(prev, key):
                if x != y:
                    break
                p += 1
            prefixes.append(p)
            rests.append(key[p:])
            prev = key
        infos = self._infos
        columns = encode_varints(prefixes + [len(r) for r in rests] + self._dfs
                                 + [len(i) for i in infos] + self._pstlens)
        head = bytearray()
        _put(head, len(keys))
        _put(head, len(columns))
        raw = b"".join([bytes(head), columns, *rests, *infos])
        packed = zlib.compress(raw, ZLIB_LEVEL)
        if len(packed) < len(raw):
            self.blocks.append((keys[0], packed, True, self._pst_base))
        else:
            self.blocks.append((keys[0], raw, False, self._pst_base))
        self._keys, self._dfs, self._infos, self._pstlens = [], [], [], []

    def output(self):
        """What a worker hands back: the postings and the blocks."""
        self._flush()
        return bytes(self.pst), self.blocks


def _positions_bytes(value: bytes) -> bytes | None:
    """A positions value (``segment_writer.positions_value``) as a varint
    count and position gaps; None when it does not read back identical."""
    if len(value) < 5:
        return None
    try:
        gaps = pickle.loads(value[4:] + b".")
    except Exception:  # noqa: BLE001 -- not a pickled list: kept raw
        return None
    if not isinstance(gaps, list) or not all(isinstance(g, int) and g >= 0 for g in gaps):
        return None
    positions, total = [], 0
    for g in gaps:
        total += g
        positions.append(total)
    if not positions or positions_value(positions) != value:
        return None
    out = bytearray()
    _put(out, len(gaps))
    out += encode_varints(gaps)
    return bytes(out)


class CompactTermsFile:
    """The ``.trb`` file, filled in key order from encoders' blocks."""

    def __init__(self, dbfile, fieldmap: dict[str, int]):
        self.dbfile = dbfile
        self.fieldmap = fieldmap
        dbfile.write(MAGIC)
        self.first_keys: list[bytes] = []
        self.offsets = array("q")
        self.pst_offsets = array("q")
        self.compressed = bytearray()

    def add_part(self, blocks, pst_base: int) -> None:
        """An encoder's blocks (``CompactTermEncoder.output``), its postings
        written at ``pst_base`` of the postings file."""
        dbfile = self.dbfile
        for first_key, data, compressed, pst_offset in blocks:
            self.first_keys.append(first_key)
            self.offsets.append(dbfile.tell())
            self.pst_offsets.append(pst_base + pst_offset)
            self.compressed.append(compressed)
            dbfile.write(data)

    def close(self) -> None:
        dbfile = self.dbfile
        self.offsets.append(dbfile.tell())
        trailer = pickle.dumps({
            "fieldmap": self.fieldmap,
            "first_keys": b"".join(self.first_keys),
            "first_key_lengths": array("I", map(len, self.first_keys)).tobytes(),
            "offsets": self.offsets.tobytes(),
            "pst_offsets": self.pst_offsets.tobytes(),
            "compressed": bytes(self.compressed),
        }, protocol=4)
        dbfile.write(trailer)
        dbfile.write(_U64.pack(len(trailer)))
        dbfile.close()


# --- Reading ---------------------------------------------------------------

class Block:
    """One decoded block: its keys, document counts, and where each term
    info (in ``data``) and each term's postings (in ``.pst``) are."""

    __slots__ = ("keys", "dfs", "info_starts", "pst_offsets", "pst_lengths", "data")

    def __init__(self, data: bytes, pst_offset: int):
        n, pos = _get(data, 0)
        size, pos = _get(data, pos)
        cols = decode_varints(data[pos:pos + size], 5 * n)
        pos += size
        prefixes, rests = cols[:n], cols[n:2 * n]
        keys = []
        prev = b""
        for p, r in zip(prefixes, rests):
            prev = prev[:p] + data[pos:pos + r]
            pos += r
            keys.append(prev)
        self.keys = keys
        self.dfs = cols[2 * n:3 * n]
        self.info_starts = list(accumulate(cols[3 * n:4 * n - 1], initial=pos))
        self.pst_lengths = cols[4 * n:]
        self.pst_offsets = list(accumulate(self.pst_lengths[:-1], initial=pst_offset))
        self.data = data

    def find(self, key: bytes) -> int:
        """The entry of ``key``, or -1."""
        i = bisect.bisect_left(self.keys, key)
        return i if i < len(self.keys) and self.keys[i] == key else -1

    def term_info(self, i: int) -> W3TermInfo:
        data = self.data
        df = self.dfs[i]
        flags, pos = _get(data, self.info_starts[i])
        kind = (flags >> _WEIGHT_SHIFT) & 3
        if kind == _W_COUNT:
            weight = float(df)
        elif kind == _W_WHOLE:
            weight, pos = _get(data, pos)
            weight = float(weight)
        else:
            weight = _F32.unpack_from(data, pos)[0]
            pos += 4
        minbyte, maxbyte = data[pos], data[pos + 1]
        pos += 2
        if flags & _MAXWEIGHT_F32:
            maxweight = _F32.unpack_from(data, pos)[0]
            pos += 4
        else:
            maxweight, pos = _get(data, pos)
            maxweight = float(maxweight)
        minid, pos = _get(data, pos)
        ti = W3TermInfo(weight, df, byte_to_length(minbyte), byte_to_length(maxbyte),
                        maxweight, minid)
        if flags & _INLINED:
            ids, pos = _ids(data, pos, minid, df)
            ti._maxid = ids[-1]
            weights, pos = _weights(data, pos, (flags >> _WEIGHTS_SHIFT) & 3, df)
            values = _values(data, pos, (flags >> _VALUES_SHIFT) & 3, df)
            ti._inlined = (ids, weights, values)
        else:
            span = 0
            if df > 1:
                span, pos = _get(data, pos)
            ti._maxid = minid + span
            ti.set_extent(self.pst_offsets[i], self.pst_lengths[i])
        return ti

    def _head(self, i: int) -> tuple[int, int, int]:
        """Entry ``i``'s flags, first document, and where what follows it starts."""
        data = self.data
        flags, pos = _get(data, self.info_starts[i])
        kind = (flags >> _WEIGHT_SHIFT) & 3
        if kind == _W_WHOLE:
            _, pos = _get(data, pos)
        elif kind == _W_F32:
            pos += 4
        pos += 2
        if flags & _MAXWEIGHT_F32:
            pos += 4
        else:
            _, pos = _get(data, pos)
        minid, pos = _get(data, pos)
        return flags, minid, pos

    def min_max_ids(self, i: int) -> tuple[int, int, bool]:
        """The first and last document of entry ``i`` and whether its
        postings are inlined (without decoding them)."""
        flags, minid, pos = self._head(i)
        if self.dfs[i] == 1:
            return minid, minid, bool(flags & _INLINED)
        if flags & _INLINED:
            ids, _ = _ids(self.data, pos, minid, self.dfs[i])
            return minid, ids[-1], True
        span, _ = _get(self.data, pos)
        return minid, minid + span, False

    def head_bytes(self, i: int) -> int:
        """The bytes of entry ``i``'s term info before its inlined postings
        (all of them for a term whose postings are in ``.pst``)."""
        flags, _minid, pos = self._head(i)
        if not flags & _INLINED:
            return self._end(i) - self.info_starts[i]
        return pos - self.info_starts[i]

    def _end(self, i: int) -> int:
        return self.info_starts[i + 1] if i + 1 < len(self.keys) else len(self.data)


def varint_bytes(values) -> int:
    """The bytes the varints of ``values`` take."""
    v = np.asarray(values, dtype=np.uint64)
    total = len(v)
    for k in range(1, 10):
        total += int(np.count_nonzero(v >= (np.uint64(1) << np.uint64(7 * k))))
    return total


def block_parts(table: "CompactTable", b: int) -> dict[str, int]:
    """Where block ``b``'s bytes in the file go, by part of its entries
    (``sizes.PARTS``): the uncompressed bytes of each part, scaled to the
    block's stored size, so that they add up to it."""
    block = table.decode(b)
    n = len(block.keys)
    data = block.data
    heads = sum(block.head_bytes(i) for i in range(n))
    infos = len(data) - block.info_starts[0] if n else 0
    pointers = varint_bytes(block.pst_lengths)
    rests = block.info_starts[0] - _rests_start(data) if n else 0
    raw = {"keys": rests, "heads": heads, "inlined": infos - heads, "pointers": pointers}
    raw["lengths"] = len(data) - sum(raw.values())      # counts, columns of lengths
    stored = table.offsets[b + 1] - table.offsets[b]
    scaled = {k: v * stored // len(data) for k, v in raw.items()}
    largest = max(raw, key=raw.get)
    scaled[largest] += stored - sum(scaled.values())
    return scaled


def _rests_start(data) -> int:
    _n, pos = _get(data, 0)
    size, pos = _get(data, pos)
    return pos + size


def _ids(data, pos, first, count):
    ids = [first]
    for _ in range(count - 1):
        gap, pos = _get(data, pos)
        first += gap
        ids.append(first)
    return tuple(ids), pos


def _weights(data, pos, kind, count):
    if kind == 0:
        return (), pos
    if kind == _W_WHOLE:
        out = []
        for _ in range(count):
            w, pos = _get(data, pos)
            out.append(float(w))
        return tuple(out), pos
    return tuple(np.frombuffer(data, "<f4", count, pos).tolist()), pos + 4 * count


def _values(data, pos, kind, count):
    if kind == _V_NONE:
        return ()
    out = []
    if kind == _V_POSITIONS:
        for _ in range(count):
            n, pos = _get(data, pos)
            positions, total = [], 0
            for _ in range(n):
                gap, pos = _get(data, pos)
                total += gap
                positions.append(total)
            out.append(positions_value(positions))
    elif kind == _V_COUNTS:
        for _ in range(count):
            n, pos = _get(data, pos)
            out.append(_UINT.pack(n))
    else:
        n, pos = _get(data, pos)
        for _ in range(n):
            length, pos = _get(data, pos)
            out.append(bytes(data[pos:pos + length]))
            pos += length
    return tuple(out)


class CompactTable:
    """A compact terms file, mapped: its field map, block index and the
    cache of decoded blocks.  One per segment, shared by its readers."""

    def __init__(self, path: str | None, data=None):
        if data is None:
            with open(path, "rb") as fh:
                data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self.path = path
        self.data = data
        if bytes(data[:len(MAGIC)]) != MAGIC:
            raise ValueError(f"{path}: not a compact term table")
        (size,) = _U64.unpack_from(data, len(data) - 8)
        start = len(data) - 8 - size
        trailer = pickle.loads(data[start:len(data) - 8])
        self.fieldmap: dict[str, int] = trailer["fieldmap"]
        self.fieldnames = {n: name for name, n in self.fieldmap.items()}
        keys, lengths = trailer["first_keys"], array("I")
        lengths.frombytes(trailer["first_key_lengths"])
        first_keys, pos = [], 0
        for length in lengths:
            first_keys.append(keys[pos:pos + length])
            pos += length
        self.first_keys = first_keys
        offsets = array("q")
        offsets.frombytes(trailer["offsets"])
        self.offsets = offsets.tolist()
        pst = array("q")
        pst.frombytes(trailer["pst_offsets"])
        self.pst_offsets = pst.tolist()
        self.compressed = trailer["compressed"]
        self.trailer_bytes = size + 8
        self._cache: OrderedDict[int, Block] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.first_keys)

    def raw_block(self, i: int) -> bytes:
        data = self.data[self.offsets[i]:self.offsets[i + 1]]
        return zlib.decompress(data) if self.compressed[i] else bytes(data)

    def decode(self, i: int) -> Block:
        """Block ``i`` decoded, not kept (for scans of many blocks)."""
        block = self._cache.get(i)
        return block if block is not None else Block(self.raw_block(i), self.pst_offsets[i])

    def block(self, i: int) -> Block:
        """Block ``i`` decoded, from the cache."""
        cache = self._cache
        block = cache.get(i)
        if block is not None:
            with self._lock:
                if i in cache:
                    cache.move_to_end(i)
            return block
        block = Block(self.raw_block(i), self.pst_offsets[i])
        with self._lock:
            cache[i] = block
            while len(cache) > BLOCKS_KEPT:
                cache.popitem(last=False)
        return block

    def block_of(self, key: bytes) -> int:
        """The block that holds ``key`` if any block does (-1: before all)."""
        return bisect.bisect_right(self.first_keys, key) - 1

    def lookup(self, key: bytes) -> tuple[Block, int] | None:
        b = self.block_of(key)
        if b < 0:
            return None
        block = self.block(b)
        i = block.find(key)
        return (block, i) if i >= 0 else None

    def entries_from(self, key: bytes, stop: bytes | None = None, cached: bool = True):
        """``(block, i)`` of every entry from ``key`` on (below ``stop``)."""
        b = max(0, self.block_of(key))
        get = self.block if cached else self.decode
        first = True
        while b < len(self.first_keys):
            if stop is not None and self.first_keys[b] >= stop:
                return
            block = get(b)
            keys = block.keys
            i = bisect.bisect_left(keys, key) if first else 0
            first = False
            for j in range(i, len(keys)):
                if stop is not None and keys[j] >= stop:
                    return
                yield block, j
            b += 1

    def field_blocks(self, fieldname: str) -> range:
        """The blocks of a field's terms (blocks never span two fields)."""
        number = self.fieldmap.get(fieldname)
        if number is None:
            return range(0)
        start = bisect.bisect_left(self.first_keys, _USHORT.pack(number))
        stop = bisect.bisect_left(self.first_keys, _USHORT.pack(number + 1)) \
            if number < 65535 else len(self.first_keys)
        return range(start, stop)


# One table per segment, as long as a reader holds it.
_TABLES: "weakref.WeakValueDictionary[tuple, CompactTable]" = weakref.WeakValueDictionary()
_TABLES_LOCK = threading.Lock()


def _open_table(storage, segment) -> CompactTable:
    name = segment.make_filename(EXTENSION)
    folder = getattr(storage, "folder", None)
    if folder is None:          # a storage without files: read it whole
        f = storage.open_file(name)
        try:
            return CompactTable(None, f.read())
        finally:
            f.close()
    path = os.path.join(folder, name)
    key = (segment.segment_id(), os.path.getsize(path))
    with _TABLES_LOCK:
        table = _TABLES.get(key)
        if table is None:
            table = CompactTable(path)
            _TABLES[key] = table
    return table


class CompactTermsReader(base.TermsReader):
    """Whoosh's terms reader over a compact table (``base.TermsReader``)."""

    def __init__(self, codec, storage, segment):
        self._codec = codec
        self.table = _open_table(storage, segment)
        self._fieldmap = self.table.fieldmap
        self._postfile = segment.open_file(storage, W3Codec.POSTS_EXT)

    def _keycoder(self, fieldname, tbytes):
        return _USHORT.pack(self._fieldmap.get(fieldname, 65535)) + tbytes

    def _keydecoder(self, key):
        return self.table.fieldnames[_USHORT.unpack_from(key)[0]], key[2:]

    def _entry(self, fieldname, tbytes):
        # KeyError, as W3's reader raises from frequency and doc_frequency
        # (Whoosh's reader answers 0 for it); term_info raises TermNotFound.
        found = self.table.lookup(self._keycoder(fieldname, tbytes))
        if found is None:
            raise KeyError((fieldname, tbytes))
        return found

    def __contains__(self, term):
        return self.table.lookup(self._keycoder(*term)) is not None

    def indexed_field_names(self):
        return self._fieldmap.keys()

    def cursor(self, fieldname, fieldobj):
        return CompactFieldCursor(self, fieldname, fieldobj)

    def terms(self):
        return self.terms_from_key(b"")

    def terms_from_key(self, key):
        decode = self._keydecoder
        return (decode(block.keys[i]) for block, i in self.table.entries_from(key, cached=False))

    def terms_from(self, fieldname, prefix):
        return self.terms_from_key(self._keycoder(fieldname, prefix))

    def items(self):
        return self._items_from(b"")

    def _items_from(self, key):
        decode = self._keydecoder
        return ((decode(block.keys[i]), block.term_info(i))
                for block, i in self.table.entries_from(key, cached=False))

    def items_from(self, fieldname, prefix):
        return self._items_from(self._keycoder(fieldname, prefix))

    def term_info(self, fieldname, tbytes):
        try:
            block, i = self._entry(fieldname, tbytes)
        except KeyError:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}") from None
        return block.term_info(i)

    def frequency(self, fieldname, tbytes):
        block, i = self._entry(fieldname, tbytes)
        return block.term_info(i).weight()

    def doc_frequency(self, fieldname, tbytes):
        block, i = self._entry(fieldname, tbytes)
        return block.dfs[i]

    def matcher(self, fieldname, tbytes, format_, scorer=None):
        terminfo = self.term_info(fieldname, tbytes)
        return self._codec.postings_reader(self._postfile, terminfo, format_,
                                           term=(fieldname, tbytes), scorer=scorer)

    def close(self):
        self._postfile.close()


class CompactFieldCursor(base.FieldCursor):
    """A cursor over one field's terms (what Whoosh's spelling reads)."""

    def __init__(self, terms: CompactTermsReader, fieldname, fieldobj):
        self._terms = terms
        self._fieldname = fieldname
        self._fieldobj = fieldobj
        number = terms._fieldmap.get(fieldname, 65535)
        self._prefix = _USHORT.pack(number)
        self._stop = _USHORT.pack(number + 1) if number < 65535 else None
        self.first()

    def _start(self, key):
        self._entries = self._terms.table.entries_from(key, self._stop)
        return self.next()

    def first(self):
        return self._start(self._prefix)

    def find(self, term):
        if not isinstance(term, bytes):
            term = self._fieldobj.to_bytes(term)
        return self._start(self._prefix + term)

    def next(self):
        entry = next(self._entries, None)
        if entry is None:
            self._entry = self._text = None
            return None
        self._entry = entry
        block, i = entry
        self._text = self._fieldobj.from_bytes(block.keys[i][2:])
        return self._text

    def text(self):
        return self._text

    def term(self):
        return self._text

    def term_info(self):
        if self._entry is None:
            return None
        block, i = self._entry
        return block.term_info(i)

    def is_valid(self):
        return self._entry is not None
