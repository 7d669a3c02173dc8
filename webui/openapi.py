"""The app described: an OpenAPI 3.1 document of every route, served at ``/openapi.json``
and read as a page in Chinese at ``/api`` (``/api/docs`` leads there).

The paths and methods come from the app's own URL rules (apispec's
``FlaskPlugin`` turns ``/api/doc/<path:doc_id>`` into ``/api/doc/{doc_id}``);
each endpoint's parameters and answers are described here (``OPERATIONS``),
the bodies by marshmallow schemas that apispec writes as JSON Schema.  The
schemas are strict (required keys, types, ``additionalProperties: false``
where a body has a fixed shape), so that a response that breaks them is
caught (``tests/test_openapi.py``, and ``tests/test_api_fuzz.py``, which
fuzzes the running server from this description).  A rule without a
description here is left out of the document, and the tests say so.

The ``/api`` page is rendered on the server from the same document: no
script, nothing fetched from elsewhere, within the app's Content-Security-Policy.
"""

from __future__ import annotations

import json
import re
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import (Blueprint, current_app, has_request_context, jsonify, redirect,
                   render_template, request, url_for)
from marshmallow import INCLUDE, Schema, fields, validate

from search.query.parse import MAX_QUERY_CHARS
from search.results.display import SCRIPTS
from search.searcher import MAX_FACET_LIMIT, MAX_PAGE, MAX_PER_PAGE, SORTS

__all__ = ["describe_app", "openapi", "OPERATIONS"]

openapi = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"


# ---------------------------------------------------------------------------
# Bodies


class Strict(Schema):
    """A body of a fixed shape: no key beyond those listed."""


def _str(**kw):
    return fields.String(required=True, **kw)


def _nullable_str(**kw):
    return fields.String(required=True, allow_none=True, **kw)


def _int(**kw):
    return fields.Integer(required=True, strict=True, **kw)


def _strs(**kw):
    return fields.List(fields.String(), required=True, **kw)


class Error(Strict):
    error = _str(metadata={"description": "the message in English (what clients read before codes)"})
    code = _str(metadata={"description": "stable, for programs (webui.messages.CATALOG)"})
    param = _nullable_str(metadata={"description": "the request parameter it is about"})
    message = _str(metadata={"description": "the message in Chinese (traditional with script=trad)"})
    message_en = _str()


class FacetCount(Strict):
    value = _str()
    count = _int(validate=validate.Range(min=0))


class Expansion(Strict):
    kind = _str(metadata={"description": "pinyin, region …"})
    source = _str(data_key="from")
    to = _strs()
    weights = fields.List(fields.Float(), required=True)


class Alternative(Strict):
    text = _str()
    count = _int(validate=validate.Range(min=0))


class Notice(Strict):
    code = _nullable_str(metadata={"description": "None for a notice the catalog does not know"})
    message = _str(metadata={"description": "in Chinese"})
    message_en = _str()


class OriginPart(Strict):
    kind = _str(validate=validate.OneOf(["collection", "site", "type", "region", "script"]))
    text = _str()


class Hit(Strict):
    id = _str()
    title = _str()
    title_html = _str(metadata={"description": "escaped text, the query's matches in <mark>"})
    score = fields.Float(required=True, allow_none=True)
    date = _nullable_str()
    cities = _strs()
    city_forms = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                             required=True,
                             metadata={"description": "each city's spellings in the document"})
    snippet = _str(metadata={"description": "the first snippet, HTML (as snippets[0])"})
    snippets = _strs(metadata={"description": "every snippet, HTML with <mark>"})
    snippets_text = _strs(metadata={"description": "every snippet, plain text"})
    source = _str(metadata={"description": "the file (or JSON-lines file and line) it was read from"})
    fields_ = fields.Dict(data_key="fields", required=True,
                          metadata={"description": "its other stored fields (author, tags …)"})
    match = fields.String(required=True, allow_none=True,
                          validate=validate.OneOf(["full", "partial"]),
                          metadata={"description": "null without a query"})
    missing = _strs(metadata={"description": "words of the query a partial match lacks"})
    origin = fields.List(fields.Nested(OriginPart), required=True,
                         metadata={"description": "where it comes from, as the page's meta line"})
    url = _str(metadata={"description": "its document page, carrying the search"})


