"""Several collections in one server: one Flask app per index, each under its own URL prefix.

    from webui.collections import create_collections_app
    app = create_collections_app({"news": "idx/news", "poems": "idx/poems"}, default="news")

Each collection is the app ``webui.create_app`` makes for one index, mounted
under ``/<name>`` by Werkzeug's ``DispatcherMiddleware``: ``/news/``,
``/news/api/search``, ``/news/doc/<id>``, ``/news/facet/author``.  The prefix
is the request's ``SCRIPT_NAME``, so every URL ``url_for`` builds stays in its
collection.  The default collection (the first, or ``default``) is served at
``/`` too, exactly as a server of that one index is, so that every address
of a single-index server keeps working.  ``GET /api/collections`` lists the
collections (name, prefix, documents); every page's header has a switch
between them (``base.html``) that keeps the query.

Names are ASCII letters, digits, ``-`` and ``_`` (at most 64), distinct
regardless of case, and never the first segment of one of the app's own
routes (``api``, ``doc``, ``facet``, ``static`` ... and ``RESERVED``):
``/doc/...`` must stay the default collection's documents, not a
collection named ``doc``.  A bad name is a ``CollectionError`` when the app
is made, before anything is served.

Each collection opens its index on the first request that needs it, in each
process, as a single-index app does; an index missing or damaged answers 503
in its collection only.

``from_environment()`` reads ``SEARCH_INDEXES`` (``news=idx/news,poems=idx/poems``),
``SEARCH_INDEXES_FOLDER`` (a folder of indexes) and ``SEARCH_DEFAULT_COLLECTION``,
for ``flask --app webui.collections:from_environment run`` or
``gunicorn 'webui.collections:from_environment()'``.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, current_app, jsonify, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from search import IndexDamaged, IndexNotFound
from search.errors import index_command

__all__ = ["Collection", "CollectionError", "RESERVED", "collections_from",
           "create_collections_app", "from_environment", "indexes_in", "parse_index_option"]

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# First segments of the app's addresses besides its routes' own (which are
# read from the app): those the production server or a proxy may answer.
RESERVED = frozenset({"api", "doc", "facet", "static", "healthz", "readyz", "livez", "metrics",
                      "openapi.json", "docs", "favicon.ico", "robots.txt"})
# Where the dispatcher notes the root it was called at, for links between collections.
_ROOT = "webui.collections.root"


class CollectionError(ValueError):
    """A collection that cannot be served: a bad or taken name, an unknown default."""


@dataclass(frozen=True)
class Collection:
    name: str
    index_dir: str

    @property
    def prefix(self) -> str:
        return "/" + self.name


def parse_index_option(text: str) -> tuple[str | None, str]:
    """``NAME=DIR`` as ``(NAME, DIR)``; a plain ``DIR`` as ``(None, DIR)``.

    Text before the first ``=`` that holds no path separator is a name (then
    checked): ``news=idx/news``; ``idx/a=b`` is a folder named ``a=b``.
    """
    name, sep, folder = text.partition("=")
    if sep and name and "/" not in name and os.sep not in name:
        if not folder:
            raise CollectionError(f"--index {text}: the folder after {name}= is missing")
        return name, folder
    return None, text


def indexes_in(folder: str | os.PathLike) -> tuple[list[Collection], list[str]]:
    """The indexes directly in ``folder``, each named after its subfolder
    (sorted by name), and the subfolders that are not indexes (skipped;
    hidden ones, starting with ".", are not mentioned)."""
    from search.store.layout import CURRENT, live_generation
    root = Path(folder)
    if not root.is_dir():
        raise CollectionError(f"--indexes {folder}: no such folder")
    found, skipped = [], []
    for sub in sorted(root.iterdir(), key=lambda p: p.name):
        if sub.name.startswith(".") or not sub.is_dir():
            continue
        # A dangling ``current`` is an index too: damaged, its pages say so (503).
        if (sub / CURRENT).is_symlink() or live_generation(sub) is not None:
            found.append(Collection(sub.name, os.fspath(sub)))
        else:
            skipped.append(sub.name)
    return found, skipped


def collections_from(indexes=(), folder=None, default: str | None = None,
                     ) -> tuple[list[Collection], str, list[str]]:
    """The collections of ``--index`` options (``NAME=DIR`` or a plain ``DIR``,
    named after its last part) and of a folder of indexes, checked; the
    default's name; the subfolders of ``folder`` that are not indexes."""
    collections = []
    for text in indexes:
        name, index_dir = parse_index_option(os.fspath(text))
        if name is None:
            name = Path(index_dir).resolve().name
        collections.append(Collection(name, index_dir))
    skipped = []
    if folder is not None:
        found, skipped = indexes_in(folder)
        if not found:
            raise CollectionError(f"--indexes {folder}: no index in it (built with "
                                  f"`{index_command(folder + '/NAME')}`)")
        collections += found
    check_names(collections)
    if not collections:
        raise CollectionError("no collection to serve: give --index NAME=DIR or --indexes FOLDER")
    if default is None:
        default = collections[0].name
    elif default not in {c.name for c in collections}:
        raise CollectionError(f"--default {default}: no such collection (there are "
                              f"{', '.join(c.name for c in collections)})")
    return collections, default, skipped


