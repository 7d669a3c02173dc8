"""The parallel build: documents analysed and postings encoded in worker
processes, one Whoosh segment written by this process, merging nothing.

Phase 1 (workers, by chunks of documents): parse, clean, find metadata,
analyse; invert the chunk into postings grouped in "buckets" of terms that
share a field and the first two bytes of the term, so that buckets in
(field, prefix) order hold terms in the order of the term index.
This process, meanwhile, numbers the documents (first id wins), writes
their lengths, columns and stored fields, and spills each bucket of each
chunk to one file.
Phase 2 (workers, by contiguous runs of buckets): gather a run's postings
from every chunk, encode their blocks and term records; this process
appends them to the segment's files in order.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import pickle
import shutil
import threading
import time
import zlib
from array import array
from itertools import repeat
from pathlib import Path

from whoosh import formats
from whoosh.columns import VarBytesColumn
from whoosh.system import pack_uint
from whoosh.util.numeric import length_to_byte

from ..errors import BuildError
from ..ingest import sources as documents
from ..ingest.cities import gazetteer
from ..ingest.model import Problem
from ..text.segment import load_jieba, prepare_router, release_caches
from ..whoosh3.compact import writers_for
from ..whoosh3.segment_writer import FieldInfo, dumps, positions_value, stored_fields_writer
from . import doclengths
from . import fields as doc_fields
from .analyzers import fast_positions
from .fields import _FacetCap
from .schema import FACET_PREFIX, build_schema

# Documents per task a worker takes; inputs smaller than SMALL_INPUT bytes are
# built in this process (starting workers would cost more than it saves).
CHUNK_DOCS = 5000
# Files of a folder one task reads, at most: enough to keep the cost of a
# task small beside its work, few enough (and few enough bytes) that the
# workers share a folder of web pages or PDF files.
FILES_PER_TASK = 200
FILE_BYTES_PER_TASK = 1 << 20


SMALL_INPUT = 2 * 1024 * 1024


# Bytes of spilled postings per encoding task (a worker holds one task's).
ENCODE_TASK_BYTES = 16 * 1024 * 1024


# Stored fields: zlib level (the pickle is segment_writer's, without memo).
STORED_LEVEL = 9


def _input_size(sources, limit: int) -> int:
    total = 0
    for source in sources:
        path = Path(source)
        try:
            if path.is_file():
                total += path.stat().st_size
            elif path.is_dir():
                for dirpath, _dirs, files in os.walk(path):
                    for name in files:
                        try:
                            total += os.stat(os.path.join(dirpath, name)).st_size
                        except OSError:
                            pass
                        if total > limit:
                            return total
        except OSError:
            pass
        if total > limit:
            return total
    return total


def _default_workers() -> int:
    env = os.environ.get("SEARCH_BUILD_WORKERS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise BuildError(f"SEARCH_BUILD_WORKERS must be a whole number, not {env!r}") from None
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _jsonl_record_parser():
    """documents' own parser of one JSON-lines record, if it still has one."""
    parse = getattr(documents, "record_to_document", None)
    return parse if callable(parse) else None


def _tasks(sources, chunk_docs: int, follow_links: bool = False):
    """Phase 1 tasks, in document order.

    A JSON-lines file is read here and parsed by the workers, line for line as
    ``search.ingest.sources`` reads it.  The other files of a source are
    listed here and read by the workers (a web page, a Word or PDF file costs
    far more to read than to list); the source's problems keep their place.
    """
    parse = _jsonl_record_parser()
    for source in sources:
        batch, size = [], 0
        for entry in documents.iter_source_files(source, follow_links=follow_links):
            if isinstance(entry, documents.SourceFile) and entry.is_jsonl:
                if batch:
                    yield ("files", batch)
                    batch, size = [], 0
                if parse is not None:
                    yield from _jsonl_tasks(entry.path, chunk_docs)
                else:
                    yield ("items", list(documents.read_source_file(entry)))
                continue
            batch.append(entry)
            if isinstance(entry, documents.SourceFile):
                try:
                    size += os.stat(entry.path).st_size
                except OSError:
                    pass                # the worker reports it
            if len(batch) >= FILES_PER_TASK or size >= FILE_BYTES_PER_TASK:
                yield ("files", batch)
                batch, size = [], 0
        if batch:
            yield ("files", batch)


