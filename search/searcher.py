"""``SearchIndex``: the one query path of the web UI, the CLI and the Python API.

Puts the stages together: a query's plan (``search.query.plan``), its
matches and their order (``search.rank``), filters and facet counts
(``search.store.facet_types``), and the page of hits with snippets
(``search.results``); the reading aids (``search.aids``) are its methods
too.  Owns what only the whole needs: paging, the sorts, the limits of a
request, and noticing a rebuilt index without reopening.  The query
language itself is ``search.query.parse``'s.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .aids.explain import explain
from .aids.fallback import search_with_fallback
from .aids.facet_search import MAX_PER_PAGE as MAX_FACET_PAGE_SIZE, PER_PAGE as FACET_PAGE_SIZE
from .aids.facet_search import FacetPage, facet_page
from .aids.related import related
from .aids.suggest import complete, did_you_mean
from .errors import IndexNotFound, QueryError, no_index_message
from .query import budget
from .query.budget import NOT_MATCHED_NOTICE, NOT_RANKED_NOTICE, PARTIAL_NOTICE
from .query.concepts import missing_words
from .query.plan import QueryPlan, plan_query
from .rank.dateorder import by_date
from .rank.matching import match, rank_matches
from .results.highlight import highlight, simplified, snippets
from .results.model import DocumentView, Hit, SearchResults
from .results.rendering import article_html
from .store import checksums, docsets, facet_types, integrity, merging
from .store.merging import MergeReport
from .store.writing import DEFAULT_WAIT, IndexWriter
from .store.generation import _Generation
from .store.layout import CURRENT, live_generation

SORTS = ("relevance", "newest", "oldest")


MAX_PER_PAGE = 100


# Values listed per facet: a facet such as author can have thousands among
# a question's matches, more than anyone reads and costly to send.
FACET_LIMIT = 100


MAX_FACET_LIMIT = 10_000


MAX_PAGE = 10_000


def _as_values(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set)):
        out = []
        for v in value:
            out.extend(_as_values(v))
        return out
    return [v.strip() for v in str(value).split(",") if v.strip()]


class SearchIndex:
    """A searchable index folder; picks up a rebuilt index without reopening.

    ``open_index(path)`` returns one.  Thread-safe: a web server shares one.
    """

    def __init__(self, path: str | os.PathLike = "index", hide_facets=()):
        self.path = Path(path)
        # Facets the operator turned off: not listed, though still a filter.
        self.hidden_facets = frozenset(_as_values(hide_facets))
        self._lock = threading.Lock()
        self._gen: _Generation | None = None
        self._link = str(self.path / CURRENT)
        # The ``current`` link's text, the folder it named when last resolved
        # and that folder's generation.
        self._seen_link: tuple[str, str, _Generation] | None = None
        self._current()

    def _current(self) -> _Generation:
        # Asked on every call: the ``current`` link read as it stands, and
        # its folder still there, tell an unchanged index from a rebuilt one
        # in two system calls, where resolving the path takes a dozen.
        seen = self._seen_link
        if seen is not None:
            link_text, target_text, gen = seen
            try:
                if os.readlink(self._link) == link_text and os.path.isdir(target_text):
                    return gen
            except OSError:
                pass
        try:
            link_text = os.readlink(self._link)
        except OSError:
            link_text = None
        target = live_generation(self.path)
        if target is None:
            _, broken = integrity.live_target(self.path)
            if broken:          # a dangling ``current``, a generation that is a file
                raise checksums.damaged(self.path, broken.file, broken.what)
            raise IndexNotFound(no_index_message(self.path))
        gen = self._gen
        if gen is None or gen.path != target:
            with self._lock:
                if self._gen is None or self._gen.path != target:
                    self._gen = _Generation(target, previous=self._gen)
                gen = self._gen
        self._seen_link = (link_text, str(target), gen) if link_text is not None else None
        return gen

    # -- public API ---------------------------------------------------------

    @property
    def facet_names(self) -> list[str]:
        """The names of the index's facets, built-in (city, year ...) and its documents' own."""
        return facet_types.registry(self._current().facet_fields).names

    def shown_facets(self) -> list[str]:
        """The facets a results page lists: not those the operator turned off
        (``hide_facets``), nor one whose documents all have the same value."""
        return self._shown_facets(self._current(), {})

    @integrity.guarded
    def facet_values(self, name: str, q: str = "", *, city=None, year=None,
                     filters: dict | None = None, contains: str | None = None,
                     page: int = 1, per_page: int = FACET_PAGE_SIZE) -> FacetPage:
        """Every value of the facet ``name`` among the results of ``q`` and the
        filters (its own selection aside, as on a results page), with counts, a
        page at a time; ``contains``: only values holding that text in either
        script or whose pinyin initials start with it
        (``search.aids.facet_search``).  ``QueryError`` (``code``
        ``no_such_facet``, ``facet_turned_off``, ``past_last_value_page``)
        for a facet or page there is not."""
        gen = self._current()
        if name not in facet_types.registry(gen.facet_fields):
            raise _coded(f"no facet named {name}", "no_such_facet")
        if name in self.hidden_facets:
            raise _coded(f"the facet {name} is turned off for this collection",
                         "facet_turned_off")
        try:
            page, per_page = int(page), int(per_page)
        except (TypeError, ValueError):
            raise QueryError("page and per_page must be whole numbers") from None
        if not 1 <= page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE:,}")
        if not 1 <= per_page <= MAX_FACET_PAGE_SIZE:
            raise QueryError(f"per_page must be between 1 and {MAX_FACET_PAGE_SIZE}")
        plan = self._plan(gen, q, city, year, filters)
        selected = plan.filters
        matched = match(plan, gen.searcher(), time.monotonic() + budget.TIME_BUDGET).docs
        others = [self._allowed(gen, o, v) for o, v in selected.items() if o != name]
        base = docsets.intersection([matched, *others]) if others else matched
        facet = facet_types.facet_type(name)
        table = gen.facet_table(facet.field)
        values, _ = facet.top(table, base, max(1, len(table.values)),
                              always=selected.get(name, []))
        found = facet_page(values, contains, page, per_page)
        if page > found.pages:
            raise _coded(f"page {page} is past the last page of values ({found.pages})",
                         "past_last_value_page")
        return found

    @integrity.guarded
    def stats(self) -> dict:
        """What the live index holds: its documents, facets, segments, deleted
        documents, generation, and when it was built and last changed."""
        gen = self._current()
        return {"documents": gen.live_count, "facets": self.facet_names,
                "built_at": gen.manifest.get("built_at"),
                "updated_at": gen.manifest.get("updated_at", gen.manifest.get("built_at")),
                "segments": len(gen.segments), "deleted": int(len(gen.deleted)),
                "generation": gen.path.name}

    def writer(self, *, wait: float = DEFAULT_WAIT, merge: bool = True) -> IndexWriter:
        """A writer of this index (``search.store.writing.IndexWriter``): ``add``,
        ``replace``, ``delete``; leaving its ``with`` block commits the change,
        durable and seen by every open ``SearchIndex`` from its next call."""
        return IndexWriter(self.path, wait=wait, merge=merge)

    def merge(self, *, everything: bool = False, wait: float = DEFAULT_WAIT) -> MergeReport:
        """Merge segments now, as the merge policy says (``everything``: into one)."""
        return merging.merge(self.path, everything=everything, wait=wait)

    @integrity.guarded
    def search(self, q: str = "", *, city=None, year=None, filters: dict | None = None,
               sort: str = "relevance", page: int = 1, per_page: int = 10,
               snippet_count: int = 2, facet_limit: int = FACET_LIMIT,
               fallback: bool = False) -> SearchResults:
        """Search: ranked or date-sorted hits, the total, facets and snippets.

        ``city`` and ``year`` (one value or a list; ``year`` takes ``2014`` or
        ``2014-09``) and ``filters`` (``{"author": ["李白"]}``, any facet) narrow
        the results: values of one facet combine with OR, facets with AND.
        Each facet lists its ``facet_limit`` most frequent values (years and
        months: the latest) and every selected one; ``facets_more`` says how
        many values each facet has besides.

        ``fallback``: a query that finds nothing is answered with the results
        of its clear completion or pinyin reading, if it has one
        (``search.aids.fallback``: ``luoy`` → 洛阳); ``searched_for`` is the
        query typed, ``shown_for`` the one searched, ``alternatives`` other
        readings that find documents.
        """
        if fallback:
            options = dict(city=city, year=year, filters=filters, sort=sort, page=page,
                           per_page=per_page, snippet_count=snippet_count,
                           facet_limit=facet_limit)
            return search_with_fallback(self.search, self._current(), q, options)
        started = time.perf_counter()
        sort, page, per_page = self._check_paging(sort, page, per_page)
        try:
            facet_limit = int(facet_limit)
        except (TypeError, ValueError):
            facet_limit = -1
        if not 0 <= facet_limit <= MAX_FACET_LIMIT:
            raise QueryError(f"facet_limit must be a whole number from 0 to {MAX_FACET_LIMIT:,}")
        gen = self._current()
        plan = self._plan(gen, q, city, year, filters)
        searcher = gen.searcher()
        selected = plan.filters
        deadline = time.monotonic() + budget.TIME_BUDGET
        matches = match(plan, searcher, deadline)
        matched, partial, notices = matches.docs, matches.partial, list(matches.notices)

        # Each facet's allowed set; a facet's counts ignore its own selection
        # so its other values stay visible (multi-select facets).
        allowed = {name: self._allowed(gen, name, values) for name, values in selected.items()}
        filtered = matched
        if allowed:
            filtered = docsets.intersection([matched, *allowed.values()])
        facet_counts, facets_more, bases = {}, {}, {}
        for name in self._shown_facets(gen, selected):
            key = frozenset(o for o in allowed if o != name)
            base = bases.get(key)
            if base is None:
                base = bases[key] = docsets.intersection(
                    [matched] + [allowed[o] for o in key]) if key else matched
            facet_counts[name], more = self._count(gen, name, base, selected.get(name, []),
                                                   facet_limit)
            if more:
                facets_more[name] = more

        if sort == "relevance" and not plan.ranks:
            # Nothing to rank by (no query, or only words to leave out):
            # newest first is what a browser expects.
            sort = "newest"
        first = (page - 1) * per_page
        unranked = False
        if sort == "relevance":
            ranked, ranked_partial = rank_matches(searcher, matches, filtered if allowed else None,
                                                  first + per_page, deadline)
            partial = partial or ranked_partial
            page_hits = ranked[first:first + per_page]
            if ranked_partial and not ranked and len(filtered):
                # Matching finished, ranking did not reach a single document:
                # the matches as they are beat an empty page that looks like none.
                unranked = True
                page_hits = [(d, None) for d in filtered[first:first + per_page].tolist()]
        else:
            page_hits = [(d, None) for d in by_date(gen.date_keys(), filtered, first, per_page,
                                                    newest=sort == "newest")]
        if unranked:
            notices.append(NOT_RANKED_NOTICE)
        elif partial and NOT_MATCHED_NOTICE not in notices:
            notices.append(PARTIAL_NOTICE)
        plan_used = matches.plan_used
        full = docsets.intersection([filtered, matches.full]) if plan_used.concepts else None
        lacking = matches.lacking([d for d, _ in page_hits]) or [None] * len(page_hits)
        hits = [self._hit(gen, searcher, d, score, plan_used, snippet_count, lacks)
                for (d, score), lacks in zip(page_hits, lacking)]
        for name, values in selected.items():
            totals = gen.facet_table(self._field(name)).totals
            for v in values:
                if not totals.get(v):
                    notices.append(f"no document in the index has {name} {v}")
        return SearchResults(
            query=plan.parsed.text, total=len(filtered), page=page, per_page=per_page, sort=sort,
            hits=hits, facets=facet_counts, facets_more=facets_more, filters=selected,
            partial=partial, notices=notices, total_exact=matches.exact,
            expansions=[e.to_dict() for e in plan.expansions],
            did_you_mean=did_you_mean(plan.parsed, gen),
            total_full=len(full) if full is not None else None,
            elapsed_ms=(time.perf_counter() - started) * 1000)

    @integrity.guarded
    def document(self, doc_id: str, q: str = "") -> DocumentView | None:
        """One document by id, with the query's matches marked, or None."""
        if not isinstance(doc_id, str) or not doc_id or len(doc_id) > 2000:
            return None
        gen = self._current()
        plan = plan_query(q, gen)
        searcher = gen.searcher()
        stored = searcher.document(id=doc_id)
        if stored is None:
            return None
        body = stored.get("body", "")
        needles = plan.needles_in(f"{stored.get('title', '')}\n{body}")
        body_html = highlight(body, needles)
        return DocumentView(
            id=stored["id"], title=stored.get("title", ""),
            title_html=highlight(stored.get("title", ""), needles),
            body=body, body_html=body_html,
            date=stored.get("date"), cities=_as_values(stored.get("city")),
            city_forms=stored.get("city_forms") or {}, source=stored.get("source", ""),
            fields=stored.get("extra") or {},
            article_html=article_html(body_html, stored.get("layout")))

    @integrity.guarded
    def suggest(self, q: str, limit: int = 8) -> list[dict]:
        """Completions of ``q`` as it is typed, best first, each ``{"text", "kind",
        "count"}`` (kind: name, word, fragment or title; count: documents,
        approximate; see ``search.aids.suggest.complete``)."""
        return complete(self._current(), q, limit=limit)

    @integrity.guarded
    def related(self, doc_id: str, limit: int = 5) -> list[dict] | None:
        """Documents like ``doc_id`` (``search.aids.related``); None if there is no such document."""
        if not isinstance(doc_id, str) or not doc_id or len(doc_id) > 2000:
            return None
        return related(self._current(), doc_id, limit=limit)

    @integrity.guarded
    def explain(self, q: str, doc_id: str | None = None) -> dict:
        """What the query path makes of ``q``, and why ``doc_id`` matches or not (``search.aids.explain``)."""
        return explain(self._current(), q, doc_id)

    @integrity.guarded
    def plan(self, q: str = "", *, city=None, year=None, filters: dict | None = None) -> QueryPlan:
        """The plan ``search()`` matches for ``q`` and these filters
        (``search.query.plan``): the parsed query, its expansions, the Whoosh
        query and the texts to highlight, the selected filters."""
        gen = self._current()
        return self._plan(gen, q, city, year, filters)

    def warm_up(self) -> float:
        """Load now what queries otherwise load on first use, and return the
        seconds it took: the segmenter's dictionaries (jieba, rjieba's route),
        the script and pinyin tables, the index's facet tables, date keys,
        length norms and vocabulary, and the modules the query path imports
        late.  A server calls it before answering; a process asking one query
        need not.  The index's files are read ahead into the page cache in
        the background (the kernel's), so a term's postings are not first
        read from disk by a query."""
        started = time.perf_counter()
        import numpy.ma  # noqa: F401 - numpy's set operations import it on their first call
        from .store.vocabulary import titles, vocabulary
        from .text import pinyin, segment
        gen = self._current()
        _read_ahead(gen.path)
        segment.prepare_router()
        pinyin.warm()
        gen.date_keys()
        vocabulary(gen, timeout=WARM_UP_WAIT)
        titles(gen, timeout=WARM_UP_WAIT)
        # Through the whole query path once: a word, pinyin, a homophone
        # slip, a filter and a sort, each with what its stage loads late.
        self.search(WARM_UP_QUERY)
        self.search(WARM_UP_QUERY, sort="newest", filters={
            name: [next(iter(gen.facet_table(self._field(name)).totals), "")]
            for name in self._shown_facets(gen, {})[:1]})
        self.suggest("luo")
        return time.perf_counter() - started

    # -- the pieces -----------------------------------------------------------

    @staticmethod
    def _check_paging(sort, page, per_page):
        if sort in (None, ""):
            sort = "relevance"
        if sort not in SORTS:
            raise QueryError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
        try:
            page = int(page)
            per_page = int(per_page)
        except (TypeError, ValueError):
            raise QueryError("page and per_page must be whole numbers") from None
        if not 1 <= page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE:,}")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}")
        return sort, page, per_page

    def _normalise_filters(self, gen, city, year, filters) -> dict[str, list[str]]:
        """The chosen filters as facet name -> values, each value as its facet's
        type normalises it; ``city`` and ``year`` join ``filters`` under the
        facets those keywords carry."""
        facets = facet_types.registry(gen.facet_fields)
        raw = dict(filters or {})
        # search()'s own keyword arguments for facets.
        for keyword, values in {"city": city, "year": year}.items():
            if values is not None:
                name = facet_types.keyword_facet(keyword).name
                raw[name] = _as_values(raw.get(name)) + _as_values(values)
        selected: dict[str, list[str]] = {}
        for name, values in raw.items():
            if name not in facets:
                raise QueryError(f"unknown filter {name!r}; this index has "
                                 f"{', '.join(sorted(facets.names))}")
            values = facets[name].normalise(_as_values(values))
            if values:
                selected[name] = list(dict.fromkeys(values))
        # A value chosen in one facet may filter another: a month chosen as a year.
        for name in list(selected):
            kept, moved = [], {}
            for v in selected[name]:
                owner = facets[name].owner(v)
                if owner == name:
                    kept.append(v)
                else:
                    moved.setdefault(owner, []).append(v)
            if not moved:
                continue
            selected[name] = kept
            for owner, values in moved.items():
                selected[owner] = list(dict.fromkeys(selected.get(owner, []) + values))
            if not kept:
                del selected[name]
        return selected

    @staticmethod
    def _field(name: str) -> str:
        return facet_types.facet_type(name).field

    def _allowed(self, gen, name, values) -> np.ndarray:
        return gen.facet_table(self._field(name)).docs_with(values)

    def _shown_facets(self, gen, selected):
        """The facets counted: a selected one always (its chip needs its
        counts), else not one turned off nor one with a single value in the index."""
        shown = []
        for name in facet_types.registry(gen.facet_fields).names:
            if name in selected:
                shown.append(name)
            elif name not in self.hidden_facets and \
                    len(gen.facet_table(self._field(name)).totals) > 1:
                shown.append(name)
        return shown

    def _count(self, gen, name, docs: np.ndarray, selected_values,
               limit) -> tuple[list[dict], int]:
        """The facet's values among ``docs`` (at most ``limit``, and the
        selected ones, in the facet's order), and how many values are left out."""
        facet = facet_types.facet_type(name)
        top, more = facet.top(gen.facet_table(facet.field), docs, limit, always=selected_values)
        return [{"value": v, "count": c} for v, c in top], more

    def _plan(self, gen, q, city, year, filters) -> QueryPlan:
        plan = plan_query(q, gen)
        # The query's errors are told before the filters'.
        return plan.with_filters(self._normalise_filters(gen, city, year, filters))

    def _hit(self, gen, searcher, docnum, score, plan, snippet_count, lacking=None) -> Hit:
        stored = _kept_documents(gen).stored_fields(searcher, docnum)
        title, body = stored.get("title", ""), stored.get("body", "")
        text = f"{title}\n{body}"
        # Converted once for the whole hit: the script's conversion keeps
        # offsets and never joins characters across the line break, so the
        # title's and the body's are slices of it.
        norm = simplified(text)
        needles = plan.needles_in(text, norm)
        frags = snippets(body, needles, count=snippet_count, normalised=norm[len(title) + 1:])
        return Hit(
            id=stored["id"], title=title,
            title_html=highlight(title, needles, norm[:len(title)]),
            score=score, date=stored.get("date"), cities=_as_values(stored.get("city")),
            snippet=" ".join(frags[:1]), snippets=frags, source=stored.get("source", ""),
            city_forms=stored.get("city_forms") or {}, fields=stored.get("extra") or {},
            match=None if lacking is None else "partial" if lacking else "full",
            missing=missing_words(lacking, text, norm) if lacking else [])


