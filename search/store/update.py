"""Updating a live index from its sources: only what changed since the last
build or update is read and written.

::

    from search.store.update import update_index
    report = update_index(["seeds"], "index")
    print(report.summary())   # added 2, replaced 1, deleted 0, left 410 unchanged ...

Every build or update records the state of its sources in the generation it
makes (``sources.json.gz``, attached to the change): per file its size,
mtime, content digest and the ids of the documents it gave (per record of a
JSON-lines file: its id, line number and the digest of its raw line).  The
next update compares the sources with that record:

* a file whose size and mtime are unchanged is not read at all; one whose
  digest is unchanged is read (to hash it) but not parsed; a file that had
  problems (a bad line, too large ...) is read again, and they are reported
  again;
* a changed text file is read again and its document replaced; a changed
  JSON-lines file is compared record by record by id: a new id is added, a
  changed line replaced, an id gone deleted, the same line left (a line
  that only moved keeps the line number it was indexed with in its
  ``source``; ``full=True`` renews them);
* the documents of a file gone from the sources are deleted; a file or
  folder that cannot be read now keeps its documents (and is reported);
* duplicate ids across files: the first one wins, as in a build.

All of it is one change (``writing.IndexWriter``) with the new state
attached: a crash leaves the old documents and the old state, or the new
ones.  So the index stays what a full build of the recorded sources would
hold.  Documents added, replaced or deleted through the writer, the shell or
the HTTP API are left as they are until an update finds their file changed.

Nothing is lost by mistake: sources that yield no document at all do not
empty the index unless ``allow_empty``, and an update that would leave it
with fewer than half its documents is refused unless ``force``
(``UpdateRefused``), as a build is.  Without a
live index, without a recorded state, or with ``full=True``, the update is
a full build (``build.build_index``, with its own refusals).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import BuildError
from ..ingest.model import Document, Problem
from ..ingest.sources import (UNREADABLE_FOLDER, SourceFile, file_to_document,
                              iter_jsonl_lines, iter_jsonl_stream, iter_source,
                              iter_source_files, printable, read_file_bytes, record_id,
                              record_to_document)
from .build import SHRINK_LIMIT, BuildReport, SourceProblems, build_index
from .layout import MANIFEST, live_generation
from .progress import ProgressCallback
from .writing import DEFAULT_WAIT, ChangeReport, IndexWriter, write_documents

__all__ = ["UpdateReport", "UpdateRefused", "update_index", "add_documents", "STATE_FILE"]

# The record of the sources a generation was built or updated from.
STATE_FILE = "sources.json.gz"
STATE_FORMAT = 2

# Bytes of a file hashed at a time.
_CHUNK = 1 << 20


@dataclass
class UpdateReport(SourceProblems):
    """What an update did: the ids added, replaced and deleted, how many
    documents it left, and the problems with the sources (as a build lists
    them).  ``full_build``: the index was built anew (``indexed`` documents)."""

    index_dir: str
    generation: str = ""
    full_build: bool = False
    indexed: int = 0
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    documents: int = 0              # live documents after the update
    segments: int = 0
    files_read: int = 0             # source files parsed (new or changed)
    files_unchanged: int = 0        # source files found as they were recorded
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        """How many documents the update added, replaced or deleted."""
        return len(self.added) + len(self.replaced) + len(self.deleted)

    def summary(self) -> str:
        """The report for people: one line, then one per problem."""
        if self.full_build:
            head = (f"full build: indexed {self.indexed:,} "
                    f"document{'' if self.indexed == 1 else 's'} into {self.index_dir} "
                    f"in {self.seconds:.1f} s")
        else:
            head = (f"{'not updated' if self.refused else 'updated'} {self.index_dir}"
                    f"{' (refused: see below)' if self.refused else ''}: "
                    f"added {len(self.added):,}, replaced {len(self.replaced):,}, "
                    f"deleted {len(self.deleted):,}, left {self.unchanged:,} unchanged "
                    f"({self.files_read:,} files read, {self.files_unchanged:,} unchanged); "
                    f"{self.documents:,} documents, {self.seconds:.2f} s")
        return self.problem_lines(head)

    def to_dict(self) -> dict:
        """The report as JSON (``zhsearch index --json``)."""
        return {
            "index_dir": self.index_dir, "generation": self.generation,
            "full_build": self.full_build, "indexed": self.indexed,
            "added": self.added, "replaced": self.replaced, "deleted": self.deleted,
            "unchanged": self.unchanged, "documents": self.documents,
            "segments": self.segments, "files_read": self.files_read,
            "files_unchanged": self.files_unchanged, "seconds": round(self.seconds, 3),
            "refused": self.refused or None, **self.problems_dict(),
        }

    @classmethod
    def of_build(cls, build: BuildReport) -> "UpdateReport":
        """The report of an update that was a full build, from the build's report."""
        return cls(index_dir=build.index_dir, generation=build.generation, full_build=True,
                   indexed=build.indexed, documents=build.indexed, skipped=list(build.skipped),
                   warnings=list(build.warnings), ignored=list(build.ignored),
                   refused=build.refused)


