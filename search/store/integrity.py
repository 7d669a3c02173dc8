"""Whether an index is sound, and what a damaged one says.

* ``check``: the whole-index check of ``python -m search check``: the
  manifest, every file's checksum (``checksums``), that Whoosh opens the
  index, every term's postings, every stored document, the lengths and
  columns, the saved tables.
* ``guarded`` (a ``SearchIndex`` method) and ``diagnose`` (the command
  line): an exception from Whoosh's decoding (``struct.error``, ``EOFError``,
  ``zlib.error``, a bad pickle, a ``KeyError`` ...) becomes ``IndexDamaged``
  naming the file when the checksums show a damaged file (read whole once
  per generation, on the first such error); on a sound index the exception
  is the bug it is and passes unchanged.
"""


from __future__ import annotations

import functools
import json
import os
import shlex
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import (COMMAND, IndexDamaged, IndexNotFound, SearchError, index_command,
                      no_index_message)
from ..whoosh3.postings import read_every_block
from . import facets, vocabulary
from .checksums import (
    CHECKSUMS,
    DECODING_ERRORS,
    MANIFEST,
    Problem,
    _file_problem,
    _shown,
    damaged,
    index_root,
    reason,
    rebuild_command,
    recorded,
)


@dataclass
class CheckReport:
    """What ``check`` found about the live index of ``index_dir``."""

    index_dir: str
    generation: str = ""
    documents: int | None = None
    files_checked: int = 0
    terms_read: int = 0
    documents_read: int = 0
    checksums: bool = False
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    segments: list[dict] = field(default_factory=list)
    repair: str = ""

    @property
    def sound(self) -> bool:
        return not self.problems

    def verdict(self) -> str:
        where = _shown(Path(self.index_dir) / self.generation) if self.generation \
            else _shown(Path(self.index_dir))
        if self.sound:
            checked = (f"its {self.files_checked} files match their checksums"
                       if self.checksums else "no checksums recorded (built before they were)")
            return (f"the index at {where} is sound: {self.documents:,} documents, {checked}, "
                    f"{self.terms_read:,} terms' postings and {self.documents_read:,} "
                    f"stored documents read")
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"the index at {where} is damaged: {first.file}: {first.what}{more}; {self.repair}"

    def to_dict(self) -> dict:
        return {"index_dir": self.index_dir, "generation": self.generation,
                "sound": self.sound, "documents": self.documents,
                "checksums": self.checksums, "files_checked": self.files_checked,
                "terms_read": self.terms_read, "documents_read": self.documents_read,
                "segments": self.segments,
                "problems": [p.to_dict() for p in self.problems], "notes": self.notes,
                "repair": self.repair if self.problems else "", "verdict": self.verdict()}


def find_damage(generation: Path) -> Problem | None:
    """The first recorded file of ``generation`` that is missing or fails its
    checksum, reading every file whole; None when all are sound or nothing
    is recorded."""
    try:
        files = recorded(generation)
    except IndexDamaged:
        return Problem(CHECKSUMS, "is not the list of checksums the build wrote")
    for name, expected in (files or {}).items():
        problem = _file_problem(generation, name, expected, whole=True)
        if problem:
            return Problem(name, problem)
    return None


# Generations already diagnosed after a reading error: (path, checksums' mtime) -> Problem|None.
_diagnosed: dict = {}


_diagnosed_lock = threading.Lock()


def _diagnose(generation: Path) -> Problem | None:
    try:
        key = (str(generation), (Path(generation) / CHECKSUMS).stat().st_mtime_ns)
    except OSError:
        key = (str(generation), None)
    with _diagnosed_lock:
        if key in _diagnosed:
            return _diagnosed[key]
    found = find_damage(generation)
    with _diagnosed_lock:
        while len(_diagnosed) >= 8:
            _diagnosed.pop(next(iter(_diagnosed)))
        _diagnosed[key] = found
    return found