def check_names(collections: list[Collection]) -> None:
    taken = app_route_segments() | RESERVED
    seen: dict[str, str] = {}
    for c in collections:
        if not NAME.fullmatch(c.name):
            raise CollectionError(
                f"collection name {c.name!r}: use ASCII letters, digits, - and _ "
                f"(at most 64, starting with a letter or digit); give one with NAME=DIR")
        if c.name.lower() in taken:
            raise CollectionError(
                f"collection name {c.name!r} is taken by the app's own /{c.name.lower()}/ "
                f"addresses (taken: {', '.join(sorted(taken))}): choose another with NAME=DIR")
        other = seen.get(c.name.lower())
        if other is not None:
            raise CollectionError(f"two collections named {c.name!r}"
                                  f"{'' if other == c.name else f' and {other!r}'}: "
                                  f"give one another name with NAME=DIR")
        seen[c.name.lower()] = c.name


@functools.cache
def app_route_segments() -> frozenset[str]:
    """The first path segments of the app's routes (``api``, ``doc``, ...)."""
    from . import create_app
    # The write API's key is not read for this app that serves nothing.
    app = create_app(index_dir=os.devnull,
                     config={"SEARCH_API_KEY": "", "SEARCH_API_KEY_FILE": ""})
    return frozenset(rule.rule.split("/")[1].lower() for rule in app.url_map.iter_rules()
                     if len(rule.rule) > 1 and not rule.rule.startswith("/<"))


def create_collections_app(collections, default: str | None = None,
                           config: dict | None = None) -> Flask:
    """The app serving several indexes, each under ``/<name>``; the default
    one (the first, or ``default``) at ``/`` too.

    ``collections``: ``{name: index_dir}``, or ``Collection``s.  The answer is
    the default collection's Flask app, whose WSGI entry dispatches by
    prefix, so ``flask run`` and gunicorn take it as they take one app.
    Raises ``CollectionError`` for a bad name or an unknown default.
    """
    from . import create_app
    if isinstance(collections, dict):
        collections = [Collection(name, os.fspath(d)) for name, d in collections.items()]
    collections = list(collections)
    if not collections:
        raise CollectionError("no collection to serve")
    check_names(collections)
    default = default or collections[0].name
    if default not in {c.name for c in collections}:
        raise CollectionError(f"no collection named {default!r} to be the default")
    apps = {}
    for c in collections:
        app = create_app(index_dir=c.index_dir, config=config)
        app.config["SEARCH_COLLECTION"] = c.name
        app.extensions["webui.collections"] = {"collections": collections, "apps": apps,
                                               "default": default}
        app.add_url_rule("/api/collections", "collections", list_collections)
        app.context_processor(lambda: {"collection_switch": collection_switch})
        apps[c.name] = app
    root = apps[default]
    by_prefix = {c.prefix: apps[c.name].wsgi_app for c in collections}
    root.wsgi_app = _NoteRoot(DispatcherMiddleware(root.wsgi_app, by_prefix))
    return root


class _NoteRoot:
    """Notes the ``SCRIPT_NAME`` the collections are served under (behind a
    proxy: its own prefix) before the dispatcher adds a collection's."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        environ[_ROOT] = environ.get("SCRIPT_NAME", "")
        return self.app(environ, start_response)


def _state():
    return current_app.extensions["webui.collections"]


def _root() -> str:
    return request.environ.get(_ROOT, "").rstrip("/")


def list_collections():
    """``GET /api/collections``: each collection's name, prefix, search page,
    and documents (``null`` with the error's code when its index cannot be
    opened); the default's name."""
    from . import get_index
    from .messages import describe
    state = _state()
    root = _root()
    out = []
    for c in state["collections"]:
        entry = {"name": c.name, "prefix": root + c.prefix, "url": root + c.prefix + "/",
                 "default": c.name == state["default"], "documents": None}
        with state["apps"][c.name].app_context():
            try:
                entry["documents"] = get_index().stats()["documents"]
            except (IndexNotFound, IndexDamaged) as exc:
                entry["error"] = describe(exc, 503).code
        out.append(entry)
    return jsonify({"collections": out, "default": state["default"]})


def collection_switch() -> dict:
    """The header's switch: ``{"current", "collections": [{"name", "url", "current"}]}``.

    A link to another collection carries the page's query and script, which
    mean the same there; not its filters, page or document, which belong to
    this collection."""
    state = _state()
    current = current_app.config["SEARCH_COLLECTION"]
    root = _root()
    kept = []
    q, script = request.args.get("q", ""), request.args.get("script", "")
    if q.strip() and len(q) <= 1000:
        kept.append(("q", q))
    if script in ("simp", "trad"):
        kept.append(("script", script))
    query = "?" + urlencode(kept) if kept else ""
    return {"current": current,
            "collections": [{"name": c.name, "url": root + c.prefix + "/" + query,
                             "current": c.name == current} for c in state["collections"]]}


def environment_collections(environ=os.environ) -> tuple[list[str], str | None, str | None]:
    """``(index options, folder, default)`` as ``SEARCH_INDEXES``
    (``news=idx/news,poems=idx/poems``), ``SEARCH_INDEXES_FOLDER`` and
    ``SEARCH_DEFAULT_COLLECTION`` give them."""
    listed = [e.strip() for e in environ.get("SEARCH_INDEXES", "").split(",") if e.strip()]
    return (listed, environ.get("SEARCH_INDEXES_FOLDER") or None,
            environ.get("SEARCH_DEFAULT_COLLECTION") or None)


def from_environment(config: dict | None = None) -> Flask:
    """The app of ``SEARCH_INDEXES`` (``news=idx/news,poems=idx/poems``; a plain
    entry is named after its folder), ``SEARCH_INDEXES_FOLDER`` and
    ``SEARCH_DEFAULT_COLLECTION``; with none of them, the single index of
    ``SEARCH_INDEX`` (``webui.create_app``)."""
    from . import create_app
    listed, folder, default = environment_collections()
    if not listed and folder is None:
        return create_app(config=config)
    collections, default, _ = collections_from(listed, folder, default)
    return create_collections_app(collections, default, config=config)
