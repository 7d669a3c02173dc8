"""The on-disk layout of an index folder, and the one way a new generation goes live::

    index/
      current -> gen-20261122T101500-1a2b   (symlink: the live generation)
      gen-.../                              (a complete Whoosh index + build.json)
      .build-.../                           (a build or a change in progress)
      .lock                                 (held by the one running writer)

A build writes a new generation beside the live one and replaces the
``current`` symlink in one atomic ``rename``: readers see the old index or
the new one, never half of one, and a failed or killed build leaves the old
one live.  The next build removes what a killed build left behind.  A change
(``writing``) makes its generation the same way, of links to the live one's
files and the few files it writes.  One writer at a time holds ``.lock``
(``write_lock``): a build, a change, a merge.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
import time
import uuid
from pathlib import Path

from whoosh import index as whoosh_index

from ..errors import BuildError

CURRENT = "current"


MANIFEST = "build.json"


# Generations kept besides the live one, so a reader that opened the previous
# index just before a swap can finish its request; and any generation
# replaced less than RETIRE_SECONDS ago (changes can follow each other within
# a request's time).  A change's generation is mostly links: it costs little.
KEEP_PREVIOUS = 1
RETIRE_SECONDS = float(os.environ.get("SEARCH_RETIRE_SECONDS") or 30)
RETIRE_MOST = 32

LOCK = ".lock"


class WriterBusy(BuildError):
    """Another writer (a build, a change, a merge) holds the index past the wait."""


# lockf locks belong to the process: threads of one process take turns here
# first, on a lock per index folder and lock file.
_thread_locks: dict[tuple[str, str], threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock(root: Path, name: str) -> threading.Lock:
    key = (os.path.realpath(root), name)
    with _thread_locks_guard:
        return _thread_locks.setdefault(key, threading.Lock())


@contextlib.contextmanager
def _held(root: Path, name: str, wait: float, busy: str):
    """Hold the lock file ``name`` of ``root`` (and its lock in this process),
    waiting up to ``wait`` seconds; else ``WriterBusy(busy + how long)``.
    lockf (POSIX record locks) is owned by this process alone: forked build
    workers don't inherit it, and a killed process frees it at once."""
    waited = f"; waited {wait:g} s" if wait else ""
    deadline = time.monotonic() + max(0.0, wait)
    inner = _thread_lock(root, name)
    if not (inner.acquire(timeout=wait) if wait > 0 else inner.acquire(blocking=False)):
        raise WriterBusy(f"{busy} in this process{waited}")
    try:
        with open(root / name, "a+") as fh:
            while True:
                try:
                    fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() >= deadline:
                        raise WriterBusy(f"{busy}{waited}: try again when it is done") from None
                    time.sleep(0.05)
            yield
    finally:
        inner.release()


def write_lock(root: Path, wait: float = 0.0):
    """Hold the index's one writer lock (a build, a change, a merge's two
    ends), waiting up to ``wait`` seconds for it (``WriterBusy`` after that)."""
    return _held(root, LOCK, wait, f"another build or change of {root} is running")


# A merge writes its segment in a folder of its own (``merging``), without
# the writer lock: one merge of an index at a time, under this lock.
MERGING = ".merge-"
MERGE_LOCK = ".merge-lock"


def merge_lock(root: Path, wait: float = 0.0):
    """One merge of an index at a time, across threads and processes."""
    return _held(root, MERGE_LOCK, wait, f"another merge of {root} is running")


def merging_now(root: Path) -> bool:
    """Whether a merge of the index is running (its scratch folder is in use)."""
    if _thread_lock(root, MERGE_LOCK).locked():
        return True
    try:
        with open(root / MERGE_LOCK, "a+") as fh:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(fh, fcntl.LOCK_UN)
        return False
    except OSError:
        return True


def new_generation_name() -> str:
    """A generation's name: sorts by the time it was made, to the microsecond."""
    now = time.time()
    return (f"gen-{time.strftime('%Y%m%dT%H%M%S', time.gmtime(now))}"
            f".{int(now * 1e6) % 1_000_000:06d}-{uuid.uuid4().hex[:6]}")


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def _prepare_root(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise BuildError(f"{root} exists and is not a folder")
    if root.is_dir():
        ours = {CURRENT, LOCK, MERGE_LOCK}
        strangers = [p.name for p in root.iterdir()
                     if p.name not in ours and not p.name.startswith(("gen-", ".build-", ".current-", MERGING))]
        if strangers and not whoosh_index.exists_in(str(root)):
            raise BuildError(f"{root} holds files that are not an index "
                              f"({', '.join(sorted(strangers)[:3])}); choose another folder")
    root.mkdir(parents=True, exist_ok=True)


def _remove_stale(root: Path, keep: set[str]) -> None:
    """Remove what killed builds left and generations no reader needs any more."""
    gens = sorted((p for p in root.iterdir() if p.name.startswith("gen-")),
                  key=lambda p: p.name)
    others = [g for g in gens if g.name not in keep]
    # The newest KEEP_PREVIOUS others stay; of the rest, those replaced less
    # than RETIRE_SECONDS ago (a generation is replaced when the next one is
    # made), at most RETIRE_MOST of them.
    candidates = others[:-KEEP_PREVIOUS or None]
    now = time.time()
    made = {}
    for g in gens:
        try:
            made[g.name] = g.stat().st_mtime
        except OSError:
            made[g.name] = now
    replaced = {g.name: (made[n.name] if n is not None else now)
                for g, n in zip(gens, gens[1:] + [None])}
    recent = [g for g in candidates if now - replaced[g.name] <= RETIRE_SECONDS][-RETIRE_MOST:]
    old = {g.name for g in candidates} - {g.name for g in recent}
    stale = (".build-", ".current-") if merging_now(root) else (".build-", ".current-", MERGING)
    for path in root.iterdir():
        if (path.name.startswith(stale) and path.name != MERGE_LOCK) or path.name in old:
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)


def _swap_current(root: Path, generation: str) -> None:
    tmp_link = root / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(generation, tmp_link)
    os.replace(tmp_link, root / CURRENT)
    fsync_path(root)