class UpdateRefused(BuildError):
    """An update that was not applied: its sources hold no document (unless
    ``allow_empty``) or it would leave the index fewer than half its
    documents (unless ``force``).  ``report`` says what was found."""

    def __init__(self, message: str, report: UpdateReport):
        super().__init__(message)
        self.report = report


# ---------------------------------------------------------------------------
# The recorded state
#
# JSON lines, gzipped: {"format": 2, "sources": [...]}, then one line a file,
# in the order a build reads them: {"path": ..., "kind": "text"|"jsonl",
# "size": n, "mtime_ns": n, "digest": hex, "ids": [...], "versions": [...],
# "lines": [...], "problems": [[source, reason], ...]}.  A text file's one
# document has the file's digest as its version and line 0; a JSON-lines
# record the digest of its raw line and its line number.  One line a file:
# the next update writes the lines of the files it did not read as it read
# them, without encoding them again.


def _file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _bytes_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _line_digest(raw: bytes) -> str:
    # Without the line's end: a last line that gains a newline is unchanged.
    return hashlib.blake2b(raw.rstrip(b"\r\n"), digest_size=12).hexdigest()


def _where(key: str, line: int) -> str:
    return f"{key}:{line}" if line else key


def load_state(generation: Path) -> dict | None:
    """The source state recorded in a generation, or None (none, or
    unreadable): ``{"sources": [...], "files": {path: entry}, "lines": {path:
    the entry's line as stored}}``."""
    try:
        lines = gzip.decompress((generation / STATE_FILE).read_bytes()).split(b"\n")
        head = json.loads(lines[0])
        if not isinstance(head, dict) or head.get("format") != STATE_FORMAT:
            return None
        files, raw = {}, {}
        for line in lines[1:]:
            if line:
                entry = json.loads(line)
                key = entry.pop("path")
                files[key], raw[key] = entry, line
    except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError):
        return None
    return {"sources": head.get("sources"), "files": files, "lines": raw}


def _encode_state(sources: list[str], files: dict, old: dict | None = None) -> bytes:
    lines = [json.dumps({"format": STATE_FORMAT, "sources": sources}, ensure_ascii=False)]
    for key, entry in files.items():
        if old is not None and old["files"].get(key) is entry:
            lines.append(old["lines"][key].decode("utf-8", "surrogatepass"))
        else:
            lines.append(json.dumps({"path": key, **entry}, ensure_ascii=False,
                                    separators=(",", ":")))
    # Level 1: the state of a large JSON-lines file is megabytes.
    return gzip.compress("\n".join(lines).encode("utf-8", "surrogatepass"),
                         compresslevel=1, mtime=0)


def _new_entry(kind: str, st: os.stat_result) -> dict:
    return {"kind": kind, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "digest": "",
            "ids": [], "versions": [], "lines": [], "problems": []}


def _append(entry: dict, doc_id: str, version: str, line: int) -> None:
    entry["ids"].append(doc_id)
    entry["versions"].append(version)
    entry["lines"].append(line)


def _docs(entry: dict):
    """(id, version, line) of each document a file's entry records."""
    return zip(entry["ids"], entry["versions"], entry["lines"])


def _owners(files: dict, report: UpdateReport | None = None) -> dict:
    """id -> (file, version, line) of the documents ``files`` give, the first
    one of an id winning (the later ones reported as the build does)."""
    owner: dict[str, tuple[str, str, int]] = {}
    for key, entry in files.items():
        for doc_id, version, line in _docs(entry):
            first = owner.get(doc_id)
            if first is None:
                owner[doc_id] = (key, version, line)
            elif report is not None:
                report.skipped.append(_duplicate(doc_id, _where(key, line),
                                                 _where(first[0], first[2])))
    return owner