def guarded(method):
    """A ``SearchIndex`` method (``self.path``: the index folder) whose errors
    on a damaged index are ``IndexDamaged``, naming the file, instead of
    what Whoosh's decoding raised (``struct.error``, ``zlib.error`` ...)."""
    @functools.wraps(method)
    def guarded_method(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except SearchError:
            raise
        except Exception as exc:
            error = diagnose(self.path, exc)
            if error is None:
                raise
            raise error from exc
    return guarded_method


@contextmanager
def opening(generation: Path):
    """Opening a generation's segments: any error is the index's (the checksums
    name the damaged file when they can)."""
    try:
        yield
    except IndexDamaged:
        raise
    except Exception as exc:
        found = _diagnose(Path(generation))
        if found is None:
            found = Problem("its segment files", f"Whoosh cannot open them ({reason(exc)})")
        raise damaged(Path(generation), found.file, found.what) from exc


def diagnose(index_dir: str | os.PathLike, exc: BaseException) -> IndexDamaged | None:
    """Whether ``exc``, raised while searching the index of ``index_dir``,
    comes from a damaged index: the error that says so, or None."""
    root = Path(index_dir)
    generation, problem = live_target(root)
    if problem:
        return damaged(root, problem.file, problem.what)
    if generation is None:
        return None
    return _generation_damage(generation, exc)


def _generation_damage(generation: Path, exc: BaseException) -> IndexDamaged | None:
    found = _diagnose(generation)
    if found:
        return damaged(generation, found.file, found.what)
    try:
        unrecorded = recorded(generation) is None
    except IndexDamaged as error:
        return error
    if unrecorded and isinstance(exc, DECODING_ERRORS):
        # No checksums to name the file with: what Whoosh could not decode.
        root = index_root(generation)
        return damaged(generation, "a segment file", f"cannot be decoded ({reason(exc)}); "
                       f"`{COMMAND} check --index {shlex.quote(_shown(root))}` names it")
    return None


def toc_name(generation: Path) -> str:
    """The name of the generation's latest Whoosh table of contents."""
    def number(name: str) -> int:
        digits = name.rsplit("_", 1)[-1].split(".")[0]
        return int(digits) if digits.isdigit() else -1
    tocs = sorted((p.name for p in Path(generation).glob("_*.toc")), key=number)
    return tocs[-1] if tocs else "_MAIN_*.toc"


def live_target(index_dir: Path) -> tuple[Path | None, Problem | None]:
    """The generation ``index_dir/current`` names (or the folder itself, a
    plain Whoosh index), or what is wrong with that link."""
    from whoosh import index as whoosh_index

    root = Path(index_dir)
    link = root / "current"
    if link.is_symlink():
        name = os.readlink(link)
        target = root / name
        if not os.path.lexists(target):
            return None, Problem("current", f"names the generation {name}, which does not exist")
        if not target.is_dir():
            return None, Problem(name, "is not a folder")
        return target.resolve(), None
    if link.exists():
        return None, Problem("current", "is not a link to a generation")
    if root.is_dir():
        try:
            if whoosh_index.exists_in(str(root)):
                return root, None
        except OSError:
            pass
    return None, None


def check(index_dir: str | os.PathLike, read_all: bool = True) -> CheckReport:
    """Verify the live index of ``index_dir`` whole (see the module's docstring).

    Raises ``IndexNotFound`` when there is no index at all.  ``read_all``:
    also read every term's postings and every stored document.
    """
    root = Path(index_dir)
    report = CheckReport(index_dir=str(root))
    generation, problem = live_target(root)
    if problem:
        report.problems.append(problem)
        report.repair = f"rebuild it with `{index_command(_shown(root), 'SOURCES')}`"
        return report
    if generation is None:
        raise IndexNotFound(no_index_message(root))
    report.generation = generation.name if generation != root else ""
    report.repair = f"rebuild it with `{rebuild_command(generation)}`"
    try:
        os.listdir(generation)
    except OSError as exc:
        report.problems.append(Problem(generation.name, f"the folder cannot be read "
                                                        f"({exc.strerror or exc})"))
        return report

    manifest = generation / MANIFEST
    if manifest.exists():
        try:
            json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:
            report.problems.append(Problem(MANIFEST, f"is not valid JSON ({exc})"))
    elif generation != root:
        report.problems.append(Problem(MANIFEST, "is missing"))

    try:
        files = recorded(generation)
    except IndexDamaged:
        files = None
        report.problems.append(Problem(CHECKSUMS, "is not the list of checksums the build wrote"))
    else:
        if files is None:
            report.notes.append("no checksums recorded (an index built before they were): "
                                "its files' checksums are not checked")
    if files:
        report.checksums = True
        for name, expected in files.items():
            problem = _file_problem(generation, name, expected, whole=True)
            report.files_checked += 1
            if problem:
                report.problems.append(Problem(name, problem))
        listed = set(files) | {CHECKSUMS}
        extra = sorted(p.name for p in generation.iterdir() if p.name not in listed)
        if extra:
            report.notes.append(f"files not written by the build: {', '.join(extra[:5])}")

    _read_whoosh(generation, report, read_all)
    _read_saved(generation, report)
    if len(report.segments) > 1:
        damaged_segments = [s for s in report.segments
                            if any(p.file.startswith(s["name"] + ".") for p in report.problems)]
        if damaged_segments:
            names = ", ".join(f"{s['name']} ({s['documents']:,} documents)"
                              for s in damaged_segments)
            report.repair += (f"; or, to keep the other segments' documents, drop the "
                              f"damaged segment {names} from the table of contents")
    return report


def _read_whoosh(generation: Path, report: CheckReport, read_all: bool) -> None:
    from whoosh import index as whoosh_index

    try:
        ix = whoosh_index.open_dir(str(generation))
        reader = ix.reader()
    except Exception as exc:      # whatever Whoosh raises on a damaged table of contents
        report.problems.append(Problem(toc_name(generation),
                                       f"Whoosh cannot open the index ({reason(exc)})"))
        return
    try:
        report.documents = reader.doc_count_all()
        leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
        for leaf, _offset in leaves:
            segment = getattr(leaf, "segment", lambda: None)()
            name = segment.make_filename("") if segment is not None else ""
            report.segments.append({"name": name.rstrip("."),
                                    "documents": leaf.doc_count_all()})
            if read_all:
                _read_segment(leaf, name.rstrip("."), report)
    finally:
        reader.close()


def _read_segment(leaf, segment: str, report: CheckReport) -> None:
    """Read every term's postings and every stored document of one segment."""
    prefix = segment + "." if segment else ""
    schema = leaf.schema
    try:
        fieldnames = list(leaf.indexed_field_names())
        for fieldname in fieldnames:
            for term in leaf.lexicon(fieldname):
                try:
                    read_every_block(leaf.postings(fieldname, term))
                except Exception as exc:
                    report.problems.append(Problem(
                        prefix + "pst", f"the postings of {fieldname}:{_term(term)} cannot be "
                                        f"read ({reason(exc)})"))
                    return
                report.terms_read += 1
    except Exception as exc:
        report.problems.append(Problem(prefix + "trm",
                                       f"the term table cannot be read ({reason(exc)})"))
        return
    count = leaf.doc_count_all()
    for docnum in range(count):
        try:
            leaf.stored_fields(docnum)
        except Exception as exc:
            report.problems.append(Problem(prefix + "_stored.col", f"stored document {docnum} "
                                           f"cannot be read ({reason(exc)})"))
            return
        report.documents_read += 1
    for fieldname in fieldnames:
        if schema[fieldname].scorable:
            try:
                for docnum in range(count):
                    leaf.doc_field_length(docnum, fieldname)
            except Exception as exc:
                report.problems.append(Problem(prefix + f"_{fieldname}_len.col",
                                               f"the lengths cannot be read ({reason(exc)})"))
    for fieldname in schema.names():
        if schema[fieldname].column_type and leaf.has_column(fieldname):
            try:
                column = leaf.column_reader(fieldname)
                for docnum in range(count):
                    column[docnum]
            except Exception as exc:
                report.problems.append(Problem(prefix + f"{fieldname}.col",
                                               f"the column cannot be read ({reason(exc)})"))


def _term(term) -> str:
    text = term.decode("utf-8", "backslashreplace") if isinstance(term, bytes) else str(term)
    return text[:40]


def _read_saved(generation: Path, report: CheckReport) -> None:
    """Load the saved tables as a search would (they check their own bytes)."""

    if report.documents is None:
        return
    for module in (facets, vocabulary):
        if not (generation / module.FILE).exists():
            continue
        try:
            data = module._read(generation, report.documents)
        except IndexDamaged as exc:
            problem = getattr(exc, "problem", None) or Problem(module.FILE, str(exc))
            if not any(p.file == problem.file for p in report.problems):
                report.problems.append(problem)
            continue
        if data is None:
            report.notes.append(f"{module.FILE} does not agree with the index (another "
                                f"format or document count): searches rebuild it")
