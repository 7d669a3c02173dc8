"""The write API: documents added, replaced and deleted over HTTP, for other programs.

Off unless the operator sets a key (``SEARCH_API_KEY``, or ``SEARCH_API_KEY_FILE``
naming a file that holds it); without one these routes answer 404, as if
they were not there.  Every request needs ``Authorization: Bearer KEY``
(compared in constant time); a missing or wrong key is 401.

``PUT /api/documents/<path:id>``   a JSON object: the document with this id, added or
                                   replaced (the URL's id; a different ``id`` in the
                                   body is a 400); 201 when added, 200 when replaced
``DELETE /api/documents/<path:id>`` 200 with the report; 404 when no document has the id
``PUT|DELETE /api/documents?id=``  the same, for ids a URL path cannot hold (``a//b``)
``POST /api/documents``            JSON lines (``application/x-ndjson``,
                                   ``application/jsonl``) or a JSON array
                                   (``application/json``): each document added or
                                   replaced, all in one change; a line that cannot be
                                   indexed is answered with its number and reason and
                                   the others are kept (200 when all went in, 400 when
                                   some or all were refused)

Every change answers the ``ChangeReport`` (``added``, ``replaced``, ``deleted``,
``not_found``, ``documents``, ``segments``, ``warnings``), the ``generation``
holding it and ``"visible": true``: the change is live when the answer is
sent, and every process of the server resolves the live generation on each
request, so the next request of any client sees it.

Bodies are capped (``SEARCH_API_MAX_BYTES``, 16 MiB: 413); a body of another
type is 415, one that is not JSON 400.  One writer at a time holds the index
(``search.store.layout.write_lock``, which also serialises the server's
processes): a request waits ``SEARCH_API_WAIT`` seconds (10) for another
writer (a build, a change, a merge), then gets 503 with ``Retry-After``.
"""

from __future__ import annotations

import errno
import hmac
import json
import os
import re
from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from search import BuildError, DocumentRejected, WriterBusy
from search.store.writing import as_document

from . import get_index
from .messages import Refused, describe

__all__ = ["documents", "api_key", "MIN_KEY_LENGTH"]

documents = Blueprint("documents", __name__)

MIN_KEY_LENGTH = 16
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_WAIT = 10.0
# Seconds a client is asked to wait after a 503 for a busy writer.
RETRY_AFTER = 5
# Refused lines listed in a bulk answer; the count says how many there were.
MAX_LISTED_REJECTIONS = 1000

JSON_TYPES = ("application/json",)
LINES_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines",
               "application/jsonlines")

# A bearer token is visible ASCII (RFC 6750 allows less; more would not survive headers).
_TOKEN = re.compile(r"[\x21-\x7e]+")
_NEW_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


# ---------------------------------------------------------------------------
# The key


def api_key(config, environ=os.environ) -> str | None:
    """The write API's key, from ``config`` (the app's) or else the environment:
    ``SEARCH_API_KEY``, or ``SEARCH_API_KEY_FILE`` naming a file holding it.
    None (the API is off) when neither is set.  A key too short or not
    sendable in a header, both set, or an unreadable file is a ``ValueError``
    saying what to do: the server must not start with a guessable key."""
    def setting(name):
        value = config.get(name)
        return environ.get(name) if value is None else value

    key, key_file = setting("SEARCH_API_KEY"), setting("SEARCH_API_KEY_FILE")
    if key and key_file:
        raise ValueError("both SEARCH_API_KEY and SEARCH_API_KEY_FILE are set: set one")
    where = "SEARCH_API_KEY"
    if key_file:
        where = f"the key file {key_file} (SEARCH_API_KEY_FILE)"
        try:
            key = Path(key_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ValueError(f"cannot read {where}: {reason}") from None
        if not key:
            raise ValueError(f"{where} is empty: write the key in it, or unset it")
    if not key:
        return None
    key = key.strip()
    if not _TOKEN.fullmatch(key):
        raise ValueError(f"the write API key in {where} holds spaces or characters other than "
                         f"visible ASCII; make one with {_NEW_KEY}")
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"the write API key in {where} has {len(key)} characters; it needs at "
                         f"least {MIN_KEY_LENGTH}: make one with {_NEW_KEY}")
    return key


