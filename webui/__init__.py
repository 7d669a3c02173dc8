"""The web interface: a Flask app over ``search.open_index`` (pages and a JSON API).

    from webui import create_app
    app = create_app(index_dir="index")      # default: $SEARCH_INDEX or "index"

Served in production by ``python -m search serve`` (gunicorn); for development
``flask --app webui:create_app run --debug`` with ``SEARCH_INDEX`` set.

Several indexes in one server, each under its prefix (``/news/``, ``/poems/``)
and the first also at ``/``: ``create_collections_app({"news": "idx/news",
"poems": "idx/poems"})`` (``webui.collections``; ``serve --index NAME=DIR``).

Routes
------
``GET /``                     search page (no query and no filter: an overview of the collection)
``GET /doc/<path:id>``        one document, the query's matches marked
``GET /doc?id=<id>``          the same, for ids a URL path cannot hold (``a//b``, ``../x``)
``GET /api/search``           ``SearchResults.to_dict()``: the shape of the CLI's ``--json``
``GET /api/doc/<path:id>``    ``DocumentView.to_dict()`` (also ``/api/doc?id=``); 404 JSON if unknown
``GET /api/stats``            ``SearchIndex.stats()``
``GET /api/status``, ``/healthz``, ``/readyz``, ``/metrics``  for operators
                              (``webui.operations``): what is served, liveness,
                              readiness (503 without a sound index), Prometheus metrics
``GET /api/suggest?q=``       completions of what is typed (``SearchIndex.suggest``): a JSON list
``GET /api/explain?q=&doc=``  ``SearchIndex.explain``: what the query path made of ``q``
``GET /api/related/<path:id>`` documents like this one (``SearchIndex.related``; also ``?id=``)
``GET /openapi.json``         the OpenAPI 3.1 description of every route (``webui.openapi``);
                              ``GET /api`` the same as a page (``/api/docs`` leads there)
``PUT|DELETE /api/documents/<path:id>``, ``POST /api/documents``  the write API
                              (``webui.documents``): off (404) unless ``SEARCH_API_KEY``
                              or ``SEARCH_API_KEY_FILE`` is set; ``Authorization: Bearer KEY``

Parameters of ``/`` and ``/api/search`` (``webui.params.search_kwargs``, one
code path for both):

``q``          the query: words, ``"exact phrases"``, ``-excluded`` (simplified or traditional)
``city``       repeatable: ``?city=洛阳&city=贵阳`` (values of one facet OR, facets AND)
``year``       repeatable: ``2014`` or a month ``2014-09``
``f.<facet>``  repeatable, any other facet of the index: ``?f.author=李白&f.dynasty=唐``
``sort``       ``relevance`` (default; ``newest`` for an empty query), ``newest``, ``oldest``
``page``       1 to 10,000 (default 1);  ``per_page`` 1 to 100 (default 10)

``GET /facet/<name>`` and ``GET /api/facet/<name>`` (``webui.facet_pages``): every
value of one facet among the results, paged, searchable (``contains``).
``SEARCH_HIDE_FACETS=a,b`` (``serve --hide-facet NAME``): facets not listed.

``script``     display script of titles, snippets and documents: ``orig`` (default),
               ``simp`` or ``trad``; the marks stay on the same words (also in the API)
``drop.<p>``   page only: ``drop.city=洛阳`` removes that value of ``city`` (a 303 to
               the search without it); what a chosen facet value or a chip sends
``verbatim=1`` page only: search exactly what was typed (a query that finds nothing
               otherwise shows its clear reading's results: ``webui.fallback``)
``fragment=results``  page only: just what ``<main>`` holds, for instant search

Facet values and chips are buttons of the header's search form (which holds
the search once), so a page's size grows with the search, not with the search
times the number of values.

The document pages take the same parameters: ``q`` marks the matches, the rest
makes the link back to the same results.  A document page also lists related
documents.  The search box offers completions as you type (``static/app.js``,
an ARIA combobox over ``/api/suggest``; without JavaScript, a plain box).

Errors: a bad parameter is 400 (the page shows the message in Chinese, the
API answers ``{"error": <English>, "code", "param", "message": <Chinese>,
"message_en"}``: ``webui.messages``); no index is 503 with how to build one, a damaged index
503 with what is wrong; unknown pages and documents are 404; anything
unexpected is a friendly 500 (logged), never a traceback.  Every response
carries a strict Content-Security-Policy.

Cross-origin calls of ``/api/*`` and ``/openapi.json`` are off unless
``SEARCH_CORS_ORIGINS`` (``serve --cors-origin``) lists origins (``webui.cors``).

Before and after the routes (``webui.guards``): a ``Host`` header that is not a
host name is a 400 before Flask reads it; redirects have relative locations and
``Cache-Control: no-store``; JSON never holds ``Infinity`` or ``NaN`` (``null``).
"""

from __future__ import annotations

import os
import threading

from flask import Flask, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from search import IndexDamaged, IndexNotFound, QueryError, open_index

from .guards import FiniteJSONProvider, HostCheck, relative_redirect
from .messages import STATUS_TITLES, Described, Refused, describe
from .page_script import in_page_script, register_page_script

