"""The HTML pages: search (with facets and an overview when empty) and one document.

Each page and its JSON twin (``/api/search``, ``/api/doc``) start from one
context, as Datasette does: ``search_context`` and ``document_context`` read
the request once; the page renders the context with its template, the API
with ``to_dict()``.  So a hit in the JSON carries what the page shows of it
(its highlighted title, every snippet, stored fields, where it comes from),
and a document what its page shows (matches, related documents, the web
address).
"""

from __future__ import annotations

import ntpath
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request, url_for
from markupsafe import Markup

from search import QueryError, parse_query
from search.store.facet_types import BUILTIN_FACETS, facet_type

from . import get_index
from .fallback import fallback_notice, no_result_suggestions, wants_verbatim
from .facet_pages import telling_first
from .messages import coded, describe, refuse
from .operations import count_search
from .origin import hit_origin
from .overview import overview
from .page_script import in_page_script
from .params import (SearchState, check_utf8, display_script, page_window, param_name,
                     search_kwargs, without_dropped)

pages = Blueprint("pages", __name__)

SORT_LABELS = {"relevance": "相关度", "newest": "最新", "oldest": "最早"}
# The display scripts, each labelled in its own script.
SCRIPT_LABELS = {"orig": "原文", "simp": "简体", "trad": "繁體"}
RELATED_COUNT = 5
# Values of a facet shown before "more".
FACET_TOP = 10
MAX_PAGE = 10_000


@pages.get("/")
def search():
    """The search page; ``?q=`` and filters as described in ``webui``'s docstring.

    A chip or chosen facet value sends ``drop.<param>=<value>``: the answer is
    a redirect to the same search without that value (303: the address then
    says what is shown).  ``fragment=results``: only what ``<main>`` holds
    (``_results_only.html``), for instant search.  A query that finds nothing
    shows its clear reading's results unless ``verbatim=1`` (``webui.fallback``).
    """
    results_only = request.args.get("fragment") == "results"
    kept = without_dropped(request.args)
    if kept is not None:
        return redirect(url_for("pages.search") + ("?" + urlencode(kept) if kept else ""), 303)
    ix = get_index()
    try:
        context = search_context(ix, request.args, request.query_string,
                                 fallback=not wants_verbatim(request.args))
    except QueryError as exc:
        return render_template(
            "search.html", error=describe(exc, 400).zh, res=None, results_only=results_only,
            state=_safe_state(request.args), overview=None), 400

    res, state, script = context.results, context.state, context.script
    landing = not res.query and not res.filters
    labels = {_expansion_label(e) for e in res.expansions}
    return render_template(
        "search.html", error=None, res=res, state=state, results_only=results_only,
        fallback=fallback_notice(res, state, script),
        script=script, script_links=_script_links(state, script),
        expansions=_expansions(res, state, script),
        notices=[n["message"] for n in context.notices if n["message_en"] not in labels],
        overview=overview(ix) if landing else None,
        landing=landing,
        suggestions=(_suggestions(res, state) + no_result_suggestions(res, state, script)
                     if not res.total else []),
        pages=page_window(res.page, min(res.pages, MAX_PAGE)),
        last_page=min(res.pages, MAX_PAGE),
        facet_groups=telling_first(_facet_groups(res, state), res),
        origins=context.origins,
    )


@dataclass
class SearchContext:
    """One search as the page shows it: the results in the display script,
    the search as URL parameters, each hit's origin, the notices by code."""

    results: object                      # SearchResults, in ``script``
    state: SearchState
    script: str
    origins: list[list[dict]]            # per hit, ``webui.origin.hit_origin``
    notices: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """``SearchResults.to_dict()`` (every key it had), with what the page
        adds: per hit its ``origin`` and the ``url`` of its page; the
        ``script`` shown; each notice with its ``code`` and Chinese."""
        out = self.results.to_dict()
        for hit, shown, origin in zip(out["hits"], self.results.hits, self.origins):
            hit["origin"] = origin
            hit["url"] = self.state.doc_url(shown.id)
        out["script"] = self.script
        out["notices_detail"] = self.notices
        out["pages"] = self.results.pages
        return out


def search_context(ix, args, query_string=b"", *, fallback: bool) -> SearchContext:
    """The context of a search request (``QueryError`` for a bad parameter).

    ``fallback``: a query that finds nothing is answered by its clear reading
    (the page's way unless ``verbatim=1``); the API searches what it is sent.
    """
    kwargs = search_kwargs(args, query_string)
    res = ix.search(**kwargs, fallback=fallback)
    count_search(res)
    script = display_script(args)
    state = SearchState.from_results(res, kwargs).with_script(script)
    # Read from the hits as written: the script shown is the reader's choice.
    origins = [hit_origin(h) for h in res.hits]
    return SearchContext(results=res.in_script(script), state=state, script=script,
                         origins=origins, notices=[coded(n) for n in res.notices])


