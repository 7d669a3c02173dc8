"""Building an index: sources in, a complete Whoosh index swapped into place.

Owns the on-disk layout of an index directory::

    index/
      current -> gen-20261122T101500-1a2b   (symlink: the live generation)
      gen-.../                              (a complete Whoosh index + build.json)
      .build-.../                           (a build in progress)
      .lock                                 (held by the one running build)

A build writes a new generation beside the live one and replaces the
``current`` symlink in one atomic ``rename``: readers see the old index or
the new one, never half of one, and a failed or killed build leaves the old
one live.  The next build removes what a killed build left behind.  A
complete build is still not made live when it holds no document, or fewer
than half the live one's (``BuildRefused``; ``force=True`` overrides): an
empty, mistyped or half-mounted source folder must not empty a good index.

How a generation is written (``build_index(..., builder=...)``):

* ``"parallel"`` (the default): documents are read, cleaned and segmented in
  worker processes, one per core, which also invert their chunk of documents
  into postings; the postings are then encoded, range of terms by range of
  terms, by the same workers, and this process writes one Whoosh segment
  (``segment_writer``), merging nothing.  Small builds do the same work in
  this process.  The segment's files stay separate (no compound file), so
  that readers read them in place instead of copying them into memory.
* ``"whoosh"``: Whoosh's own writer in this process (the reference the parallel
  build is checked against, term by term and query by query, in
  ``tests/test_bench.py``).

Both give the same documents, in the same order, the same terms, postings,
field lengths and stored fields: the same search results.
"""

from __future__ import annotations

import fcntl
import json
import logging
import marshal
import multiprocessing
import os
import pickle
import shutil
import sys
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from importlib import metadata as pkg_metadata
from itertools import repeat
from pathlib import Path
from typing import Callable, Iterable

from whoosh import formats
from whoosh import index as whoosh_index
from whoosh.columns import VarBytesColumn
from whoosh.system import pack_uint
from whoosh.util.numeric import length_to_byte

from . import documents, facets, integrity, vocabulary
from .analysis import fast_positions, load_jieba, prepare_router, segmenter
from .documents import iter_source
from .errors import BuildError
from .metadata import env_count, facet_values
from .model import Document, Problem
from .schema import BUILTIN_FACETS, FACET_PREFIX, build_schema

log = logging.getLogger(__name__)
from .script import to_simplified
from .segment_writer import FieldInfo, TermEncoder, TermsFile, dumps, positions_value

CURRENT = "current"
MANIFEST = "build.json"
# Generations kept besides the live one, so a reader that opened the previous
# index just before a swap can finish its request.
KEEP_PREVIOUS = 1
BUILDERS = ("parallel", "whoosh")
# Documents per task a worker takes; inputs smaller than SMALL_INPUT bytes are
# built in this process (starting workers would cost more than it saves).
CHUNK_DOCS = 5000
SMALL_INPUT = 2 * 1024 * 1024
# Bytes of spilled postings per encoding task (a worker holds one task's).
ENCODE_TASK_BYTES = 16 * 1024 * 1024
# Stored fields: zlib level (the pickle is segment_writer's, without memo).
STORED_LEVEL = 9


@dataclass
class BuildReport:
    index_dir: str
    generation: str = ""
    indexed: int = 0
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # Files of a walked folder that are no documents by design: hidden ones,
    # and types that are not indexed (listed, but not a failure).
    ignored: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    # Why the build was not made live (no document, or too few): see BuildRefused.
    refused: str = ""

    @property
    def ok(self) -> bool:
        """True when every document of the sources was indexed."""
        return not self.skipped and not self.refused

    def add(self, problem: Problem) -> None:
        if problem.ignored:
            self.ignored.append(problem)
        else:
            (self.skipped if problem.skipped else self.warnings).append(problem)

    def summary(self) -> str:
        head = (f"indexed {self.indexed:,} documents into {self.index_dir} "
                f"in {self.seconds:.1f} s" if not self.refused else
                f"found {self.indexed:,} documents in {self.seconds:.1f} s, not made live "
                f"(refused: see below)")
        lines = [f"{head}; skipped {len(self.skipped):,}; ignored {len(self.ignored):,}"]
        lines += [f"  skipped {p}" for p in self.skipped]
        lines += [f"  ignored {p}" for p in self.ignored]
        lines += [f"  warning {p}" for p in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "index_dir": self.index_dir, "generation": self.generation,
            "indexed": self.indexed, "seconds": round(self.seconds, 3),
            "refused": self.refused or None,
            "skipped": [{"source": p.source, "reason": p.reason} for p in self.skipped],
            "ignored": [{"source": p.source, "reason": p.reason} for p in self.ignored],
            "warnings": [{"source": p.source, "reason": p.reason} for p in self.warnings],
        }


