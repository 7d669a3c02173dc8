"""Whoosh's W3 file format, behind one door.

Owns what the project knows of how Whoosh-Reloaded lays out a segment on
disk: writing a segment's term table and postings directly
(``segment_writer``), and the memo of term records readers share
(``termcache``).  Checked on Whoosh-Reloaded 2.7.x (the range pyproject.toml
allows).  Imports only ``search.text``.
"""