def _jsonl_tasks(path: Path, chunk_docs: int):
    # Read exactly as documents._iter_jsonl reads: same line numbers, same
    # problems, and an over-long line is skipped without being held whole.
    batch = []
    for item in documents.iter_jsonl_lines(path):
        if isinstance(item, Problem):
            if batch:
                yield ("lines", str(path), batch)
                batch = []
            yield ("items", [item])
            continue
        batch.append(item)
        if len(batch) >= chunk_docs:
            yield ("lines", str(path), batch)
            batch = []
    if batch:
        yield ("lines", str(path), batch)


# Values of at most this many characters have their terms remembered (titles,
# author names, dynasties, dates: they repeat), up to CACHE_ENTRIES per field.
CACHE_CHARS = 32


CACHE_ENTRIES = 50_000


class _FieldPlan:
    """How one field of the schema is indexed, stored and given a column."""

    __slots__ = ("field", "indexed", "scorable", "stored", "column", "positions", "kind",
                 "boost", "cache")

    def __init__(self, fieldobj):
        self.field = fieldobj
        self.indexed = bool(fieldobj.indexed)
        self.scorable = bool(fieldobj.scorable)
        self.stored = bool(fieldobj.stored)
        self.column = fieldobj.column_type
        fmt = fieldobj.format
        self.positions = fast_positions(getattr(fieldobj, "analyzer", None)) if self.indexed else None
        self.kind = type(fmt) if type(fmt) in (formats.Positions, formats.Frequency) else None
        self.boost = fmt.field_boost if fmt is not None else 1.0
        # A unique field (the id) never repeats a value: nothing to remember.
        self.cache = None if getattr(fieldobj, "unique", False) else {}
        if fieldobj.vector or fieldobj.separate_spelling():
            raise BuildError("the parallel build does not write term vectors or spelling "
                             "fields; use builder='whoosh'")

    def index(self, value):
        """``(btext, freq, weight, vbytes)`` as ``field.index(value)`` gives them."""
        cache = self.cache
        if cache is not None and (isinstance(value, int) or
                                  (isinstance(value, str) and len(value) <= CACHE_CHARS)):
            items = cache.get(value)
            if items is None:
                if len(cache) >= CACHE_ENTRIES:
                    cache.clear()
                items = cache[value] = tuple(self._index(value))
            return items
        return self._index(value)

    def _index(self, value):
        if self.positions is None or self.kind is None or not isinstance(value, str):
            return self.field.index(value)
        grouped = self.positions(value)
        fb = self.boost
        if self.kind is formats.Positions:
            return [(t.encode("utf-8"), len(p), float(len(p)) * fb, positions_value(p))
                    for t, p in grouped.items()]
        return [(t.encode("utf-8"), len(p), float(len(p)) * fb, pack_uint(len(p)))
                for t, p in grouped.items()]


class _Worker:
    """Per-process state of a worker (or of this process, for small builds)."""

    def __init__(self):
        self.schema = build_schema()
        self.plans: dict[str, _FieldPlan] = {}
        self.shared_path = None
        self.shared = None

    def plan(self, name):
        plan = self.plans.get(name)
        if plan is None:
            plan = self.plans[name] = _FieldPlan(self.schema[name])
        return plan


_worker: _Worker | None = None


def _the_worker() -> _Worker:
    global _worker
    if _worker is None:
        _worker = _Worker()
    return _worker


def _worker_init():
    load_jieba()
    _the_worker()


