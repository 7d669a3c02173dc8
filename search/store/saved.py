"""Files the build saves beside an index (facet tables, vocabulary), read once.

Every searcher of a generation, and every server process forked after the
first read (``search serve``), gets the same object while the file is
unchanged; the latest two versions of each file are kept.
"""

from __future__ import annotations

import io
import pickle
import threading
from pathlib import Path
from typing import Callable

# The tables pickle their classes by module path.  Tables saved before the
# store was a package of its own name the modules they were defined in then;
# they are read as what those modules became, so an upgrade does not rebuild
# every index's tables (minutes on a large one) in each process that opens it.
MOVED_MODULES = {"search.facets": "search.store.facets",
                 "search.vocabulary": "search.store.vocabulary"}


class _TableUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        return super().find_class(MOVED_MODULES.get(module, module), name)


def loads(data: bytes):
    """``pickle.loads`` of a saved table, whichever module path it names its
    classes by (``MOVED_MODULES``)."""
    return _TableUnpickler(io.BytesIO(data)).load()


class ReadOnce:
    """``read(generation, doc_count)`` of the file ``name``, memoised by the
    file itself (device, inode, version): the generations a change makes link
    the files that did not change, which are then not read again.

    ``name`` None: the file is named by each call (``read(generation,
    doc_count, name)``), and up to ``keep`` of them are held."""

    def __init__(self, name: str | None, read: Callable[..., dict | None], keep: int = 2):
        self.name, self.read = name, read
        self.keep = keep if name is not None else max(keep, 256)
        self._loaded: dict = {}
        self._lock = threading.Lock()

    def __call__(self, generation: Path, doc_count: int, name: str | None = None) -> dict | None:
        name = name or self.name
        try:
            st = (generation / name).stat()
        except OSError:
            return None
        key = (name, st.st_dev, st.st_ino, doc_count, st.st_mtime_ns, st.st_size)
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
        data = (self.read(generation, doc_count) if self.name is not None
                else self.read(generation, doc_count, name))
        with self._lock:
            while len(self._loaded) >= self.keep:
                self._loaded.pop(next(iter(self._loaded)))
            self._loaded[key] = data
        return data
