"""One opened generation of an index, with what is cached per generation:
a searcher per thread, its facet tables, date keys and kept terms."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from ..text.segment import segmenter
from ..whoosh3 import termcache
from ..whoosh3.segments import leaf_segments
from . import checksums, facets, integrity
from . import scoring as ranking
from .facet_types import builtin_fields
from .layout import MANIFEST
from .schema import FACET_PREFIX


class _Generation:
    """One opened index generation with the per-generation caches.

    ``previous``: the generation this one replaces in a reader: what it
    learnt of the segments both hold (their term look-ups) is kept."""

    def __init__(self, path: Path, previous: "_Generation | None" = None):
        self.path = path
        # Before Whoosh reads a byte: a missing or truncated file, or a small
        # one (manifest, table of contents, saved tables) that fails its
        # checksum, is named here rather than failing somewhere inside Whoosh.
        self.checksums = checksums.verify_on_open(path)
        self.lock = threading.Lock()
        self.local = threading.local()
        self._facets: dict[str, facets.FacetTable] = {}
        self._tables: dict | None = None
        self._term_memos: dict = {}
        self._date_keys = None
        manifest = path / MANIFEST
        self.manifest = {}
        if manifest.exists():
            try:
                self.manifest = json.loads(manifest.read_text())
            except (OSError, ValueError) as exc:
                raise checksums.damaged(path, MANIFEST, f"is not valid JSON ({exc})") from None
            if not isinstance(self.manifest, dict):
                raise checksums.damaged(path, MANIFEST, "is not the manifest the build wrote")
        built_by = self.manifest.get("segmenter")
        if built_by and built_by != segmenter():
            # The words are the same either way (both are checked equal to
            # jieba.tokenize); this says that a check on this index is due.
            logging.getLogger(__name__).warning(
                "the index at %s was segmented by %s, queries here by %s (SEARCH_SEGMENTER)",
                path, built_by, segmenter())
        try:
            self.ix = whoosh_index.open_dir(str(path))
        except whoosh_index.EmptyIndexError:
            raise checksums.damaged(path, "_MAIN_*.toc", "is missing: the folder holds no "
                                    "table of contents of a Whoosh index") from None
        except Exception as exc:    # Whoosh unpickles its table of contents: anything goes
            raise checksums.damaged(path, integrity.toc_name(path), "Whoosh cannot read the "
                                    f"table of contents ({checksums.reason(exc)})") from None
        with integrity.opening(path), self.ix.searcher() as s:
            # Document numbers run to doc_count; deleted ones (of a live
            # index, until merged away) are among them but never found.
            self.doc_count = s.doc_count_all()
            self.live_count = s.doc_count()
            self.segments = leaf_segments(s.reader())
            self.facet_fields = sorted(
                n[len(FACET_PREFIX):] for n in s.reader().indexed_field_names()
                if n.startswith(FACET_PREFIX))
        self.deleted = (np.concatenate([seg.deleted + seg.offset for seg in self.segments])
                        if any(len(seg.deleted) for seg in self.segments)
                        else np.empty(0, np.int64))
        if previous is not None:
            # A segment's files never change: its term look-ups still hold.
            ids = {seg.segment_id for seg in self.segments}
            self._term_memos.update((k, v) for k, v in previous._term_memos.items()
                                    if k in ids)

    def searcher(self):
        # Whoosh searchers are not meant to be shared between threads: one each.
        s = getattr(self.local, "searcher", None)
        if s is None:
            s = self.local.searcher = self.ix.searcher(weighting=ranking.weighting())
            termcache.share(s, self._term_memos)
            termcache.remember_statistics(s)
        return s

    def _saved(self) -> dict | None:
        if self._tables is None:
            with self.lock:
                if self._tables is None:
                    self._tables = self._segment_tables() or {}
        return self._tables or None

    def _segment_tables(self) -> dict | None:
        """The facet tables and date keys: as the build saved them, or put
        together from each segment's (``segment_tables`` of the manifest,
        written by ``search.store.writing``), without the deleted documents."""
        mapping = self.manifest.get("segment_tables") or {}
        if not mapping or not self.segments:
            return facets.load(self.path, self.doc_count)
        parts = []
        leaves = None
        for seg in self.segments:
            name = mapping.get(seg.segment_id)
            data = facets.load_file(self.path, name, seg.doc_count_all) if name else None
            if data is None:
                # Not saved (or not readable as this segment's): read from it.
                if leaves is None:
                    leaves = {off: leaf for leaf, off in self.searcher().reader().leaf_readers()}
                leaf = leaves[seg.offset]
                names = [n for n in leaf.indexed_field_names()
                         if n in builtin_fields() or n.startswith(FACET_PREFIX)]
                data = facets.build(leaf, names)
            parts.append((seg.offset, seg.doc_count_all, data))
        if len(parts) == 1 and not len(self.deleted):
            return parts[0][2]
        return facets.compose(parts, self.doc_count, self.deleted)

    def facet_table(self, fieldname: str) -> facets.FacetTable:
        """The facet table of a field: saved with the index, or read from it."""
        table = self._facets.get(fieldname)
        if table is None:
            saved = self._saved()
            table = saved["tables"].get(fieldname) if saved else None
            if table is None:
                with self.lock:
                    table = self._facets.get(fieldname)
                    if table is None:
                        table = facets.FacetTable.from_postings(self.searcher().reader(), fieldname)
            self._facets[fieldname] = table
        return table

    def date_keys(self):
        if self._date_keys is None:
            saved = self._saved()
            if saved:
                self._date_keys = saved["date_keys"]
            else:
                with self.lock:
                    if self._date_keys is None:
                        self._date_keys = facets.build(self.searcher().reader(), [])["date_keys"]
        return self._date_keys
