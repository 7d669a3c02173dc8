"""The segments of a Whoosh index: which there are, their documents, their files.

A live index (``search.store.writing``) is a list of segments, each written
once and never changed; deleting a document marks it in the segment's entry
of the table of contents (Whoosh keeps a segment's deletions there, not in
its files).  What the store needs to know of them, read through the public
parts of Whoosh's API where there are any:

* ``leaf_segments(reader)``: per segment of an opened reader, its id, first
  document number, document count and deleted documents;
* ``segment_files(folder, segment)``: the names of a segment's files;
* ``read_toc(folder)`` / ``write_toc(folder, schema, segments, generation)``:
  the segments a table of contents lists, and a new one listing others;
* ``add_segment(writer, reader, exact_lengths)``: a segment's documents
  added to the segment a writer writes (a merge), with their exact lengths;
* ``record_lengths(writer)``, ``new_segment_id(writer)``: what a writer
  writes, known before it commits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LeafSegment", "add_segment", "leaf_segments", "new_segment_id", "read_toc",
           "record_lengths", "segment_files", "write_toc"]


@dataclass(frozen=True)
class LeafSegment:
    segment_id: str
    offset: int             # its first document's number in the whole reader
    doc_count_all: int      # documents, deleted ones included
    deleted: np.ndarray     # its deleted documents (own numbers), ascending

    @property
    def live(self) -> int:
        return self.doc_count_all - len(self.deleted)


_NO_DOCS = np.empty(0, np.int64)


def leaf_segments(reader) -> list[LeafSegment]:
    """The segments of ``reader`` in document order (none for an empty index)."""
    out = []
    for leaf, offset in reader.leaf_readers():
        segment = leaf.segment()
        if segment is None:             # Whoosh's reader of an index without segments
            continue
        deleted = (np.array(sorted(segment.deleted_docs()), dtype=np.int64)
                   if segment.has_deletions() else _NO_DOCS)
        out.append(LeafSegment(segment.segment_id(), offset, leaf.doc_count_all(), deleted))
    return out


def segment_files(folder, segment) -> list[str]:
    """The names of the files ``segment`` is stored in, in ``folder``."""
    from whoosh.filedb.filestore import FileStorage
    return list(segment.list_files(FileStorage(str(folder))))


def add_segment(writer, reader, exact_lengths: dict | None = None) -> None:
    """``writer.add_reader(reader)``, for segments written by ``segment_writer``
    too: that writer stores an empty posting value as an empty pickled string
    where Whoosh's stores empty bytes (both decode to no value), and Whoosh's
    posting pool accepts bytes only.  ``exact_lengths`` (field: length per
    document of the segment): the lengths Whoosh is given for the documents,
    rather than those it reads back from their length bytes."""
    if exact_lengths is not None:
        approximate = reader.doc_field_length

        def doc_field_length(docnum, fieldname, default=0):
            lengths = exact_lengths.get(fieldname)
            if lengths is None:
                return approximate(docnum, fieldname, default)
            return int(lengths[docnum])
        reader.doc_field_length = doc_field_length
    writer._check_state()
    basedoc = writer.docnum
    ndxnames = {name for name in reader.indexed_field_names() if name in writer.schema}
    docmap = writer.write_per_doc(set(writer.schema.names()) | ndxnames, reader)

    def postings():
        for fieldname, text, docnum, weight, value in reader.iter_postings():
            yield fieldname, text, docnum, weight, value if value else b""

    add_post = writer.pool.add
    for item in writer._process_posts(postings(), basedoc, docmap):
        add_post(item)
    writer._added = True


def record_lengths(writer) -> list[dict[str, int]]:
    """From now on, each document ``writer.add_document`` adds appends its
    exact field lengths (``{field: length}``) to the list returned."""
    pdw = writer.perdocwriter
    out: list[dict[str, int]] = []
    start_doc, add_field = pdw.start_doc, pdw.add_field

    def recording_start(docnum):
        out.append({})
        return start_doc(docnum)

    def recording_add(fieldname, fieldobj, value, length):
        if length:
            out[-1][fieldname] = length
        return add_field(fieldname, fieldobj, value, length)

    pdw.start_doc, pdw.add_field = recording_start, recording_add
    return out


def new_segment_id(writer) -> str:
    """The id of the segment ``writer`` writes."""
    return writer.newsegment.segment_id()


def read_toc(folder):
    """``(schema, segments, generation)`` of the latest table of contents in ``folder``."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC
    toc = TOC.read(FileStorage(str(folder)), "MAIN")
    return toc.schema, list(toc.segments), toc.generation


def write_toc(folder, schema, segments, generation: int) -> None:
    """Make ``segments`` the index in ``folder``: a table of contents of the
    next generation, and the files of other segments (and older tables)
    removed from the folder."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC, clean_files
    storage = FileStorage(str(folder))
    TOC(schema, segments, generation).write(storage, "MAIN")
    clean_files(storage, "MAIN", generation, segments)