class SearchResults(Strict):
    query = _str()
    total = _int(validate=validate.Range(min=0))
    total_full = fields.Integer(required=True, strict=True, allow_none=True)
    total_partial = fields.Integer(required=True, strict=True, allow_none=True)
    page = _int(validate=validate.Range(min=1, max=MAX_PAGE))
    pages = _int(validate=validate.Range(min=1))
    per_page = _int(validate=validate.Range(min=1, max=MAX_PER_PAGE))
    sort = _str(validate=validate.OneOf(list(SORTS)))
    script = _str(validate=validate.OneOf(list(SCRIPTS)))
    filters = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)
    hits = fields.List(fields.Nested(Hit), required=True)
    facets = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FacetCount)),
                         required=True)
    facets_more = fields.Dict(keys=fields.String(), values=fields.Integer(strict=True),
                              required=True)
    elapsed_ms = fields.Float(required=True)
    partial = fields.Boolean(required=True)
    total_exact = fields.Boolean(required=True)
    notices = _strs(metadata={"description": "in English, as before notices_detail"})
    notices_detail = fields.List(fields.Nested(Notice), required=True)
    expansions = fields.List(fields.Nested(Expansion), required=True)
    did_you_mean = _nullable_str()
    searched_for = _str()
    shown_for = _str()
    alternatives = fields.List(fields.Nested(Alternative), required=True)


class Related(Strict):
    id = _str()
    title = _str()
    score = fields.Float(required=True)
    shared = _strs(metadata={"description": "the words it shares with the document"})


class RelatedLink(Related):
    url = _str()


class Document(Strict):
    id = _str()
    title = _str()
    title_html = _str()
    body = _str()
    body_html = _str()
    article_html = _str(metadata={"description": "the document in its own form, sanitised HTML"})
    date = _nullable_str()
    cities = _strs()
    city_forms = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                             required=True)
    source = _str()
    fields_ = fields.Dict(data_key="fields", required=True)
    script = _str(validate=validate.OneOf(list(SCRIPTS)))
    marks = _int(validate=validate.Range(min=0))
    web_url = _nullable_str()
    url = _str()
    explain_url = _nullable_str()
    related = fields.List(fields.Nested(RelatedLink), required=True)


class Suggestion(Strict):
    text = _str()
    kind = _str(validate=validate.OneOf(["name", "word", "fragment", "title"]))
    count = fields.Integer(required=True, strict=True, allow_none=True)


class ParsedQuery(Strict):
    words = _strs()
    phrases = _strs()
    excluded = _strs()


class ExplainedDocument(Schema):
    class Meta:
        unknown = INCLUDE

    id = _str()
    found = fields.Boolean(required=True)


class Explanation(Schema):
    class Meta:
        unknown = INCLUDE       # the query path's inner workings: more may be added

    query = _str()
    normalised = _str()
    parsed = fields.Nested(ParsedQuery, required=True)
    matches = fields.Integer(required=True, strict=True, allow_none=True)
    whoosh_query = _nullable_str()
    highlight = _strs()
    expansions = fields.List(fields.Nested(Expansion), required=True)
    did_you_mean = _nullable_str()
    partial = fields.Boolean(required=True)
    notices = _strs()
    document = fields.Nested(ExplainedDocument)


class Stats(Strict):
    documents = _int(validate=validate.Range(min=0))
    facets = _strs()
    built_at = _nullable_str()
    updated_at = _nullable_str()
    segments = _int(validate=validate.Range(min=0))
    deleted = _int(validate=validate.Range(min=0))
    generation = _nullable_str()


class FacetValue(Strict):
    value = _str()
    count = _int(validate=validate.Range(min=0))
    shown = fields.String(metadata={"description": "the value in the display script (not orig)"})


class FacetPage(Strict):
    facet = _str()
    label = _str()
    values = fields.List(fields.Nested(FacetValue), required=True)
    page = _int(validate=validate.Range(min=1))
    pages = _int(validate=validate.Range(min=1))
    per_page = _int(validate=validate.Range(min=1))
    matching = _int(validate=validate.Range(min=0))
    contains = _str()


class Warning_(Strict):
    source = _str()
    reason = _str()


class ChangeReport(Strict):
    generation = _nullable_str()
    added = _strs()
    replaced = _strs()
    deleted = _strs()
    not_found = _strs()
    unchanged = _int()
    documents = _int()
    segments = _int()
    warnings = fields.List(fields.Nested(Warning_), required=True)
    seconds = fields.Float(required=True)
    visible = fields.Boolean(required=True, validate=validate.Equal(True))


