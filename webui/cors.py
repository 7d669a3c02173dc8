"""Cross-origin requests to the JSON API: off unless the operator lists the origins allowed.

``SEARCH_CORS_ORIGINS="https://a.example https://b.example"`` (the app's config
or the environment; ``python -m search serve --cors-origin ORIGIN``,
repeatable) lets pages of those origins call ``/api/*`` and read
``/openapi.json``; ``*`` allows any origin.  The pages themselves are never
shared.  flask-cors writes the headers (``Access-Control-Allow-Origin`` for
an origin listed, ``Vary: Origin``, and for a preflight the methods and the
``Authorization`` and ``Content-Type`` headers the write API needs).

A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered
before any view's own checks: it carries no key, so the write API's bearer
check would refuse it, and a browser then never sends the real request.
"""

from __future__ import annotations

import os
import re

from flask import request
from flask_cors import CORS

__all__ = ["cors_origins", "enable_cors", "CORS_PATHS"]

SETTING = "SEARCH_CORS_ORIGINS"
# What another origin may read: the JSON API and its description, nothing else.
CORS_PATHS = re.compile(r"^(/api/.*|/openapi\.json)$")
ALLOWED_HEADERS = ["Authorization", "Content-Type"]
# Headers of the write API a client may need to read (where a created document is,
# how long to wait for a busy writer, why a key was refused).
EXPOSED_HEADERS = ["Location", "Retry-After", "WWW-Authenticate"]
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]
PREFLIGHT_MAX_AGE = 600
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


def cors_origins(config, environ=os.environ) -> list[str]:
    """The origins allowed, from ``config`` or else the environment (space- or
    comma-separated).  An entry that is not an origin (a path, no scheme) is a
    ``ValueError`` saying so: the server must not start sharing with the wrong site."""
    value = config.get(SETTING)
    if value is None:
        value = environ.get(SETTING, "")
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    origins = []
    for origin in value:
        origin = origin.strip().rstrip("/")
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise ValueError(f"{origin!r} in {SETTING} is not an origin: write it as "
                             "https://host or https://host:port (no path), or * for any")
        origins.append(origin)
    return origins


def enable_cors(app) -> None:
    """Share the JSON API with the origins of ``SEARCH_CORS_ORIGINS``; nothing when none."""
    origins = cors_origins(app.config)
    app.config[SETTING] = origins
    if not origins:
        return
    CORS(app, resources={CORS_PATHS: {}}, origins="*" if "*" in origins else origins,
         allow_headers=ALLOWED_HEADERS, expose_headers=EXPOSED_HEADERS, methods=METHODS,
         max_age=PREFLIGHT_MAX_AGE, vary_header=True)

    @app.before_request
    def answer_preflight():
        if (request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
                and CORS_PATHS.match(request.path)):
            return app.make_default_options_response()
        return None