def _phase1(task):
    """Analyse one chunk: per item a Problem or a document's per-doc data; spill buckets."""
    worker = _the_worker()
    if task[0] == "lines":
        _, path, lines = task
        parse = _jsonl_record_parser()
        items = [parse(raw, f"{path}:{lineno}") for lineno, raw in lines]
    elif task[0] == "files":
        items = []
        for entry in task[1]:
            if isinstance(entry, Problem):
                items.append(entry)
            else:
                items.extend(documents.read_source_file(entry))
    else:
        items = task[1]
    out = []
    # Per field, per term: a flat list of (local document number, weight,
    # value) postings, in document order.
    inverted: dict[str, dict[bytes, list]] = {}
    local = 0
    for item in items:
        if isinstance(item, Problem):
            out.append(item)
            continue
        fields = doc_fields.document_fields(item)
        stored = {}
        lengths = []
        columns = []
        for name in sorted(n for n in fields if not n.startswith("_")):
            value = fields[name]
            if value is None:
                continue
            plan = worker.plan(name)
            if plan.indexed:
                length = 0
                scorable = plan.scorable
                terms = inverted.get(name)
                if terms is None:
                    terms = inverted[name] = {}
                for btext, freq, weight, vbytes in plan.index(value):
                    if scorable:
                        length += freq
                    flat = terms.get(btext)
                    if flat is None:
                        terms[btext] = [local, weight, vbytes]
                    else:
                        flat += (local, weight, vbytes)
                if length:
                    lengths.append((name, length))
            if plan.stored:
                stored[name] = value
            if plan.column:
                columns.append((name, plan.field.to_column_value(value)))
        blob = zlib.compress(dumps(stored), STORED_LEVEL) if stored else b""
        facet_names = [n for n in fields if n.startswith(FACET_PREFIX)]
        out.append(("doc", item.id, item.source, item.warnings, blob, lengths, columns,
                    facet_names))
        local += 1
    # Buckets: the terms of a field that share their first two bytes.
    spilled = {}
    for name, terms in inverted.items():
        buckets: dict[bytes, dict[bytes, list]] = {}
        for btext, flat in terms.items():
            bucket = buckets.get(btext[:2])
            if bucket is None:
                buckets[btext[:2]] = {btext: flat}
            else:
                bucket[btext] = flat
        for prefix, bucket in buckets.items():
            spilled[(name, prefix)] = marshal.dumps(bucket)
    return out, spilled


def _without_stored(blob: bytes, names: set[str]) -> bytes:
    """A document's stored fields less ``names`` (fields past the facet cap)."""
    stored = pickle.loads(zlib.decompress(blob))
    for name in names:
        stored.pop(name, None)
    return zlib.compress(dumps(stored), STORED_LEVEL) if stored else b""


def _chunk_postings(flat: list, docmap) -> tuple[list, list, list]:
    """One chunk's postings of a term: (document numbers, weights, values)."""
    if isinstance(docmap, int):
        return list(map(docmap.__add__, flat[0::3])), flat[1::3], flat[2::3]
    keep = [i for i, d in enumerate(flat[0::3]) if docmap[d] >= 0]   # not duplicate ids
    return ([docmap[flat[3 * i]] for i in keep], [flat[3 * i + 1] for i in keep],
            [flat[3 * i + 2] for i in keep])


def _phase2(task):
    """Encode one run of buckets: postings blocks and term records."""
    shared_path, spill_path, buckets, term_table = task
    worker = _the_worker()
    if worker.shared_path != shared_path:
        with open(shared_path, "rb") as fh:
            worker.shared = pickle.load(fh)
        worker.shared_path = shared_path
        release_caches()                  # segmentation is over: give the memory back
    maps, fields = worker.shared
    encoder = writers_for(term_table)[1]()
    with open(spill_path, "rb") as spill:
        for fieldname, _prefix, parts in buckets:
            info = fields[fieldname]
            # A term's first chunk as (chunk, flat postings); the chunks after
            # it, in order, in ``more``.  Most terms occur in one chunk only:
            # they are merged with dictionary operations, not one by one.
            first: dict[bytes, tuple[int, list]] = {}
            more: dict[bytes, list] = {}
            for chunk, offset, length in parts:
                spill.seek(offset)
                bucket = marshal.loads(spill.read(length))
                if first:
                    for t in bucket.keys() & first.keys():
                        entry = more.get(t)
                        if entry is None:
                            more[t] = [(chunk, bucket.pop(t))]
                        else:
                            entry.append((chunk, bucket.pop(t)))
                first.update(zip(bucket.keys(), zip(repeat(chunk), bucket.values())))
            for term in sorted(first):
                chunk, flat = first[term]
                docmap = maps[chunk]
                extra = more.get(term)
                if extra is None and len(flat) == 3 and isinstance(docmap, int):
                    encoder.add_term(info, term, [docmap + flat[0]], [flat[1]], [flat[2]])
                    continue
                ids, weights, values = _chunk_postings(flat, docmap)
                for chunk, flat in extra or ():
                    i, w, v = _chunk_postings(flat, maps[chunk])
                    ids += i
                    weights += w
                    values += v
                if ids:
                    encoder.add_term(info, term, ids, weights, values)
    return encoder.output()


