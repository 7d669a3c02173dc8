"""Building an index: sources in, a complete Whoosh index swapped into place.

A build writes a new generation beside the live one and makes it live in one
atomic swap (``layout``): readers see the old index or the new one, never
half of one, and a failed or killed build leaves the old one live.  A
complete build is still not made live when it holds no document, or fewer
than half the live one's (``BuildRefused``; ``force=True`` overrides): an
empty, mistyped or half-mounted source folder must not empty a good index.

How a generation is written (``build_index(..., builder=...)``):

* ``"parallel"`` (the default): documents are read, cleaned and segmented in
  worker processes, one per core, which also invert their chunk of documents
  into postings; the postings are then encoded, range of terms by range of
  terms, by the same workers, and this process writes one Whoosh segment
  (``search.whoosh3.segment_writer``, in ``parallel``), merging nothing.  Small builds do the same work in
  this process.  The segment's files stay separate (no compound file), so
  that readers read them in place instead of copying them into memory.
* ``"whoosh"``: Whoosh's own writer in this process (the reference the parallel
  build is checked against, term by term and query by query, in
  ``tests/test_bench.py``).

Both give the same documents, in the same order, the same terms, postings,
field lengths and stored fields: the same search results.

``progress``: a callable given a ``BuildProgress`` as each phase of the build
starts, goes on and ends (``search.store.progress`` lists the phases); the
documents are counted first, so that the long phase has a total.
"""


from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import time
from dataclasses import dataclass, field
from importlib import metadata as pkg_metadata
from pathlib import Path
from typing import Iterable

from whoosh import index as whoosh_index

from ..errors import BuildError
from ..ingest.model import Document, Problem
from ..ingest.sources import iter_jsonl_lines, iter_source, iter_source_files
from ..text.segment import segmenter
from ..whoosh3.compact import TERM_TABLES
from ..whoosh3.segments import leaf_segments, new_segment_id, record_lengths
from . import checksums, doclengths, facets
from . import fields as doc_fields
from . import vocabulary
from .facet_types import builtin_fields
from .fields import _FacetCap
from .layout import (MANIFEST, _prepare_root, _remove_stale, _swap_current,
                     fsync_path, live_generation, new_generation_name,
                     write_lock)
from .parallel import _build_parallel
from .progress import BuildProgress, Progress, ProgressCallback  # noqa: F401 -- the callback's argument
from .schema import FACET_PREFIX, build_schema

log = logging.getLogger(__name__)






BUILDERS = ("parallel", "whoosh")


@dataclass(kw_only=True)
class SourceProblems:
    """What reading sources reports besides documents, for the reports of a
    build and of an update: ``skipped`` files and lines (not indexed),
    ``warnings`` (indexed with a caveat), ``ignored`` (no documents by design:
    hidden files and folders, types that are not indexed); and ``refused``,
    why the result was not made live."""

    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    ignored: list[Problem] = field(default_factory=list)
    refused: str = ""

    @property
    def ok(self) -> bool:
        """True when every document of the sources is in the index."""
        return not self.skipped and not self.refused

    def add(self, problem: Problem) -> None:
        """File ``problem`` under ``ignored``, ``skipped`` or ``warnings``."""
        if problem.ignored:
            self.ignored.append(problem)
        else:
            (self.skipped if problem.skipped else self.warnings).append(problem)

    def problem_lines(self, head: str) -> str:
        """``head``, the counts, and one line per problem."""
        lines = [f"{head}; skipped {len(self.skipped):,}; ignored {len(self.ignored):,}"]
        lines += [f"  skipped {p}" for p in self.skipped]
        lines += [f"  ignored {p}" for p in self.ignored]
        lines += [f"  warning {p}" for p in self.warnings]
        return "\n".join(lines)

    def problems_dict(self) -> dict:
        """The problems as JSON: ``skipped``, ``ignored``, ``warnings``, each a
        list of ``{source, reason}``."""
        def listed(problems):
            return [{"source": p.source, "reason": p.reason} for p in problems]
        return {"skipped": listed(self.skipped), "ignored": listed(self.ignored),
                "warnings": listed(self.warnings)}


