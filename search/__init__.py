"""Full-text search for Chinese documents that mix simplified and traditional script.

    from search import build_index, open_index
    report = build_index(["seeds"], "index")
    res = open_index("index").search("洛陽", city=None, year=None, sort="relevance")
    plan = open_index("index").plan("洛陽 呼叫中心")   # what search() will run, before it runs
    update_index(["seeds"], "index")                # only what changed: added, replaced, deleted
    build_index(["seeds"], "index", progress=print)  # a BuildProgress per phase and chunk
    with open_index("index").writer() as w:          # one document at a time
        w.add({"id": "n1", "text": "今天洛陽下雪了。"})

The packages under it follow the data path (README, "How it works"): text,
ingest, whoosh3, store, query, rank, results, aids; ``searcher`` joins them.

Installed as the distribution ``zhsearch`` (``pip install zhsearch``), whose
command is ``zhsearch`` (``search.cli``); ``__version__`` is written once, in
``search.about`` (pyproject.toml reads it there).
"""

from .about import __version__

from .errors import BuildError, IndexDamaged, IndexNotFound, QueryError, SearchError
from .query.parse import parse_query
from .query.plan import QueryPlan, plan_query
from .results.model import DocumentView, Hit, SearchResults
from .searcher import SearchIndex, open_index
from .store.build import BuildRefused, BuildReport, build_index
from .store.progress import BuildProgress
from .store.layout import WriterBusy
from .store.merging import MergeReport
from .store.update import UpdateRefused, UpdateReport, update_index
from .store.writing import ChangeReport, DocumentRejected, IndexWriter

__all__ = [
    "build_index", "open_index", "parse_query", "QueryPlan", "plan_query", "BuildReport",
    "SearchIndex",
    "SearchResults", "Hit", "DocumentView", "SearchError", "BuildError", "BuildRefused",
    "IndexNotFound", "IndexDamaged", "QueryError",
    "IndexWriter", "ChangeReport", "DocumentRejected", "WriterBusy", "MergeReport",
    "update_index", "UpdateReport", "UpdateRefused", "BuildProgress",
]