class Rejection(Strict):
    line = fields.Integer(strict=True, metadata={"description": "JSON lines: its line number"})
    item = fields.Integer(strict=True, metadata={"description": "a JSON array: its item number"})
    id = fields.String()
    reason = _str()


class BulkReport(ChangeReport):
    committed = fields.Boolean(required=True)
    rejected = fields.List(fields.Nested(Rejection), required=True)
    rejected_count = _int(validate=validate.Range(min=0))
    # Set when some lines were refused (a 400 whose other lines went in).
    error = fields.String()
    code = fields.String()
    param = fields.String(allow_none=True)
    message = fields.String()
    message_en = fields.String()


class BulkRefusal(Error):
    committed = fields.Boolean(required=True, validate=validate.Equal(False))
    rejected = fields.List(fields.Nested(Rejection), required=True)
    rejected_count = _int(validate=validate.Range(min=0))


class NotFoundDeletion(Error):
    not_found = _strs()


class Health(Strict):
    status = _str(validate=validate.OneOf(["ok"]))


class Ready(Strict):
    status = _str(validate=validate.OneOf(["ready"]))
    documents = _int(validate=validate.Range(min=0))
    generation = _nullable_str()


class Unready(Error):
    status = _str(validate=validate.OneOf(["unavailable"]))


class Status(Strict):
    status = _str(validate=validate.OneOf(["ok"]))
    index = _str(metadata={"description": "the index folder, as an absolute path"})
    documents = _int(validate=validate.Range(min=0))
    segments = _int(validate=validate.Range(min=0))
    deleted = _int(validate=validate.Range(min=0))
    generation = _nullable_str()
    built_at = _nullable_str()
    updated_at = _nullable_str()
    segmenter = _str(metadata={"description": "what segments queries here (rjieba or jieba)"})
    index_segmenter = _nullable_str(metadata={"description": "what segmented the index"})
    version = _str()
    started_at = _str()
    uptime_seconds = fields.Float(required=True, validate=validate.Range(min=0))
    pid = _int()


class CollectionEntry(Strict):
    name = _str()
    prefix = _str()
    url = _str()
    default = fields.Boolean(required=True)
    documents = fields.Integer(required=True, strict=True, allow_none=True)
    error = fields.String(metadata={"description": "why documents is null (no_index ...)"})


class Collections(Strict):
    collections = fields.List(fields.Nested(CollectionEntry), required=True)
    default = _str()


SCHEMAS = [Health, Ready, Unready, Status, CollectionEntry, Collections, Error, FacetCount, Expansion, Alternative, Notice, OriginPart, Hit, SearchResults,
           Related, RelatedLink, Document, Suggestion, ParsedQuery, ExplainedDocument,
           Explanation, Stats, FacetValue, FacetPage, Warning_, ChangeReport, Rejection,
           BulkReport, BulkRefusal, NotFoundDeletion]


# ---------------------------------------------------------------------------
# Parameters


def _query(name, schema, description, **extra):
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description, **extra}


def _repeated(name, description, example, pattern=None):
    item = {"type": "string", **({"pattern": pattern} if pattern else {})}
    return _query(name, {"type": "array", "items": item, "examples": [example]},
                  description, style="form", explode=True)


Q = _query("q", {"type": "string", "maxLength": MAX_QUERY_CHARS,
                 "examples": ["洛阳", "luoyang", '"呼叫中心" -贵阳']},
           "the query: words, \"exact phrases\", -excluded, in either script or pinyin")
SCRIPT = _query("script", {"type": "string", "enum": list(SCRIPTS)},
                "the script titles, snippets and bodies are shown in (default orig)")
CITY = _repeated("city", "a city (repeatable: values of one facet OR, facets AND)", ["洛阳"])
YEAR = _repeated("year", "a year 2014 or a month 2014-09 (repeatable)", ["2012", "2012-01"],
                 r"^(\d{4}(-(0[1-9]|1[0-2]))?)?$")
FILTERS = _query("filters", {"type": "object", "propertyNames": {"pattern": r"^f\.[a-z_]+$"},
                             "additionalProperties": {"type": "string"}},
                 "any other facet of the index as f.<facet>=value (f.author=李白)",
                 style="form", explode=True)
SORT = _query("sort", {"type": "string", "enum": list(SORTS)},
              "relevance (default; newest for an empty query), newest, oldest")
