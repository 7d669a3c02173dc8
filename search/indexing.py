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
one live.  The next build removes what a killed build left behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from importlib import metadata as pkg_metadata
from pathlib import Path
from typing import Callable, Iterable

from whoosh import index as whoosh_index

from .documents import iter_source
from .errors import BuildError
from .metadata import facet_values
from .model import Document, Problem
from .schema import FACET_PREFIX, build_schema
from .script import to_simplified

CURRENT = "current"
MANIFEST = "build.json"
# Generations kept besides the live one, so a reader that opened the previous
# index just before a swap can finish its request.
KEEP_PREVIOUS = 1


@dataclass
class BuildReport:
    index_dir: str
    generation: str = ""
    indexed: int = 0
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every document of the sources was indexed."""
        return not self.skipped

    def summary(self) -> str:
        lines = [f"indexed {self.indexed:,} documents into {self.index_dir} "
                 f"in {self.seconds:.1f} s; skipped {len(self.skipped):,}"]
        lines += [f"  skipped {p}" for p in self.skipped]
        lines += [f"  warning {p}" for p in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "index_dir": self.index_dir, "generation": self.generation,
            "indexed": self.indexed, "seconds": round(self.seconds, 3),
            "skipped": [{"source": p.source, "reason": p.reason} for p in self.skipped],
            "warnings": [{"source": p.source, "reason": p.reason} for p in self.warnings],
        }


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
        "city": ",".join(doc.cities),
        "city_forms": doc.city_forms,
        "source": doc.source,
        "extra": extra,
        # Documents without a date sort last both ways; see querying.
        "date_key": date.sort_key() if date else 0,
        **facets,
    }
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


def _iter_unique(sources: Iterable, report: BuildReport) -> Iterable[Document]:
    """Documents of all sources, first occurrence of an id wins (reported)."""
    first_seen: dict[str, str] = {}
    for source in sources:
        for item in iter_source(source):
            if isinstance(item, Problem):
                (report.skipped if item.skipped else report.warnings).append(item)
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
                limitmb: int = 256) -> BuildReport:
    """Index ``sources`` (folders, .txt/.md files, .jsonl[.gz] files) into ``index_dir``.

    The new index replaces the live one only when complete.  Returns a
    ``BuildReport``; problems with single files are in ``report.skipped``.
    Raises ``BuildError`` when the index folder itself cannot be used.
    """
    sources = [os.fspath(s) for s in sources]
    root = Path(index_dir)
    started = time.monotonic()
    report = BuildReport(index_dir=str(root))
    _prepare_root(root)
    lock_file = open(root / ".lock", "a+")
    try:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(f"another build of {root} is running") from None
        live = live_generation(root)
        _remove_stale(root, keep={live.name} if live else set())

        generation = "gen-" + time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        building = root / f".build-{generation}"
        building.mkdir()
        ix = whoosh_index.create_in(str(building), build_schema())
        writer = ix.writer(limitmb=limitmb)
        try:
            for doc in _iter_unique(sources, report):
                writer.add_document(**document_fields(doc))
                report.indexed += 1
                if progress and report.indexed % 1000 == 0:
                    progress(report.indexed, time.monotonic() - started)
            writer.commit(optimize=True)
        except BaseException:
            writer.cancel()
            shutil.rmtree(building, ignore_errors=True)
            raise
        ix.close()
        report.seconds = time.monotonic() - started
        report.generation = generation
        manifest = {
            "generation": generation, "documents": report.indexed,
            "sources": sources, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": round(report.seconds, 3), "segmenter": "jieba",
            "versions": _versions(), "skipped": len(report.skipped),
        }
        (building / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        os.rename(building, root / generation)
        _swap_current(root, generation)
        _remove_stale(root, keep={generation})
    finally:
        lock_file.close()
    return report


def print_progress(count: int, seconds: float) -> None:
    rate = count / seconds if seconds else 0.0
    print(f"\r  {count:,} documents ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
