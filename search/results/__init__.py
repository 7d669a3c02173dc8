"""What a reader sees of a search: hits, pages, snippets and highlights.

Owns the result types (``model``: ``Hit``, ``SearchResults``,
``DocumentView``), highlighting and snippets in the document's own text
(``highlight``), and showing results in the original, simplified or
traditional script (``display``).  Imports the stages before it.
"""
