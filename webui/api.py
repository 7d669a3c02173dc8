"""The JSON API: the library's own dictionaries, as the CLI's ``--json`` prints them.

``/api/search`` and ``/api/doc`` answer the context their pages render
(``webui.pages.search_context``, ``document_context``) as JSON: every key of
``SearchResults.to_dict()`` / ``DocumentView.to_dict()``, with what the page
adds (a hit's origin and page URL, notices with their code, a document's
matches and related documents).  The API searches what it is sent: no
fallback to a clear reading, as ``query --json --verbatim``.

Besides ``/api/search``, ``/api/doc`` and ``/api/stats`` (see ``webui``):

``GET /api/suggest?q=&limit=&script=`` completions of what is typed: a JSON list of
                                      ``{"text", "kind", "count"}`` (``SearchIndex.suggest``);
                                      ``script=trad`` gives each text in traditional, as a
                                      繁體 page shows it (searching either finds the same)
``GET /api/explain?q=&doc=``          ``SearchIndex.explain``: what the query path made of
                                      ``q``, and why document ``doc`` matched or not
``GET /api/related/<path:id>``        documents like this one (also ``/api/related?id=``)

``/api/search`` and ``/api/doc`` take ``script=orig|simp|trad``: titles,
snippets and bodies in that script, the marks on the same words.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from . import get_index
from .messages import refuse
from .page_script import in_page_script
from .pages import document_context, search_context
from .params import check_utf8

api = Blueprint("api", __name__)

MAX_SUGGESTIONS = 20


@api.get("/search")
def search():
    context = search_context(get_index(), request.args, request.query_string, fallback=False)
    return jsonify(context.to_dict())


@api.get("/doc/<path:doc_id>")
def document(doc_id: str):
    context = document_context(get_index(), doc_id, request.args, request.query_string)
    return jsonify(context.to_dict())


@api.get("/doc")
def document_by_query():
    return document(request.args.get("id", ""))


@api.get("/suggest")
def suggest():
    check_utf8(request.query_string)
    try:
        limit = int(request.args.get("limit") or 8)
    except ValueError:
        refuse(400, "suggest_limit_not_a_number")
    if not 1 <= limit <= MAX_SUGGESTIONS:
        refuse(400, "suggest_limit_out_of_range", max=MAX_SUGGESTIONS)
    found = get_index().suggest(request.args.get("q", ""), limit=limit)
    # in_page_script reads the request's script=trad, as the page's own text does;
    # two spellings that convert alike are one suggestion, the better placed.
    shown: dict[str, dict] = {}
    for item in found:
        shown.setdefault(in_page_script(item["text"]), item)
    return jsonify([dict(item, text=text) for text, item in shown.items()])


@api.get("/explain")
def explain():
    check_utf8(request.query_string)
    doc = request.args.get("doc") or None
    return jsonify(get_index().explain(request.args.get("q", ""), doc_id=doc))


@api.get("/related/<path:doc_id>")
def related(doc_id: str):
    check_utf8(request.query_string)
    found = get_index().related(doc_id)
    if found is None:
        refuse(404, "no_such_document")
    return jsonify(found)


@api.get("/related")
def related_by_query():
    return related(request.args.get("id", ""))


@api.get("/stats")
def stats():
    return jsonify(get_index().stats())


@api.route("/<path:anything>")
def unknown(anything: str):
    abort(404)