@dataclass
class BuildReport(SourceProblems):
    """What ``build_index`` did: ``indexed`` documents into ``index_dir`` (its
    new ``generation``) in ``seconds``, and the sources' problems."""

    index_dir: str
    generation: str = ""
    indexed: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """The report for people: one line, then one per problem."""
        return self.problem_lines(
            f"indexed {self.indexed:,} document{'' if self.indexed == 1 else 's'} into "
            f"{self.index_dir} "
            f"in {self.seconds:.1f} s" if not self.refused else
            f"found {self.indexed:,} document{'' if self.indexed == 1 else 's'} in "
            f"{self.seconds:.1f} s, not made live "
            f"(refused: see below)")

    def to_dict(self) -> dict:
        """The report as JSON (``zhsearch index --json``)."""
        return {
            "index_dir": self.index_dir, "generation": self.generation,
            "indexed": self.indexed, "seconds": round(self.seconds, 3),
            "refused": self.refused or None, **self.problems_dict(),
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


def _versions() -> dict:
    out = {}
    for dist in ("jieba", "opencc-python-reimplemented", "Whoosh-Reloaded"):
        try:
            out[dist] = pkg_metadata.version(dist)
        except pkg_metadata.PackageNotFoundError:
            out[dist] = None
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


def count_documents(sources: Iterable[str | os.PathLike], follow_links: bool = False,
                    progress: Progress | None = None) -> int:
    """How many documents and problems the sources give a build (a JSON-lines
    file's non-blank lines are read, not parsed): the total of its
    ``reading`` phase, the same count its reading reaches."""
    progress = progress or Progress(None)
    progress.start("counting", None, "files")
    count = files = 0
    for source in sources:
        for entry in iter_source_files(source, follow_links=follow_links):
            files += 1
            if getattr(entry, "is_jsonl", False):
                count += sum(1 for _ in iter_jsonl_lines(entry.path))
                progress.advance(files)
                files = 0
            else:
                count += 1
            if files == 100:
                progress.advance(files)
                files = 0
    progress.advance(files)
    progress.finish()
    return count


def _iter_unique(sources: Iterable, report: BuildReport,
                 follow_links: bool = False, progress: Progress | None = None
                 ) -> Iterable[Document]:
    """Documents of all sources, first occurrence of an id wins (reported)."""
    first_seen: dict[str, str] = {}
    for source in sources:
        n = 0
        for n, item in enumerate(iter_source(source, follow_links=follow_links), 1):
            if progress is not None and n % 100 == 0:
                progress.advance(100)
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
        if progress is not None:
            progress.advance(n % 100)


def build_index(sources: Iterable[str | os.PathLike], index_dir: str | os.PathLike = "index",
                *, progress: ProgressCallback | None = None,
                limitmb: int = 256, workers: int | None = None,
                builder: str | None = None, force: bool = False,
                follow_links: bool = False, wait: float = 30.0,
                term_table: str | None = None) -> BuildReport:
    """Index ``sources`` (folders, document files, .jsonl[.gz] files) into ``index_dir``.

    The new index replaces the live one only when complete.  Returns a
    ``BuildReport``; problems with single files are in ``report.skipped``,
    files of a folder that are no documents (hidden, other types) in
    ``report.ignored``.  Raises ``BuildError`` when the index folder itself
    cannot be used, and ``BuildRefused`` (a ``BuildError``, with the report)
    when the build holds no document or fewer than half the live index's:
    then the live index stays, unless ``force``.  A symbolic link in a folder
    that leads outside it is not followed (reported as skipped) unless
    ``follow_links``.

    ``wait``: seconds to wait for another writer of the index (a change, a
    merge putting its segment in place) before ``WriterBusy``.

    ``workers``: processes for the parallel build (default: the usable cores,
    or ``SEARCH_BUILD_WORKERS``; 1 builds in this process).  ``builder``:
    ``"parallel"`` (default) or ``"whoosh"`` (Whoosh's writer, one process;
    also ``SEARCH_BUILDER``); ``limitmb`` is the Whoosh writer's memory.
    ``term_table``: the parallel build's term table, ``"w3"`` (default:
    Whoosh's hash table) or ``"compact"`` (``search.whoosh3.compact``, about
    a fifth of its size); also ``SEARCH_TERM_TABLE``; recorded in build.json.

    ``progress``: called with a ``BuildProgress`` (phase, done, total, unit,
    seconds) as each phase starts, goes on and ends: ``counting`` the
    documents, ``reading`` them (the long phase, with that total), then
    ``encoding`` or ``merging``, ``tables`` and ``saving``.
    """
    sources = [os.fspath(s) for s in sources]
    builder = builder or os.environ.get("SEARCH_BUILDER") or "parallel"
    if builder not in BUILDERS:
        raise BuildError(f"unknown builder {builder!r}; use one of {', '.join(BUILDERS)}")
    term_table = term_table or os.environ.get("SEARCH_TERM_TABLE") or "w3"
    if term_table not in TERM_TABLES:
        raise BuildError(f"unknown term table {term_table!r}; use one of "
                         f"{', '.join(TERM_TABLES)} (SEARCH_TERM_TABLE)")
    root = Path(index_dir)
    started = time.monotonic()
    reporter = Progress(progress, started)
    report = BuildReport(index_dir=str(root))
    missing = [s for s in sources if not os.path.exists(s)]
    if sources and len(missing) == len(sources):
        # A mistyped path must not replace the live index with an empty one.
        raise BuildError(f"no such source: {', '.join(missing)}")
    root_existed = root.exists()
    _prepare_root(root)
    try:
        with write_lock(root, wait=wait):
            _build_locked(root, sources, report, reporter, started, limitmb, workers,
                          builder, force, follow_links, term_table)
    except BuildRefused:
        if not root_existed:        # a refused first build leaves nothing behind
            shutil.rmtree(root, ignore_errors=True)
        raise
    return report


def _build_locked(root: Path, sources, report: BuildReport, progress: Progress, started,
                  limitmb, workers, builder, force, follow_links, term_table="w3") -> None:
    live = live_generation(root)
    _remove_stale(root, keep={live.name} if live else set())

    generation = new_generation_name()
    building = root / f".build-{generation}"
    building.mkdir()
    ix = whoosh_index.create_in(str(building), build_schema())
    try:
        # Counted only for someone watching: it reads every JSON-lines file once more.
        documents = (count_documents(sources, follow_links, progress)
                     if progress.callback is not None else None)
        if builder == "whoosh":
            how = _build_with_whoosh(ix, sources, report, progress, documents, limitmb,
                                     follow_links)
        else:
            how = _build_parallel(ix, building, sources, report, progress, documents, workers,
                                  follow_links, term_table)
        progress.step("tables", lambda: _save_tables(ix, building))
        with ix.reader() as reader:
            segment_ids = [seg.segment_id for seg in leaf_segments(reader)]
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
        "segmentation": ("jieba's dictionary and HMM, search.text.segment's exact "
                         "re-implementation of jieba.tokenize"
                         + (", the dictionary route taken by rjieba"
                            if segmenter() != "jieba" else "")),
        "builder": how,
        "versions": _versions(), "skipped": len(report.skipped),
        # What a change (search.store.writing) needs to know of the saved
        # tables: which segment the facet tables are of, which segments the
        # vocabulary counts.
        "segment_tables": {sid: facets.FILE for sid in segment_ids},
        "vocabulary_segments": segment_ids, "vocabulary_documents": report.indexed,
    }
    (building / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    # Last, over every file written: what opening and `search check` verify.
    progress.step("saving", lambda: checksums.write_checksums(building))
    # On disk before it goes live: a build reported done survives a crash.
    for path in building.iterdir():
        if path.is_file():
            fsync_path(path)
    fsync_path(building)
    os.rename(building, root / generation)
    _swap_current(root, generation)
    _remove_stale(root, keep={generation})


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
                 if n in builtin_fields() or n.startswith(FACET_PREFIX)]
        facets.save(building, facets.build(reader, names))
    if child is None:
        vocabulary.save(building, ix)
        return
    child.join()
    if child.exitcode != 0:
        (building / (vocabulary.FILE + ".part")).unlink(missing_ok=True)
        log.warning("saving the vocabulary failed (exit code %s); queries will build it",
                    child.exitcode)


def _build_with_whoosh(ix, sources, report, progress: Progress, documents: int | None, limitmb,
                       follow_links=False) -> dict:
    """The reference build: Whoosh's own writer, one process."""
    writer = ix.writer(limitmb=limitmb, compound=False)    # see _build_parallel
    lengths = record_lengths(writer)
    segment_id = new_segment_id(writer)
    cap = _FacetCap(report.warnings)
    try:
        progress.start("reading", documents, "documents")
        for doc in _iter_unique(sources, report, follow_links, progress):
            fields = doc_fields.document_fields(doc)
            for name in cap.refused_of([n for n in fields if n.startswith(FACET_PREFIX)],
                                       doc.source):
                del fields[name]
            writer.add_document(**fields)
            report.indexed += 1
        progress.finish()
        progress.step("merging", lambda: writer.commit(optimize=True))
    except BaseException:
        writer.cancel()
        raise
    if lengths:
        doclengths.save(Path(ix.storage.folder), segment_id, doclengths.by_document(lengths),
                        len(lengths))
    return {"method": "whoosh", "workers": 1, "term_table": "w3"}

