"""Reading sources into documents: folders of files and JSON-lines files.

Owns how a source is walked, how one file or line becomes a document, and how
a bad one is reported (``Problem``) without stopping the rest.  A file is one
document: text (.txt), Markdown (.md), a web page (.html, .htm, .shtml,
.xhtml), a Word (.docx) or a PDF file; the type suffix chooses its reader
(``formats``).  A JSON-lines file holds one document per line, its text in
``"text"`` or a web page in ``"html"``.  Metadata extraction itself lives in
``metadata``.

Nothing a file holds stops a build or the reading of the other files: a file
that cannot be read, decoded or parsed, or that yields text an index cannot
hold, is one ``Problem`` with its path and the reason.  In particular:

* a text file larger than ``MAX_FILE_BYTES`` (``SEARCH_MAX_FILE_BYTES``,
  20 MB by default) is refused from its size, without being read; in a
  JSON-lines file, where each line is a document, the limit is per line, and
  a longer line is skipped without being held in memory;
* only regular files are read (a named pipe called ``x.txt`` would block);
* a symbolic link in a folder that leads outside it is not followed unless
  the operator asks (``follow_links``), and a link is judged by its target's
  type too (``x.txt`` pointing at a binary is refused);
* every file of a folder that is not read is reported: hidden files and
  folders (a hidden folder once, not its content) and files of other types
  are ``ignored`` (no documents by design, not failures), each with its
  reason; odd names (``..md``, spaces, bytes that are not UTF-8, shown as
  ``\\xff`` in the id) are read like any other;
* a web page, Word or PDF file its reader cannot use (truncated, encrypted,
  a scan without text, a zip bomb) is skipped with the reader's reason;
* numbers that are not finite (JSON ``1e400``, ``NaN``, ``Infinity``; YAML
  ``.inf``, ``.nan``) are kept as the text written, with a warning: JSON has
  no such numbers, and none may reach the index;
* a folder that cannot be listed, a symbolic-link loop and a file name that is
  not UTF-8 are reported, not silently passed over;
* YAML front matter may not use aliases (``*name``: the "billion laughs"
  expansion), and a ``date`` YAML cannot read (``2014-13-45``) stays text, so
  that ``metadata`` reports it as a date it cannot use;
* JSON or YAML nested too deeply, and lone UTF-16 surrogates (``"\\ud800"``,
  which JSON and YAML escapes can make but no file can store), are refused.
"""

from __future__ import annotations

import gzip
import importlib
import json
import math
import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Union

import yaml

from . import metadata
from .cleaning import UndecodableError, decode_bytes
from .formats import FormatError
from .model import Document, Problem

TEXT_SUFFIXES = (".txt",)
MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")
WORD_SUFFIXES = (".docx",)
PDF_SUFFIXES = (".pdf",)
# Files that are one document each; the rest of a folder is reported, not read.
DOCUMENT_SUFFIXES = TEXT_SUFFIXES + MARKDOWN_SUFFIXES + HTML_SUFFIXES + WORD_SUFFIXES + PDF_SUFFIXES
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")
DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024


