"""Request parameters in, ``SearchIndex.search`` keyword arguments out, and back to URLs.

``search_kwargs`` is the one function that turns a request's query string into
the arguments of ``ix.search(...)``; the HTML search page, the JSON API and the
document page's "back to the results" link all use it.  It does no checking of
its own beyond what only the web layer can see (bytes that are not UTF-8, an
absurd number of filter values): everything else (sort, page, per_page, query
length, unknown facet, malformed year) is the library's ``QueryError``, so the
page and the API report the same message as the CLI.

``SearchState`` is the other direction: a search as a list of URL parameters,
so that every link on a page (sort, pagination, display script, document
links) and the search form keep everything else the reader chose.

Facet values and filter chips are buttons of the page's search form, not
links: a link per value would repeat the whole query (up to 1,000 characters)
for each of hundreds of values.  A value not chosen is ``<button name="city"
value="贵阳">`` (the form already holds the search: one filter more); a chosen
one is ``name="drop.city"``, and ``without_dropped`` turns such a request into
the search without that value, where the page redirects.

``display_script`` reads ``script`` (``orig``, ``simp`` or ``trad``: the script
results and documents are shown in); it is not a search parameter, so it is
kept apart from ``search_kwargs``, and ``SearchState.script`` carries it on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import unquote_to_bytes, urlencode

from flask import url_for

from search import QueryError
from search.searcher import FACET_LIMIT
from search.store.facet_types import (BUILTIN_FACETS, FACET_KEYWORDS, FILTER_PARAM_PREFIX,
                                      facet_type, keyword_facet)


DEFAULT_SORT = "relevance"
DEFAULT_PER_PAGE = 10
# More filter values than any person clicks: a URL with more is refused.
MAX_FILTER_VALUES = 100


class ParamError(QueryError):
    """A request parameter the web layer refuses before asking the library:
    a ``webui.messages`` code and its values (``str()`` is the English)."""

    def __init__(self, code: str, **values):
        from .messages import message_of
        self.message_code, self.values = code, values
        super().__init__(message_of(code, **values)[1])


def check_utf8(query_string: bytes | str) -> None:
    """Raise ``ParamError`` when the raw query string holds bytes that are not UTF-8.

    Werkzeug decodes such bytes to U+FFFD silently; searching for replacement
    characters is never what the sender meant, so the request is refused.
    """
    if isinstance(query_string, str):
        query_string = query_string.encode("latin-1", "replace")
    if not query_string:
        return
    try:
        unquote_to_bytes(query_string.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise ParamError("not_utf8") from None


def param_name(facet: str) -> str:
    """The URL parameter that carries a value of ``facet`` (``city``, ``year``, ``f.author``)."""
    return facet_type(facet).param


DROP_PREFIX = "drop."


def without_dropped(args) -> list[tuple[str, str]] | None:
    """The request's parameters less the filter values its ``drop.<param>`` names remove.

    ``None`` when the request drops nothing.  The page number goes too (a
    different set of results starts from page 1), and so do empty values,
    which mean the same as no value.
    """
    pairs = list(args.items(multi=True))
    dropped = {(k[len(DROP_PREFIX):], v) for k, v in pairs if k.startswith(DROP_PREFIX)}
    if not dropped:
        return None
    return [(k, v) for k, v in pairs
            if v and k != "page" and not k.startswith(DROP_PREFIX) and (k, v) not in dropped]


def search_kwargs(args, query_string: bytes | str = b"") -> dict:
    """``ix.search(**search_kwargs(request.args, request.query_string))``.

    * ``q``: the query (first value);
    * ``city``: repeatable; ``year``: repeatable, ``2014`` or ``2014-09``;
    * ``f.<facet>``: repeatable, any other facet of the index (``f.author=李白``;
      ``f.city``/``f.year``/``f.month`` are the same as ``city``/``year``);
    * ``sort``: relevance (default), newest, oldest;
    * ``page`` (default 1), ``per_page`` (default 10);
    * ``facet_limit``: values listed per facet (default 100).

    Missing or empty parameters take their defaults; unknown parameters
    (``utm_source`` ...) are ignored.
    """
    check_utf8(query_string)
    # Values for the keyword arguments of ix.search (city, year), from their own parameters.
    carried: dict[str, list[str]] = {}
    for facet in BUILTIN_FACETS:
        if facet.keyword not in carried:
            carried[facet.keyword] = list(args.getlist(facet.param))
    filters: dict[str, list[str]] = {}
    for key in args.keys():
        if not key.startswith(FILTER_PARAM_PREFIX):
            continue
        name, values = key[len(FILTER_PARAM_PREFIX):], args.getlist(key)
        keyword = facet_type(name).keyword
        if keyword:
            carried[keyword] += values
        else:
            filters.setdefault(name, []).extend(values)
    count = sum(len(v) for v in carried.values()) + sum(len(v) for v in filters.values())
    if count > MAX_FILTER_VALUES:
        raise ParamError("too_many_filters", count=f"{count:,}", limit=MAX_FILTER_VALUES)
    return {
        "q": args.get("q", "") or "",
        **{keyword: values or None for keyword, values in carried.items()},
        "filters": filters,
        "sort": args.get("sort") or DEFAULT_SORT,
        "page": args.get("page") or 1,
        "per_page": args.get("per_page") or DEFAULT_PER_PAGE,
        "facet_limit": args.get("facet_limit") or FACET_LIMIT,
    }


def display_script(args) -> str:
    """The ``script`` parameter: ``orig`` (default), ``simp`` or ``trad``; 400 otherwise."""
    from search.results.display import check_script
    return check_script(args.get("script") or None)


def _is_path_safe(doc_id: str) -> bool:
    """Whether an id survives as the path of a URL (browsers fold ``..`` and ``//``)."""
    if not doc_id or doc_id.startswith("/") or doc_id.endswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in doc_id.split("/"))