class BuildRefused(BuildError):
    """A complete build that was not made live: it holds no document, or would
    shrink the live index by more than half (``force=True`` makes it live).
    ``report`` lists what was found, skipped and ignored."""

    def __init__(self, message: str, report: BuildReport):
        super().__init__(message)
        self.report = report


# A build with fewer than this share of the live index's documents is refused
# unless forced: a mistyped or half-mounted source folder must not replace it.
SHRINK_LIMIT = 0.5
# Facet fields an index may hold (SEARCH_MAX_FACETS): each is a Whoosh field,
# a table loaded by every search and a list on the start page.
DEFAULT_MAX_FACETS = 100
MAX_FACETS = env_count("SEARCH_MAX_FACETS", DEFAULT_MAX_FACETS)


def live_generation(index_dir: str | os.PathLike) -> Path | None:
    """The directory of the live Whoosh index under ``index_dir``, or None."""
    root = Path(index_dir)
    link = root / CURRENT
    if link.is_symlink() or link.is_dir():
        target = link.resolve()
        return target if target.is_dir() else None
    # A plain Whoosh index directory (built by other means) also opens.
    if root.is_dir() and whoosh_index.exists_in(str(root)):
        return root
    return None


def document_fields(doc: Document) -> dict:
    """The Whoosh fields of one document."""
    facets = {}
    meta_words = list(doc.tags)
    extra = {}
    for name, value in doc.fields.items():
        extra[name] = value
        # Facet values are kept in simplified script, like cities, so one
        # author written in both scripts is one value.
        values = [to_simplified(v) for v in facet_values(value)]
        if values and name.isidentifier():
            facets[FACET_PREFIX + name] = ",".join(values)
            meta_words.extend(values)
    date = doc.date
    fields = {
        "id": doc.id,
        "title": doc.title,
        "body": doc.body,
        "grams": f"{doc.title}\n{doc.body}",
        "meta": " ".join(meta_words),
        "source": doc.source,
        # Documents without a date sort last both ways; see querying.
        "date_key": date.sort_key() if date else 0,
        **facets,
    }
    # Empty values are left out rather than stored empty (readers use .get):
    # most poems have no city, and 333k empty entries cost megabytes.
    if doc.cities:
        fields["city"] = ",".join(doc.cities)
    if doc.city_forms:
        fields["city_forms"] = doc.city_forms
    if extra:
        fields["extra"] = extra
    if date:
        fields["date"] = date.iso()
        fields["year"] = f"{date.year:04d}"
        if date.month:
            fields["month"] = f"{date.year:04d}-{date.month:02d}"
    return fields


def _versions() -> dict:
    out = {}
    for dist in ("jieba", "opencc-python-reimplemented", "Whoosh-Reloaded"):
        try:
            out[dist] = pkg_metadata.version(dist)
        except pkg_metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _prepare_root(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise BuildError(f"{root} exists and is not a folder")
    if root.is_dir():
        ours = {CURRENT, ".lock"}
        strangers = [p.name for p in root.iterdir()
                     if p.name not in ours and not p.name.startswith(("gen-", ".build-", ".current-"))]
        if strangers and not whoosh_index.exists_in(str(root)):
            raise BuildError(f"{root} holds files that are not an index "
                              f"({', '.join(sorted(strangers)[:3])}); choose another folder")
    root.mkdir(parents=True, exist_ok=True)


def _remove_stale(root: Path, keep: set[str]) -> None:
    """Remove what killed builds left and generations no reader needs any more."""
    gens = sorted((p for p in root.iterdir() if p.name.startswith("gen-")),
                  key=lambda p: p.name)
    old = [g for g in gens if g.name not in keep][:-KEEP_PREVIOUS or None]
    for path in root.iterdir():
        if path.name.startswith((".build-", ".current-")) or path in old:
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)