def _duplicate(doc_id: str, where: str, first: str) -> Problem:
    return Problem(where, f"duplicate id {doc_id!r}: the first one, from {first}, is kept")


class _Changes:
    """What turns the index of the ``before`` files into that of the
    ``after`` files: the documents to write (file, id, line), the ids to
    delete, and how many are left.  When no id is in two files (the common
    case), the files that were not read cost a set of their ids, no step per
    document."""

    def __init__(self, before: dict, after: dict, report: UpdateReport):
        self.write: list[tuple[str, str, int]] = []
        self.delete: list[str] = []
        self.unchanged = 0
        self._sets: dict[int, set] = {}
        shared_before, ids_before = self._union(before)
        shared_after, ids_after = self._union(after)
        if shared_before or shared_after:
            self._by_document(before, after, report)
        else:
            self._by_file(before, after, ids_before, ids_after, report)
        self.documents = len(ids_after)

    def _ids(self, entry: dict) -> set:
        ids = entry["ids"]
        if id(ids) not in self._sets:
            self._sets[id(ids)] = set(ids)
        return self._sets[id(ids)]

    def _union(self, files: dict) -> tuple[bool, set]:
        """Whether an id is in two of ``files``, and all their ids."""
        union: set = set()
        total = 0
        for entry in files.values():
            ids = self._ids(entry)
            total += len(ids)
            union |= ids
        return len(union) != total, union

    @staticmethod
    def _same(old: dict | None, new: dict) -> bool:
        return old is not None and old["ids"] is new["ids"] and old["versions"] is new["versions"]

    def _by_file(self, before, after, ids_before, ids_after, report) -> None:
        for key, entry in after.items():
            old = before.get(key)
            ids = self._ids(entry)
            if len(ids) != len(entry["ids"]):
                self._report_repeats(key, entry, report)
            if self._same(old, entry):
                self.unchanged += len(ids)
                continue
            recorded = {} if old is None else dict(zip(reversed(old["ids"]),
                                                       reversed(old["versions"])))
            seen = set()
            for doc_id, version, line in _docs(entry):
                if doc_id in seen:
                    continue
                seen.add(doc_id)
                if recorded.get(doc_id) == version:
                    self.unchanged += 1
                else:
                    self.write.append((key, doc_id, line))
        gone = ids_before - ids_after
        if gone:
            for key, entry in before.items():
                if not self._same(after.get(key), entry):
                    self.delete.extend(i for i in dict.fromkeys(entry["ids"]) if i in gone)

    @staticmethod
    def _report_repeats(key, entry, report) -> None:
        first: dict[str, int] = {}
        for doc_id, _version, line in _docs(entry):
            if doc_id in first:
                report.skipped.append(_duplicate(doc_id, _where(key, line),
                                                 _where(key, first[doc_id])))
            else:
                first[doc_id] = line

    def _by_document(self, before, after, report) -> None:
        old_owner = _owners(before)
        new_owner = _owners(after, report)
        for doc_id, (key, version, line) in new_owner.items():
            old = old_owner.get(doc_id)
            if old is not None and old[0] == key and old[1] == version:
                self.unchanged += 1
            else:
                self.write.append((key, doc_id, line))
        self.delete = [doc_id for doc_id in old_owner if doc_id not in new_owner]


# ---------------------------------------------------------------------------
# Looking at the sources