# What narrows a search, as a document page carries it on (for its way back).
NARROWING = [CITY, YEAR, FILTERS, SORT]
SEARCH_PARAMS = [
    Q, *NARROWING,
    _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "default 1"),
    _query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "default 10"),
    _query("facet_limit", {"type": "integer", "minimum": 0, "maximum": MAX_FACET_LIMIT},
           "values listed per facet (default 100)"),
    SCRIPT,
]
PAGE_ONLY_PARAMS = [
    _query("verbatim", {"type": "string", "enum": ["1"]},
           "search exactly what was typed (otherwise a query that finds nothing shows its "
           "clear reading's results)"),
    _query("fragment", {"type": "string", "enum": ["results"]},
           "only what <main> holds, for instant search"),
]
ID_QUERY = _query("id", {"type": "string", "minLength": 1},
                  "the document's id, for ids a URL path cannot hold (a//b, ../x)", required=True)
FACET_PARAMS = [
    _query("contains", {"type": "string", "maxLength": 100},
           "values holding this (either script, or pinyin initials)"),
    _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "default 1"),
    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 500}, "default 50"),
    Q, *NARROWING, SCRIPT,
]


# ---------------------------------------------------------------------------
# Answers


def _json(schema, description):
    return {"description": description,
            "content": {"application/json": {"schema": schema}}}


def _html(description):
    return {"description": description,
            "content": {"text/html": {"schema": {"type": "string"}}}}


ERROR = "Error"
# What the production server (``webui.serve``) answers itself, before the app,
# to any address: plain text.
SERVER_REFUSALS = {
    "414": {"description": "the request line is longer than 8,190 bytes (the server's own "
                           "answer)", "content": {"text/plain": {"schema": {"type": "string"}}}},
}
BAD_REQUEST = _json(ERROR, "a bad parameter: the message in English and Chinese, with its code")
NOT_FOUND = _json(ERROR, "no such document (code no_such_document)")
NO_INDEX = _json(ERROR, "no index yet (how to build one), or a damaged index")
PAGE_ERRORS = {"400": _html("a bad parameter, said in Chinese"),
               "503": _html("no index yet, or a damaged one")}
BEARER = [{"bearer": []}]
WRITE_ERRORS = {
    "401": _json(ERROR, "no key, or not the write API's key (WWW-Authenticate: Bearer)"),
    "404": _json(ERROR, "the write API is off (no SEARCH_API_KEY)"),
    "409": _json(ERROR, "the index cannot be changed (a build in the way)"),
    "413": _json(ERROR, "the body is larger than SEARCH_API_MAX_BYTES"),
    "503": _json(ERROR, "another writer holds the index (Retry-After)"),
    "507": _json(ERROR, "the index's disk is full"),
}
DOCUMENT_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["text"],
        "properties": {"text": {"type": "string", "minLength": 1},
                       "title": {"type": "string"}, "date": {"type": "string"},
                       "city": {"type": "string"}},
        "description": "one document, as a line of a JSON-lines source: text, and title, "
                       "date, city and any short field (a facet)"}}},
}
BULK_BODY = {
    "required": True,
    "content": {
        "application/x-ndjson": {"schema": {"type": "string"}},
        "application/jsonl": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "array", "minItems": 1,
                                        "items": DOCUMENT_BODY["content"]["application/json"]
                                        ["schema"]}},
    },
}


def _search_op(summary, description, answers, params, tags):
    return {"summary": summary, "description": description, "parameters": params,
            "responses": answers, "tags": tags}


def _get(summary, description, ok, params=(), errors=None, tag="search"):
    responses = {"200": ok, **(errors if errors is not None else
                               {"400": BAD_REQUEST, "503": NO_INDEX})}
    return {"get": _search_op(summary, description, responses, list(params), [tag])}


def _write(method, summary, description, responses, params=(), body=None):
    op = {"summary": summary, "description": description, "parameters": list(params),
          "responses": {**WRITE_ERRORS, **responses}, "security": BEARER, "tags": ["write"]}
    if body is not None:
        op["requestBody"] = body
    return {method: op}


def _page(summary, description, params=(), extra=None):
    responses = {"200": _html("the page"), **PAGE_ERRORS, **(extra or {})}
    return {"get": {"summary": summary, "description": description, "parameters": list(params),
                    "responses": responses, "tags": ["pages"]}}


_REPORT = _json("ChangeReport", "the change, live when answered (visible: true)")
_DOC = _json("Document", "the document as its page shows it")
_DELETE_404 = _json({"oneOf": [{"$ref": "#/components/schemas/NotFoundDeletion"},
                               {"$ref": "#/components/schemas/Error"}]},
                    "no document has the id (not_found lists it), or the write API is off")
