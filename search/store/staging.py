"""A generation being made from the live one: the one way a change (``writing``)
or a merge (``merging``) goes live.

1. its folder is filled with hard links to the live generation's files
   (segments are written once and never changed; Whoosh keeps a segment's
   deletions in the table of contents): no byte of the index is copied;
2. the caller changes its Whoosh index (``ix``) with Whoosh's writer;
3. ``finish`` saves the new segments' facet tables and date keys
   (``facets-<segment id>.pickle``), drops what belonged to segments merged
   away, writes the manifest and the checksums (linked files keep the
   entries they had), flushes the new files and the folder to disk (fsync)
   and makes the generation live by the one atomic swap of ``current``.

A crash before the swap leaves the live generation as it was; the next
writer removes the half-made folder (``layout._remove_stale``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from whoosh import index as whoosh_index

from ..errors import BuildError, index_command
from ..whoosh3.segments import leaf_segments
from . import checksums, doclengths, facets
from .facet_types import builtin_fields
from .layout import (MANIFEST, _remove_stale, _swap_current, fsync_path,
                     live_generation, new_generation_name)
from .schema import FACET_PREFIX, build_schema

# Whoosh's writer's memory for postings before it spills them to disk.
LIMIT_MB = 128

# Not linked into a new generation: written anew for each.
_REWRITTEN = (checksums.CHECKSUMS, MANIFEST)


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


class StagedGeneration:
    """A generation being made from the live one (or from nothing): open its
    Whoosh index with ``ix``, then ``finish`` to make it live."""

    def __init__(self, root: Path):
        self.root = root
        self.live = live_generation(root)
        if self.live is not None and self.live == root.resolve():
            raise BuildError(f"{root} is a plain Whoosh index, not one this library built: "
                             f"rebuild it (`{index_command(root, 'SOURCES', '--full')}`) to change it")
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
        # Tables and lengths of segments merged away go with them.
        for name in set(self.manifest.get("segment_tables", {}).values()) - set(tables.values()):
            (self.folder / name).unlink(missing_ok=True)
        for path in self.folder.glob(doclengths.FILE.format("*")):
            if doclengths.segment_of(path.name) not in kept_ids:
                path.unlink()
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