class _Survey:
    """The sources as they are now, against the recorded ``old`` files: the
    new state of every file, and the documents read on the way."""

    def __init__(self, old: dict, report: UpdateReport, parse: bool = True):
        self.old = old
        self.report = report
        # parse=False (after a full build): only ids, never a document.
        self.parse = parse
        self.files: dict[str, dict] = {}
        self.entries: dict[str, SourceFile] = {}
        self.read: dict[tuple[str, str], Document] = {}

    def walk(self, sources: list[str], follow_links: bool) -> None:
        unreadable: list[str] = []
        for source in sources:
            if not os.path.exists(source):
                unreadable.append(printable(Path(source)))
            for entry in iter_source_files(source, follow_links=follow_links):
                if isinstance(entry, Problem):
                    self.report.add(entry)
                    if entry.reason.startswith(UNREADABLE_FOLDER):
                        unreadable.append(entry.source)
                    continue
                if entry.source not in self.files:
                    self.entries[entry.source] = entry
                    self._look_at(entry, self.old.get(entry.source))
        # What is in a folder that cannot be listed now is not known to be gone.
        for key, entry in self.old.items():
            if key not in self.files and any(key == p or key.startswith(p.rstrip("/") + "/")
                                             for p in unreadable):
                self.files[key] = entry
                self.report.warnings.append(Problem(
                    key, "its folder cannot be read now: its documents are kept", skipped=False))

    def _keep(self, entry: SourceFile, old: dict | None, why: str) -> None:
        """A file that cannot be read now: its documents stay, if it had any."""
        if old is not None:
            self.files[entry.source] = old
            why += "; its documents are kept"
        self.report.skipped.append(Problem(entry.source, why))

    def _look_at(self, entry: SourceFile, old: dict | None) -> None:
        key, path = entry.source, entry.path
        kind = "jsonl" if entry.is_jsonl else "text"
        if old is not None and (old.get("kind") != kind or (
                kind == "text" and old["ids"] not in ([], [entry.doc_id]))):
            old = None
        try:
            st = os.stat(path)
        except OSError as exc:
            return self._keep(entry, old, f"cannot read file: {exc.strerror or exc}")
        # A file that had problems is read again: what was wrong may be a
        # setting (SEARCH_MAX_FILE_BYTES ...), and its problems are reported anew.
        settled = old is not None and not old["problems"]
        if settled and old["size"] == st.st_size and old["mtime_ns"] == st.st_mtime_ns:
            self._unchanged(key, old)
            return
        new = _new_entry(kind, st)
        if kind == "text":
            try:
                data = read_file_bytes(path)
            except OSError as exc:
                return self._keep(entry, old, f"cannot read file: {exc.strerror or exc}")
            except ValueError as exc:
                data, problem = None, Problem(key, str(exc))
            if data is not None:
                new["digest"] = _bytes_digest(data)
                if settled and old["digest"] == new["digest"]:
                    self._unchanged(key, {**old, "size": new["size"],
                                          "mtime_ns": new["mtime_ns"]})
                    return
                item = file_to_document(data, entry, key) if self.parse else None
                problem = item if isinstance(item, Problem) else None
            if problem is None:
                _append(new, entry.doc_id, new["digest"], 0)
                if item is not None:
                    self.read[(key, entry.doc_id)] = item
            else:
                self.report.skipped.append(problem)
                new["problems"].append([problem.source, problem.reason])
        else:
            try:
                new["digest"] = _file_digest(path)
            except OSError as exc:
                return self._keep(entry, old, f"cannot read file: {exc.strerror or exc}")
            if settled and old["digest"] == new["digest"]:
                self._unchanged(key, {**old, "size": new["size"], "mtime_ns": new["mtime_ns"]})
                return
            self._read_jsonl(entry, old, new)
        self.files[key] = new
        self.report.files_read += 1

    def _unchanged(self, key: str, entry: dict) -> None:
        self.files[key] = entry
        self.report.files_unchanged += 1

    def _read_jsonl(self, entry: SourceFile, old: dict | None, new: dict) -> None:
        """A changed JSON-lines file, line by line: a line recorded before (its
        raw digest) keeps its id unread; the others are parsed."""
        key = entry.source
        known: dict[str, str] = {}
        if old is not None:
            for doc_id, version, line in _docs(old):
                # An id made of the line's position is another id on another line.
                if doc_id != _where(key, line):
                    known.setdefault(version, doc_id)
        damaged = False
        for item in iter_jsonl_lines(entry.path):
            if isinstance(item, Problem):
                damaged = damaged or item.reason.startswith("cannot read")
                self.report.skipped.append(item)
                new["problems"].append([item.source, item.reason])
                continue
            line, raw = item
            version = _line_digest(raw)
            where = _where(key, line)
            doc_id = known.get(version)
            if doc_id is None:
                doc = record_to_document(raw, where) if self.parse else record_id(raw, where)
                if isinstance(doc, Problem):
                    self.report.skipped.append(doc)
                    new["problems"].append([doc.source, doc.reason])
                    continue
                doc_id = doc.id if isinstance(doc, Document) else doc
                if isinstance(doc, Document):
                    self.read.setdefault((key, doc_id), doc)
            _append(new, doc_id, version, line)
        if damaged and old is not None:
            # The rest of the file cannot be read now: its records stay.
            seen = set(new["ids"])
            for doc in _docs(old):
                if doc[0] not in seen:
                    _append(new, *doc)

    def document(self, key: str, doc_id: str, line: int) -> Document | Problem:
        """The document ``doc_id`` of the file ``key`` (read now if it was not)."""
        doc = self.read.get((key, doc_id))
        if doc is not None:
            return doc
        entry = self.entries[key]
        if entry.is_jsonl:
            for item in iter_jsonl_lines(entry.path):
                if not isinstance(item, Problem) and item[0] == line:
                    doc = record_to_document(item[1], _where(key, line))
                    break
        else:
            try:
                doc = file_to_document(read_file_bytes(entry.path), entry, key)
            except (OSError, ValueError) as exc:
                doc = Problem(key, f"cannot read file: {exc}")
        if isinstance(doc, Document) and doc.id == doc_id:
            return doc
        return doc if isinstance(doc, Problem) else Problem(
            _where(key, line), "changed while the update read it; the next update reads it")