def _safe_state(args) -> SearchState:
    """The search as requested, for a page that reports a bad parameter."""
    try:
        return SearchState.from_kwargs(search_kwargs(args))
    except QueryError:
        return SearchState(q=args.get("q", ""))


@pages.get("/doc/<path:doc_id>")
def document(doc_id: str):
    context = document_context(get_index(), doc_id, request.args, request.query_string)
    view, state, q, script = context.view, context.state, context.q, context.script
    article = first_mark_anchor(view.article_html)
    return render_template(
        "document.html", doc=view, state=state, q=q, marks=context.marks, article=article,
        has_anchor='id="match-1"' in article, source=page_source(view.source),
        web_url=context.web_url,
        back_url=state.url() if (state.q or state.filters) else url_for("pages.search"),
        plain_url=state.with_(q="").doc_url(view.id) if q else None,
        script=script,
        script_links=[{"script": s, "label": label, "url": state.with_script(s).doc_url(view.id)}
                      for s, label in SCRIPT_LABELS.items()],
        related=context.related,
        explain_url=context.explain_url,
    )


@dataclass
class DocumentContext:
    """One document as its page shows it, in the display script."""

    view: object                # DocumentView, in ``script``
    state: SearchState          # the search it was reached from (``q`` and filters)
    q: str
    script: str
    marks: int                  # matches marked in the title and body
    related: list[dict]         # ``{"id", "title", "score", "shared", "url"}``
    web_url: str | None
    explain_url: str | None

    def to_dict(self) -> dict:
        """``DocumentView.to_dict()`` (every key it had), with what the page adds."""
        return {**self.view.to_dict(), "script": self.script, "marks": self.marks,
                "web_url": self.web_url,
                "url": self.state.doc_url(self.view.id), "explain_url": self.explain_url,
                "related": self.related}


def document_context(ix, doc_id: str, args, query_string=b"") -> DocumentContext:
    """The context of a document request: 404 (``no_such_document``) when unknown,
    ``QueryError`` for a bad parameter."""
    check_utf8(query_string)
    q = args.get("q", "")
    script = display_script(args)
    found = ix.document(doc_id, q=q)
    if found is None:
        refuse(404, "no_such_document")
    view = found.in_script(script)
    state = SearchState.from_kwargs(search_kwargs(args)).with_script(script)
    # Matches, as the body and title have them (a match drawn across a link
    # is one match, however many marks it takes).
    marks = view.body_html.count("<mark>") + view.title_html.count("<mark>")
    related = [{**r, "title": _shown(r["title"], script), "url": state.doc_url(r["id"]),
                "shared": [_shown(w, script) for w in r["shared"]]}
               for r in ix.related(view.id, limit=RELATED_COUNT) or []]
    return DocumentContext(
        view=view, state=state, q=q, script=script, marks=marks, related=related,
        web_url=_web_url(view.fields.get("url")),
        explain_url=url_for("api.explain", q=q, doc=view.id) if q else None)


@pages.get("/doc")
def document_by_query():
    doc_id = request.args.get("id", "")
    if not doc_id:
        refuse(404, "no_document_id")
    return document(doc_id)


# ---------------------------------------------------------------------------
# What the templates are given


def _shown(text: str, script: str) -> str:
    from search.results.display import convert_text
    return convert_text(text, script)


def _script_links(state: SearchState, script: str) -> list[dict]:
    return [{"script": s, "label": label, "url": state.script_url(s)}
            for s, label in SCRIPT_LABELS.items()]


def _expansion_label(expansion: dict) -> str:
    """The library's notice for an expansion (the page says it in Chinese instead)."""
    return f"{expansion['kind']} {expansion['from']} → {'、'.join(expansion['to'])}"


def _expansions(res, state: SearchState, script: str) -> list[dict]:
    """What the query was also searched as, with links to search each word alone."""
    out = []
    for e in res.expansions:
        words = [{"text": _shown(w, script), "url": state.query_url(_shown(w, script))}
                 for w in e["to"]]
        out.append({"kind": e["kind"], "source": e["from"], "words": words})
    return out


def _facet_groups(res, state: SearchState) -> list[dict]:
    """The facet boxes beside the results, in display order.

    Each: ``{"name", "label", "top", "more", "left", "loose_months"}`` where values
    are ``{"value", "count", "selected", "param"}`` (``param``: the URL parameter
    of the value's button); a chosen year's value has ``months``, shown nested
    under it.
    """
    groups = []
    names = [t.name for t in BUILTIN_FACETS] + [n for n in res.facets
                                                if facet_type(n) not in BUILTIN_FACETS]
    for name in names:
        facet = facet_type(name)
        items = res.facets.get(name) or []
        if facet.nested_in or not items:     # a nested facet is shown in its parent's box
            continue
        group = {"name": name, "label": facet.label, "loose_months": [],
                 "left": res.facets_more.get(name, 0)}
        group["top"], group["more"] = _split(_values(name, items, state))
        for nested in (t for t in BUILTIN_FACETS if t.nested_in == name):
            _nest(group, nested, res, state)
        groups.append(group)
    return groups