_RELATED = _json({"type": "array", "items": {"$ref": "#/components/schemas/Related"}},
                 "up to five documents like this one")

# Each endpoint (``blueprint.view``) by method: its parameters and answers.
OPERATIONS: dict[str, dict] = {
    "api.search": _get(
        "搜索", "The results as the search page shows them (the page's context as JSON): "
        "every key of the CLI's query --json --verbatim, each hit with its origin and page URL, "
        "notices with their code.  Searches what it is sent (no fallback).",
        _json("SearchResults", "a page of results"), SEARCH_PARAMS),
    "api.document": _get(
        "一篇文档", "One document, the query's matches marked; related documents.",
        _DOC, [Q, SCRIPT] + SEARCH_PARAMS[1:-1],
        errors={"400": BAD_REQUEST, "404": NOT_FOUND, "503": NO_INDEX}, tag="documents"),
    "api.document_by_query": _get(
        "一篇文档（编号作参数）", "The same as /api/doc/{doc_id}, for ids a path cannot hold.",
        _DOC, [ID_QUERY, Q, SCRIPT] + SEARCH_PARAMS[1:-1],
        errors={"400": BAD_REQUEST, "404": NOT_FOUND, "503": NO_INDEX}, tag="documents"),
    "api.suggest": _get(
        "输入提示", "Completions of what is typed, each with its kind and count.",
        _json({"type": "array", "items": {"$ref": "#/components/schemas/Suggestion"}},
              "completions, best first"),
        [_query("q", {"type": "string"}, "what is typed"),
         _query("limit", {"type": "integer", "minimum": 1, "maximum": 20}, "default 8"),
         SCRIPT]),
    "api.explain": _get(
        "解释查询", "What the query path made of q, and why document doc matched or not.",
        _json("Explanation", "the query's reading"),
        [Q, _query("doc", {"type": "string"}, "a document's id")]),
    "api.related": _get(
        "相关文档", "Documents like this one.", _RELATED,
        errors={"400": BAD_REQUEST, "404": NOT_FOUND, "503": NO_INDEX}, tag="documents"),
    "api.related_by_query": _get(
        "相关文档（编号作参数）", "The same, for ids a path cannot hold.", _RELATED, [ID_QUERY],
        errors={"400": BAD_REQUEST, "404": NOT_FOUND, "503": NO_INDEX}, tag="documents"),
    "api.stats": _get(
        "索引概况", "Document count, facets, build time and generation of the index.",
        _json("Stats", "the index"), errors={"503": NO_INDEX}),
    "api.unknown": {"get": {
        "summary": "未知地址", "description": "Any other address under /api/ is a JSON 404.",
        "responses": {"404": _json(ERROR, "no such address (code not_found)")},
        "tags": ["search"]}},
    "facet_pages.facet_api": _get(
        "筛选项的全部值", "Every value of one facet among the search's results, paged and "
        "searchable.", _json("FacetPage", "a page of values"), FACET_PARAMS,
        errors={"400": BAD_REQUEST,
                "404": _json(ERROR, "no such facet, or one turned off (no_such_facet, "
                                    "facet_turned_off)"),
                "503": NO_INDEX}),
    "documents.put_document": _write(
        "put", "添加或替换文档", "The document with this id, added (201) or replaced (200); "
        "a different id in the body is a 400.",
        {"200": _REPORT, "201": _REPORT, "400": BAD_REQUEST,
         "415": _json(ERROR, "not application/json")}, body=DOCUMENT_BODY),
    "documents.delete_document": _write(
        "delete", "删除文档", "Deletes the document with this id.",
        {"200": _REPORT, "404": _DELETE_404}),
    "documents.put_document_by_query": _write(
        "put", "添加或替换文档（编号作参数）", "The same, for ids a path cannot hold.",
        {"200": _REPORT, "201": _REPORT, "400": BAD_REQUEST,
         "415": _json(ERROR, "not application/json")}, [ID_QUERY], DOCUMENT_BODY),
    "documents.delete_document_by_query": _write(
        "delete", "删除文档（编号作参数）", "The same, for ids a path cannot hold.",
        {"200": _REPORT, "400": BAD_REQUEST,
         "404": _DELETE_404},
        [ID_QUERY]),
    "documents.post_documents": _write(
        "post", "批量添加或替换", "Each document of JSON lines or a JSON array added or "
        "replaced, all in one change; lines that cannot be indexed are answered with their "
        "number and reason.",
        {"200": _json("BulkReport", "all went in"),
         "400": _json({"oneOf": [{"$ref": "#/components/schemas/BulkReport"},
                                 {"$ref": "#/components/schemas/BulkRefusal"},
                                 {"$ref": "#/components/schemas/Error"}]},
                      "some or all lines refused (committed says whether anything changed), "
                      "or a body that is not JSON"),
         "415": _json(ERROR, "neither JSON lines nor JSON")}, body=BULK_BODY),
    "pages.search": _page(
        "搜索页", "The search page (with no query and no filter: an overview of the "
        "collection); drop.<param>=<value> answers a 303 to the search without that value.",
        SEARCH_PARAMS + PAGE_ONLY_PARAMS,
        {"303": {"description": "the same search without a dropped filter value"}}),
    "pages.document": _page(
        "文档页", "One document, the query's matches marked, with a link back to the "
        "results and related documents.", [Q, SCRIPT] + SEARCH_PARAMS[1:-1],
        {"404": _html("no such document")}),
    "pages.document_by_query": _page(
        "文档页（编号作参数）", "The same, for ids a path cannot hold.",
        [ID_QUERY, Q, SCRIPT] + SEARCH_PARAMS[1:-1], {"404": _html("no such document")}),
    "facet_pages.facet_page": _page(
        "筛选项页", "Every value of one facet among the results, each a link narrowing "
        "the search.", FACET_PARAMS, {"404": _html("no such facet, or one turned off")}),
    "openapi.spec": {"get": {
        "summary": "接口描述", "description": "This document: OpenAPI 3.1.",
        "responses": {"200": _json({"type": "object", "required": ["openapi", "paths"]},
                                   "the OpenAPI document")},
        "tags": ["about"]}},
    "openapi.docs": _page("接口说明页", "This document, as a page in Chinese."),
    "operations.healthz": {"get": {
        "summary": "存活检查", "description": "Liveness: answers without reading the index.",
        "responses": {"200": _json("Health", "the process answers")}, "tags": ["operations"]}},
    "operations.readyz": {"get": {
        "summary": "就绪检查", "description": "Readiness: 200 when the index opens, 503 while "
        "it is missing or damaged.",
        "responses": {"200": _json("Ready", "the index opens"),
                      "503": _json("Unready", "no index, or a damaged one")},
        "tags": ["operations"]}},
    "operations.status": _get(
        "服务状态", "What is served: documents, segments, generation, last build and update, "
        "segmenter, version, index path, uptime.", _json("Status", "the server and its index"),
        errors={"503": NO_INDEX}, tag="operations"),
    "operations.metrics": {"get": {
        "summary": "Prometheus 指标", "description": "Prometheus text format (OpenMetrics when "
        "asked by Accept), summed over the server's worker processes.",
        "responses": {"200": {"description": "the metrics",
                              "content": {"text/plain": {"schema": {"type": "string"}}}}},
        "tags": ["operations"]}},
    "collections": _get(
        "文集列表", "The collections this server serves (several indexes in one server), "
        "each with its prefix and documents.", _json("Collections", "the collections"),
        errors={}, tag="operations"),
    "openapi.docs_redirect": {"get": {
        "summary": "接口说明页（旧地址）", "description": "Leads to /api.",
        "responses": {"308": {"description": "to /api"}}, "tags": ["about"]}},
}