# ---------------------------------------------------------------------------
# The update


def update_index(sources: Iterable[str | os.PathLike], index_dir: str | os.PathLike = "index",
                 *, full: bool = False, allow_empty: bool = False, force: bool = False,
                 follow_links: bool = False, wait: float = DEFAULT_WAIT,
                 progress: ProgressCallback | None = None) -> UpdateReport:
    """Bring the index at ``index_dir`` up to date with ``sources`` (folders,
    document files, .jsonl[.gz] files) in one change; returns an
    ``UpdateReport``.

    Raises ``BuildError`` when no source exists; ``UpdateRefused`` when the
    sources hold no document and the index has some (``allow_empty``
    empties it) or when more than half of the index would be deleted
    (``force``); ``WriterBusy`` when another writer holds the index longer
    than ``wait`` seconds.  A full build (no live index, no recorded state,
    or ``full``) may raise ``BuildRefused``.  ``progress`` is the build's.
    """
    sources = [os.fspath(s) for s in sources]
    missing = [s for s in sources if not os.path.exists(s)]
    if sources and len(missing) == len(sources):
        raise BuildError(f"no such source: {', '.join(map(printable, missing))}")
    started = time.monotonic()
    root = Path(index_dir)
    if not full and live_generation(root) is not None:
        writer = IndexWriter(root, wait=wait)
        try:
            state = load_state(live_generation(root))
            if state is not None:
                report = _update(writer, sources, state, allow_empty, force, follow_links)
                report.seconds = time.monotonic() - started
                return report
        finally:
            writer.cancel()     # no-op after a commit
    return _full_build(sources, root, force, follow_links, wait, progress, started)


def _update(writer: IndexWriter, sources: list[str], state: dict, allow_empty: bool,
            force: bool, follow_links: bool) -> UpdateReport:
    report = UpdateReport(index_dir=str(writer.root))
    survey = _Survey(state["files"], report)
    survey.walk(sources, follow_links)
    changes = _Changes(state["files"], survey.files, report)
    report.unchanged = changes.unchanged
    live = live_generation(writer.root)
    documents = _live_documents(live, len(changes.delete) + changes.unchanged)
    _refuse_unsafe_update(report, changes.documents, changes.delete, documents,
                          allow_empty, force)
    for doc_id in changes.delete:
        writer.delete(doc_id)
    for key, doc_id, line in changes.write:
        doc = survey.document(key, doc_id, line)
        if isinstance(doc, Problem):
            report.skipped.append(doc)
        else:
            writer.replace(doc)
    if writer.pending() or survey.files != state["files"] or state.get("sources") != sources:
        writer.attach(STATE_FILE, _encode_state(sources, survey.files, state))
    writer.report.unchanged = report.unchanged
    change = writer.commit()
    report.generation, report.documents, report.segments = (change.generation,
                                                            change.documents, change.segments)
    report.added, report.replaced, report.deleted = change.added, change.replaced, change.deleted
    report.warnings.extend(change.warnings)
    return report


def _live_documents(live: Path | None, default: int) -> int:
    try:
        count = json.loads((live / MANIFEST).read_text(encoding="utf-8"))["documents"]
        return count if isinstance(count, int) and not isinstance(count, bool) else default
    except (OSError, ValueError, KeyError, TypeError):
        return default