def _setting(name: str, default: float, kind=float) -> float:
    value = current_app.config.get(name, os.environ.get(name))
    if value in (None, ""):
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError):
        return default
    return number if number >= 0 else default


@documents.before_request
def authorise():
    """404 while the API is off; 401 without the right bearer key."""
    key = current_app.config.get("SEARCH_API_KEY")
    if not key:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    # Header text is latin-1 as WSGI gives it: compared as bytes, never as
    # text (compare_digest refuses text that is not ASCII).
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("latin-1", "replace"), key.encode("utf-8")):
        challenge = 'Bearer realm="search"'
        if scheme.lower() == "bearer":
            challenge += ', error="invalid_token"'
            message = "the key is not the write API's key"
        else:
            message = "this address needs the write API's key: send Authorization: Bearer KEY"
        return _answer(401, {"error": message}, {"WWW-Authenticate": challenge})
    return None


# ---------------------------------------------------------------------------
# Bodies


def _media_type() -> str:
    return (request.mimetype or "").lower()


def _body() -> bytes:
    """The request body, at most ``SEARCH_API_MAX_BYTES`` (else 413)."""
    limit = int(_setting("SEARCH_API_MAX_BYTES", DEFAULT_MAX_BYTES, int))
    too_large = (f"the body is larger than the limit of {limit:,} bytes "
                 "(SEARCH_API_MAX_BYTES): send fewer documents at a time")
    if request.content_length is not None and request.content_length > limit:
        abort(413, too_large)
    # Also caps a body of no stated length (a development server's chunked one).
    request.max_content_length = limit
    try:
        return request.get_data(cache=False)
    except RequestEntityTooLarge:
        abort(413, too_large)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        abort(400, f"the body is not UTF-8 (byte {exc.start:,})")


def _parse(text: str):
    """JSON text as Python, or the reason it is not JSON.  Python's parser
    reads ``NaN`` and ``Infinity``; the ingest path keeps them as text."""
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, f"not valid JSON ({exc})"[:200]
    except RecursionError:
        return None, "not usable JSON: nested too deeply"


def _document(record, doc_id: str | None = None):
    """The record read as the build reads it (``DocumentRejected`` says why not);
    with ``doc_id``, the document of that id."""
    if not isinstance(record, dict):
        raise DocumentRejected('a document is a JSON object with a "text", such as '
                               '{"title": "…", "text": "…"}')
    if doc_id is not None:
        given = record.get("id")
        if given is not None and str(given) != doc_id:
            raise DocumentRejected(f"the body's id {str(given)!r} is not the id of the address "
                                   f"{doc_id!r}: leave it out or make them the same")
        record = {**record, "id": doc_id}
    return as_document(record)


# ---------------------------------------------------------------------------
# Answers


def _answer(status: int, body: dict, headers: dict | None = None):
    if "error" in body and "code" not in body:
        # The English error as before, with its code and Chinese beside it.
        said = describe(ValueError(body["error"]), status).to_dict()
        body = {**said, **{k: v for k, v in body.items() if k != "error"}}
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _report(report) -> dict:
    data = report.to_dict()
    # The server's folder is none of a client's business.
    data.pop("index_dir", None)
    data["visible"] = True
    return data