def doc_url(doc_id: str, pairs=(), endpoint: str = "pages.document") -> str:
    """The URL of a document: ``/doc/<id>``, or ``/doc?id=`` for ids a path cannot hold.

    ``pairs`` are extra query parameters (``[("q", "洛阳"), ("city", "洛阳")]``).
    """
    pairs = [(k, v) for k, v in pairs if v not in (None, "")]
    if _is_path_safe(doc_id):
        base = url_for(endpoint, doc_id=doc_id)
    else:
        base = url_for(endpoint + "_by_query")
        pairs = [("id", doc_id)] + pairs
    return base + ("?" + urlencode(pairs) if pairs else "")


@dataclass(frozen=True)
class SearchState:
    """One search as URL parameters: what every link on a result page starts from."""

    q: str = ""
    # (facet, value) in the order the reader chose them; facet "month" for YYYY-MM.
    filters: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    sort: str | None = None          # only when chosen: the default is relevance
    page: int = 1
    per_page: int | None = None      # only when not the default
    script: str | None = None        # display script, only when not "orig"

    # -- building ---------------------------------------------------------

    @classmethod
    def from_kwargs(cls, kwargs: dict) -> "SearchState":
        """The state as requested (not yet checked by the library)."""
        pairs: list[tuple[str, str]] = []
        for keyword in FACET_KEYWORDS:
            facet = keyword_facet(keyword)
            pairs += [(facet.owner(v), v) for v in kwargs.get(keyword) or []]
        for name, values in (kwargs.get("filters") or {}).items():
            pairs += [(name, v) for v in values]
        return cls(q=kwargs.get("q") or "", filters=_unique(pairs, keep_empty=False),
                   sort=_sort_or_none(kwargs.get("sort")),
                   page=_int_or(kwargs.get("page"), 1),
                   per_page=_per_page_or_none(kwargs.get("per_page")))

    @classmethod
    def from_results(cls, res, kwargs: dict) -> "SearchState":
        """The state as the library understood it: canonical filter values."""
        pairs = [(name, v) for name, values in res.filters.items() for v in values]
        requested = cls.from_kwargs(kwargs)
        return cls(q=res.query, filters=_unique(pairs), sort=requested.sort,
                   page=res.page, per_page=_per_page_or_none(res.per_page))

    # -- reading ----------------------------------------------------------

    def has(self, facet: str, value: str) -> bool:
        return (facet, value) in self.filters

    def values(self, facet: str) -> list[str]:
        return [v for f, v in self.filters if f == facet]

    def pairs(self, *, with_page: bool = True) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        out += [(param_name(f), v) for f, v in self.filters]
        if self.sort:
            out.append(("sort", self.sort))
        if with_page and self.page and self.page != 1:
            out.append(("page", str(self.page)))
        if self.per_page:
            out.append(("per_page", str(self.per_page)))
        if self.script:
            out.append(("script", self.script))
        return out

    def hidden_fields(self) -> list[tuple[str, str]]:
        """What the search form carries besides ``q``: filters, sort, per_page."""
        return [(k, v) for k, v in self.pairs(with_page=False) if k != "q"]

    # -- links ------------------------------------------------------------

    def url(self) -> str:
        pairs = self.pairs()
        base = url_for("pages.search")
        return base + ("?" + urlencode(pairs) if pairs else "")

    def with_(self, **changes) -> "SearchState":
        if "page" not in changes:
            changes["page"] = 1     # any other change starts from the first page
        return replace(self, **changes)

    def clear_filters_url(self) -> str:
        return self.with_(filters=()).url()

    def query_url(self, q: str) -> str:
        return self.with_(q=q).url()

    def with_script(self, script: str | None) -> "SearchState":
        """The same search shown in ``script`` (the page is kept)."""
        return replace(self, script=None if script in (None, "", "orig") else script)

    def script_url(self, script: str) -> str:
        return self.with_script(script).url()

    def sort_url(self, sort: str) -> str:
        return self.with_(sort=None if sort == DEFAULT_SORT and self.q else sort).url()

    def page_url(self, page: int) -> str:
        return self.with_(page=page).url()

    def doc_url(self, doc_id: str) -> str:
        """A document's page, carrying this search (highlights and the way back)."""
        return doc_url(doc_id, self.pairs())


def _unique(pairs, keep_empty: bool = True) -> tuple[tuple[str, str], ...]:
    seen, out = set(), []
    for p in pairs:
        if p in seen or (not keep_empty and not p[1].strip()):
            continue
        seen.add(p)
        out.append(p)
    return tuple(out)


def _sort_or_none(sort) -> str | None:
    return sort if sort and sort != DEFAULT_SORT else None


def _int_or(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _per_page_or_none(value) -> int | None:
    n = _int_or(value, DEFAULT_PER_PAGE)
    return None if n == DEFAULT_PER_PAGE else n


def page_window(current: int, last: int, radius: int = 2) -> list[int | None]:
    """Page numbers to link: first, last and a window around the current page.

    ``None`` stands for a gap (shown as an ellipsis).
    """
    if last <= 1:
        return [1]
    wanted = {1, last} | set(range(max(1, current - radius), min(last, current + radius) + 1))
    out: list[int | None] = []
    prev = 0
    for n in sorted(wanted):
        if n - prev > 1:
            out.append(None)
        out.append(n)
        prev = n
    return out

