"""Sources in, documents out: the indexing path's second stage.

Owns what a document is (``model``: ``Document``, and ``Problem`` for what
could not be used), how a source is walked and read (``sources``: folders,
text files, JSON lines; decoding, front matter, the limits), how text is
cleaned of site boilerplate (``cleaning``), and the metadata found in it
(``metadata``: titles and fields; ``dates``; ``cities``).  Imports only
``search.text``.
"""
