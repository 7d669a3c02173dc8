"""Merging a live index's segments: the policy, and the merge itself.

Every change adds a segment; a search reads every segment, so their count
must stay bounded.  The policy is tiered, as Lucene's and Whoosh's are: a
segment's *tier* is the number of decimal digits of its live documents
(1-9 documents: tier 0, 10-99: tier 1, …); when a tier holds ``MERGE_FACTOR``
segments, they are merged into one of the next tier.  So a segment's
documents are rewritten about once per tier (the write amplification grows
with the logarithm of the index's size), the index holds at most
``MERGE_FACTOR - 1`` segments per tier, and a merge of small segments takes
a fraction of a second: the large segment of a build is merged only when
as many documents again have been added in segments of its own tier.  A
segment of which more than ``EXPUNGE_SHARE`` is deleted is rewritten on
its own, without its deleted documents (up to ``EXPUNGE_MAX_DOCS``: a larger
one waits for its tier's merge, or a full build).

A merge holds the writer lock only at its two ends, so changes go on while
it writes (Whoosh merges a few hundred documents a second): under the lock
it chooses the segments and links their files into a folder of their own
(``.merge-…``); without it, Whoosh's writer merges them there, with each
document's exact field lengths (``doclengths``); under the lock again, the
merged segment takes their place in a new generation (``staging``), and
the documents deleted from them meanwhile are deleted from it.  Readers
keep the generation they opened.  One merge runs at a time
(``layout.merge_lock``).  It runs after a change commits, in a background
thread (``merge_in_background``); ``merge(index_dir, everything=True)``
merges all segments into one (the index is then what a full build of its
documents would be, document order aside).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh.reading import SegmentReader

from ..whoosh3.segments import (add_segment, leaf_segments, new_segment_id,
                                read_toc, segment_files, write_toc)
from . import doclengths, vocabulary
from .layout import (MERGING, WriterBusy, live_generation, merge_lock,
                     write_lock)
from .staging import LIMIT_MB, StagedGeneration

log = logging.getLogger(__name__)

MERGE_FACTOR = 8
EXPUNGE_SHARE = 0.5
# A segment this large is not rewritten for its deletions alone: Whoosh
# merges a few hundred documents a second, and a full build is faster.
EXPUNGE_MAX_DOCS = 50_000


@dataclass
class MergeReport:
    """What a merge did: the ``merged`` segments (each's live documents),
    the documents it wrote, the segments before and after, and the
    ``generation`` that holds it."""

    index_dir: str
    generation: str = ""
    merged: list[int] = field(default_factory=list)    # live documents of each merged segment
    documents_written: int = 0
    segments_before: int = 0
    segments_after: int = 0

    def summary(self) -> str:
        """The report for people, on one line."""
        if not self.merged:
            return f"nothing to merge: {self.segments_before} segments"
        return (f"merged {len(self.merged)} segments ({self.documents_written:,} documents): "
                f"{self.segments_before} segments before, {self.segments_after} after; "
                f"generation {self.generation}")

    def to_dict(self) -> dict:
        """The report as JSON."""
        return {"index_dir": self.index_dir, "generation": self.generation,
                "merged": self.merged, "documents_written": self.documents_written,
                "segments_before": self.segments_before, "segments_after": self.segments_after}


def tier(live_documents: int) -> int:
    """``floor(log(live_documents, MERGE_FACTOR))``: MERGE_FACTOR segments of
    one tier merge into one of the next."""
    t, size = 0, MERGE_FACTOR
    while live_documents >= size:
        t, size = t + 1, size * MERGE_FACTOR
    return t


def plan(segments, everything: bool = False) -> list:
    """The segments (Whoosh segment objects) to merge into one, or []."""
    if everything:
        return list(segments) if len(segments) > 1 or any(
            s.has_deletions() for s in segments) else []
    by_tier: dict[int, list] = {}
    for seg in segments:
        by_tier.setdefault(tier(seg.doc_count()), []).append(seg)
    for t in sorted(by_tier):
        if len(by_tier[t]) >= MERGE_FACTOR:
            return sorted(by_tier[t], key=lambda s: s.doc_count())[:MERGE_FACTOR]
    for seg in segments:
        if 0 < seg.doc_count_all() <= EXPUNGE_MAX_DOCS \
                and seg.deleted_count() > EXPUNGE_SHARE * seg.doc_count_all():
            return [seg]
    return []


def merge(index_dir: str | os.PathLike = "index", *, everything: bool = False,
          wait: float = 0.0, repeat: bool = True) -> MergeReport:
    """Merge what the policy says (``everything``: all segments into one),
    one merge after another until nothing is left to merge (``repeat``).

    The writer lock is held only to choose the segments and to put the
    merged one in their place: changes go on while a merge writes (the
    documents they delete from the merged segments meanwhile are deleted
    from the merged one when it goes in).  One merge of an index runs at a
    time (``WriterBusy`` after ``wait`` seconds)."""
    root = Path(index_dir)
    report = MergeReport(index_dir=str(root))
    with merge_lock(root, wait=wait):
        first = True
        while True:
            with write_lock(root, wait=wait):
                live = live_generation(root)
                if live is None:
                    return report
                _schema, segments, _gen = read_toc(live)
                if first:
                    report.segments_before = report.segments_after = len(segments)
                    first = False
                chosen = plan(segments, everything)
                if not chosen:
                    return report
                scratch = _scratch_copy(root, live, chosen)
            try:
                merged = _write_merged(scratch)
                if not _install(root, scratch, chosen, merged, report, wait):
                    return report           # the index was rebuilt meanwhile
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            if everything or not repeat:
                return report


def _scratch_copy(root: Path, live: Path, chosen: list) -> Path:
    """A folder of links to the chosen segments' files, as an index of them
    alone (their deletions as they are now)."""
    scratch = root / f"{MERGING}{uuid.uuid4().hex[:8]}"
    scratch.mkdir()
    schema, _segments, generation = read_toc(live)
    for seg in chosen:
        for name in segment_files(live, seg):
            os.link(live / name, scratch / name)
        lengths = doclengths.file_name(seg.segment_id())
        if (live / lengths).exists():
            os.link(live / lengths, scratch / lengths)
    write_toc(scratch, schema, chosen, generation + 1)
    return scratch


@dataclass
class _Merged:
    segment: object                 # the merged segment (Whoosh's)
    chosen: list[tuple[str, np.ndarray]]    # per merged segment: id, documents kept, in order
    written: int


def _write_merged(scratch: Path) -> _Merged:
    """Merge every segment of the scratch index into one, with the exact
    field lengths where they were kept."""
    from whoosh import index as whoosh_index
    ix = whoosh_index.open_dir(str(scratch))
    _schema, chosen, _gen = read_toc(scratch)
    exact = {s.segment_id(): doclengths.load(scratch, s.segment_id(), s.doc_count_all())
             for s in chosen}
    kept: list[tuple[str, np.ndarray]] = []
    merged_lengths: list[dict] = []

    def policy(writer, segments):
        for seg in segments:
            lengths = exact[seg.segment_id()]
            reader = SegmentReader(writer.storage, writer.schema, seg)
            add_segment(writer, reader, lengths)
            reader.close()
            live = np.setdiff1d(np.arange(seg.doc_count_all()),
                                np.fromiter(seg.deleted_docs(), dtype=np.int64))
            kept.append((seg.segment_id(), live))
            if lengths is not None:
                merged_lengths.append({n: v[live] for n, v in lengths.items()})
        return []

    writer = ix.writer(limitmb=LIMIT_MB, compound=False)
    segment_id = new_segment_id(writer)
    try:
        writer.commit(mergetype=policy)
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    written = sum(len(live) for _, live in kept)
    if all(v is not None for v in exact.values()) and written:
        names = sorted({n for part in merged_lengths for n in part})
        doclengths.save(scratch, segment_id, {
            n: np.concatenate([part[n] if n in part else np.zeros(len(live), np.uint32)
                               for part, (_, live) in zip(merged_lengths, kept)])
            for n in names}, written)
    _schema, after, _gen = read_toc(scratch)
    return _Merged(after[0] if after else None, kept, written)


def _install(root: Path, scratch: Path, chosen: list, merged: _Merged, report: MergeReport,
             wait: float) -> bool:
    """Put the merged segment in the place of the chosen ones in the live
    generation (False when they are no longer there: a build replaced the
    index); documents deleted from them since the merge began are deleted
    from it."""
    ids = [s.segment_id() for s in chosen]
    with write_lock(root, wait=max(wait, DEFAULT_INSTALL_WAIT)):
        gen = StagedGeneration(root)
        try:
            schema, segments, generation = read_toc(gen.folder)
            now = {s.segment_id(): s for s in segments}
            if not all(i in now for i in ids):
                gen.abandon()
                return False
            rest = [s for s in segments if s.segment_id() not in ids]
            if merged.segment is not None:
                base = 0
                for segment_id, kept in merged.chosen:
                    later = set(now[segment_id].deleted_docs()) - _deleted_at_start(chosen,
                                                                                  segment_id)
                    if later:
                        positions = np.searchsorted(kept, np.array(sorted(later), np.int64))
                        for pos in positions.tolist():
                            merged.segment.delete_document(base + pos)
                    base += len(kept)
                for name in segment_files(scratch, merged.segment):
                    os.link(scratch / name, gen.folder / name)
                lengths = doclengths.file_name(merged.segment.segment_id())
                if (scratch / lengths).exists():
                    os.link(scratch / lengths, gen.folder / lengths)
                rest.append(merged.segment)
            write_toc(gen.folder, schema, rest, generation + 1)
            updates = _finish_updates(gen, set(ids), merged.written)
            name, after = gen.finish(**updates)
        except BaseException:
            gen.abandon()
            raise
    report.generation = name
    report.merged.extend(s.doc_count() for s in chosen)
    report.documents_written += merged.written
    report.segments_after = len(after)
    return True


# A merge that has written its segment waits this long for the writer lock
# to put it in place (changes hold it for a moment each).
DEFAULT_INSTALL_WAIT = 60.0


def _deleted_at_start(chosen: list, segment_id: str) -> set[int]:
    for s in chosen:
        if s.segment_id() == segment_id:
            return set(s.deleted_docs())
    return set()


def _finish_updates(gen: StagedGeneration, ids: set[str], written: int) -> dict:
    updates = {}
    covered = set(gen.manifest.get("vocabulary_segments") or [])
    if ids & covered:
        # The saved vocabulary counted a merged segment: written again, for
        # the whole index (a merge this large reads most of it anyway).
        vocabulary.save(gen.folder, gen.ix)
        with gen.ix.reader() as reader:
            segs = leaf_segments(reader)
        updates["vocabulary_segments"] = [s.segment_id for s in segs]
        updates["vocabulary_documents"] = sum(s.doc_count_all for s in segs)
    writes = dict(gen.manifest.get("writes") or {})
    writes["documents_written"] = writes.get("documents_written", 0) + written
    writes["merges"] = writes.get("merges", 0) + 1
    updates["writes"] = writes
    return updates


_background: dict[str, threading.Thread] = {}
_background_lock = threading.Lock()


def merge_in_background(index_dir: str | os.PathLike) -> threading.Thread | None:
    """Merge what the policy says in a thread of this process, if no other
    writer holds the index (then the next change merges).  The thread is not
    a daemon: a program that ends waits for the merge it started."""
    key = os.path.realpath(index_dir)
    with _background_lock:
        running = _background.get(key)
        if running is not None and running.is_alive():
            return None

        def run():
            try:
                merge(index_dir, wait=0)
            except WriterBusy:
                pass
            except Exception:       # noqa: BLE001 -- the change is made; a merge can wait
                log.exception("merging the segments of %s failed; the next change retries",
                              index_dir)
        thread = threading.Thread(target=run, name="search-merge", daemon=False)
        _background[key] = thread
        thread.start()
        return thread


def wait_for_merges(index_dir: str | os.PathLike | None = None,
                    timeout: float | None = None) -> None:
    """Wait for the background merges of this process (of one index, or all)."""
    with _background_lock:
        threads = [t for k, t in _background.items()
                   if index_dir is None or k == os.path.realpath(index_dir)]
    for t in threads:
        t.join(timeout)
