"""What a search answers: hits, a page of results, one document shown."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from .display import document_in_script, results_in_script


@dataclass
class Hit:
    """One document found by a search, as a result list shows it.

    ``id`` and ``source`` (the file or line it was read from); ``title`` and
    ``title_html`` (with the query's words in ``<mark>``); ``score`` (None
    when the order is not by relevance); ``date`` and ``cities``;
    ``snippets``, the passages with the query's words as HTML with
    ``<mark>`` (``snippet`` the first); ``city_forms``, each city as the
    document writes it; ``fields``, the document's other facets; ``match``
    and ``missing``, whether it holds every word of the query.
    """

    id: str
    title: str
    title_html: str
    score: float | None
    date: str | None
    cities: list[str]
    snippet: str
    snippets: list[str]
    source: str
    city_forms: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)
    # "full" (it holds every word of the query, in some form), "partial", or
    # None when there was no query to hold (browsing).
    match: str | None = None
    # The query's words (as typed) a partial match does not hold in any form.
    missing: list[str] = field(default_factory=list)

    @property
    def snippets_text(self) -> list[str]:
        """The snippets as plain text: no marks, nothing escaped."""
        return [plain_text(s) for s in self.snippets]

    def to_dict(self) -> dict:
        """The hit as the JSON API and ``zhsearch query --json`` give it."""
        # ``snippet`` (the first snippet, HTML) came first; the rest was added
        # beside it, so that a program can show what a results page shows.
        return {"id": self.id, "title": self.title, "score": self.score, "date": self.date,
                "cities": self.cities, "snippet": self.snippet, "source": self.source,
                "match": self.match, "missing": self.missing,
                "title_html": self.title_html, "snippets": self.snippets,
                "snippets_text": self.snippets_text, "city_forms": self.city_forms,
                "fields": self.fields}


_MARK_TAG = re.compile(r"</?mark>")


def plain_text(fragment: str) -> str:
    """The text of one of the library's HTML fragments (escaped text and ``<mark>``s)."""
    return html.unescape(_MARK_TAG.sub("", fragment or ""))


@dataclass
class SearchResults:
    """One page of a search's results: what ``SearchIndex.search`` returns.

    ``hits`` (``Hit``) of page ``page`` of ``pages``, ``total`` matches in
    all, ``facets`` (per facet, its values among the matches with their
    counts) and the ``filters`` applied, with what the engine made of the
    query: ``notices``, ``expansions``, ``did_you_mean``, ``alternatives``
    and, when it searched another reading than the one typed,
    ``searched_for``/``shown_for`` (``fell_back``).  ``elapsed_ms`` is the
    search's time; ``partial`` and ``total_exact`` say whether its time
    budget cut it short.
    """

    query: str
    total: int
    page: int
    per_page: int
    sort: str
    hits: list[Hit]
    facets: dict[str, list[dict]]
    filters: dict[str, list[str]]
    elapsed_ms: float
    partial: bool = False
    # False when the deadline cut matching short: ``total`` then counts the
    # matches of a cheaper reading (phrases as their words), or is 0 with
    # ``NOT_MATCHED_NOTICE`` when not even that finished.
    total_exact: bool = True
    # Why a query answered as it did (a filter value not known, ...).
    notices: list[str] = field(default_factory=list)
    # What the free words were also searched as (``Expansion.to_dict()``:
    # pinyin read as Chinese words, other regions' words).
    expansions: list[dict] = field(default_factory=list)
    # A query with homophone typos corrected (落阳 → 洛阳), offered, not run.
    did_you_mean: str | None = None
    # Per facet, how many values it has among the matches beyond those listed.
    facets_more: dict[str, int] = field(default_factory=dict)
    # How many of ``total`` hold every word of the query (in some script,
    # regional form or as its exact text); the others hold some of them.
    # None when there was no query to hold (browsing).
    total_full: int | None = None
    # The query as typed, and the query whose results these are: the same
    # unless the typed one found nothing and its clear completion or pinyin
    # reading was searched instead (``search.aids.fallback``: luoy → 洛阳).
    searched_for: str = ""
    shown_for: str = ""
    # Other readings of a query that found nothing, each ``{"text", "count"}``.
    alternatives: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.searched_for = self.searched_for or self.query
        self.shown_for = self.shown_for or self.searched_for

    @property
    def fell_back(self) -> bool:
        """Whether these are the results of another reading than the query typed."""
        return self.shown_for != self.searched_for

    @property
    def total_partial(self) -> int | None:
        """How many matches hold only some of the query's words (None when browsing)."""
        return None if self.total_full is None else self.total - self.total_full

    @property
    def pages(self) -> int:
        """How many pages of ``per_page`` the matches fill (at least 1)."""
        return max(1, -(-self.total // self.per_page))

    def in_script(self, script: str) -> "SearchResults":
        """A copy with titles and snippets in ``"orig"``, ``"simp"`` or ``"trad"`` script."""
        return results_in_script(self, script)

    def to_dict(self) -> dict:
        """The page as the JSON API and ``zhsearch query --json`` give it."""
        return {
            "query": self.query, "total": self.total, "total_full": self.total_full,
            "total_partial": self.total_partial, "page": self.page,
            "per_page": self.per_page, "sort": self.sort, "filters": self.filters,
            "hits": [h.to_dict() for h in self.hits], "facets": self.facets,
            "facets_more": self.facets_more,
            "elapsed_ms": round(self.elapsed_ms, 2), "partial": self.partial,
            "total_exact": self.total_exact,
            "notices": self.notices, "expansions": self.expansions,
            "did_you_mean": self.did_you_mean,
            "searched_for": self.searched_for, "shown_for": self.shown_for,
            "alternatives": self.alternatives,
        }


@dataclass
class DocumentView:
    """One whole document, as its page shows it (``SearchIndex.document``).

    ``body`` is its text; ``title_html`` and ``body_html`` mark a query's
    words with ``<mark>``; ``article_html`` is the document drawn in its own
    form (Markdown's headings, lists, links ...), sanitised.  ``date``,
    ``cities`` (``city_forms``: as the text writes them), ``source`` and
    the other facets in ``fields``.
    """

    id: str
    title: str
    title_html: str
    body: str
    body_html: str
    date: str | None
    cities: list[str]
    city_forms: dict
    source: str
    fields: dict
    # The whole document as sanitised HTML in its own form (headings, lists,
    # code, links ...) with body_html's marks (``rendering.article_html``).
    article_html: str = ""

    def to_dict(self) -> dict:
        """The document as the JSON API (``/api/doc/ID``) gives it."""
        return {"id": self.id, "title": self.title, "title_html": self.title_html,
                "body": self.body, "body_html": self.body_html,
                "article_html": self.article_html, "date": self.date,
                "cities": self.cities, "city_forms": self.city_forms,
                "source": self.source, "fields": self.fields}

    def in_script(self, script: str) -> "DocumentView":
        """A copy with title and body in ``"orig"``, ``"simp"`` or ``"trad"`` script."""
        return document_in_script(self, script)