__all__ = ["create_app", "create_collections_app", "get_index"]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(index_dir: str | os.PathLike | None = None, config: dict | None = None) -> Flask:
    """The Flask app serving the index at ``index_dir`` ($SEARCH_INDEX or "index").

    The index is opened on the first request that needs it, and not before:
    the app starts (and says how to build one) when there is no index yet.
    The library notices a rebuilt index by itself, so ``make index`` while the
    server runs is served from the next request on.
    """
    app = Flask(__name__)
    app.config.update(
        SEARCH_INDEX=os.fspath(index_dir) if index_dir is not None
        else os.environ.get("SEARCH_INDEX", "index"),
        JSON_AS_ASCII=False,
        SEARCH_HIDE_FACETS=os.environ.get("SEARCH_HIDE_FACETS", ""),
    )
    if config:
        app.config.update(config)
    from .documents import api_key, documents
    # Read once, at start: a key too short (or unreadable) stops the app here,
    # with the reason, rather than leaving the write API open to guessing.
    app.config["SEARCH_API_KEY"] = api_key(app.config)
    app.json = FiniteJSONProvider(app)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["webui"] = {"index": None, "lock": threading.Lock(), "overview": {}}
    from .operations import register_operations
    # First: its hooks time and count every request, the other hooks' refusals too.
    register_operations(app)

    from .api import api
    from .pages import pages, register_template_helpers
    from .params import check_utf8

    app.register_blueprint(pages)
    app.register_blueprint(api, url_prefix="/api")
    app.register_blueprint(documents, url_prefix="/api")
    from .facet_pages import facet_pages
    app.register_blueprint(facet_pages)
    from .openapi import openapi
    app.register_blueprint(openapi)
    register_template_helpers(app)
    register_page_script(app)
    from .cors import enable_cors
    # Off unless SEARCH_CORS_ORIGINS lists origins; a bad entry stops the app here.
    enable_cors(app)

    @app.before_request
    def reject_undecodable_urls():
        # Before anything reads request.args: Werkzeug fails on raw bytes that
        # are not UTF-8 and keeps bad %-escapes as text; both are a 400 here.
        check_utf8(request.query_string)

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return relative_redirect(response)

    @app.errorhandler(IndexNotFound)
    def no_index(exc):
        return _error_response(describe(exc, 503), template="no_index.html")

    @app.errorhandler(IndexDamaged)
    def damaged_index(exc):
        return _error_response(describe(exc, 503), title="索引已损坏")

    @app.errorhandler(QueryError)
    def bad_query(exc):
        return _error_response(describe(exc, 400))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if isinstance(exc, InternalServerError):
            return internal_error(exc)
        status = exc.code or 500
        # A description given with abort(404, "...") is specific; the class default is not.
        if isinstance(exc, Refused) or exc.description != type(exc).description:
            return _error_response(describe(exc, status))
        if isinstance(exc, MethodNotAllowed):
            # Since the write API, some addresses answer more than GET.
            methods = ", ".join(sorted(m for m in exc.valid_methods or ["GET"]
                                       if m not in ("HEAD", "OPTIONS")))
            response = make_response(_error_response(describe(
                Refused(405, "method_not_allowed", methods=methods), 405)))
            # RFC 9110: a 405 lists what the address answers.
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ["GET"]))
            return response
        if status == 404:
            return _error_response(describe(Refused(404, "not_found"), 404))
        return _error_response(describe(exc, status))

    @app.errorhandler(InternalServerError)
    def internal_error(exc):
        # Flask has logged the original exception; the reader gets no traceback.
        return _error_response(describe(Refused(500, "internal_error"), 500))

    # Outermost: a bad Host is refused before Flask builds a URL adapter from it.
    app.wsgi_app = HostCheck(app.wsgi_app, SECURITY_HEADERS)
    return app


def _error_response(said: Described, template: str = "error.html", title: str | None = None):
    """The answer to a refused request: JSON for the API (the English ``error``
    as before, beside its code and Chinese), else a page in Chinese."""
    if wants_json():
        body = said.to_dict()
        body["message"] = in_page_script(body["message"])
        return jsonify(body), said.status
    return render_template(template, status=said.status, code=said.code,
                           title=title or STATUS_TITLES.get(said.status, "出错了"),
                           message=said.zh, message_en=said.en,
                           index_dir=current_app.config["SEARCH_INDEX"]), said.status


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def get_index():
    """The app's ``SearchIndex``, opened once; raises ``IndexNotFound`` or ``IndexDamaged`` (503).

    A failed open is not remembered, so an index built after the server
    started is found by the next request.
    """
    state = current_app.extensions["webui"]
    ix = state["index"]
    if ix is None:
        with state["lock"]:
            ix = state["index"]
            if ix is None:
                ix = state["index"] = open_index(
                    current_app.config["SEARCH_INDEX"],
                    hide_facets=current_app.config.get("SEARCH_HIDE_FACETS") or ())
    return ix


# Several collections: one create_app per index (it imports nothing from here at load).
from .collections import create_collections_app  # noqa: E402
