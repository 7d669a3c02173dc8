"""The JSON API: the library's own dictionaries, as the CLI's ``--json`` prints them."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from . import get_index
from .params import check_utf8, run_search

api = Blueprint("api", __name__)


@api.get("/search")
def search():
    _, res = run_search(get_index(), request.args, request.query_string)
    return jsonify(res.to_dict())


@api.get("/doc/<path:doc_id>")
def document(doc_id: str):
    check_utf8(request.query_string)
    view = get_index().document(doc_id, q=request.args.get("q", ""))
    if view is None:
        abort(404, "no document with this id")
    return jsonify(view.to_dict())


@api.get("/doc")
def document_by_query():
    return document(request.args.get("id", ""))


@api.get("/stats")
def stats():
    return jsonify(get_index().stats())


@api.route("/<path:anything>")
def unknown(anything: str):
    abort(404)
