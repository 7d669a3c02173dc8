"""Full-text search for Chinese documents that mix simplified and traditional script.

    from search import build_index, open_index
    report = build_index(["seeds"], "index")
    res = open_index("index").search("洛陽", city=None, year=None, sort="relevance")
"""

from .errors import BuildError, IndexDamaged, IndexNotFound, QueryError, SearchError
from .indexing import BuildRefused, BuildReport, build_index
from .querying import DocumentView, Hit, SearchIndex, SearchResults, open_index, parse_query

__all__ = [
    "build_index", "open_index", "parse_query", "BuildReport", "SearchIndex",
    "SearchResults", "Hit", "DocumentView", "SearchError", "BuildError", "BuildRefused",
    "IndexNotFound", "IndexDamaged", "QueryError",
]
