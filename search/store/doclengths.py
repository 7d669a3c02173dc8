"""Each document's exact field lengths, kept per segment for merging.

BM25F divides by a field's average length: the total of every document's
length, which Whoosh keeps exact per segment.  Per document it keeps only a
byte (``length_to_byte``, exact below 8, coarser above), and merging
segments (``merging``) adds up those bytes read back: the merged segment's
totals, and so its scores, would differ from a build's.  So the build and
every change save the exact lengths of each segment's documents
(``lengths-<segment id>.npz``: per field, one unsigned 32-bit length per
document), and a merge gives Whoosh those instead of the bytes.  An index
built before they were saved merges with Whoosh's own totals.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np

FILE = "lengths-{}.npz"
PREFIX, SUFFIX = "lengths-", ".npz"


def file_name(segment_id: str) -> str:
    return FILE.format(segment_id)


def segment_of(name: str) -> str | None:
    """The segment id a lengths file is of, or None for another file."""
    if name.startswith(PREFIX) and name.endswith(SUFFIX):
        return name[len(PREFIX):-len(SUFFIX)]
    return None


def save(folder: Path, segment_id: str, lengths: dict, doc_count: int) -> None:
    """Save ``lengths`` (field name: a length per document) of a segment of
    ``doc_count`` documents."""
    arrays = {}
    for name, values in lengths.items():
        arr = np.zeros(doc_count, dtype=np.uint32)
        values = np.asarray(values, dtype=np.uint32)
        arr[:len(values)] = values[:doc_count]
        arrays[name] = arr
    partial = folder / (file_name(segment_id) + ".part")
    with open(partial, "wb") as fh:
        np.savez(fh, **arrays)
    partial.replace(folder / file_name(segment_id))


def load(folder: Path, segment_id: str, doc_count: int) -> dict[str, np.ndarray] | None:
    """The saved lengths of a segment, or None (not saved, or not this segment's)."""
    path = folder / file_name(segment_id)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            out = {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        logging.getLogger(__name__).warning(
            "%s cannot be read (%s): merging with Whoosh's own length totals", path, exc)
        return None
    if any(len(v) != doc_count for v in out.values()):
        return None
    return out


def by_document(per_doc: list[dict[str, int]]) -> dict[str, list[int]]:
    """``{field: [length of each document]}`` from each document's ``{field: length}``."""
    names = sorted({n for d in per_doc for n in d})
    return {n: [d.get(n, 0) for d in per_doc] for n in names}