class _KeptDocuments:
    """A generation's stored fields of the documents results pages showed
    last, up to ``KEEP_DOCUMENT_CHARS`` characters of their text (none of
    over ``KEEP_ONE_DOCUMENT_CHARS``): reading
    one from the index (a seek, zlib, unpickling) costs more than finding
    the query's words in it, and the best documents of one query are often
    among those of the next.  The fields are the index's, the same for every
    query: read-only, as a ``Hit`` hands them out."""

    def __init__(self):
        self._kept: OrderedDict[int, dict] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def stored_fields(self, searcher, docnum: int) -> dict:
        with self._lock:
            stored = self._kept.get(docnum)
            if stored is not None:
                self._kept.move_to_end(docnum)
                return stored
        stored = searcher.stored_fields(docnum)
        size = _text_size(stored)
        if size > KEEP_ONE_DOCUMENT_CHARS:
            return stored
        with self._lock:
            if docnum not in self._kept:
                self._kept[docnum] = stored
                self._chars += size
                while self._chars > KEEP_DOCUMENT_CHARS:
                    _, gone = self._kept.popitem(last=False)
                    self._chars -= _text_size(gone)
        return stored


# About 16 MB a million characters, in each process (stored fields as
# Python objects: 8,783 poems); a million covers the ten best of several
# thousand queries of poems.
KEEP_DOCUMENT_CHARS = 1_000_000
KEEP_ONE_DOCUMENT_CHARS = 100_000
_kept_by_generation: "weakref.WeakKeyDictionary[_Generation, _KeptDocuments]" = \
    weakref.WeakKeyDictionary()