def _pool_context():
    # fork shares the loaded dictionaries with the workers; it is only safe
    # while this process runs no other thread.
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _build_parallel(ix, building: Path, sources, report, progress, expected: int | None,
                    workers, follow_links=False, term_table="w3") -> dict:
    """Build the generation in ``building``; ``progress`` (a ``Progress``) is
    told of the ``reading`` phase (of ``expected`` documents, None when not
    counted) and the ``encoding`` one.  ``term_table``: ``"w3"`` (Whoosh's)
    or ``"compact"`` (``search.whoosh3.compact``)."""
    from whoosh.index import TOC, clean_files

    if workers is None:
        workers = _default_workers()
        if _input_size(sources, SMALL_INPUT) < SMALL_INPUT:
            workers = 1
    workers = max(1, int(workers))
    schema = ix.schema
    storage = ix.storage
    codec, _encoder, terms_file = writers_for(term_table)
    segment = codec.new_segment(storage, ix.indexname)
    generation = ix.latest_generation() + 1

    pool = None
    if workers > 1:
        load_jieba()                      # loaded once, shared with forked workers
        prepare_router()
        gazetteer()
        pool = _pool_context().Pool(workers, initializer=_worker_init)
        run1 = lambda tasks: pool.imap(_phase1, tasks)          # noqa: E731
        run2 = lambda tasks: pool.imap(_phase2, tasks)          # noqa: E731
    else:
        run1 = lambda tasks: map(_phase1, tasks)                # noqa: E731
        run2 = lambda tasks: map(_phase2, tasks)                # noqa: E731

    spill_path = building / ".postings.spill"
    shared_path = building / ".postings.shared"
    phases = {}
    clock = time.monotonic()
    try:
        pdw = codec.per_document_writer(storage, segment)
        stored_writer = stored_fields_writer(pdw)
        first_seen: dict[str, str] = {}
        lengths: dict[str, bytearray] = {}
        exact_lengths: dict[str, array] = {}        # kept for merges (doclengths)
        maps: list = []
        parts: dict[tuple[str, bytes], list] = {}
        cap = _FacetCap(report.warnings)
        progress.start("reading", expected, "documents")
        with open(spill_path, "wb") as spill:
            for items, spilled in run1(_tasks(sources, CHUNK_DOCS, follow_links)):
                docmap = []
                for item in items:
                    if isinstance(item, Problem):
                        report.add(item)
                        continue
                    _, doc_id, source, warnings, blob, doc_lengths, columns, names = item
                    if doc_id in first_seen:
                        report.skipped.append(Problem(
                            source, f"duplicate id {doc_id!r}: the first one, from "
                                    f"{first_seen[doc_id]}, is kept"))
                        docmap.append(-1)
                        continue
                    first_seen[doc_id] = source
                    report.warnings.extend(Problem(source, w, skipped=False) for w in warnings)
                    refused = cap.refused_of(names, source)
                    if refused:
                        blob = _without_stored(blob, refused)
                    docnum = report.indexed
                    docmap.append(docnum)
                    pdw.start_doc(docnum)
                    for name, length in doc_lengths:
                        pdw.add_field(name, None, None, length)
                        table = lengths.get(name)
                        if table is None:
                            table = lengths[name] = bytearray()
                        if len(table) < docnum:
                            table.extend(bytes(docnum - len(table)))
                        table.append(length_to_byte(length))
                        exact = exact_lengths.get(name)
                        if exact is None:
                            exact = exact_lengths[name] = array("I")
                        if len(exact) < docnum:
                            exact.extend(array("I", [0]) * (docnum - len(exact)))
                        exact.append(length)
                    for name, value in columns:
                        pdw.add_column_value(name, schema[name].column_type, value)
                    if blob:
                        VarBytesColumn.Writer.add(stored_writer, docnum, blob)
                    pdw.finish_doc()
                    report.indexed += 1
                # Local document i of this chunk is document base + i, unless
                # a duplicate id left a hole: then the whole map is kept.
                chunk = len(maps)
                base = docmap[0] if docmap else 0
                contiguous = base >= 0 and all(d == base + i for i, d in enumerate(docmap))
                maps.append(base if contiguous else docmap)
                for key, data in spilled.items():
                    if key[0] in cap.refused:     # a field past the facet cap: no postings
                        continue
                    parts.setdefault(key, []).append((chunk, spill.tell(), len(data)))
                    spill.write(data)
                progress.advance(len(items))
        progress.finish()
        doccount = report.indexed
        phases["analyse"] = round(time.monotonic() - clock, 3)
        clock = time.monotonic()
        for table in lengths.values():
            table.extend(bytes(doccount - len(table)))

        # The term index numbers fields in name order, as Whoosh's writer does.
        order = sorted(parts)
        fieldnames = sorted({name for name, _ in order})
        fieldmap = {name: i for i, name in enumerate(fieldnames)}
        infos = {}
        for name in fieldnames:
            fieldobj = schema[name]
            table = lengths.get(name)
            infos[name] = FieldInfo(name, fieldmap[name], fieldobj.format.fixed_value_size(),
                                    bytes(table) if table is not None else None)
        with open(shared_path, "wb") as fh:
            pickle.dump((maps, infos), fh, protocol=pickle.HIGHEST_PROTOCOL)

        tasks, task_bytes = [], []
        run, size = [], 0
        for key in order:
            key_parts = parts[key]
            run.append((key[0], key[1], key_parts))
            size += sum(p[2] for p in key_parts)
            if size >= ENCODE_TASK_BYTES:
                tasks.append((str(shared_path), str(spill_path), run, term_table))
                task_bytes.append(size)
                run, size = [], 0
        if run:
            tasks.append((str(shared_path), str(spill_path), run, term_table))
            task_bytes.append(size)

        segments = []
        if doccount:
            pst = segment.create_file(storage, codec.POSTS_EXT)
            terms = terms_file(segment.create_file(storage, codec.TERMS_EXT), fieldmap)
            progress.start("encoding", sum(task_bytes), "bytes")
            for size, (pst_bytes, part) in zip(task_bytes, run2(tasks)):
                base = pst.tell()
                pst.write(pst_bytes)
                terms.add_part(part, base)
                progress.advance(size)
            progress.finish()
            phases["encode"] = round(time.monotonic() - clock, 3)
            clock = time.monotonic()
            terms.close()
            pst.close()
            pdw.close()
            segment.set_doc_count(doccount)
            doclengths.save(building, segment.segment_id(), exact_lengths, doccount)
            # Left as separate files, not assembled into one compound file:
            # Whoosh reads a compound segment through BytesIO copies of its
            # parts, half a gigabyte per reader on the poetry corpus (and a
            # web server opens one reader per thread); separate files are
            # read in place, as fast.
            segments.append(segment)
            phases["write"] = round(time.monotonic() - clock, 3)
        else:
            pdw.close()
            for name in segment.list_files(storage):
                storage.delete_file(name)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        for path in (spill_path, shared_path):
            try:
                path.unlink()
            except OSError:
                pass
        shutil.rmtree(building / f"{ix.indexname}.tmp", ignore_errors=True)
    TOC(schema, segments, generation).write(storage, ix.indexname)
    clean_files(storage, ix.indexname, generation, segments)
    return {"method": "parallel", "workers": workers, "term_table": term_table,
            "seconds": phases}
