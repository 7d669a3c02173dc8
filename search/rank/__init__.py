"""Which documents a query matches, and in what order.

Owns matching a query plan (``matching``: its document sets without
scoring, the quoted-text fallback, within the time budget, and the one
ranking step the results page and explain share), the exact bulk BM25F ranker (``fastrank``:
the same scores as Whoosh's, many times faster), and date order
(``dateorder``).  Imports the stages before it.
"""
