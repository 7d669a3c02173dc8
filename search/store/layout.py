"""The on-disk layout of an index folder, and the one way a new generation goes live::

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

import os
import shutil
import uuid
from pathlib import Path

from whoosh import index as whoosh_index

from ..errors import BuildError

CURRENT = "current"


MANIFEST = "build.json"


# Generations kept besides the live one, so a reader that opened the previous
# index just before a swap can finish its request.
KEEP_PREVIOUS = 1


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
