"""Changing a live index: documents added, replaced and deleted without a rebuild.

::

    from search import open_index
    with open_index("index").writer() as w:
        w.add({"id": "n1", "title": "…", "text": "…", "date": "2026-12-01"})
        w.replace({"id": "002_75dd12776f2b8123.txt", "text": "…"})
        w.delete("001_592ae5e4c12961ec.txt")
    # here the change is on disk and every open SearchIndex sees it

A change is one new generation of the index (``staging``: links to the
live generation's files, and the few it writes), made under the index's one
writer lock: Whoosh's writer marks the replaced and deleted documents deleted
and writes the added ones as one new segment, analysed exactly as a build
analyses them (``fields.document_fields``, the schema's analyzers), with
their exact field lengths (``doclengths``) and facet tables beside it.  The
vocabulary saved by the build still counts the segments it was written for;
readers add the new segments' words (``vocabulary.LayeredVocabulary``).

On leaving ``commit`` the change is on disk (fsync) and live; a crash before
leaves the index as it was.  Readers are never blocked: they keep the
generation they opened until their next request.  Segments are merged
afterwards, in the background, by ``merging``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from whoosh import index as whoosh_index
from whoosh.fields import STORED
from whoosh.writing import NO_MERGE

from ..errors import BuildError
from ..ingest.model import Document, Problem
from ..ingest.sources import mapping_to_document
from ..whoosh3.segments import leaf_segments, new_segment_id, record_lengths
from . import checksums, doclengths
from . import fields as doc_fields
from .fields import _FacetCap
from .layout import WriterBusy, _prepare_root, live_generation, write_lock
from .merging import merge_in_background
from .schema import FACET_PREFIX
from .staging import _REWRITTEN, LIMIT_MB, StagedGeneration

__all__ = ["ChangeReport", "DocumentRejected", "IndexWriter", "WriterBusy", "DEFAULT_WAIT"]

# How long a writer waits for another one (a build, a change, a merge) to finish.
DEFAULT_WAIT = 30.0



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
        """How many documents the change added, replaced or deleted."""
        return len(self.added) + len(self.replaced) + len(self.deleted)

    def summary(self) -> str:
        """The report for people, on one line."""
        return (f"added {len(self.added):,}, replaced {len(self.replaced):,}, deleted "
                f"{len(self.deleted):,}, left {self.unchanged:,} unchanged"
                + (f", {len(self.not_found):,} to delete not found" if self.not_found else "")
                + f": {self.documents:,} documents in {self.segments} segment"
                + ("s" if self.segments != 1 else "")
                + f", generation {self.generation or '(none)'}, {self.seconds:.2f} s")

    def to_dict(self) -> dict:
        """The report as JSON (the write API's answer)."""
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
        self._lock = write_lock(self.root, wait=wait)
        self._lock.__enter__()
        self._open = True
        self._pending: dict[str, Document | None] = {}
        self._files: dict[str, bytes] = {}
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
        """How many additions and deletions wait for the commit."""
        return len(self._pending)

    def attach(self, name: str, data: bytes) -> None:
        """Save the file ``name`` with the change, in the generation it makes
        (what an update from sources records of them, say); later changes
        keep it as it is until one attaches it again."""
        self._check_open()
        if not name or "/" in name or name.startswith((".", "_", "MAIN")) or name in _REWRITTEN \
                or checksums.is_saved_table(name) or name.endswith((".toc", ".part")):
            raise ValueError(f"{name!r} is not a name a change may save")
        self._files[name] = bytes(data)

    # -- commit

    def commit(self) -> ChangeReport:
        """Make the change durable and live; returns the ``ChangeReport``."""
        self._check_open()
        started = time.monotonic()
        report = self.report
        try:
            if self._pending or self._files:
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
            merge_in_background(self.root)
        return report

    def _write(self, report: ChangeReport) -> None:
        gen = StagedGeneration(self.root)
        try:
            if self._pending:
                self._apply(gen, report)
            writes = dict(gen.manifest.get("writes") or {})
            added = sum(d is not None for d in self._pending.values())
            writes["documents_added"] = writes.get("documents_added", 0) + added
            writes["documents_written"] = writes.get("documents_written", 0) + added
            for name, data in self._files.items():
                partial = gen.folder / (name + ".part")
                partial.write_bytes(data)
                os.replace(partial, gen.folder / name)
            report.generation, after = gen.finish(writes=writes)
        except BaseException:
            gen.abandon()
            raise
        report.segments = len(after)
        report.documents = sum(s.live for s in after)

    def _apply(self, gen: StagedGeneration, report: ChangeReport) -> None:
        """Whoosh's writer, on the staged generation: the deletions marked,
        the added documents written as one segment with their exact lengths."""
        writer = gen.ix.writer(limitmb=LIMIT_MB, compound=False)
        lengths = record_lengths(writer)
        segment_id = new_segment_id(writer)
        try:
            cap = _FacetCap(report.warnings)
            cap.kept = {n for n in gen.ix.schema.names() if n.startswith(FACET_PREFIX)}
            for doc_id, doc in self._pending.items():
                gone = writer.delete_by_term("id", doc_id)
                if doc is None:
                    (report.deleted if gone else report.not_found).append(doc_id)
                    continue
                (report.replaced if gone else report.added).append(doc_id)
                fields = doc_fields.document_fields(doc)
                if "layout" in fields and "layout" not in writer.schema:
                    # An index built before documents had a layout gains the field.
                    writer.add_field("layout", STORED())
                for name in cap.refused_of([n for n in fields if n.startswith(FACET_PREFIX)],
                                           doc.source):
                    del fields[name]
                report.warnings.extend(Problem(doc.source, w, skipped=False)
                                       for w in doc.warnings)
                writer.add_document(**fields)
            # With nothing added, the commit writes no segment (and removes
            # the files the writer opened for one).
            writer.commit(mergetype=NO_MERGE)
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            raise
        if lengths:
            doclengths.save(gen.folder, segment_id, doclengths.by_document(lengths), len(lengths))

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
        if exc_type is None and self._open:      # not cancelled inside the block
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

