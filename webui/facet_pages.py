"""Every value of one facet, a page at a time: ``/facet/<name>`` and ``/api/facet/<name>``.

A results page lists a facet's most frequent values; this page reaches all
of them among the same results (the search's ``q`` and filters), searchable
with ``contains`` (either script, or pinyin initials) and paged with
``page``.  Each value is a link to the search narrowed by it.  Without
JavaScript it is a plain GET form and links.

Refusals carry a ``code`` beside the message (``no_such_facet`` and
``facet_turned_off`` are 404, ``past_last_value_page`` and any bad search
parameter 400), never a 500.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, jsonify, render_template, request, url_for

from search import QueryError
from search.aids.facet_search import rank_facets
from search.results.display import convert_text
from search.searcher import SORTS
from search.store.facet_types import facet_type

from . import get_index
from .messages import describe
from .params import SearchState, display_script, page_window, search_kwargs

facet_pages = Blueprint("facet_pages", __name__)

# Codes of refusals that mean "no such thing here" rather than "asked wrongly".
NOT_FOUND_CODES = {"no_such_facet", "facet_turned_off"}
MAX_CONTAINS = 100


def _values_request(name: str):
    """``(state, script, contains, page, FacetPage)`` of the request; ``QueryError``."""
    kwargs = search_kwargs(request.args, request.query_string)
    script = display_script(request.args)
    contains = (request.args.get("contains") or "").strip()[:MAX_CONTAINS]
    page = request.args.get("page") or 1
    if kwargs["sort"] not in SORTS:
        # Not used to list values, but carried on to the links narrowing the search.
        raise QueryError(f"unknown sort {kwargs['sort']!r}; use one of {', '.join(SORTS)}")
    search_args = {k: kwargs[k] for k in ("q", "city", "year", "filters")}
    found = get_index().facet_values(name, contains=contains, page=page,
                                     per_page=request.args.get("per_page") or 50,
                                     **search_args)
    state = SearchState.from_kwargs({**search_args, "sort": kwargs["sort"]}).with_script(script)
    return state, script, contains, found


def _status(exc: QueryError) -> int:
    return 404 if getattr(exc, "code", None) in NOT_FOUND_CODES else 400


@facet_pages.get("/api/facet/<name>")
def facet_api(name: str):
    """``FacetPage.to_dict()`` plus ``facet`` and ``label``; refusals as the
    app's other JSON errors (``{"error", "code", "param", "message", "message_en"}``)."""
    try:
        _state, script, _contains, found = _values_request(name)
    except QueryError as exc:
        return jsonify(describe(exc, _status(exc)).to_dict()), _status(exc)
    out = found.to_dict()
    if script != "orig":
        out["values"] = [{**v, "shown": convert_text(v["value"], script)} for v in out["values"]]
    return jsonify({"facet": name, "label": facet_type(name).label, **out})


@facet_pages.get("/facet/<name>")
def facet_page(name: str):
    try:
        state, script, contains, found = _values_request(name)
    except QueryError as exc:
        return render_template("facet.html", error=describe(exc, _status(exc)).zh, name=name, label=name,
                               state=_plain_state(), script="orig"), _status(exc)
    label = facet_type(name).label
    values = [{"value": v["value"], "count": v["count"],
               "shown": convert_text(v["value"], script),
               "selected": state.has(name, v["value"]),
               "url": _narrowed(state, name, v["value"])} for v in found.values]

    def page_url(n: int) -> str:
        pairs = [(k, v) for k, v in state.pairs(with_page=False)]
        if contains:
            pairs.append(("contains", contains))
        pairs.append(("page", str(n)))
        return url_for("facet_pages.facet_page", name=name) + "?" + urlencode(pairs)

    return render_template(
        "facet.html", error=None, name=name, label=label, state=state, script=script,
        contains=contains, found=found, values=values, page_url=page_url,
        pages=page_window(found.page, found.pages), back_url=state.url(),
        hidden_fields=[(k, v) for k, v in state.pairs(with_page=False)])


def _narrowed(state: SearchState, name: str, value: str) -> str:
    if state.has(name, value):
        return state.url()
    return state.with_(filters=state.filters + ((name, value),)).url()


def _plain_state() -> SearchState:
    try:
        return SearchState.from_kwargs(search_kwargs(request.args))
    except QueryError:
        return SearchState(q=request.args.get("q", ""))


@facet_pages.app_template_global()
def facet_all_url(state: SearchState, name: str, with_query: bool = True) -> str:
    """The page of every value of ``name`` among ``state``'s results
    (``with_query=False``: without the search, for a form that carries it)."""
    base = url_for("facet_pages.facet_page", name=name)
    pairs = state.pairs(with_page=False) if with_query else []
    return base + ("?" + urlencode(pairs) if pairs else "")


def telling_first(groups: list[dict], res) -> list[dict]:
    """The facet boxes in the order of how much each tells about these
    results (``search.aids.facet_search.rank_facets``)."""
    by_name = {g["name"]: g for g in groups}
    return [by_name[n] for n in rank_facets({n: res.facets.get(n) or [] for n in by_name},
                                            res.total)]
