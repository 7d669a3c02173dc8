"""Writing one Whoosh segment straight from postings, in Whoosh's own format.

Owns the bytes of a segment built by the parallel build (``search.store.parallel``): the term
index (``.trm``) and the postings (``.pst``) of Whoosh's ``W3Codec``, written
without Whoosh's writer (which pickles every posting into a temporary pool,
sorts it and re-reads it, all in one process).  Anything Whoosh reads back
is unchanged: the stock ``W3Codec`` reader opens these segments, and
``tests/test_bench.py`` checks term by term that they hold what Whoosh's
writer would have written.

Where the bytes differ from Whoosh's writer, they decode to the same values:

* pickles are written without memo opcodes and with protocol-3 ``bytes``
  (Whoosh's protocol 2 spells each ``bytes`` as a ``codecs.encode`` call);
* a posting block is compressed only when that makes it smaller (the reader
  checks the block's compression flag);
* a term with fewer than ``inline_limit`` postings keeps them in its term
  info, as ``W3TermInfo`` provides for (``is_inlined``; the reader serves them
  with a ``ListMatcher``): no block header, no pointer, no compression frame.

Postings arrive in this order: field name, then term bytes, then document
number, which is the order Whoosh's writer sorts its pool into.
"""

from __future__ import annotations

import io
import pickle
import struct
import sys
import zlib
from array import array
from hashlib import md5

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.filedb.filetables import _dir_entry, _lengths, _pointer

BLOCK_LIMIT = 128          # W3Codec's blocklimit: postings per block
COMPRESSION = 3            # W3Codec's zlib level
INLINE_LIMIT = 8           # terms with fewer postings than this are inlined

_TERMINFO = struct.Struct("!BfIBBfII")
_LONG = struct.Struct("!q")
_INT = struct.Struct("!i")
_USHORT = struct.Struct("!H")
_OFFSET_AT = _TERMINFO.size      # where a term info's postings offset starts

_HASH_MAGIC = b"HSH3"


class _Pickler:
    """``pickle.dumps`` without memo opcodes, protocol header or frame (smaller).

    ``pickle.loads`` needs none of them: they only tell it what to expect.
    """

    def __init__(self):
        self._buf = io.BytesIO()
        self._pickler = pickle.Pickler(self._buf, 4)
        self._pickler.fast = True

    def dumps(self, obj) -> bytes:
        buf = self._buf
        buf.seek(0)
        buf.truncate()
        self._pickler.dump(obj)
        data = buf.getvalue()
        if data[:2] == b"\x80\x04":
            data = data[11:] if data[2:3] == b"\x95" else data[2:]
        return data


_pickler = _Pickler()
dumps = _pickler.dumps


# A Positions value without its final STOP: decode_positions adds it back.
_ONE_POSITION = [struct.pack("!I", 1) + b"]K" + bytes([p]) + b"a" for p in range(256)]
_INT1 = [b"K" + bytes([i]) for i in range(256)]


def _pickled_int(i: int) -> bytes:
    if 0 <= i < 256:
        return _INT1[i]
    if 0 <= i < 65536:
        return b"M" + i.to_bytes(2, "little")
    return b"J" + i.to_bytes(4, "little", signed=True)


def positions_value(poslist: list[int]) -> bytes:
    """``Positions.encode(poslist)``, as ``Positions.decode_positions`` reads it.

    That is the count, then a pickled list of the gaps between positions,
    less the pickle's final STOP byte, which ``decode_positions`` appends to a
    value that lacks it.
    """
    if len(poslist) == 1:
        p = poslist[0]
        if 0 <= p < 256:
            return _ONE_POSITION[p]
    parts = [struct.pack("!I", len(poslist)), b"]("]
    base = 0
    for pos in poslist:
        parts.append(_pickled_int(pos - base))
        base = pos
    parts.append(b"e")
    return b"".join(parts)


