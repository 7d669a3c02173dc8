"""The Whoosh schema: which fields a document has and how each is indexed.

* ``title``/``body``: jieba words (ranking, BM25F with the title weighted);
  both stored so that results and the document page show the original text.
* ``grams``: character bigrams of title and body (exact phrases, literal
  strings of any length, a second ranking signal).
* ``meta``: jieba words of short metadata values (author, dynasty, tags), so a
  name that is only metadata can still be searched.
* ``city`` and ``year``/``month``: facets (multi-valued city; year ``2014``,
  month ``2014-09``; their types are in ``facet_types``); ``date_key`` sorts
  by date; ``date`` keeps the ISO text with its precision.
* ``facet_*``: any other short field of a JSON-lines document (``author``,
  ``dynasty``) becomes a facet, filterable by name without the prefix; an
  index holds at most ``SEARCH_MAX_FACETS`` (100) of them, the first names in
  document order, and a document brings at most ``SEARCH_MAX_FIELDS`` (64)
  fields (see ``build`` and ``search.ingest.metadata``).
* ``layout``: how the body's lines are drawn (headings, lists, code, links)
  for a document read from a structured format (``search.ingest.formats``).
"""

from __future__ import annotations

from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from .analyzers import gram_analyzer, word_analyzer

FACET_PREFIX = "facet_"
# Fields that hold the searchable text; nothing else is reachable by a query.
TEXT_FIELDS = ("title", "body", "grams", "meta")


def build_schema() -> Schema:
    words = word_analyzer()
    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=words, stored=True, phrase=True),
        body=TEXT(analyzer=words, stored=True, phrase=True),
        grams=TEXT(analyzer=gram_analyzer(), phrase=True),
        meta=TEXT(analyzer=words, phrase=False),
        city=KEYWORD(stored=True, commas=True, scorable=False, lowercase=False),
        city_forms=STORED(),
        year=ID(stored=True),
        month=ID(stored=True),
        date=STORED(),
        date_key=NUMERIC(int, bits=32, sortable=True, stored=False, signed=False),
        source=STORED(),
        extra=STORED(),
        layout=STORED(),
    )
    schema.add(FACET_PREFIX + "*", KEYWORD(stored=True, commas=True, scorable=False,
                                            lowercase=False), glob=True)
    return schema
