"""``SearchIndex``: the one query path of the web UI, the CLI and the Python API.

Owns the query language people type, how it becomes a Whoosh query, ranking,
filters and facets, sorting, paging and snippets.

The language is deliberately small, because people type words and questions:

* plain text: ranked (BM25F) on words and on character bigrams, preferring
  documents with more of the query's words and with its exact text, without
  requiring every word;
* ``"..."`` (or “…”, 「…」): this exact text must occur (either script);
* ``-word`` or ``-"..."``: documents containing it are left out.

Nothing else is syntax: ``*``, ``field:value``, ranges and boosts are plain
characters, so a query cannot reach fields or run expensive expansions.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh.collectors import TimeLimit

from .errors import IndexNotFound, QueryError
from .ingest import cities as gazetteer
from .query import budget
from .query.budget import NOT_MATCHED_NOTICE, NOT_RANKED_NOTICE, PARTIAL_NOTICE
from .query.build import _without_order, build_query
from .query.parse import ParsedQuery, parse_query
from .rank import fastrank
from .rank.dateorder import _by_date
from .rank.matching import matching_docs
from .results.highlight import highlight, snippets
from .results.model import DocumentView, Hit, SearchResults
from .store import checksums, docsets, integrity
from .store.generation import _Generation
from .store.layout import live_generation
from .store.schema import BUILTIN_FACETS, FACET_PREFIX
from .text.script import to_simplified

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

    def __init__(self, path: str | os.PathLike = "index"):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._gen: _Generation | None = None
        self._current()

    def _current(self) -> _Generation:
        target = live_generation(self.path)
        if target is None:
            _, broken = integrity.live_target(self.path)
            if broken:          # a dangling ``current``, a generation that is a file
                raise checksums.damaged(self.path, broken.file, broken.what)
            raise IndexNotFound(f"no index at {self.path}: build one with `make index` "
                                f"or `python -m search index SOURCE --index {self.path}`")
        gen = self._gen
        if gen is None or gen.path != target:
            with self._lock:
                if self._gen is None or self._gen.path != target:
                    self._gen = _Generation(target)
                gen = self._gen
        return gen

    # -- public API ---------------------------------------------------------

    @property
    def facet_names(self) -> list[str]:
        gen = self._current()
        return list(BUILTIN_FACETS) + gen.facet_fields

    @integrity.guarded
    def stats(self) -> dict:
        gen = self._current()
        return {"documents": gen.doc_count, "facets": self.facet_names,
                "built_at": gen.manifest.get("built_at"), "generation": gen.path.name}

    @integrity.guarded
    def search(self, q: str = "", *, city=None, year=None, filters: dict | None = None,
               sort: str = "relevance", page: int = 1, per_page: int = 10,
               snippet_count: int = 2, facet_limit: int = FACET_LIMIT) -> SearchResults:
        """Search: ranked or date-sorted hits, the total, facets and snippets.

        ``city`` and ``year`` (one value or a list; ``year`` takes ``2014`` or
        ``2014-09``) and ``filters`` (``{"author": ["李白"]}``, any facet) narrow
        the results: values of one facet combine with OR, facets with AND.
        Each facet lists its ``facet_limit`` most frequent values (years and
        months: the latest) and every selected one; ``facets_more`` says how
        many values each facet has besides.
        """
        started = time.perf_counter()
        sort, page, per_page = self._check_paging(sort, page, per_page)
        try:
            facet_limit = int(facet_limit)
        except (TypeError, ValueError):
            facet_limit = -1
        if not 0 <= facet_limit <= MAX_FACET_LIMIT:
            raise QueryError(f"facet_limit must be a whole number from 0 to {MAX_FACET_LIMIT:,}")
        parsed = parse_query(q)
        gen = self._current()
        searcher = gen.searcher()
        selected = self._normalise_filters(gen, city, year, filters)

        from .query.expansion import expand
        expansions = expand(parsed, gen)
        deadline = time.monotonic() + budget.TIME_BUDGET
        whoosh_q, needles, matched, partial, notices = self._match(
            searcher, parsed, expansions, deadline)
        # Cut short while matching: the count is of a cheaper reading, or unknown.
        matching_partial = partial

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

        if sort == "relevance" and not (parsed.words or parsed.phrases):
            # Nothing to rank by (no query, or only words to leave out):
            # newest first is what a browser expects.
            sort = "newest"
        first = (page - 1) * per_page
        unranked = False
        if sort == "relevance":
            ranked, ranked_partial = self._rank_matches(
                searcher, whoosh_q, matched, filtered, first + per_page, deadline, partial)
            partial = partial or ranked_partial
            page_hits = ranked[first:first + per_page]
            if ranked_partial and not ranked and len(filtered):
                # Matching finished, ranking did not reach a single document:
                # the matches as they are beat an empty page that looks like none.
                unranked = True
                page_hits = [(d, None) for d in filtered[first:first + per_page].tolist()]
        else:
            page_hits = [(d, None) for d in _by_date(gen.date_keys(), filtered, first, per_page,
                                                     newest=sort == "newest")]
        if unranked:
            notices.append(NOT_RANKED_NOTICE)
        elif partial and NOT_MATCHED_NOTICE not in notices:
            notices.append(PARTIAL_NOTICE)
        hits = [self._hit(searcher, d, score, needles, snippet_count) for d, score in page_hits]
        for name, values in selected.items():
            totals = gen.facet_table(self._field(name)).totals
            for v in values:
                if not totals.get(v):
                    notices.append(f"no document in the index has {name} {v}")
        from .aids.suggest import did_you_mean
        return SearchResults(
            query=parsed.text, total=len(filtered), page=page, per_page=per_page, sort=sort,
            hits=hits, facets=facet_counts, facets_more=facets_more, filters=selected,
            partial=partial, notices=notices, total_exact=not matching_partial,
            expansions=[e.to_dict() for e in expansions],
            did_you_mean=did_you_mean(parsed, gen),
            elapsed_ms=(time.perf_counter() - started) * 1000)

    @integrity.guarded
    def document(self, doc_id: str, q: str = "") -> DocumentView | None:
        """One document by id, with the query's matches marked, or None."""
        if not isinstance(doc_id, str) or not doc_id or len(doc_id) > 2000:
            return None
        parsed = parse_query(q)
        gen = self._current()
        from .query.expansion import expand
        _, needles = build_query(parsed, expand(parsed, gen))
        searcher = gen.searcher()
        stored = searcher.document(id=doc_id)
        if stored is None:
            return None
        return DocumentView(
            id=stored["id"], title=stored.get("title", ""),
            title_html=highlight(stored.get("title", ""), needles),
            body=stored.get("body", ""), body_html=highlight(stored.get("body", ""), needles),
            date=stored.get("date"), cities=_as_values(stored.get("city")),
            city_forms=stored.get("city_forms") or {}, source=stored.get("source", ""),
            fields=stored.get("extra") or {})

    @integrity.guarded
    def suggest(self, q: str, limit: int = 8) -> list[str]:
        """Completions of ``q`` as it is typed (``search.aids.suggest.complete``)."""
        from .aids.suggest import complete
        return complete(self._current(), q, limit=limit)

    @integrity.guarded
    def related(self, doc_id: str, limit: int = 5) -> list[dict] | None:
        """Documents like ``doc_id`` (``search.aids.related``); None if there is no such document."""
        if not isinstance(doc_id, str) or not doc_id or len(doc_id) > 2000:
            return None
        from .aids.related import related
        return related(self._current(), doc_id, limit=limit)

    @integrity.guarded
    def explain(self, q: str, doc_id: str | None = None) -> dict:
        """What the query path makes of ``q``, and why ``doc_id`` matches or not (``search.aids.explain``)."""
        from .aids.explain import explain
        return explain(self, self._current(), q, doc_id)

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
        selected: dict[str, list[str]] = {}
        raw = dict(filters or {})
        if city is not None:
            raw["city"] = _as_values(raw.get("city")) + _as_values(city)
        if year is not None:
            raw["year"] = _as_values(raw.get("year")) + _as_values(year)
        known = set(BUILTIN_FACETS) | set(gen.facet_fields)
        for name, values in raw.items():
            if name not in known:
                raise QueryError(f"unknown filter {name!r}; this index has "
                                 f"{', '.join(sorted(known))}")
            values = _as_values(values)
            if name == "city":
                values = [gazetteer.canonical_city(v) or to_simplified(v) for v in values]
            elif name in ("year", "month"):
                for v in values:
                    if not re.fullmatch(r"\d{4}(-\d{2})?", v):
                        raise QueryError(f"{name} must look like 2014 or 2014-09, not {v!r}")
            else:
                values = [to_simplified(v) for v in values]
            if values:
                selected[name] = list(dict.fromkeys(values))
        # A month chosen in the year facet is a filter on months.
        if "year" in selected:
            months = [v for v in selected["year"] if len(v) == 7]
            if months:
                selected["year"] = [v for v in selected["year"] if len(v) == 4]
                selected["month"] = list(dict.fromkeys(selected.get("month", []) + months))
                if not selected["year"]:
                    del selected["year"]
        return selected

    @staticmethod
    def _field(name: str) -> str:
        return name if name in BUILTIN_FACETS else FACET_PREFIX + name

    def _allowed(self, gen, name, values) -> np.ndarray:
        return gen.facet_table(self._field(name)).docs_with(values)

    def _shown_facets(self, gen, selected):
        names = ["city", "year", "month"] + gen.facet_fields
        return names

    def _count(self, gen, name, docs: np.ndarray, selected_values,
               limit) -> tuple[list[dict], int]:
        """The facet's values among ``docs`` (at most ``limit``, and the
        selected ones), and how many values are left out."""
        top, more = gen.facet_table(self._field(name)).top(
            docs, limit, by_value=name in ("year", "month"), always=selected_values)
        return [{"value": v, "count": c} for v, c in top], more

    def _match(self, searcher, parsed, expansions, deadline):
        """The query ``search()`` ranks, its needles (to highlight), its
        matching set, whether the deadline cut that short, and the notices
        so far (pinyin read, quoted text read as words, matching unfinished:
        ``NOT_MATCHED_NOTICE``)."""
        whoosh_q, needles = build_query(parsed, expansions)
        notices: list[str] = [e.label for e in expansions if e.kind == "pinyin"]
        matched, partial, finished = self._matching_docs(searcher, whoosh_q, deadline)
        if not len(matched) and parsed.phrases and not partial:
            # People quote names inside questions; when nothing holds the
            # quoted text exactly, answer for its words and say so.
            loose = ParsedQuery(parsed.text, parsed.words + parsed.phrases, [], parsed.excluded)
            whoosh_q, needles = build_query(loose, expansions)
            matched, partial, finished = self._matching_docs(searcher, whoosh_q, deadline)
            if len(matched):
                quoted = "、".join(f"“{p}”" for p in parsed.phrases)
                notices.append(f"no document contains {quoted} exactly; "
                               "showing documents with its words")
        if not finished:
            notices.append(NOT_MATCHED_NOTICE)
        return whoosh_q, needles, matched, partial, notices

    @staticmethod
    def _matching_docs(searcher, q, deadline) -> tuple[np.ndarray, bool, bool]:
        """The documents ``q`` matches, whether the deadline cut that short
        (then: those found by a cheaper reading, its words without order),
        and whether either reading finished (if not: no documents, which
        says nothing about how many match)."""
        try:
            return matching_docs(searcher, q, deadline), False, True
        except TimeLimit:
            loose = _without_order(q)
            if loose is None:
                return docsets.NONE, True, False
            try:
                return matching_docs(searcher, loose, time.monotonic() + 0.2 * budget.TIME_BUDGET), True, True
            except TimeLimit:
                return docsets.NONE, True, False

    def _rank_matches(self, searcher, whoosh_q, matched, filtered, limit, deadline, partial):
        """The best ``limit`` ``(docnum, score)`` of the filtered matching set,
        best first, as the results page ranks them (``explain`` reads its
        ranks here too), and whether time cut the ranking short."""
        # Past the deadline, a short grace so a cut-short answer still
        # shows its best documents.
        rank_by = max(deadline, time.monotonic() + 0.2 * budget.TIME_BUDGET) if partial else deadline
        if partial:
            whoosh_q = _without_order(whoosh_q) or whoosh_q
        if isinstance(whoosh_q, wq.AndNot):
            # The matching set has the exclusions applied already, and a
            # document scores what the query's positive part gives it:
            # ranking that part within the set never reads the exclusions
            # again (a hundred excluded characters are tens of thousands of
            # bigrams, which planning a ranking would look up one by one).
            return self._ranked(searcher, whoosh_q.a, filtered, limit, rank_by)
        # Without filters the set is every match of the query: ranking them
        # all skips looking each one up (Whoosh's own path, for queries the
        # fast ranking does not reproduce, is still given the set).
        unfiltered = filtered is matched and not partial
        return self._ranked(searcher, whoosh_q, None if unfiltered else filtered, limit, rank_by,
                            matched if unfiltered else None)

    @staticmethod
    def _ranked(searcher, q, allowed, limit, deadline, matched=None):
        return fastrank.rank(searcher, q, allowed, limit, deadline, matched)

    def _hit(self, searcher, docnum, score, needles, snippet_count) -> Hit:
        stored = searcher.stored_fields(docnum)
        title, body = stored.get("title", ""), stored.get("body", "")
        frags = snippets(body, needles, count=snippet_count)
        return Hit(
            id=stored["id"], title=title, title_html=highlight(title, needles),
            score=score, date=stored.get("date"), cities=_as_values(stored.get("city")),
            snippet=" ".join(frags[:1]), snippets=frags, source=stored.get("source", ""),
            city_forms=stored.get("city_forms") or {}, fields=stored.get("extra") or {})


def open_index(path: str | os.PathLike = "index") -> SearchIndex:
    """Open the index folder built by ``build_index`` (raises ``IndexNotFound``)."""
    return SearchIndex(path)