def key_hash(key: bytes) -> int:
    """The hash ``filetables.HashWriter`` files keys under (hashtype 0, MD5)."""
    return int.from_bytes(md5(key, usedforsecurity=False).digest()[-4:], "big")


class FieldInfo:
    """What the encoder needs to know of a field (picklable, for workers)."""

    __slots__ = ("name", "fieldid", "fixedsize", "lengths")

    def __init__(self, name: str, fieldid: int, fixedsize, lengths: bytes | None):
        self.name = name
        self.fieldid = fieldid
        self.fixedsize = fixedsize      # Format.fixed_value_size()
        self.lengths = lengths          # length byte per document, or None (not scorable)


class TermEncoder:
    """Encodes terms' postings: appends blocks to ``pst`` and term records to ``trm``.

    ``pst`` offsets are relative to this encoder's ``pst``; the positions in
    ``trm`` that hold one are listed in ``patches`` (the writer adds the
    fragment's place in the file).
    """

    def __init__(self, blocklimit=BLOCK_LIMIT, compression=COMPRESSION, inline_limit=INLINE_LIMIT):
        self.blocklimit = blocklimit
        self.compression = compression
        self.inline_limit = inline_limit
        self.pst = bytearray()
        self.trm = bytearray()
        self.records = array("I")     # start of each term record in trm
        self.hashes = array("I")      # key_hash of each record's key
        self.patches = array("I")     # where a postings offset is, in trm

    def add_term(self, field: FieldInfo, btext: bytes, ids: list[int], weights: list[float],
                 values: list[bytes]) -> None:
        key = _USHORT.pack(field.fieldid) + btext
        if len(ids) == 1 and self.inline_limit > 1:
            value, patch = self._inline1(field, ids[0], weights[0], values[0]), False
        else:
            value, patch = self._encode(field, ids, weights, values)
        trm = self.trm
        self.records.append(len(trm))
        self.hashes.append(key_hash(key))
        trm += _lengths.pack(len(key), len(value))
        trm += key
        if patch:
            self.patches.append(len(trm) + _OFFSET_AT)
        trm += value

    def _encode(self, field: FieldInfo, ids, weights, values) -> tuple[bytes, bool]:
        n = len(ids)
        lbytes = field.lengths
        # Field lengths as the reader reports them: quantised to a byte, and a
        # document without one (byte 0) does not count, as in W3PostingsWriter.
        # byte_to_length is increasing, so the shortest length has the
        # smallest byte: the statistics are kept as bytes.
        lens = [lbytes[d] for d in ids] if lbytes is not None else None
        fixedsize = field.fixedsize
        if n < self.inline_limit:
            return self._inline(ids, weights, values, lens, fixedsize), False

        pst = self.pst
        start = len(pst)
        pst += WHOOSH3_HEADER_MAGIC
        blocklimit = self.blocklimit
        fw_all = array("f", weights)
        total_weight = 0.0
        minbyte = 0              # 0: no length seen yet
        maxbyte = 0
        maxweight = 0
        compression = self.compression
        for b in range(0, n, blocklimit):
            e = b + blocklimit
            if b == 0 and e >= n:
                bids, fw, bw, bv, bl = ids, fw_all, weights, values, lens
            else:
                bids, fw, bw, bv = ids[b:e], fw_all[b:e], weights[b:e], values[b:e]
                bl = lens[b:e] if lens is not None else None
            # Block statistics, as W3PostingsWriter keeps them.
            bmax = max(bw)
            if not bmax > 0:
                bmax = 0
            if bl is not None:
                bmaxbyte = max(bl)
                bminbyte = min(bl) if bmaxbyte else 0
                if not bminbyte and bmaxbyte:
                    bminbyte = min(x for x in bl if x)
            else:
                bminbyte = bmaxbyte = 0
            total_weight += sum(fw)
            if bminbyte and (not minbyte or bminbyte < minbyte):
                minbyte = bminbyte
            if bmaxbyte > maxbyte:
                maxbyte = bmaxbyte
            if bmax > maxweight:
                maxweight = bmax

            # The block's data: delta-coded ids, minified weights and values.
            deltas = (bids[0], *map(int.__sub__, bids[1:], bids[:-1]))
            lo, hi = min(fw), max(fw)
            if lo == hi:
                mw = None if lo == 1.0 else fw[0]
            else:
                mw = tuple(fw)
            if fixedsize is None or fixedsize < 0:
                mv = tuple(bv) if all(bv) else tuple(v for v in bv if v)
            elif fixedsize == 0:
                mv = None
            else:
                mv = b"".join(bv)
            data = dumps((deltas, mw, mv))
            comp = 0
            if compression and len(data) > 40:
                packed = zlib.compress(data, compression)
                if len(packed) < len(data):
                    data, comp = packed, compression
            # A whole maximum weight as an int: the scorer's arithmetic gives
            # the same result, in two bytes instead of nine.
            info = dumps((len(bids), bids[-1], int(bmax) if bmax == int(bmax) else bmax, comp,
                          bminbyte, bmaxbyte))
            blocklength = len(info) + len(data)
            if e >= n:
                blocklength = -blocklength
            pst += _INT.pack(blocklength)
            pst += info
            pst += data

        head = _TERMINFO.pack(0, total_weight, n, minbyte, maxbyte, maxweight, ids[0], ids[-1])
        return head + _LONG.pack(start) + _INT.pack(len(pst) - start), True

    def output(self):
        """What a worker hands back: the postings and the term records
        (``TermsFile.add_part`` takes the second)."""
        return bytes(self.pst), (self.trm, self.records, self.hashes, self.patches)

    @staticmethod
    def _inline1(field: FieldInfo, docnum: int, w: float, v: bytes) -> bytes:
        """The term info of a term with one posting, postings inlined."""
        lbytes = field.lengths
        lb = lbytes[docnum] if lbytes is not None else 0
        fw = w if w == 1.0 else _float32(w)
        head = _TERMINFO.pack(1, fw, 1, lb, lb, w if w > 0 else 0, docnum, docnum)
        # ((docnum,), weights, values) in pickle opcodes: TUPLE1 (\x85) and
        # TUPLE3 (\x87) close tuples; an empty weights tuple reads as all 1.0
        # (ListMatcher), like a block's None.
        ws = b")" if fw == 1.0 else b"G" + struct.pack(">d", fw) + b"\x85"
        if field.fixedsize == 0 or not v:
            vs = b")"
        elif len(v) < 256:
            vs = b"C" + bytes([len(v)]) + v + b"\x85"
        else:
            vs = b"B" + len(v).to_bytes(4, "little") + v + b"\x85"
        return head + _pickled_int(docnum) + b"\x85" + ws + vs + b"\x87."

    @staticmethod
    def _inline(ids, weights, values, lens, fixedsize) -> bytes:
        if lens is not None:
            nonzero = [x for x in lens if x]
            minbyte = min(nonzero) if nonzero else 0
            maxbyte = max(nonzero) if nonzero else 0
        else:
            minbyte = maxbyte = 0
        fw = array("f", weights)
        maxweight = max(weights)
        if not maxweight > 0:
            maxweight = 0
        head = _TERMINFO.pack(1, sum(fw), len(ids), minbyte, maxbyte, maxweight, ids[0], ids[-1])
        # (ids, weights, values) in pickle opcodes, as in _inline1; MARK "("
        # ... TUPLE "t" for the longer tuples.
        parts = [b"("]
        parts += map(_pickled_int, ids)
        parts.append(b"t")
        if min(fw) == max(fw) == 1.0:
            parts.append(b")")
        else:
            parts.append(b"(")
            parts += [b"G" + struct.pack(">d", w) for w in fw]
            parts.append(b"t")
        parts.append(b"(")
        if fixedsize != 0:
            for v in values:
                if not v:
                    continue
                if len(v) < 256:
                    parts += (b"C", bytes((len(v),)), v)
                else:
                    parts += (b"B", len(v).to_bytes(4, "little"), v)
        parts.append(b"t\x87.")
        return head + b"".join(parts)




