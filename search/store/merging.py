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
its own, without its deleted documents.

A merge is a change like any other (``staging.StagedGeneration``): readers keep
the generation they opened, and the merged generation goes live in one
swap.  It runs after a change commits, in a background thread that takes
the writer lock only if no other writer holds it (``merge_in_background``);
``merge(index_dir, everything=True)`` merges all segments into one (the
index is then what a full build of its documents would be, document order
aside).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh.reading import SegmentReader

from ..whoosh3.segments import (add_segment, leaf_segments, new_segment_id,
                                toc_segments)
from . import doclengths, vocabulary
from .layout import WriterBusy, live_generation, write_lock
from .staging import LIMIT_MB, StagedGeneration

log = logging.getLogger(__name__)

MERGE_FACTOR = 8
EXPUNGE_SHARE = 0.5


@dataclass
class MergeReport:
    index_dir: str
    generation: str = ""
    merged: list[int] = field(default_factory=list)    # live documents of each merged segment
    documents_written: int = 0
    segments_before: int = 0
    segments_after: int = 0

    def summary(self) -> str:
        if not self.merged:
            return f"nothing to merge: {self.segments_before} segments"
        return (f"merged {len(self.merged)} segments ({self.documents_written:,} documents): "
                f"{self.segments_before} segments before, {self.segments_after} after; "
                f"generation {self.generation}")

    def to_dict(self) -> dict:
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
        if seg.doc_count_all() and seg.deleted_count() > EXPUNGE_SHARE * seg.doc_count_all():
            return [seg]
    return []


def merge(index_dir: str | os.PathLike = "index", *, everything: bool = False,
          wait: float = 0.0, repeat: bool = True) -> MergeReport:
    """Merge what the policy says (``everything``: all segments into one),
    as one change per merge, until nothing is left to merge (``repeat``)."""
    root = Path(index_dir)
    report = MergeReport(index_dir=str(root))
    with write_lock(root, wait=wait, what="merge"):
        first = True
        while True:
            live = live_generation(root)
            if live is None:
                return report
            gen = StagedGeneration(root)
            try:
                segments = toc_segments(gen.ix)
                if first:
                    report.segments_before = len(segments)
                    first = False
                chosen = plan(segments, everything)
                if not chosen:
                    gen.abandon()
                    report.segments_after = len(segments)
                    return report
                _merge_into(gen, chosen, report)
            except BaseException:
                gen.abandon()
                raise
            if everything or not repeat:
                return report


def _merge_into(gen: StagedGeneration, chosen: list, report: MergeReport) -> None:
    ids = {s.segment_id() for s in chosen}
    exact = {s.segment_id(): doclengths.load(gen.folder, s.segment_id(), s.doc_count_all())
             for s in chosen}
    merged_lengths: list[dict] = []

    def policy(writer, segments):
        rest = []
        for seg in segments:
            if seg.segment_id() in ids:
                lengths = exact[seg.segment_id()]
                reader = SegmentReader(writer.storage, writer.schema, seg)
                add_segment(writer, reader, lengths)
                reader.close()
                if lengths is not None:
                    live = np.setdiff1d(np.arange(seg.doc_count_all()),
                                        np.fromiter(seg.deleted_docs(), dtype=np.int64))
                    merged_lengths.append({n: v[live] for n, v in lengths.items()})
            else:
                rest.append(seg)
        return rest

    written = sum(s.doc_count() for s in chosen)
    writer = gen.ix.writer(limitmb=LIMIT_MB, compound=False)
    segment_id = new_segment_id(writer)
    try:
        writer.commit(mergetype=policy)
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    if all(v is not None for v in exact.values()) and written:
        names = sorted({n for part in merged_lengths for n in part})
        doclengths.save(gen.folder, segment_id, {
            n: np.concatenate([part.get(n, np.zeros(len(next(iter(part.values()), [])),
                                                    np.uint32)) for part in merged_lengths])
            for n in names}, written)
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
    name, after = gen.finish(**updates)
    report.generation = name
    report.merged.extend(s.doc_count() for s in chosen)
    report.documents_written += written
    report.segments_after = len(after)


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
