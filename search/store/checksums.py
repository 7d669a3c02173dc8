"""``checksums.json``: the size and CRC-32 of every file of a generation,
written as the last step of a build, and the checks made when it is read.

* ``write_checksums``: every file the generation holds (Whoosh's segment
  files and table of contents, the manifest ``build.json``, the saved facet
  tables and vocabulary), and a CRC of that list itself.
* ``verify_on_open``: run whenever a generation is opened.  Every listed file
  must exist with its recorded size; the small files, which are read whole at
  once anyway (the manifest, Whoosh's table of contents, the saved tables,
  every file of at most ``OPEN_CHECK_BYTES``) must match their checksum.
  The large segment files are only checked by ``integrity.check``: reading
  them whole would cost each open the time of reading the index.
* ``read_saved`` / ``verify_saved``: the saved tables check the bytes they read.

An index built before checksums were written has no ``checksums.json``: it
opens as before.  CRC-32 (``zlib``) is the fastest checksum of the standard
library; it finds accidental damage (a torn write, a bad disk, a stray
edit), not tampering by someone who can write the index.
"""

from __future__ import annotations

import json
import os
import pickle
import shlex
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import IndexDamaged, index_command

CHECKSUMS = "checksums.json"


MANIFEST = "build.json"


FORMAT = 1


ALGORITHM = "crc32"


# Files of at most this size are checked whole whenever the index opens.
OPEN_CHECK_BYTES = 64 * 1024


# Checked whole on open whatever their size: read whole at once anyway.
SAVED_TABLES = ("facets.pickle", "vocabulary.pickle")
# The tables of a segment a change added (``facets-<segment id>.pickle``).
SEGMENT_TABLES = ("facets-", ".pickle")


def is_saved_table(name: str) -> bool:
    return name in SAVED_TABLES or (name.startswith(SEGMENT_TABLES[0])
                                    and name.endswith(SEGMENT_TABLES[1]))


READ_BLOCK = 1 << 20


# What Whoosh's readers raise on bytes that are not what they wrote: taken
# for damage without checksums to tell (other errors need the checksums).
DECODING_ERRORS = (struct.error, EOFError, zlib.error, pickle.UnpicklingError,
                   UnicodeDecodeError)


@dataclass
class Problem:
    """One thing wrong with an index: the file (relative to the generation) and what."""

    file: str
    what: str

    def to_dict(self) -> dict:
        return {"file": self.file, "problem": self.what}


def file_checksum(path: Path) -> tuple[int, str]:
    """``(size, crc32 as 8 hex digits)`` of a file, read in blocks."""
    crc, size = 0, 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(READ_BLOCK)
            if not block:
                break
            crc = zlib.crc32(block, crc)
            size += len(block)
    return size, f"{crc:08x}"


def _digest(files: dict) -> str:
    return f"{zlib.crc32(json.dumps(files, sort_keys=True).encode()):08x}"


def write_checksums(generation: Path, known: dict | None = None) -> None:
    """Record every file of the generation being built (call it last, when
    nothing more will be written into it).  ``known``: entries of files
    already checked (the files a change links from the generation before,
    which never change), taken as they are rather than read again."""
    generation = Path(generation)
    files = {}
    known = known or {}
    for path in sorted(generation.iterdir()):
        if path.name == CHECKSUMS or not path.is_file() or path.is_symlink():
            continue
        entry = known.get(path.name)
        if entry is not None:
            files[path.name] = entry
            continue
        size, crc = file_checksum(path)
        files[path.name] = {"size": size, ALGORITHM: crc}
    data = {"format": FORMAT, "algorithm": ALGORITHM, "files": files, "digest": _digest(files)}
    partial = generation / (CHECKSUMS + ".part")
    partial.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(partial, generation / CHECKSUMS)


