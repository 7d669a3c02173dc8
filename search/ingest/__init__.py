"""Sources in, documents out: the indexing path's second stage.

Owns what a document is (``model``: ``Document``, and ``Problem`` for what
could not be used), how a source is walked and read (``sources``: folders,
files, JSON lines; decoding, front matter, the limits), how each file format
is read into blocks of text (``formats``: web pages, Markdown, Word, PDF),
how text is cleaned of site boilerplate (``cleaning``), and the metadata
found in it (``metadata``: titles and fields; ``dates``; ``cities``).
Imports only ``search.text``.
"""