def _float32(x: float) -> float:
    return array("f", (x,))[0]


class TermsFile:
    """The ``.trm`` file: an ``OrderedHashWriter`` file filled from encoded blobs.

    Its hash tables have 1.25 slots per key where Whoosh's writer makes two:
    the reader takes the number of slots from the file and probes linearly
    until the key or an empty slot, so a fuller table costs a few more probes
    per lookup (three on average at this load; about thirteen for a term that
    is not there) and saves 9 bytes per term.
    """

    def __init__(self, dbfile, fieldmap: dict[str, int]):
        self.dbfile = dbfile
        self.fieldmap = fieldmap
        dbfile.write(_HASH_MAGIC)
        dbfile.write_byte(0)          # hash type 0: MD5
        dbfile.write_int(0)
        dbfile.write_int(0)
        self.index = array("q")
        # Per hash table: the keys' hashes and record positions (arrays: four
        # million terms as Python ints would take hundreds of megabytes).
        self.hashes = [array("I") for _ in range(256)]
        self.positions = [array("q") for _ in range(256)]

    def add(self, encoder_blob: bytearray, records: array, hashes: array, patches: array,
            pst_base: int) -> None:
        for p in patches:
            _LONG.pack_into(encoder_blob, p, _LONG.unpack_from(encoder_blob, p)[0] + pst_base)
        base = self.dbfile.tell()
        self.dbfile.write(encoder_blob)
        index = self.index
        bucket_hashes, bucket_positions = self.hashes, self.positions
        for r, h in zip(records, hashes):
            pos = base + r
            index.append(pos)
            bucket_hashes[h & 255].append(h)
            bucket_positions[h & 255].append(pos)

    def add_part(self, part, pst_base: int) -> None:
        """An encoder's term records (``TermEncoder.output``), its postings
        written at ``pst_base`` of the postings file."""
        self.add(*part, pst_base)

    def close(self) -> None:
        dbfile = self.dbfile
        directory = []
        for bucket_hashes, bucket_positions in zip(self.hashes, self.positions):
            count = len(bucket_hashes)
            numslots = count + (count + 3) // 4 if count else 0
            directory.append((dbfile.tell(), numslots))
            if not numslots:
                continue
            hs = [0] * numslots
            ps = [0] * numslots
            for h, pos in zip(bucket_hashes, bucket_positions):
                slot = (h >> 8) % numslots
                while ps[slot]:
                    slot = (slot + 1) % numslots
                hs[slot] = h
                ps[slot] = pos
            table = [0] * (2 * numslots)
            table[0::2] = hs
            table[1::2] = ps
            dbfile.write(struct.pack("!" + "Iq" * numslots, *table))
        for pos, numslots in directory:
            dbfile.write(_dir_entry.pack(pos, numslots))
        expos = dbfile.tell()
        index = self.index
        typecode = "I" if not index or max(index) < 2 ** 32 else "q"
        extras = {"fieldmap": self.fieldmap, "indextype": typecode, "indexlen": len(index)}
        dbfile.write_pickle(extras)
        out = array(typecode, index)
        if sys.byteorder == "little":
            out.byteswap()             # big-endian, as StructFile.write_array
        dbfile.write(out.tobytes())
        dbfile.write_int(dbfile.tell() - expos)
        dbfile.close()


assert _pointer.size == 12 and _dir_entry.size == 12


def stored_fields_writer(per_document_writer):
    """The column writer under the stored-fields column of a W3 per-document
    writer (``W3PerDocWriter``): it takes each document's stored fields as
    one blob already pickled and compressed (``VarBytesColumn.Writer.add``),
    where the per-document writer would pickle a dict itself."""
    return per_document_writer._colwriters["_stored"]._child