# What each operation does, in Chinese, for the /api page (``x-description-zh``);
# ``description`` stays English, as the API's ``error`` does.
CHINESE = {
    "api.search": "搜索结果，与搜索页显示的相同（同一份上下文的 JSON）：保留 CLI 的 query --json --verbatim "
                  "的全部键，每条结果另有高亮标题、全部摘要（HTML 与纯文本）、存储的字段、来源和文档页地址；"
                  "提示附带代码。接口按所发的词搜索，不改用其他读法。",
    "api.document": "一篇文档，标出查询的匹配处，附相关文档、匹配数和原文链接。",
    "api.document_by_query": "同上，用于路径放不下的编号（a//b、../x）。",
    "api.suggest": "输入提示：补全所输入的内容，每条带种类和文档数。",
    "api.explain": "查询是怎样理解的，以及文档 doc 为什么匹配或不匹配。",
    "api.related": "与这篇文档相似的文档（最多五篇）。",
    "api.related_by_query": "同上，用于路径放不下的编号。",
    "api.stats": "索引概况：文档数、筛选项、建立时间和版本（generation）。",
    "api.unknown": "/api/ 下的其他地址一律回答 JSON 的 404。",
    "facet_pages.facet_api": "在搜索结果中，一个筛选项的全部值：分页，可按部分名称或拼音首字母查找。",
    "documents.put_document": "添加（201）或替换（200）这个编号的文档；请求内容里的 id 与地址不同则为 400。",
    "documents.delete_document": "删除这个编号的文档；没有这篇文档则为 404。",
    "documents.put_document_by_query": "同上，用于路径放不下的编号。",
    "documents.delete_document_by_query": "同上，用于路径放不下的编号。",
    "documents.post_documents": "JSON lines 或 JSON 数组里的每篇文档都添加或替换，作为一次修改；"
                                "不能建索引的行回答其行号和原因，其余照常写入。",
    "pages.search": "搜索页（没有查询也没有筛选时是文档集概览）；drop.<参数>=<值> 以 303 转到去掉该值的搜索。",
    "pages.document": "文档页：标出匹配处，附返回结果的链接和相关文档。",
    "pages.document_by_query": "同上，用于路径放不下的编号。",
    "facet_pages.facet_page": "筛选项页：结果中一个筛选项的全部值，每个值都是缩小搜索的链接。",
    "openapi.spec": "本接口描述（OpenAPI 3.1）。",
    "openapi.docs": "本页：接口描述的中文版。",
    "openapi.docs_redirect": "转到 /api。",
    "operations.healthz": "存活检查：进程在回答，不读索引。",
    "operations.readyz": "就绪检查：索引能打开时为 200，缺失或损坏时为 503。",
    "operations.status": "服务状态：文档数、段数、版本（generation）、最近一次建立和更新的时间、分词器、程序版本、索引路径、运行时间。",
    "operations.metrics": "Prometheus 指标，各工作进程的总和。",
    "collections": "本服务器的各个文集（一个服务器多个索引），每个的前缀和文档数。",
}

