"""Which documents a query matches, and in what order.

Owns matching without scoring (``matching``: document sets of a Whoosh
query, within the time budget), the exact bulk BM25F ranker (``fastrank``:
the same scores as Whoosh's, many times faster), and date order
(``dateorder``).  Imports the stages before it.
"""
