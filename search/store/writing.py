"""Changing a live index: documents added, replaced and deleted without a rebuild.

::

    from search import open_index
    with open_index("index").writer() as w:
        w.add({"id": "n1", "title": "…", "text": "…", "date": "2026-12-01"})
        w.replace({"id": "002_75dd12776f2b8123.txt", "text": "…"})
        w.delete("001_592ae5e4c12961ec.txt")
    # here the change is on disk and every open SearchIndex sees it

A change is one new generation of the index (``layout``), made under the
index's one writer lock:

1. its folder is filled with hard links to the live generation's files
   (segments are written once and never changed; Whoosh keeps a segment's
   deletions in the table of contents): no byte of the index is copied;
2. Whoosh's writer, on that folder, marks the replaced and deleted documents
   deleted and writes the added ones as one new segment, analysed exactly as
   a build analyses them (``fields.document_fields``, the schema's
   analyzers);
3. the new segment's facet tables and date keys are saved beside it
   (``facets-<segment id>.pickle``); the vocabulary saved by the build still
   counts the segments it was written for, and readers add the new
   segments' words (``vocabulary.LayeredVocabulary``);
4. the new files and the folder are flushed to disk (fsync), checksummed
   (the linked files keep the entries they had), and the generation is made
   live by the one atomic swap of ``current``.

A crash before the swap leaves the live generation as it was; the next
writer removes the half-made folder.  Readers are never blocked: they keep
the generation they opened until their next request.  Segments are merged
afterwards, in the background, by ``merging``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from whoosh import index as whoosh_index
from whoosh.writing import NO_MERGE

from ..errors import BuildError
from ..ingest.model import Document, Problem
from ..ingest.sources import mapping_to_document
from ..whoosh3.segments import leaf_segments
from . import checksums, facets
from . import fields as doc_fields
from .facet_types import builtin_fields
from .fields import _FacetCap
from .layout import (MANIFEST, WriterBusy, _prepare_root, _remove_stale, _swap_current,
                     fsync_path, live_generation, new_generation_name, write_lock)
from .schema import FACET_PREFIX, build_schema

__all__ = ["ChangeReport", "DocumentRejected", "IndexWriter", "WriterBusy", "DEFAULT_WAIT"]

# How long a writer waits for another one (a build, a change, a merge) to finish.
DEFAULT_WAIT = 30.0

# Whoosh's writer's memory for postings before it spills them to disk.
LIMIT_MB = 128

# Not linked into a change's generation: written anew by every change.
_REWRITTEN = (checksums.CHECKSUMS, MANIFEST)


class DocumentRejected(ValueError):
    """A document that cannot be indexed as given; ``reason`` says why."""

    def __init__(self, reason: str, doc_id: str | None = None):
        super().__init__(reason if doc_id is None else f"{doc_id}: {reason}")
        self.reason, self.doc_id = reason, doc_id


@dataclass
class ChangeReport:
    """What a change did: the ids added, replaced and deleted, and the
    generation that holds it (live when the report is made)."""

    index_dir: str
    generation: str = ""
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    # Asked to be deleted, but not in the index.
    not_found: list[str] = field(default_factory=list)
    # Left as they were (an update from sources: the unchanged documents).
    unchanged: int = 0
    documents: int = 0          # live documents after the change
    segments: int = 0
    warnings: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return len(self.added) + len(self.replaced) + len(self.deleted)

    def summary(self) -> str:
        return (f"added {len(self.added):,}, replaced {len(self.replaced):,}, deleted "
                f"{len(self.deleted):,}, left {self.unchanged:,} unchanged"
                + (f", {len(self.not_found):,} to delete not found" if self.not_found else "")
                + f": {self.documents:,} documents in {self.segments} segment"
                + ("s" if self.segments != 1 else "")
                + f", generation {self.generation or '(none)'}, {self.seconds:.2f} s")

    def to_dict(self) -> dict:
        return {"index_dir": self.index_dir, "generation": self.generation,
                "added": self.added, "replaced": self.replaced, "deleted": self.deleted,
                "not_found": self.not_found, "unchanged": self.unchanged,
                "documents": self.documents, "segments": self.segments,
                "warnings": [{"source": p.source, "reason": p.reason} for p in self.warnings],
                "seconds": round(self.seconds, 3)}


def as_document(record, source: str | None = None) -> Document:
    """A record (a mapping with ``text`` and maybe ``id``, ``title``, ``date``
    …, as one line of a JSON-lines file) or a ``Document``, as the build would
    read it.  ``DocumentRejected`` says why it cannot be indexed."""
    if isinstance(record, Document):
        return record
    if not isinstance(record, dict):
        raise DocumentRejected("a document is a JSON object (a mapping) with a \"text\"")
    doc_id = record.get("id")
    if doc_id is None or (isinstance(doc_id, str) and not doc_id.strip()):
        raise DocumentRejected('no "id" (a non-empty string or a number) in the document')
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
        raise DocumentRejected('"id" must be a string or a number')
    item = mapping_to_document(record, source or f"{doc_id}")
    if isinstance(item, Problem):
        raise DocumentRejected(item.reason, str(doc_id))
    return item


# ---------------------------------------------------------------------------
# One new generation


def _link_generation(live: Path, building: Path) -> set[str]:
    """Fill ``building`` with links to the files of ``live`` (all but what a
    change writes anew); the names linked."""
    linked = set()
    for path in live.iterdir():
        name = path.name
        if name in _REWRITTEN or name.endswith(".toc") or name.endswith(".part") \
                or name.endswith("WRITELOCK") or not path.is_file() or path.is_symlink():
            continue
        os.link(path, building / name)
        linked.add(name)
    # Whoosh reads its table of contents by generation number: the latest.
    for toc in sorted(live.glob("_*.toc")):
        shutil.copyfile(toc, building / toc.name)
    return linked


def _same_file(a: Path, b: Path) -> bool:
    try:
        sa, sb = a.stat(), b.stat()
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _facet_names(reader) -> list[str]:
    return [n for n in reader.indexed_field_names()
            if n in builtin_fields() or n.startswith(FACET_PREFIX)]


class Generation:
    """A generation being made from the live one (or from nothing): open its
    Whoosh index with ``ix``, then ``finish`` to make it live."""

    def __init__(self, root: Path):
        self.root = root
        self.live = live_generation(root)
        if self.live is not None and self.live == root.resolve():
            raise BuildError(f"{root} is a plain Whoosh index, not one this library built: "
                             "rebuild it (`python -m search index SOURCES --full`) to change it")
        _remove_stale(root, keep={self.live.name} if self.live else set())
        self.name = new_generation_name()
        self.folder = root / f".build-{self.name}"
        self.folder.mkdir()
        try:
            if self.live is None:
                self.linked: set[str] = set()
                whoosh_index.create_in(str(self.folder), build_schema())
                self.manifest: dict = {"segment_tables": {}, "vocabulary_segments": []}
                self.before = []
            else:
                self.linked = _link_generation(self.live, self.folder)
                self.manifest = _read_json(self.live / MANIFEST)
            self.ix = whoosh_index.open_dir(str(self.folder))
            with self.ix.reader() as reader:
                self.before = leaf_segments(reader)
            self._adopt_build_tables()
        except BaseException:
            self.abandon()
            raise

    def _adopt_build_tables(self) -> None:
        """An index built before changes were possible names no segment for
        its saved tables: they are the one segment's it had."""
        m = self.manifest
        ids = [s.segment_id for s in self.before]
        if "segment_tables" not in m:
            m["segment_tables"] = ({ids[0]: facets.FILE}
                                   if len(ids) == 1 and (self.folder / facets.FILE).exists()
                                   else {})
        if "vocabulary_segments" not in m:
            m["vocabulary_segments"] = ids if (self.folder / "vocabulary.pickle").exists() else []
            m["vocabulary_documents"] = sum(s.doc_count_all for s in self.before)

    def abandon(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def finish(self, **manifest_updates) -> tuple[str, list]:
        """Save the new segments' tables, the manifest and the checksums, flush
        it all to disk and make this generation live.  Returns its name and
        segments."""
        with self.ix.reader() as reader:
            after = leaf_segments(reader)
            leaves = {off: leaf for leaf, off in reader.leaf_readers()}
            kept_ids = {s.segment_id for s in after}
            tables = {sid: name for sid, name in self.manifest.get("segment_tables", {}).items()
                      if sid in kept_ids}
            old_ids = {s.segment_id for s in self.before}
            for seg in after:
                if seg.segment_id in old_ids and seg.segment_id in tables:
                    continue
                leaf = leaves[seg.offset]
                name = facets.segment_file(seg.segment_id)
                facets.save(self.folder, facets.build(leaf, _facet_names(leaf)), name)
                tables[seg.segment_id] = name
            live_docs = reader.doc_count()
        # Tables of segments merged away go with them.
        for name in set(self.manifest.get("segment_tables", {}).values()) - set(tables.values()):
            if name != facets.FILE or facets.FILE not in tables.values():
                (self.folder / name).unlink(missing_ok=True)
        self.ix.close()
        vocab = [sid for sid in self.manifest.get("vocabulary_segments", []) if sid in kept_ids]
        self.manifest.update({
            "generation": self.name, "documents": live_docs,
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "segments": len(after), "segment_tables": tables,
            "vocabulary_segments": vocab if len(vocab) == len(
                self.manifest.get("vocabulary_segments", [])) else [],
        })
        self.manifest.setdefault("built_at", self.manifest["updated_at"])
        self.manifest.update(manifest_updates)
        (self.folder / MANIFEST).write_text(json.dumps(self.manifest, ensure_ascii=False,
                                                       indent=2))
        # Whoosh's writer leaves its (released) lock file behind.
        for lock in self.folder.glob("*WRITELOCK"):
            lock.unlink()
        known = {}
        if self.live is not None:
            recorded = checksums.recorded(self.live) or {}
            known = {n: e for n, e in recorded.items()
                     if n in self.linked and _same_file(self.folder / n, self.live / n)}
        checksums.write_checksums(self.folder, known)
        for path in self.folder.iterdir():
            if path.is_file() and not (path.name in self.linked and self.live is not None
                                       and _same_file(path, self.live / path.name)):
                fsync_path(path)
        fsync_path(self.folder)
        os.rename(self.folder, self.root / self.name)
        _swap_current(self.root, self.name)
        _remove_stale(self.root, keep={self.name})
        return self.name, after


# ---------------------------------------------------------------------------
# The writer


class IndexWriter:
    """Adds, replaces and deletes documents of the index at ``index_dir``;
    ``commit`` (or leaving the ``with`` block) makes the change durable and
    live in one step, ``cancel`` (or an exception in the block) drops it.

    One writer at a time: it takes the index's writer lock when created,
    waiting up to ``wait`` seconds for a build, change or merge to finish
    (``WriterBusy`` after that).  Readers are never blocked.  ``merge``:
    after the commit, merge segments in the background when the policy says
    so (``merging``).
    """

    def __init__(self, index_dir: str | os.PathLike = "index", *, wait: float = DEFAULT_WAIT,
                 merge: bool = True):
        self.root = Path(index_dir)
        self.merge = merge
        _prepare_root(self.root)
        self._lock = write_lock(self.root, wait=wait, what="writer")
        self._lock.__enter__()
        self._open = True
        self._pending: dict[str, Document | None] = {}
        self._searcher = None
        self.report = ChangeReport(index_dir=str(self.root))
        try:
            live = live_generation(self.root)
            if live is not None:
                self._searcher = whoosh_index.open_dir(str(live)).searcher()
        except BaseException:
            self._release()
            raise

    # -- what a change holds

    def _in_index(self, doc_id: str) -> bool:
        return self._searcher is not None and \
            self._searcher.document_number(id=doc_id) is not None

    def _exists(self, doc_id: str) -> bool:
        if doc_id in self._pending:
            return self._pending[doc_id] is not None
        return self._in_index(doc_id)

    def _check_open(self):
        if not self._open:
            raise BuildError("this writer is closed (committed or cancelled)")

    def add(self, record, *, source: str | None = None) -> str:
        """Add a new document (``DocumentRejected`` when its id is in the
        index already: ``replace`` replaces it).  Returns its id."""
        self._check_open()
        doc = as_document(record, source)
        if self._exists(doc.id):
            raise DocumentRejected("a document with this id is in the index already "
                                   "(replace it instead)", doc.id)
        self._pending[doc.id] = doc
        return doc.id

    def replace(self, record, *, source: str | None = None) -> str:
        """Add a document, replacing the one with its id if there is one."""
        self._check_open()
        doc = as_document(record, source)
        self._pending[doc.id] = doc
        return doc.id

    def delete(self, doc_id: str) -> bool:
        """Delete a document by id; False when there is none."""
        self._check_open()
        doc_id = str(doc_id)
        found = self._exists(doc_id)
        if self._in_index(doc_id):
            self._pending[doc_id] = None
        else:
            # Added by this writer only (or never there): nothing to write.
            self._pending.pop(doc_id, None)
            if not found and doc_id not in self.report.not_found:
                self.report.not_found.append(doc_id)
        return found

    def pending(self) -> int:
        return len(self._pending)

    # -- commit

    def commit(self) -> ChangeReport:
        """Make the change durable and live; returns the ``ChangeReport``."""
        self._check_open()
        started = time.monotonic()
        report = self.report
        try:
            if self._pending:
                self._write(report)
            else:
                live = live_generation(self.root)
                report.generation = live.name if live else ""
                if self._searcher is not None:
                    report.documents = self._searcher.doc_count()
                    report.segments = len(leaf_segments(self._searcher.reader()))
        finally:
            self._release()
        report.seconds = time.monotonic() - started
        if self.merge and report.changed:
            from .merging import merge_in_background
            merge_in_background(self.root)
        return report

    def _write(self, report: ChangeReport) -> None:
        gen = Generation(self.root)
        try:
            writer = gen.ix.writer(limitmb=LIMIT_MB, compound=False)
            try:
                existing = {n[len(FACET_PREFIX):] for n in gen.ix.schema.names()
                            if n.startswith(FACET_PREFIX)}
                cap = _FacetCap(report.warnings)
                cap.kept = {FACET_PREFIX + n for n in existing}
                for doc_id, doc in self._pending.items():
                    gone = writer.delete_by_term("id", doc_id)
                    if doc is None:
                        (report.deleted if gone else report.not_found).append(doc_id)
                    else:
                        (report.replaced if gone else report.added).append(doc_id)
                    if doc is not None:
                        fields = doc_fields.document_fields(doc)
                        for name in cap.refused_of(
                                [n for n in fields if n.startswith(FACET_PREFIX)], doc.source):
                            del fields[name]
                        report.warnings.extend(Problem(doc.source, w, skipped=False)
                                               for w in doc.warnings)
                        writer.add_document(**fields)
                writer.commit(mergetype=NO_MERGE)
            except BaseException:
                if not writer.is_closed:
                    writer.cancel()
                raise
            writes = dict(gen.manifest.get("writes") or {})
            added = sum(d is not None for d in self._pending.values())
            writes["documents_added"] = writes.get("documents_added", 0) + added
            writes["documents_written"] = writes.get("documents_written", 0) + added
            report.generation, after = gen.finish(writes=writes)
        except BaseException:
            gen.abandon()
            raise
        report.segments = len(after)
        report.documents = sum(s.live for s in after)

    def cancel(self) -> None:
        """Drop the change: the index stays as it was."""
        if self._open:
            self._pending.clear()
            self._release()

    def _release(self) -> None:
        if self._open:
            self._open = False
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
            self._lock.__exit__(None, None, None)

    def __enter__(self) -> "IndexWriter":
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.cancel()
        return False

    def __del__(self):
        # A writer dropped without commit must not hold the lock forever.
        try:
            self.cancel()
        except Exception:       # noqa: BLE001 -- interpreter shutdown
            pass


def write_documents(index_dir, records: Iterable, *, replace: bool = True,
                    wait: float = DEFAULT_WAIT) -> tuple[ChangeReport, list[Problem]]:
    """Add (``replace``: or replace) many records in one change; a record that
    cannot be indexed is reported (a ``Problem``), the others kept."""
    problems: list[Problem] = []
    with IndexWriter(index_dir, wait=wait) as w:
        for n, record in enumerate(records, 1):
            if isinstance(record, Problem):
                problems.append(record)
                continue
            try:
                (w.replace if replace else w.add)(record)
            except DocumentRejected as exc:
                where = exc.doc_id or (record.get("id") if isinstance(record, dict) else None)
                problems.append(Problem(str(where or f"document {n}"), exc.reason))
    return w.report, problems