TAGS = [
    {"name": "search", "description": "搜索与索引（JSON）"},
    {"name": "documents", "description": "文档（JSON）"},
    {"name": "write", "description": "写入接口：需设置 SEARCH_API_KEY，请求带 "
                                     "Authorization: Bearer KEY"},
    {"name": "pages", "description": "网页（HTML）"},
    {"name": "about", "description": "接口描述"},
    {"name": "operations", "description": "运维：存活、就绪、状态、指标"},
]


# ---------------------------------------------------------------------------
# The document


def describe_app(app) -> dict:
    """The OpenAPI document of ``app``: every URL rule with a description in
    ``OPERATIONS``, for the methods the rule answers."""
    spec = APISpec(
        title="简繁搜索 API", version=API_VERSION, openapi_version=OPENAPI_VERSION,
        plugins=[FlaskPlugin(), MarshmallowPlugin()],
        info={"description": "Full-text search of Chinese documents in simplified and "
                             "traditional script: the JSON API, the write API and the pages. "
                             "Errors are JSON under /api/: {error, code, param, message, "
                             "message_en}."},
        servers=[{"url": "/"}], tags=TAGS)
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer",
        "description": "the write API's key (SEARCH_API_KEY or SEARCH_API_KEY_FILE)"})
    for schema in SCHEMAS:
        spec.components.schema(schema.__name__.rstrip("_"), schema=schema)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        described = OPERATIONS.get(rule.endpoint)
        if described is None:
            continue
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        operations = {m: _with_path_params(dict(op), rule)
                      for m, op in described.items() if m in methods}
        for method, op in operations.items():
            op.setdefault("operationId", f"{rule.endpoint.replace('.', '_')}_{method}")
            if rule.endpoint in CHINESE:
                op["x-description-zh"] = CHINESE[rule.endpoint]
            op["responses"] = {**op["responses"], **SERVER_REFUSALS}
        spec.path(view=app.view_functions[rule.endpoint], operations=operations, app=app)
    return spec.to_dict()


def _with_path_params(op: dict, rule) -> dict:
    """The operation with a parameter for each variable of the rule's path."""
    names = list(rule.arguments)
    path_params = [{"name": name, "in": "path", "required": True,
                    "schema": {"type": "string", "minLength": 1,
                               **({"examples": _PATH_EXAMPLES[name]}
                                  if name in _PATH_EXAMPLES else {})},
                    "description": _PATH_PARAMS.get(name, name)}
                   for name in sorted(names)]
    op["parameters"] = path_params + list(op.get("parameters", []))
    return op


