"""Whoosh's W3 file format, behind one door.

Owns what the project knows of how Whoosh-Reloaded lays out a segment on
disk, and is the only package that touches the private attributes of
Whoosh's readers and writers (``tests/test_whoosh_door.py`` checks it):

* ``segment_writer``: writing a segment's term table and postings directly
  (the parallel build), and the stored-fields column it fills;
* ``postings``: a term's postings decoded a block at a time, as numpy arrays
  (the bulk ranker and the matching sets);
* ``termtable``: a field's or a prefix's terms read from the term table in
  one pass (the vocabulary, prefix matching);
* ``lengths``: the per-document field lengths (BM25F's length norms);
* ``sizes``: the bytes of a term table, field by field and part by part
  (``bench.index_size``);
* ``termcache``: the memo of term-table look-ups the readers of one index
  generation share;
* ``compact``: a codec whose term table is compact sorted blocks (the
  parallel build's ``term_table="compact"``), read by the modules above as
  they read W3's.

Checked on Whoosh-Reloaded 2.7.5, the version installed; pyproject.toml
allows ``>=2.7.5,<2.8``, the releases that keep the W3 codec's layout.
A Whoosh that changes it needs these modules checked again (``make test``:
``tests/test_bench.py`` compares the segments written here with Whoosh's
writer; ``tests/test_fastrank.py`` the ranking with Whoosh's scoring).
Imports nothing else of the project.
"""

# The Whoosh-Reloaded releases these modules were checked on: at least the
# first, below the second.
CHECKED_ON = ("2.7.5", "2.8")