def _swap_current(root: Path, generation: str) -> None:
    tmp_link = root / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(generation, tmp_link)
    os.replace(tmp_link, root / CURRENT)
    dir_fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class _FacetCap:
    """Which facet fields the index holds: the first ``MAX_FACETS`` names in
    document order (so both builders keep the same ones).  A field past the
    cap stays stored and shown with its document; it is reported once."""

    def __init__(self, report: BuildReport):
        self.limit = MAX_FACETS
        self.report = report
        self.kept: set[str] = set()
        self.refused: set[str] = set()

    def refused_of(self, names: Iterable[str], source: str) -> set[str]:
        """Those of one document's facet field ``names`` (in its order) that are no facets."""
        out = set()
        for name in names:
            if name in self.kept:
                continue
            if name not in self.refused:
                if len(self.kept) < self.limit:
                    self.kept.add(name)
                    continue
                self.refused.add(name)
                self.report.warnings.append(Problem(
                    source, f"field {name[len(FACET_PREFIX):]!r} is not made a facet: the "
                            f"index holds {self.limit:,} already (SEARCH_MAX_FACETS); it is "
                            "stored and shown with its documents", skipped=False))
            out.add(name)
        return out


def _refuse_unsafe_build(report: BuildReport, live: Path | None, building: Path,
                         force: bool, started: float) -> None:
    """Raise ``BuildRefused`` (removing the finished build) when it holds no
    document, or fewer than half the live index's, unless ``force``."""
    report.seconds = time.monotonic() - started
    if force:
        return
    live_count = _document_count(live) if live is not None else None
    where = (f"the live index at {report.index_dir} is unchanged" if live is not None
             else f"no index was created at {report.index_dir}")
    if report.indexed == 0:
        found = []
        if report.skipped:
            found.append(f"{len(report.skipped):,} skipped")
        if report.ignored:
            found.append(f"{len(report.ignored):,} ignored")
        why = f" ({', '.join(found)}: see the list)" if found else ""
        report.refused = (f"the sources hold no document to index{why}; {where}; "
                          "check the paths (--force builds an empty index)")
    elif live_count and report.indexed < live_count * SHRINK_LIMIT:
        report.refused = (f"this build has {report.indexed:,} documents and the live index "
                          f"{live_count:,}: it would lose more than half of them; {where} "
                          "(--force, or force=True, replaces it)")
    if report.refused:
        shutil.rmtree(building, ignore_errors=True)
        raise BuildRefused(report.refused, report)


def _document_count(generation: Path) -> int | None:
    """Documents of a live generation (its manifest, else Whoosh's count); None
    when it cannot be read (a damaged index may always be rebuilt)."""
    try:
        count = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))["documents"]
        if isinstance(count, int) and not isinstance(count, bool):
            return count
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        ix = whoosh_index.open_dir(str(generation))
        try:
            return ix.doc_count()
        finally:
            ix.close()
    except Exception:  # noqa: BLE001 -- whatever is wrong with it, it does not hold the build
        return None


def _iter_unique(sources: Iterable, report: BuildReport,
                 follow_links: bool = False) -> Iterable[Document]:
    """Documents of all sources, first occurrence of an id wins (reported)."""
    first_seen: dict[str, str] = {}
    for source in sources:
        for item in iter_source(source, follow_links=follow_links):
            if isinstance(item, Problem):
                report.add(item)
                continue
            if item.id in first_seen:
                report.skipped.append(Problem(
                    item.source, f"duplicate id {item.id!r}: the first one, from "
                                 f"{first_seen[item.id]}, is kept"))
                continue
            first_seen[item.id] = item.source
            report.warnings.extend(Problem(item.source, w, skipped=False) for w in item.warnings)
            yield item


