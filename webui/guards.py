"""What the web app refuses or rewrites around its own code.

* ``HostCheck``: a WSGI middleware answering 400 to a ``Host`` header that is
  not a host name, before Flask builds its URL adapter from it (Werkzeug's
  IDNA encoding fails on ``a..b`` or a 64-character label, which would
  otherwise end in a 500 from the URL machinery).
* ``relative_redirect``: every redirect the app sends points inside the app
  by a relative location, so a forged ``Host`` never reaches a ``Location``
  header, and it is marked ``no-store`` so that no cache keeps it.
* ``FiniteJSONProvider``: JSON responses never hold ``Infinity`` or ``NaN``
  (which ``JSON.parse`` rejects); such a number is sent as ``null``.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from urllib.parse import urlsplit, urlunsplit

from flask.json.provider import DefaultJSONProvider
from werkzeug.utils import redirect
from werkzeug.wrappers import Response


# A host name (letters, digits, '-', '_', dots) or a bracketed IPv6 address, then an
# optional port.  Anything else (spaces, non-ASCII, '@', empty labels) is refused.
_HOST = re.compile(
    r"(?P<name>[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Za-z:.%_~-]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?")
MAX_HOST_NAME = 253
MAX_LABEL = 63


def is_valid_host(host: str) -> bool:
    """Whether ``host`` (a ``Host`` header, with or without a port) names a host.

    Besides the shape, each label must pass the IDNA codec both ways, since
    that is what Werkzeug does with it (``xn--`` labels must be real punycode).
    """
    match = _HOST.fullmatch(host)
    if match is None:
        return False
    port = match.group("port")
    if port is not None and int(port) > 65535:
        return False
    name = match.group("name")
    if name.startswith("["):
        try:
            ipaddress.IPv6Address(name[1:-1])
        except ValueError:
            return False
        return True
    if len(name) > MAX_HOST_NAME or any(len(label) > MAX_LABEL for label in name.split(".")):
        return False
    try:
        name.encode("idna").decode("idna")
    except UnicodeError:
        return False
    return True


class HostCheck:
    """WSGI middleware: a request whose ``Host`` is not a host name gets a 400.

    The answer is made here, without Flask (whose URL adapter is what fails),
    and carries the same security headers as every other response.
    """

    def __init__(self, app, headers: dict[str, str]):
        self.app = app
        self.headers = headers

    def __call__(self, environ, start_response):
        host = environ.get("HTTP_HOST")
        # No Host at all (HTTP/1.0) is fine: Werkzeug falls back to SERVER_NAME.
        # (WSGI gives header bytes decoded as latin-1: non-ASCII fails the pattern.)
        if host and not is_valid_host(host):
            return self._refuse(environ, start_response)
        return self.app(environ, start_response)

    def _refuse(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        from .messages import message_of
        chinese, english = message_of("bad_host")
        if path == "/api" or path.startswith("/api/"):
            body = {"error": english, "code": "bad_host", "param": None,
                    "message": chinese, "message_en": english}
            response = Response(json.dumps(body, ensure_ascii=False), status=400,
                                mimetype="application/json")
        else:
            response = Response(f"{chinese}\n{english}\n", status=400,
                                mimetype="text/plain")
        for name, value in self.headers.items():
            response.headers[name] = value
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)


def relative_redirect(response):
    """Make a redirect's ``Location`` relative and the redirect uncacheable.

    The app only ever redirects to itself (Werkzeug's merged or added slashes,
    the search page's "drop a filter"), so the scheme and host of an absolute
    location are the request's own, taken from its ``Host`` header: dropping
    them keeps a forged header out of the answer.
    """
    if not 300 <= response.status_code < 400:
        return response
    response.headers["Cache-Control"] = "no-store"
    location = response.headers.get("Location")
    if location:
        parts = urlsplit(location)
        # A path starting with "//" would read as another host: one slash.
        path = "/" + parts.path.lstrip("/")
        relative = urlunsplit(("", "", path, parts.query, parts.fragment))
        response.headers["Location"] = relative
        # Werkzeug's redirect page links the absolute URL too: the same page, relative.
        response.set_data(redirect(relative, response.status_code).get_data())
    return response


def _finite(value):
    """``value`` with every infinite or NaN float (at any depth) replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class FiniteJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with non-finite floats sent as ``null`` (valid JSON for every parser)."""

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        kwargs["allow_nan"] = False
        try:
            return json.dumps(obj, **kwargs)
        except ValueError:
            # Only a value that is not finite gets here, so the walk is paid then only.
            default = kwargs["default"]
            kwargs["default"] = lambda o: _finite(default(o))
            return json.dumps(_finite(obj), **kwargs)