def _shown(path: Path) -> str:
    """A path as short as it can be told: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def index_root(generation: Path) -> Path:
    """The index folder a generation belongs to (itself for a plain Whoosh folder)."""
    generation = Path(generation)
    return generation.parent if generation.name.startswith("gen-") else generation


def rebuild_command(generation: Path) -> str:
    """How to rebuild the index of ``generation``: its sources, from its manifest."""
    sources = ["SOURCES"]
    try:
        manifest = json.loads((Path(generation) / MANIFEST).read_text())
        if isinstance(manifest.get("sources"), list) and manifest["sources"] and \
                all(isinstance(s, str) for s in manifest["sources"]):
            sources = [shlex.quote(s) for s in manifest["sources"]]
    except (OSError, ValueError, AttributeError):
        pass
    return index_command(_shown(index_root(generation)), " ".join(sources))


def damaged(generation: Path, file: str, what: str) -> IndexDamaged:
    """The error for a damaged file of ``generation``, saying how to repair it
    (its ``problem`` attribute holds the file and what is wrong)."""
    error = IndexDamaged(f"the index at {_shown(generation)} is damaged: {file}: {what}; "
                         f"rebuild it with `{rebuild_command(generation)}`")
    error.problem = Problem(file, what)
    return error


def recorded(generation: Path) -> dict | None:
    """``{file name: {"size", "crc32"}}`` recorded at build time, or None for an
    index built before checksums were (raises ``IndexDamaged`` when the record
    itself is damaged)."""
    path = Path(generation) / CHECKSUMS
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise damaged(generation, CHECKSUMS, f"cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw)
        files = data["files"]
        ok = data.get("format") == FORMAT and data.get("algorithm") == ALGORITHM \
            and isinstance(files, dict) and data.get("digest") == _digest(files) \
            and all(isinstance(v, dict) and isinstance(v.get("size"), int)
                    and isinstance(v.get(ALGORITHM), str) for v in files.values())
    except (ValueError, TypeError, KeyError, AttributeError):
        ok = False
    if not ok:
        raise damaged(generation, CHECKSUMS, "is not the list of checksums the build wrote")
    return files


def _file_problem(generation: Path, name: str, expected: dict, whole: bool) -> str | None:
    """What is wrong with one recorded file, or None (``whole``: read it)."""
    path = Path(generation) / name
    try:
        st = path.stat()
    except FileNotFoundError:
        return "is missing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not os.path.isfile(path):
        return "is not a file"
    if st.st_size != expected["size"]:
        return f"is {st.st_size:,} bytes long, not the {expected['size']:,} it was written with"
    if whole:
        try:
            _, crc = file_checksum(path)
        except OSError as exc:
            return f"cannot be read ({exc.strerror or exc})"
        if crc != expected[ALGORITHM]:
            return "does not match its checksum (its content changed after the build)"
    return None


def _checked_on_open(name: str, expected: dict) -> bool:
    return (name == MANIFEST or name.endswith(".toc") or is_saved_table(name)
            or expected["size"] <= OPEN_CHECK_BYTES)


def verify_on_open(generation: Path) -> dict | None:
    """Check a generation before it is opened (see the module's docstring);
    raises ``IndexDamaged`` naming the first damaged file.  Returns the
    recorded checksums, or None for an index built before they were."""
    generation = Path(generation)
    try:
        os.listdir(generation)
    except OSError as exc:
        raise damaged(generation, generation.name,
                      f"the folder cannot be read ({exc.strerror or exc})") from None
    files = recorded(generation)
    if files is None:
        return None
    for name, expected in files.items():
        # A file verified before (a link a change made to an unchanged file
        # of the generation before) is not read again.
        whole = _checked_on_open(name, expected) and not _was_verified(generation / name)
        problem = _file_problem(generation, name, expected, whole)
        if problem:
            raise damaged(generation, name, problem)
        if is_saved_table(name):
            _remember_verified(generation / name)
    return files


# Saved tables verified whole when their generation opened, by file
# (device, inode), with the (size, mtime) they had: reading them next, or
# opening the next generation, which links the same file, does not check
# them twice.
_verified: dict[tuple[int, int], tuple[int, int]] = {}


_verified_lock = threading.Lock()


def _stat_key(path: Path) -> tuple[tuple[int, int], tuple[int, int]] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino), (st.st_size, st.st_mtime_ns)


def _remember_verified(path: Path) -> None:
    key = _stat_key(path)
    if key is None:
        return
    with _verified_lock:
        if len(_verified) >= 256:
            _verified.clear()
        _verified[key[0]] = key[1]


def _was_verified(path: Path) -> bool:
    key = _stat_key(path)
    if key is None:
        return False
    with _verified_lock:
        return _verified.get(key[0]) == key[1]


def verify_saved(generation: Path, name: str, data: bytes) -> None:
    """Raise ``IndexDamaged`` when ``data``, read from the saved file ``name``
    of ``generation``, is not what the build wrote (no record: nothing to check)."""
    path = Path(generation) / name
    key = _stat_key(path)
    with _verified_lock:
        known = _verified.get(key[0]) if key is not None else None
    if known is not None and known == key[1] and known[0] == len(data):
        return
    files = recorded(generation)
    expected = (files or {}).get(name)
    if expected is None:
        return
    if len(data) != expected["size"] or f"{zlib.crc32(data):08x}" != expected[ALGORITHM]:
        raise damaged(generation, name, "does not match its checksum (its content changed "
                                        "after the build)")


def read_saved(generation: Path, name: str) -> bytes | None:
    """The bytes of the saved table ``name`` of ``generation`` (checked against
    its checksum), or None when the build saved none."""
    try:
        raw = (Path(generation) / name).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise damaged(generation, name, f"cannot be read ({exc.strerror or exc})") from None
    verify_saved(generation, name, raw)
    return raw


def unpickle_saved(generation: Path, name: str, raw: bytes, loads):
    """``loads(raw)`` of a saved table; None when the table is of another
    version of the code (it is then rebuilt from the index), ``IndexDamaged``
    when its bytes cannot be decoded."""
    try:
        return loads(raw)
    except (AttributeError, ImportError):
        return None         # classes renamed or moved since it was saved
    except Exception as exc:        # a garbled pickle can raise nearly anything
        raise damaged(generation, name, f"cannot be decoded ({reason(exc)})") from None


def reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
