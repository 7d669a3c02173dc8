"""A query string in, a Whoosh query out: the query path's first stages.

Owns the query language (``parse``), the expansions of its free words
(``expansion``: pinyin, other regions' words), the Whoosh query built of them
(``build``), and the time budget every query keeps (``budget``).  Imports
``search.text`` and ``search.store``.
"""