MAX_FILE_BYTES = metadata.env_count("SEARCH_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES, "bytes")
# Bytes of a JSON line read at a time (a longer line is read in such steps).
LINE_CHUNK = 1 << 20


Item = Union[Document, Problem]


def is_jsonl(path: Path) -> bool:
    return path.name.lower().endswith(JSONL_SUFFIXES)


def printable(path: str | os.PathLike) -> str:
    """A path as text that can always be printed and stored.

    Bytes of a file name that are not UTF-8 reach Python as lone surrogates;
    they are shown as ``\\xff`` escapes instead.
    """
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


SUPPORTED = ", ".join(DOCUMENT_SUFFIXES + JSONL_SUFFIXES)
UNSUPPORTED_TYPE = f"not a supported type; indexed are {SUPPORTED}"


def _supported(name: str) -> bool:
    return name.lower().endswith(DOCUMENT_SUFFIXES + JSONL_SUFFIXES)


def _unsupported(name: str) -> str:
    """Why a file of a folder is not read, naming its type."""
    suffix = Path(name).suffix.lower()
    kind = f"a {suffix} file" if suffix else "a file without a type suffix"
    return f"{kind}: {UNSUPPORTED_TYPE}"


def is_hidden(name: str) -> bool:
    """A dot file or folder (``.git``, ``.DS_Store``), by the Unix convention.

    ``..md`` is not one: a name starting with two dots is an odd name
    (a tool that wrote an empty title), not a hidden file.
    """
    return name.startswith(".") and not name.startswith("..")


@dataclass(frozen=True)
class SourceFile:
    """One file a source holds, before it is read: ``doc_id`` is the id of a
    text file's document (its path in the source folder), None for a
    JSON-lines file (its records carry their ids)."""

    path: Path
    doc_id: str | None

    @property
    def source(self) -> str:
        """The file as its documents and problems name it."""
        return printable(self.path)

    @property
    def is_jsonl(self) -> bool:
        return self.doc_id is None


# The reason a folder that cannot be listed is reported with: what it holds is
# unknown now, not gone.
UNREADABLE_FOLDER = "cannot read folder"


def iter_source(source: str | os.PathLike, *, follow_links: bool = False) -> Iterator[Item]:
    """Yield the documents of one source (a folder, a text file or a JSON-lines file).

    In a folder, a symbolic link that leads outside it is not followed (it is
    reported as skipped) unless ``follow_links``; files and folders that are
    no documents by design (hidden, or of a type that is not indexed) are
    reported as ignored.
    """
    for entry in iter_source_files(source, follow_links=follow_links):
        if isinstance(entry, Problem):
            yield entry
        else:
            yield from read_source_file(entry)


def iter_source_files(source: str | os.PathLike, *,
                      follow_links: bool = False) -> Iterator[SourceFile | Problem]:
    """The files of one source that ``iter_source`` reads, in its order, each
    as a ``SourceFile`` (not read yet), with the same Problems in between."""
    path = Path(source)
    if path.is_dir():
        yield from _iter_folder(path, follow_links)
    elif not path.exists():
        yield Problem(printable(path), "no such file or folder")
    elif is_jsonl(path):
        yield SourceFile(path, None)
    elif path.name.lower().endswith(DOCUMENT_SUFFIXES):
        yield SourceFile(path, printable(path.name))
    else:
        yield Problem(printable(path), _unsupported(path.name))


def read_source_file(entry: SourceFile) -> Iterator[Item]:
    """The documents (and Problems) of one file of a source."""
    if entry.is_jsonl:
        yield from _iter_jsonl(entry.path)
    else:
        yield _read_document_file(entry)


def _inside(target: str, root: str) -> bool:
    return target == root or target.startswith(root.rstrip(os.sep) + os.sep)


def _link_problem(path: Path, real_root: str, follow_links: bool, is_folder: bool) -> Problem | None:
    """Why the symbolic link ``path`` is not followed, or None when it may be.

    A link may lead only inside the source folder (unless ``follow_links``):
    otherwise a link named ``notes.txt`` would index ``/etc/passwd``.  A link
    to a file is also judged by its target's name, not only its own.
    """
    target = os.path.realpath(path)
    shown = printable(target)
    if not follow_links and not _inside(target, real_root):
        return Problem(printable(path), f"a symbolic link to {shown}, outside the source "
                                        "folder; not followed (--follow-links follows it)")
    if not is_folder and os.path.exists(target) and not _supported(os.path.basename(target)):
        return Problem(printable(path), f"a symbolic link to {shown}, which is "
                                        f"{_unsupported(os.path.basename(target))}")
    return None


def _iter_folder(root: Path, follow_links: bool = False) -> Iterator[Item]:
    seen_dirs: set[tuple[int, int]] = set()
    unlisted: list[OSError] = []
    real_root = os.path.realpath(root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unlisted.append):
        # os.walk reports a folder it cannot list through onerror, and goes on.
        while unlisted:
            exc = unlisted.pop(0)
            yield Problem(printable(exc.filename or dirpath),
                          f"{UNREADABLE_FOLDER}: {exc.strerror or exc}")
        try:
            st = os.stat(dirpath)
        except OSError as exc:
            yield Problem(printable(dirpath), f"{UNREADABLE_FOLDER}: {exc.strerror or exc}")
            dirnames[:] = []
            continue
        # A symlink loop would walk forever; visit each real folder once.
        if (st.st_dev, st.st_ino) in seen_dirs:
            yield Problem(printable(dirpath), "folder already visited (symlink loop); skipped")
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        walked = []
        for name in sorted(dirnames):
            path = Path(dirpath) / name
            if is_hidden(name):
                # Reported once, not file by file: .git alone holds thousands.
                yield Problem(printable(path), "hidden folder (its name starts with a dot); "
                                               "not walked", ignored=True)
                continue
            if path.is_symlink():
                problem = _link_problem(path, real_root, follow_links, is_folder=True)
                if problem:
                    yield problem
                    continue
            walked.append(name)
        dirnames[:] = walked
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if is_hidden(name):
                yield Problem(printable(path), "hidden file (its name starts with a dot); "
                                               "not indexed", ignored=True)
                continue
            if not _supported(name):
                yield Problem(printable(path), _unsupported(name), ignored=True)
                continue
            if path.is_symlink():
                problem = _link_problem(path, real_root, follow_links, is_folder=False)
                if problem:
                    yield problem
                    continue
            relative = path.relative_to(root).as_posix()
            # A name that is not UTF-8 gets an id with \\xff escapes: the
            # document is found by it, the file still read by its own name.
            if name.lower().endswith(DOCUMENT_SUFFIXES):
                yield SourceFile(path, printable(relative))
            else:
                yield SourceFile(path, None)
    while unlisted:                     # the root itself could not be listed
        exc = unlisted.pop(0)
        yield Problem(printable(exc.filename or root),
                      f"{UNREADABLE_FOLDER}: {exc.strerror or exc}")


def _too_large(size: int) -> str:
    return (f"file too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,}, "
            "set SEARCH_MAX_FILE_BYTES)")


def _read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; ``ValueError`` says why not.

    The size is checked before anything is read, and the read itself stops
    past the limit (a file may grow meanwhile).  Raises ``OSError`` when the
    file cannot be opened or read.
    """
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise ValueError("not a regular file (a named pipe, device or socket)")
    if st.st_size > MAX_FILE_BYTES:
        raise ValueError(_too_large(st.st_size))
    # O_NONBLOCK: should the path have become a pipe since, open() does not wait.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ValueError("not a regular file (a named pipe, device or socket)")
        # read(n) sets n bytes aside first: ask for what the file holds, not the limit.
        data = fh.read(st.st_size + 1)
        if len(data) > st.st_size:          # it grew since: read on, up to the limit
            data += fh.read(MAX_FILE_BYTES + 1 - len(data))
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"file too large (it grew past the limit of {MAX_FILE_BYTES:,} bytes "
                         "while being read; set SEARCH_MAX_FILE_BYTES)")
    return data


def read_file_bytes(path: Path) -> bytes:
    """The bytes of a regular file as the build reads a text file (at most
    ``MAX_FILE_BYTES``); ``ValueError`` says why not, ``OSError`` when it
    cannot be opened or read."""
    return _read_regular_file(path)


def _read_document_file(entry: SourceFile) -> Item:
    source = entry.source
    try:
        data = _read_regular_file(entry.path)
    except OSError as exc:
        return Problem(source, f"cannot read file: {exc.strerror or exc}")
    except ValueError as exc:
        return Problem(source, str(exc))
    return file_to_document(data, entry)


def file_to_document(data: bytes, entry: SourceFile, source: str | None = None) -> Item:
    """The bytes of a one-document file as its document, or a Problem; the
    file's type suffix says how it is read.  ``source`` names it in the
    document and its problems (the entry's own path by default)."""
    source = source or entry.source
    name = entry.path.name.lower()
    if name.endswith(TEXT_SUFFIXES):
        return text_to_document(data, source, entry.doc_id)
    if name.endswith(MARKDOWN_SUFFIXES):
        return markdown_to_document(data, source, entry.doc_id)
    if name.endswith(HTML_SUFFIXES):
        return _formatted(source, entry.doc_id, lambda: _reader("html").read(data, source))
    if name.endswith(WORD_SUFFIXES):
        return _formatted(source, entry.doc_id, lambda: _reader("docx").read(data, source))
    if name.endswith(PDF_SUFFIXES):
        # PDFium is C: a crafted file could crash or hang it, so it reads
        # in a child process (``formats.isolation``).
        return _formatted(source, entry.doc_id, lambda: _reader("isolation").read_isolated(
            _reader("pdf").read, data, source))
    return Problem(source, _unsupported(name))


def _reader(name: str):
    """The format reader module ``name`` (imported when first needed: a
    build of text files never loads the HTML extractor)."""
    return importlib.import_module(f"{__package__}.formats.{name}")


def markdown_to_document(data: bytes, source: str, doc_id: str) -> Item:
    """The bytes of a Markdown file as its document: front matter, then the
    text without its syntax, its structure kept for the page."""
    parts = _front_and_body(data, source)
    if isinstance(parts, Problem):
        return parts
    front, body, notes = parts
    return _formatted(source, doc_id, lambda: _reader("markdown").read_markdown(body, source),
                      front, notes)


def _formatted(source: str, doc_id: str, read, front: dict | None = None,
               notes: list[str] = ()) -> Item:
    """The document a format reader's ``read()`` makes, through our cleaning."""
    def make():
        try:
            extracted = read()
        except FormatError as exc:
            return Problem(source, exc.reason)
        return metadata.document_from_extracted(doc_id, source, extracted, front or {})
    return _checked(source, make, list(notes))


def text_to_document(data: bytes, source: str, doc_id: str) -> Item:
    """The bytes of a text file (``source``) as its document, or a Problem."""
    parts = _front_and_body(data, source)
    if isinstance(parts, Problem):
        return parts
    front, body, notes = parts
    return _checked(source, lambda: metadata.document_from_text(doc_id, source, front, body),
                    notes)


def _front_and_body(data: bytes, source: str) -> tuple[dict, str, list[str]] | Problem:
    """A text file's bytes decoded: its front matter (non-finite numbers as
    text), its body, and the warnings about them; or why it is no document."""
    try:
        text = decode_bytes(data, source)
    except UndecodableError as exc:
        return Problem(source, exc.reason)
    if not text.strip():
        return Problem(source, "empty file")
    try:
        front, body = split_front_matter(text)
    except ValueError as exc:
        return Problem(source, str(exc))
    front, notes = _finite_values(front, "front matter")
    return front, body, notes


# ---------------------------------------------------------------------------
# Front matter


class _AliasError(yaml.YAMLError):
    pass


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader, without aliases, keeping impossible dates as text."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise _AliasError("front matter uses a YAML alias (*name); aliases are not allowed")
        return super().compose_node(parent, index)


def _timestamp_or_text(loader, node):
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:          # 2014-13-45 looks like a date to YAML, but is none
        return loader.construct_scalar(node)


def _finite_float_or_text(loader, node):
    value = yaml.SafeLoader.construct_yaml_float(loader, node)
    return value if math.isfinite(value) else _NonFinite(loader.construct_scalar(node))


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)
_FrontMatterLoader.add_constructor("tag:yaml.org,2002:float", _finite_float_or_text)


# ---------------------------------------------------------------------------
# Numbers that are not finite


class _NonFinite(str):
    """A number as written in the source (``1e400``, ``NaN``, ``.inf``) whose
    value is not finite: kept as that text, since JSON has no such number and
    a browser's ``JSON.parse`` rejects the ``Infinity`` and ``NaN`` Python writes."""


def _json_float(text: str):
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _finite_values(data: dict, where: str) -> tuple[dict, list[str]]:
    """``data`` with every non-finite number as plain text, and a warning for each.

    Walked without recursion: JSON may nest as deeply as its parser allows.
    """
    notes: list[str] = []

    def plain(value, field):
        if type(value) is _NonFinite:
            notes.append(f"{where} field {str(field)!r} holds {value}, a number that is not "
                         f"finite; kept as the text {str(value)!r}")
            return str(value)
        return value

    out = {}
    stack = []
    for key, value in data.items():
        name = plain(key, key)
        out[name] = value
        stack.append((name, out, name))
    while stack:
        field, container, key = stack.pop()
        value = container[key]
        if type(value) is _NonFinite:
            container[key] = plain(value, field)
        elif isinstance(value, list):
            stack.extend((field, value, i) for i in range(len(value)))
        elif isinstance(value, dict):
            fixed = container[key] = {plain(k, field): v for k, v in value.items()}
            stack.extend((field, fixed, k) for k in fixed)
    return out, notes


def split_front_matter(text: str) -> tuple[dict, str]:
    """Split YAML front matter (``---`` ... ``---``) from the body.

    Raises ``ValueError`` when the front matter is unclosed, not valid YAML,
    nested too deeply, uses aliases or is not a mapping.
    """
    if not text.startswith("---"):
        return {}, text
    first_newline = text.find("\n")
    if first_newline < 0 or text[:first_newline].strip() != "---":
        return {}, text
    rest = text[first_newline + 1:]
    lines = rest.split("\n")
    for i, line in enumerate(lines):
        if line.strip() in ("---", "..."):
            raw = "\n".join(lines[:i])
            body = "\n".join(lines[i + 1:])
            break
    else:
        raise ValueError("front matter opened with --- is never closed")
    try:
        front = yaml.load(raw, Loader=_FrontMatterLoader) if raw.strip() else {}
    except _AliasError as exc:
        raise ValueError(str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        raise ValueError(f"front matter is not valid YAML{where}") from None
    except RecursionError:
        raise ValueError("front matter is nested too deeply") from None
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise ValueError("front matter is not a mapping of names to values")
    return front, body


# ---------------------------------------------------------------------------
# JSON lines


def _open_lines(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def iter_jsonl_lines(path: Path) -> Iterator[tuple[int, bytes] | Problem]:
    """``(line number, bytes)`` for each non-blank line of a JSON-lines file, or a Problem.

    A line longer than ``MAX_FILE_BYTES`` is a Problem, and is skipped without
    being held in memory; so is an unreadable file or a corrupt .gz (the lines
    before the damage are kept).
    """
    source = printable(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            yield Problem(source, "not a regular file (a named pipe, device or socket)")
            return
        handle = _open_lines(path)
    except OSError as exc:
        yield Problem(source, f"cannot read file: {exc.strerror or exc}")
        return
    with handle:
        yield from _lines_of(handle, source)


def _lines_of(handle, source: str) -> Iterator[tuple[int, bytes] | Problem]:
    lineno = 0
    try:
        while True:
            raw = _read_line(handle)
            if raw is None:
                break
            lineno += 1
            if raw is _TOO_LONG:
                yield Problem(f"{source}:{lineno}",
                              f"line too long (over {MAX_FILE_BYTES:,} bytes; the limit "
                              "is per line, set SEARCH_MAX_FILE_BYTES)")
            elif raw.strip():
                yield lineno, raw
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        yield Problem(f"{source}:{lineno + 1}", f"cannot read further: {exc}")


def iter_jsonl_stream(handle, name: str = "<stdin>") -> Iterator[Item]:
    """The documents of JSON lines read from a binary stream (standard input),
    each line read as a line of a JSON-lines file named ``name``."""
    for item in _lines_of(handle, name):
        if isinstance(item, Problem):
            yield item
        else:
            lineno, raw = item
            yield record_to_document(raw, f"{name}:{lineno}")


_TOO_LONG = b"<too long>"


def _read_line(handle) -> bytes | bytearray | None:
    """The next line of ``handle``; ``_TOO_LONG`` for one over the limit (read and
    dropped in steps, never held whole); None at the end."""
    raw = handle.readline(LINE_CHUNK)
    if not raw:
        return None
    if raw.endswith(b"\n") or len(raw) < LINE_CHUNK:
        return raw if _line_length(raw) <= MAX_FILE_BYTES else _TOO_LONG
    line = bytearray(raw)
    while True:
        chunk = handle.readline(LINE_CHUNK)
        if line is not None:
            line += chunk
            if _line_length(line) > MAX_FILE_BYTES:
                line = None     # over the limit: read on to the end of the line, keeping nothing
        if not chunk or chunk.endswith(b"\n"):
            return _TOO_LONG if line is None else line


def _line_length(raw) -> int:
    """Bytes of a line without its newline."""
    return len(raw) - 1 if raw.endswith(b"\n") else len(raw)


def _iter_jsonl(path: Path) -> Iterator[Item]:
    source = printable(path)
    for item in iter_jsonl_lines(path):
        if isinstance(item, Problem):
            yield item
        else:
            lineno, raw = item
            yield record_to_document(raw, f"{source}:{lineno}")


def record_to_document(raw: bytes, where: str) -> Item:
    """One JSON-lines record (the bytes of one line) as a document, or a Problem."""
    parsed = _parse_record(raw, where)
    if isinstance(parsed, Problem):
        return parsed
    doc_id, record, notes = parsed
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        # A web page in the record: read as an .html file is, the record's
        # own fields (title, date, url ...) winning over the page's.
        page = record["html"]
        front = {k: v for k, v in record.items() if k not in ("id", "html", "text")}
        return _formatted(where, doc_id, lambda: _reader("html").read(page, where), front, notes)
    return _checked(where, lambda: metadata.document_from_record(doc_id, where, record),
                    notes)


def record_id(raw: bytes, where: str) -> str | Problem:
    """The id the document of one JSON-lines record gets (its ``id``, else
    ``where``), without reading the rest of it; a Problem when the record
    is none (then ``record_to_document`` gives the same Problem)."""
    parsed = _parse_record(raw, where)
    return parsed if isinstance(parsed, Problem) else parsed[0]


def _parse_record(raw: bytes, where: str) -> tuple[str, dict, list[str]] | Problem:
    """A record's id, its fields (non-finite numbers as text) and the
    warnings about them, or the Problem that makes it no document."""
    if _line_length(raw) > MAX_FILE_BYTES:
        return Problem(where, f"line too long (over {MAX_FILE_BYTES:,} bytes; the limit "
                              "is per line, set SEARCH_MAX_FILE_BYTES)")
    try:
        record = json.loads(raw, parse_float=_json_float, parse_constant=_NonFinite)
    except (ValueError, UnicodeDecodeError) as exc:
        return Problem(where, f"not valid JSON ({exc.__class__.__name__}: {exc})"[:200])
    except RecursionError:
        return Problem(where, "not usable JSON: nested too deeply")
    if not isinstance(record, dict):
        return Problem(where, "a JSON line must be an object")
    record, notes = _finite_values(record, "the record's")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        page = record.get("html")
        if not isinstance(page, str) or not page.strip():
            return Problem(where, 'no "text" (a non-empty string) in the record, '
                                  'nor "html" (a web page)')
    doc_id = record.get("id")
    if doc_id is None or (isinstance(doc_id, str) and not doc_id.strip()):
        doc_id = where
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
        return Problem(where, '"id" must be a string or a number')
    return str(doc_id), record, notes


def mapping_to_document(record: dict, where: str) -> Item:
    """A record given as a mapping (a program's, not a file's), read exactly
    as the same record on one line of a JSON-lines file."""
    try:
        raw = json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError) as exc:
        return Problem(where, f"not a JSON object ({exc})"[:200])
    except RecursionError:
        return Problem(where, "not usable JSON: nested too deeply")
    return record_to_document(raw, where)


# ---------------------------------------------------------------------------
# What every document goes through


def _checked(source: str, make, notes: list[str] = ()) -> Item:
    """``make()``'s document (with ``notes`` among its warnings), or a Problem
    if making it failed or it cannot be indexed.

    A document that trips over a bug in the cleaning code is reported with the
    error rather than stopping the whole build.
    """
    try:
        item = make()
    except RecursionError:
        return Problem(source, "nested too deeply to read")
    except Exception as exc:  # noqa: BLE001 -- one bad document must not stop the rest
        return Problem(source, f"could not be read ({type(exc).__name__}: {exc})"[:300])
    if isinstance(item, Document):
        item.warnings[:0] = notes
        where = _lone_surrogate(item)
        if where:
            return Problem(source, f"{where} holds a lone UTF-16 surrogate (an escape such as "
                                   "\\ud800 that is not a character); fix the source")
    return item


def _lone_surrogate(doc: Document) -> str | None:
    """The name of the first field of ``doc`` with text no UTF-8 file can hold, or None."""
    parts = [("id", doc.id), ("title", doc.title), ("text", doc.body), ("source", doc.source),
             ("city", doc.cities), ("city", doc.city_forms), ("tags", doc.tags),
             ("layout", doc.layout or [])]
    parts += [(str(k) if _encodable(str(k)) else "a field name", {k: v})
              for k, v in doc.fields.items()]
    for name, value in parts:
        stack = [value]
        while stack:
            v = stack.pop()
            if isinstance(v, str):
                if not _encodable(v):
                    return name
            elif isinstance(v, dict):
                stack.extend(v.keys())
                stack.extend(v.values())
            elif isinstance(v, (list, tuple)):
                stack.extend(v)
    return None


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
