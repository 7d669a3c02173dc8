"""Reading sources into documents: folders of .txt/.md files and JSON-lines files.

Owns what a document is (``Document``), how a source is walked, how one file or
line becomes a document, and how a bad one is reported (``Problem``) without
stopping the rest.  Metadata extraction itself lives in ``metadata``.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Iterator, Union

import yaml

from . import metadata
from .cleaning import UndecodableError, decode_bytes
from .model import Document, Problem

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")
MAX_FILE_BYTES = int(os.environ.get("SEARCH_MAX_FILE_BYTES", 20 * 1024 * 1024))


Item = Union[Document, Problem]


def is_jsonl(path: Path) -> bool:
    return path.name.lower().endswith(JSONL_SUFFIXES)


def iter_source(source: str | os.PathLike) -> Iterator[Item]:
    """Yield the documents of one source (a folder, a text file or a JSON-lines file)."""
    path = Path(source)
    if path.is_dir():
        yield from _iter_folder(path)
    elif not path.exists():
        yield Problem(str(path), "no such file or folder")
    elif is_jsonl(path):
        yield from _iter_jsonl(path)
    elif path.name.lower().endswith(TEXT_SUFFIXES):
        yield _read_text_file(path, path.name)
    else:
        yield Problem(str(path), "not a .txt, .md or .jsonl file")


def _iter_folder(root: Path) -> Iterator[Item]:
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=None):
        try:
            st = os.stat(dirpath)
        except OSError as exc:
            yield Problem(dirpath, f"cannot read folder: {exc.strerror}")
            dirnames[:] = []
            continue
        # A symlink loop would walk forever; visit each real folder once.
        if (st.st_dev, st.st_ino) in seen_dirs:
            yield Problem(dirpath, "folder already visited (symlink loop); skipped")
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            lower = name.lower()
            if lower.endswith(TEXT_SUFFIXES):
                yield _read_text_file(path, path.relative_to(root).as_posix())
            elif lower.endswith(JSONL_SUFFIXES):
                yield from _iter_jsonl(path)


def _read_text_file(path: Path, doc_id: str) -> Item:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return Problem(source, f"file too large ({size:,} bytes; the limit is "
                                   f"{MAX_FILE_BYTES:,}, set SEARCH_MAX_FILE_BYTES)")
        data = path.read_bytes()
    except OSError as exc:
        return Problem(source, f"cannot read file: {exc.strerror or exc}")
    try:
        text = decode_bytes(data, source)
    except UndecodableError as exc:
        return Problem(source, str(exc))
    if not text.strip():
        return Problem(source, "empty file")
    try:
        front, body = split_front_matter(text)
    except ValueError as exc:
        return Problem(source, str(exc))
    return metadata.document_from_text(doc_id, source, front, body)


def split_front_matter(text: str) -> tuple[dict, str]:
    """Split YAML front matter (``---`` ... ``---``) from the body.

    Raises ``ValueError`` when the front matter is unclosed or not a mapping.
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
        front = yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        raise ValueError(f"front matter is not valid YAML{where}") from None
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise ValueError("front matter is not a mapping of names to values")
    return front, body


def _open_lines(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _iter_jsonl(path: Path) -> Iterator[Item]:
    try:
        handle = _open_lines(path)
    except OSError as exc:
        yield Problem(str(path), f"cannot read file: {exc.strerror or exc}")
        return
    with handle:
        lineno = 0
        try:
            for raw in handle:
                lineno += 1
                where = f"{path}:{lineno}"
                if not raw.strip():
                    continue
                yield _record_to_document(raw, where)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            yield Problem(f"{path}:{lineno + 1}", f"cannot read further: {exc}")


def _record_to_document(raw: bytes, where: str) -> Item:
    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return Problem(where, f"not valid JSON ({exc.__class__.__name__}: {exc})"[:200])
    if not isinstance(record, dict):
        return Problem(where, "a JSON line must be an object")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return Problem(where, 'no "text" (a non-empty string) in the record')
    doc_id = record.get("id")
    if doc_id is None or (isinstance(doc_id, str) and not doc_id.strip()):
        doc_id = where
    if not isinstance(doc_id, (str, int)):
        return Problem(where, '"id" must be a string or a number')
    return metadata.document_from_record(str(doc_id), where, record)