class _Refused(Exception):
    """A change that could not be made: its answer."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@documents.errorhandler(_Refused)
def _refused(exc: _Refused):
    return _answer(exc.status, {"error": exc.message}, exc.headers)


class _Writing:
    """The index's writer for one request, with its failures as answers:
    a busy writer lock is 503 with ``Retry-After``, a full disk 507."""

    def __enter__(self):
        wait = _setting("SEARCH_API_WAIT", DEFAULT_WAIT)
        try:
            self.writer = get_index().writer(wait=wait)
        except WriterBusy as exc:
            raise _Refused(503, f"the index is being changed by another writer: {exc}",
                           {"Retry-After": str(RETRY_AFTER)}) from None
        except BuildError as exc:
            raise _Refused(409, str(exc)) from None
        return self.writer

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.writer.cancel()
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                current_app.logger.error("a change of the index failed: %s", exc)
                raise _Refused(507, "the index's disk is full; the change was not made") \
                    from None
            if isinstance(exc, BuildError) and not isinstance(exc, WriterBusy):
                raise _Refused(409, str(exc)) from None
        return False


# ---------------------------------------------------------------------------
# Routes


def _id_from_query() -> str:
    doc_id = request.args.get("id", "")
    if not doc_id:
        abort(400, "give the document's id: /api/documents/<id> or /api/documents?id=<id>")
    return doc_id


@documents.put("/documents/<path:doc_id>")
def put_document(doc_id: str):
    if _media_type() not in JSON_TYPES:
        raise _Refused(415, "send the document as a JSON object, with "
                            "Content-Type: application/json")
    record, reason = _parse(_text(_body()))
    if reason:
        abort(400, reason)
    try:
        doc = _document(record, doc_id)
    except DocumentRejected as exc:
        abort(400, exc.reason)
    with _Writing() as writer:
        writer.replace(doc)
        report = writer.commit()
    created = doc.id in report.added
    # script_root: a collection's prefix (webui.collections), else empty.
    location = f"{request.script_root}/api/doc?id={_quote(doc.id)}"
    return _answer(201 if created else 200, _report(report),
                   {"Location": location} if created else None)


@documents.delete("/documents/<path:doc_id>")
def delete_document(doc_id: str):
    with _Writing() as writer:
        if not writer.delete(doc_id):
            writer.cancel()
            return _answer(404, {"error": "no document with this id", "not_found": [doc_id]})
        report = writer.commit()
    return _answer(200, _report(report))


@documents.put("/documents")
def put_document_by_query():
    return put_document(_id_from_query())


@documents.delete("/documents")
def delete_document_by_query():
    return delete_document(_id_from_query())


@documents.post("/documents")
def post_documents():
    media = _media_type()
    if media not in JSON_TYPES + LINES_TYPES:
        raise _Refused(415, "send JSON lines (Content-Type: application/x-ndjson or "
                            "application/jsonl) or a JSON array (application/json)")
    text = _text(_body())
    if media in JSON_TYPES:
        items, reason = _parse(text)
        if reason:
            abort(400, reason)
        if not isinstance(items, list):
            abort(400, "a JSON body here is an array of documents; "
                       "send one document with PUT /api/documents/<id>")
        where, numbered = "item", list(enumerate(items, 1))
    else:
        where, numbered = "line", list(_lines(text))
    docs, rejected = [], []
    first_line: dict[str, int] = {}
    for number, record in numbered:
        try:
            if isinstance(record, _BadLine):
                raise DocumentRejected(record.reason)
            doc = _document(record)
            if doc.id in first_line:
                raise DocumentRejected(f"the id {doc.id!r} is on {where} "
                                       f"{first_line[doc.id]} already (the first one is kept)")
        except DocumentRejected as exc:
            entry = {where: number, "reason": exc.reason}
            if isinstance(record, dict) and isinstance(record.get("id"), (str, int)):
                entry["id"] = str(record["id"])
            rejected.append(entry)
            continue
        first_line[doc.id] = number
        docs.append(doc)
    if not docs:
        body = {"error": ("no document in the body" if not rejected
                          else f"no {where} could be indexed; nothing was changed"),
                "committed": False}
        return _answer(400, _with_rejections(body, rejected))
    with _Writing() as writer:
        for doc in docs:
            writer.replace(doc)
        report = writer.commit()
    body = {**_report(report), "committed": True}
    if rejected:
        said = describe(Refused(400, "some_rejected", rejected=_count(len(rejected), where),
                                kept=_count(len(docs), "document"),
                                verb="was" if len(docs) == 1 else "were",
                                rejected_count=f"{len(rejected):,}",
                                kept_count=f"{len(docs):,}"), 400)
        body = {**said.to_dict(), **body}
    return _answer(400 if rejected else 200, _with_rejections(body, rejected))


class _BadLine:
    def __init__(self, reason: str):
        self.reason = reason


def _lines(text: str):
    """``(line number, record or _BadLine)`` for each line of JSON lines that is not blank."""
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        record, reason = _parse(line)
        yield number, (_BadLine(reason) if reason else record)


def _with_rejections(body: dict, rejected: list[dict]) -> dict:
    body["rejected"] = rejected[:MAX_LISTED_REJECTIONS]
    body["rejected_count"] = len(rejected)
    return body


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _quote(doc_id: str) -> str:
    from urllib.parse import quote
    return quote(doc_id, safe="")