def _refuse_unsafe_update(report: UpdateReport, after: int, to_delete: list, documents: int,
                          allow_empty: bool, force: bool) -> None:
    where = f"the live index at {report.index_dir} is unchanged"
    if not after and documents and not allow_empty:
        found = []
        if report.skipped:
            found.append(f"{len(report.skipped):,} skipped")
        if report.ignored:
            found.append(f"{len(report.ignored):,} ignored")
        why = f" ({', '.join(found)}: see the list)" if found else ""
        report.refused = (f"the sources hold no document{why}: updating would delete all "
                          f"{documents:,} documents of the index; {where}; check the paths "
                          "(--allow-empty, or allow_empty=True, empties it)")
    elif after and not force and after < documents * SHRINK_LIMIT:
        # The build's rule: the index would be left with fewer than half
        # the documents it has.
        report.refused = (f"this update would delete {len(to_delete):,} of the index's "
                          f"{documents:,} documents and leave {after:,}, fewer than half; "
                          f"{where} (--force, or force=True, applies it; --full rebuilds "
                          "from the sources)")
    if report.refused:
        report.documents = documents
        raise UpdateRefused(report.refused, report)


def _full_build(sources: list[str], root: Path, force: bool, follow_links: bool, wait: float,
                progress, started: float) -> UpdateReport:
    """A build from scratch, then its sources' state recorded in a change of
    its own.  The state is taken before the build reads the files: a file
    changed meanwhile differs from it, and the next update reads it."""
    scratch = UpdateReport(index_dir=str(root))
    survey = _Survey({}, scratch, parse=False)
    survey.walk(sources, follow_links)
    built = build_index(sources, root, progress=progress, force=force, follow_links=follow_links,
                        wait=wait)
    report = UpdateReport.of_build(built)
    # What the build could not index is no document of the state.
    duplicates = {p.source for p in _duplicates(survey.files)}
    refused = {p.source: p.reason for p in built.skipped if p.source not in duplicates}
    for key, entry in survey.files.items():
        kept = []
        for doc in _docs(entry):
            where = _where(key, doc[2])
            if where in refused:
                entry["problems"].append([where, refused[where]])
            else:
                kept.append(doc)
        entry["ids"], entry["versions"], entry["lines"] = (
            [d[0] for d in kept], [d[1] for d in kept], [d[2] for d in kept])
    writer = IndexWriter(root, wait=wait, merge=False)
    try:
        live = live_generation(root)
        if live is None or live.name != built.generation:
            report.warnings.append(Problem(str(root), "the index changed after the build: the "
                                   "state of its sources is not recorded, the next update is "
                                   "a full build", skipped=False))
        else:
            writer.attach(STATE_FILE, _encode_state(sources, survey.files))
            change = writer.commit()
            report.generation, report.segments = change.generation, change.segments
    finally:
        writer.cancel()
    report.seconds = time.monotonic() - started
    return report


def _duplicates(files: dict) -> list[Problem]:
    found = UpdateReport(index_dir="")
    _owners(files, found)
    return found.skipped


# ---------------------------------------------------------------------------
# Documents added by hand


STDIN = "-"


def add_documents(sources: Iterable[str | os.PathLike], index_dir: str | os.PathLike = "index",
                  *, stdin=None, follow_links: bool = False,
                  wait: float = DEFAULT_WAIT) -> tuple[ChangeReport, list[Problem]]:
    """Add the documents of ``sources`` in one change, replacing those whose
    id is in the index: files and folders read as a build reads them, and
    ``"-"``: JSON lines from the binary stream ``stdin`` (each needs an
    ``id``).  Returns the ``ChangeReport`` and the files and lines that were
    not added (``Problem``; the others are kept).  These documents are no
    part of the recorded sources: an update leaves them as they are."""
    def documents():
        for source in map(os.fspath, sources):
            if source != STDIN:
                yield from iter_source(source, follow_links=follow_links)
                continue
            for item in iter_jsonl_stream(stdin):
                if isinstance(item, Document) and item.id == item.source:
                    # The id a file's line gets from its place means nothing here.
                    item = Problem(item.source, 'no "id" in the record: a document added '
                                                "from standard input needs one")
                yield item
    return write_documents(index_dir, documents(), replace=True, wait=wait)