_PATH_EXAMPLES = {"name": ["city", "year", "author"]}
_PATH_PARAMS = {"doc_id": "the document's id (it may hold slashes)",
                "name": "a facet's name (city, year, author …)",
                "anything": "any other address"}


def app_description() -> dict:
    """The current app's document (made once per app, on first asking), its
    server the prefix the request came under: a collection's own
    (``/poems/``, ``webui.collections``), or ``/``."""
    state = current_app.extensions["webui"]
    if "openapi" not in state:
        state["openapi"] = describe_app(current_app)
    root = request.script_root if has_request_context() else ""
    return {**state["openapi"], "servers": [{"url": root + "/"}]}


# ---------------------------------------------------------------------------
# Routes


@openapi.app_template_filter("schema_summary")
def schema_summary(schema: dict) -> str:
    """A parameter's schema in a few words: ``integer 1–100``, ``"orig" | "simp"``."""
    label = _type_label(schema)
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None or high is not None:
        label += f" {'' if low is None else low}–{'' if high is None else high}"
    if schema.get("maxLength"):
        label += f"（≤ {schema['maxLength']} 字）"
    return label


@openapi.get("/openapi.json")
def spec():
    return jsonify(app_description())


@openapi.get("/api")
def docs():
    document = app_description()
    return render_template("api.html", spec=document, operations=_operations(document),
                           schemas=_schemas(document))


@openapi.get("/api/docs")
def docs_redirect():
    return redirect(url_for("openapi.docs"), 308)


_METHOD_ORDER = ["get", "put", "post", "delete"]


def _operations(document: dict) -> list[dict]:
    """The document's operations by tag, for the page: ``{"tag", "description", "items"}``."""
    groups = {t["name"]: {"tag": t["name"], "description": t["description"], "items": []}
              for t in document.get("tags", [])}
    for path, item in document["paths"].items():
        for method in _METHOD_ORDER:
            op = item.get(method)
            if op is None:
                continue
            tag = (op.get("tags") or ["about"])[0]
            groups[tag]["items"].append({
                "path": path, "method": method.upper(), "op": op,
                "anchor": op["operationId"],
                "parameters": op.get("parameters", []),
                "responses": [{"status": status, "description": r.get("description", ""),
                               "types": [_media(media, c) for media, c in
                                         r.get("content", {}).items()]}
                              for status, r in op["responses"].items()],
                "body": [_media(media, c) for media, c in
                         op.get("requestBody", {}).get("content", {}).items()],
                "secured": bool(op.get("security")),
            })
    for group in groups.values():
        # The catch-all address after the addresses it stands behind.
        group["items"].sort(key=lambda item: ("{anything}" in item["path"], item["path"]))
    return [g for g in groups.values() if g["items"]]


def _media(media: str, content: dict) -> dict:
    """``{"media", "schema": its label, "refs": the components it names}``."""
    schema = content.get("schema") or {}
    text = json.dumps(schema)
    refs = [r.rsplit("/", 1)[-1] for r in _REFS.findall(text)]
    return {"media": media, "schema": _schema_label(schema), "refs": refs}


_REFS = re.compile(r'"\$ref": "([^"]+)"')


def _schema_label(schema) -> str:
    """A schema in a few words: its component's name, ``[Name]`` for an array of one."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "oneOf" in schema:
        return " | ".join(_schema_label(s) for s in schema["oneOf"])
    if schema.get("type") == "array":
        return f"[{_schema_label(schema.get('items'))}]"
    kind = schema.get("type", "")
    return " | ".join(kind) if isinstance(kind, list) else kind


def _schemas(document: dict) -> list[dict]:
    out = []
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        props = [{"name": prop, "type": _type_label(body), "required": prop in required,
                  "description": body.get("description", "")}
                 for prop, body in schema.get("properties", {}).items()]
        out.append({"name": name, "properties": props,
                    "open": schema.get("additionalProperties", True) is not False})
    return out


def _type_label(schema: dict) -> str:
    if "anyOf" in schema:
        return " | ".join(_type_label(s) for s in schema["anyOf"])
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " | ".join("null" if k == "null" else _type_label({**schema, "type": k})
                          for k in kind)
    if kind == "array":
        return f"[{_type_label(schema.get('items', {}))}]"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"{{string: {_type_label(schema['additionalProperties'])}}}"
    if "enum" in schema:
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    return kind
