"""A query string in, a Whoosh query out: the query path's first stages.

Owns the query language (``parse``), the expansions of its free words
(``expansion``: pinyin, other regions' words, behind one ``Expander``
interface), the Whoosh query built of them (``build``), the plan that holds
all of it before it meets the documents (``plan``: ``QueryPlan``,
``plan_query``), and the time budget every query keeps (``budget``).
Imports ``search.text`` and ``search.store``.
"""