_kept_lock = threading.Lock()


def _kept_documents(gen: _Generation) -> _KeptDocuments:
    kept = _kept_by_generation.get(gen)
    if kept is None:
        with _kept_lock:
            kept = _kept_by_generation.setdefault(gen, _KeptDocuments())
    return kept


def _text_size(stored: dict) -> int:
    return 64 + sum(len(v) for v in stored.values() if isinstance(v, str))


# ``warm_up``: how long it waits for a vocabulary that is built rather than
# read (an index saved without one), and the query it asks.
WARM_UP_WAIT = 30.0
WARM_UP_QUERY = "中文 luoyang 落阳"


def _read_ahead(folder: Path) -> None:
    """Ask the kernel to read the folder's files into the page cache, without waiting."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    for path in folder.iterdir():
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def _coded(message: str, code: str) -> QueryError:
    """A refusal carrying a machine-readable ``code`` beside its message."""
    exc = QueryError(message)
    exc.code = code
    return exc


def open_index(path: str | os.PathLike = "index", hide_facets=()) -> SearchIndex:
    """Open the index folder built by ``build_index`` (raises ``IndexNotFound``);
    ``hide_facets``: facet names (or ``"a,b"``) a results page does not list."""
    return SearchIndex(path, hide_facets=hide_facets)