def build_index(sources: Iterable[str | os.PathLike], index_dir: str | os.PathLike = "index",
                *, progress: Callable[[int, float], None] | None = None,
                limitmb: int = 256, workers: int | None = None,
                builder: str | None = None, force: bool = False,
                follow_links: bool = False) -> BuildReport:
    """Index ``sources`` (folders, .txt/.md files, .jsonl[.gz] files) into ``index_dir``.

    The new index replaces the live one only when complete.  Returns a
    ``BuildReport``; problems with single files are in ``report.skipped``,
    files of a folder that are no documents (hidden, other types) in
    ``report.ignored``.  Raises ``BuildError`` when the index folder itself
    cannot be used, and ``BuildRefused`` (a ``BuildError``, with the report)
    when the build holds no document or fewer than half the live index's:
    then the live index stays, unless ``force``.  A symbolic link in a folder
    that leads outside it is not followed (reported as skipped) unless
    ``follow_links``.

    ``workers``: processes for the parallel build (default: the usable cores,
    or ``SEARCH_BUILD_WORKERS``; 1 builds in this process).  ``builder``:
    ``"parallel"`` (default) or ``"whoosh"`` (Whoosh's writer, one process;
    also ``SEARCH_BUILDER``); ``limitmb`` is the Whoosh writer's memory.
    """
    sources = [os.fspath(s) for s in sources]
    builder = builder or os.environ.get("SEARCH_BUILDER") or "parallel"
    if builder not in BUILDERS:
        raise BuildError(f"unknown builder {builder!r}; use one of {', '.join(BUILDERS)}")
    root = Path(index_dir)
    started = time.monotonic()
    report = BuildReport(index_dir=str(root))
    missing = [s for s in sources if not os.path.exists(s)]
    if sources and len(missing) == len(sources):
        # A mistyped path must not replace the live index with an empty one.
        raise BuildError(f"no such source: {', '.join(missing)}")
    root_existed = root.exists()
    _prepare_root(root)
    lock_file = open(root / ".lock", "a+")
    try:
        try:
            # lockf (POSIX record locks) is owned by this process alone: forked
            # build workers don't inherit it, so a killed build frees it at once.
            fcntl.lockf(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BuildError(f"another build of {root} is running") from None
        live = live_generation(root)
        _remove_stale(root, keep={live.name} if live else set())

        generation = "gen-" + time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        building = root / f".build-{generation}"
        building.mkdir()
        ix = whoosh_index.create_in(str(building), build_schema())
        try:
            if builder == "whoosh":
                how = _build_with_whoosh(ix, sources, report, progress, started, limitmb,
                                         follow_links)
            else:
                how = _build_parallel(ix, building, sources, report, progress, started, workers,
                                      follow_links)
            _save_tables(ix, building)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        ix.close()
        _refuse_unsafe_build(report, live, building, force, started)
        report.seconds = time.monotonic() - started
        report.generation = generation
        manifest = {
            "generation": generation, "documents": report.indexed,
            "sources": sources, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": round(report.seconds, 3), "segmenter": segmenter(),
            "segmentation": ("jieba's dictionary and HMM, search.analysis's exact "
                             "re-implementation of jieba.tokenize"
                             + (", the dictionary route taken by rjieba"
                                if segmenter() != "jieba" else "")),
            "builder": how,
            "versions": _versions(), "skipped": len(report.skipped),
        }
        (building / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        # Last, over every file written: what opening and `search check` verify.
        integrity.write_checksums(building)
        os.rename(building, root / generation)
        _swap_current(root, generation)
        _remove_stale(root, keep={generation})
    except BuildRefused:
        if not root_existed:        # a refused first build leaves nothing behind
            shutil.rmtree(root, ignore_errors=True)
        raise
    finally:
        lock_file.close()
    return report


def _save_tables(ix, building: Path) -> None:
    """Facet tables and the vocabulary, saved beside the index: the second
    in a forked process while this one does the first (both read the index
    whole).  Without the vocabulary file, queries build it when first needed."""
    child = None
    if hasattr(os, "fork"):
        child = multiprocessing.get_context("fork").Process(
            target=vocabulary.save, args=(building, ix), name="search-vocabulary", daemon=True)
        child.start()
    with ix.reader() as reader:
        names = [n for n in reader.indexed_field_names()
                 if n in BUILTIN_FACETS or n.startswith(FACET_PREFIX)]
        facets.save(building, facets.build(reader, names))
    if child is None:
        vocabulary.save(building, ix)
        return
    child.join()
    if child.exitcode != 0:
        (building / (vocabulary.FILE + ".part")).unlink(missing_ok=True)
        log.warning("saving the vocabulary failed (exit code %s); queries will build it",
                    child.exitcode)


def _build_with_whoosh(ix, sources, report, progress, started, limitmb,
                       follow_links=False) -> dict:
    """The reference build: Whoosh's own writer, one process."""
    writer = ix.writer(limitmb=limitmb, compound=False)    # see _build_parallel
    cap = _FacetCap(report)
    try:
        for doc in _iter_unique(sources, report, follow_links):
            fields = document_fields(doc)
            for name in cap.refused_of([n for n in fields if n.startswith(FACET_PREFIX)],
                                       doc.source):
                del fields[name]
            writer.add_document(**fields)
            report.indexed += 1
            if progress and report.indexed % 1000 == 0:
                progress(report.indexed, time.monotonic() - started)
        writer.commit(optimize=True)
    except BaseException:
        writer.cancel()
        raise
    return {"method": "whoosh", "workers": 1}


# ---------------------------------------------------------------------------
# The parallel build
#
# Phase 1 (workers, by chunks of documents): parse, clean, find metadata,
# analyse; invert the chunk into postings grouped in "buckets" of terms that
# share a field and the first two bytes of the term, so that buckets in
# (field, prefix) order hold terms in the order of the term index.
# This process, meanwhile, numbers the documents (first id wins), writes
# their lengths, columns and stored fields, and spills each bucket of each
# chunk to one file.
# Phase 2 (workers, by contiguous runs of buckets): gather a run's postings
# from every chunk, encode their blocks and term records; this process
# appends them to the segment's files in order.


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
    parse = getattr(documents, "_record_to_document", None)
    return parse if callable(parse) else None


def _tasks(sources, chunk_docs: int, follow_links: bool = False):
    """Phase 1 tasks, in document order.

    A JSON-lines file is read here and parsed by the workers, line for line as
    ``documents`` reads it; anything else is read by ``iter_source`` here.
    """
    parse = _jsonl_record_parser()
    for source in sources:
        path = Path(source)
        if parse is not None and path.is_file() and documents.is_jsonl(path):
            yield from _jsonl_tasks(path, chunk_docs)
            continue
        batch = []
        for item in iter_source(source, follow_links=follow_links):
            batch.append(item)
            if len(batch) >= chunk_docs:
                yield ("items", batch)
                batch = []
        if batch:
            yield ("items", batch)


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
        fields = document_fields(item)
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
    shared_path, spill_path, buckets = task
    worker = _the_worker()
    if worker.shared_path != shared_path:
        with open(shared_path, "rb") as fh:
            worker.shared = pickle.load(fh)
        worker.shared_path = shared_path
        from .analysis import release_caches
        release_caches()                  # segmentation is over: give the memory back
    maps, fields = worker.shared
    encoder = TermEncoder()
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
    return bytes(encoder.pst), encoder.trm, encoder.records, encoder.hashes, encoder.patches


def _pool_context():
    # fork shares the loaded dictionaries with the workers; it is only safe
    # while this process runs no other thread.
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _build_parallel(ix, building: Path, sources, report, progress, started, workers,
                    follow_links=False) -> dict:
    from whoosh.index import TOC, clean_files

    if workers is None:
        workers = _default_workers()
        if _input_size(sources, SMALL_INPUT) < SMALL_INPUT:
            workers = 1
    workers = max(1, int(workers))
    schema = ix.schema
    storage = ix.storage
    from whoosh.codec import default_codec
    codec = default_codec()
    segment = codec.new_segment(storage, ix.indexname)
    generation = ix.latest_generation() + 1

    pool = None
    if workers > 1:
        load_jieba()                      # loaded once, shared with forked workers
        prepare_router()
        from .cities import gazetteer
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
        stored_writer = pdw._colwriters["_stored"]._child
        first_seen: dict[str, str] = {}
        lengths: dict[str, bytearray] = {}
        maps: list = []
        parts: dict[tuple[str, bytes], list] = {}
        cap = _FacetCap(report)
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
                    for name, value in columns:
                        pdw.add_column_value(name, schema[name].column_type, value)
                    if blob:
                        VarBytesColumn.Writer.add(stored_writer, docnum, blob)
                    pdw.finish_doc()
                    report.indexed += 1
                    if progress and report.indexed % 1000 == 0:
                        progress(report.indexed, time.monotonic() - started)
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

        tasks = []
        run, size = [], 0
        for key in order:
            key_parts = parts[key]
            run.append((key[0], key[1], key_parts))
            size += sum(p[2] for p in key_parts)
            if size >= ENCODE_TASK_BYTES:
                tasks.append((str(shared_path), str(spill_path), run))
                run, size = [], 0
        if run:
            tasks.append((str(shared_path), str(spill_path), run))

        segments = []
        if doccount:
            pst = segment.create_file(storage, codec.POSTS_EXT)
            terms = TermsFile(segment.create_file(storage, codec.TERMS_EXT), fieldmap)
            for pst_bytes, trm, records, hashes, patches in run2(tasks):
                base = pst.tell()
                pst.write(pst_bytes)
                terms.add(trm, records, hashes, patches, base)
            phases["encode"] = round(time.monotonic() - clock, 3)
            clock = time.monotonic()
            terms.close()
            pst.close()
            pdw.close()
            segment.set_doc_count(doccount)
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
    return {"method": "parallel", "workers": workers, "seconds": phases}


def print_progress(count: int, seconds: float) -> None:
    rate = count / seconds if seconds else 0.0
    print(f"\r  {count:,} documents ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