def _nest(group, nested, res, state: SearchState) -> None:
    """Put the values of ``nested`` (months) under the values of ``group``'s
    facet (years) they belong to; they appear once a year is chosen (or a
    month on its own), and a month of a year not chosen is listed loose."""
    parents = set(state.values(group["name"])) | {nested.parent_value(v)
                                                  for v in state.values(nested.name)}
    values = _values(nested.name, [it for it in res.facets.get(nested.name) or []
                                   if nested.parent_value(it["value"]) in parents], state)
    placed = set()
    for v in group["top"] + group["more"]:
        v["months"] = [m for m in values
                       if v["selected"] and nested.parent_value(m["value"]) == v["value"]]
        placed.update(m["value"] for m in v["months"])
    group["loose_months"] = [m for m in values if m["value"] not in placed]


def _values(name, items, state):
    return [{"value": it["value"], "count": it["count"],
             "selected": state.has(name, it["value"]), "param": param_name(name)}
            for it in items]


def _split(values):
    """The top values, and the rest for "more" (chosen values always on top)."""
    top = values[:FACET_TOP]
    top += [v for v in values[FACET_TOP:] if v["selected"]]
    more = [v for v in values[FACET_TOP:] if not v["selected"]]
    return top, more


def _suggestions(res, state: SearchState) -> list[dict]:
    """Links (``url``) or search-form buttons (``drop``: name and value) that may
    find something when nothing was found; one button per filter, since a
    link per filter would repeat the whole search for each."""
    out = []
    for facet, value in state.filters:
        out.append({"text": f"去掉筛选「{facet_type(facet).label}：{value}」",
                    "drop": ("drop." + param_name(facet), value)})
    if len(state.filters) > 1:
        out.append({"text": "清除全部筛选", "url": state.clear_filters_url()})
    if state.q:
        parsed = parse_query(state.q)
        if parsed.phrases:
            loose = " ".join(parsed.words + parsed.phrases + [f"-{e}" for e in parsed.excluded])
            out.append({"text": f"去掉引号：{loose}", "url": state.query_url(loose)})
        if parsed.excluded:
            kept = " ".join(parsed.words + [f'"{p}"' for p in parsed.phrases])
            if kept:
                out.append({"text": f"不排除任何词：{kept}", "url": state.query_url(kept)})
    return out


def page_source(source: str) -> str | None:
    """Where the document came from as the operator named it (a path relative
    to where the index was built, a JSON-lines file and line); None for an
    absolute path, which says where the server keeps its files."""
    if not source or os.path.isabs(source) or ntpath.isabs(source) or source.startswith("~"):
        return None
    return source


def _web_url(value) -> str | None:
    if isinstance(value, str) and _WEB_URL.fullmatch(value):
        return value
    return None


_WEB_URL = re.compile(r"https?://[^\s<>\"']+")
_FIRST_MARK = re.compile(r"<mark>")


def first_mark_anchor(html: str) -> Markup:
    """The library's article HTML, marked safe, with the first ``<mark>`` given
    ``id="match-1"`` (a jump target).  ``search.results.rendering`` sanitised
    it: only its own tags, links with safe addresses, ``<mark>``s."""
    return Markup(_FIRST_MARK.sub('<mark id="match-1">', html or "", count=1))  # noqa: S704


def register_template_helpers(app) -> None:
    @app.template_filter("trusted_html")
    def trusted_html(fragment: str) -> Markup:
        """Mark the library's escaped HTML (``title_html``, snippets, ``body_html``) safe.

        The one place raw HTML enters a page: these fragments are escaped by
        ``search.results.highlight``, whose only markup is ``<mark>``.
        """
        return Markup(fragment or "")   # noqa: S704

    @app.template_filter("city_label")
    def city_label(city: str, forms: dict | None) -> str:
        """贵阳 (貴陽): the canonical name, and the document's own spellings if different."""
        shown = in_page_script(city)    # a spelling the page's script makes anyway is not repeated
        own = [f for f in (forms or {}).get(city, []) if f not in (city, shown)]
        return f"{city} ({'、'.join(own)})" if own else city

    @app.template_filter("filter_param")
    def filter_param(facet: str) -> str:
        """The URL parameter carrying a value of ``facet`` (``city``, ``year``, ``f.author``)."""
        return param_name(facet)

    @app.template_filter("facet_label")
    def facet_label(name: str) -> str:
        """How a page names a facet or a document's field (作者 for ``author``)."""
        return facet_type(name).label

    @app.template_filter("is_web_url")
    def is_web_url(value) -> bool:
        return _web_url(value) is not None

    @app.template_filter("field_text")
    def field_text(value) -> str:
        if isinstance(value, (list, tuple)):
            return "、".join(str(v) for v in value)
        return str(value)

    app.jinja_env.globals.update(SORT_LABELS=SORT_LABELS, SCRIPT_LABELS=SCRIPT_LABELS)
    from .facet_buttons import facet_button
    app.jinja_env.globals["facet_button"] = facet_button
