"""A hostile-input fuzz of every route: never a 5xx, always the security headers.

Two rounds, both reproducible (hypothesis, derandomized) and bounded in time:

* through the WSGI app directly, for volume: every route, with generated
  query strings (known parameter names with hostile values: huge, empty,
  repeated, escapes that are not UTF-8, control characters, numbers out of
  range, unknown facets; unknown names), methods, and ``Host``, ``Accept``
  and ``Content-Length`` headers;
* raw bytes to a real server on loopback, for what only a server sees: the
  ``Host`` header as sent, malformed request lines and header fields.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app

from serving import raw_request, serve, status_of
from webui import SECURITY_HEADERS, create_app

FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# -- what a request is made of -----------------------------------------------

NAMES = ["q", "city", "year", "month", "f.author", "f.dynasty", "f.city", "f.year", "f.month",
         "f.no_such_facet", "f.", "sort", "page", "per_page", "facet_limit", "script", "id",
         "doc", "limit", "drop.city", "drop.year", "drop.f.author", "drop.", "drop.q", "utm_source"]
WORDS = ["", " ", "0", "-1", "1", "100", "101", "10001", "1e9", "99999999999999999999", "nan",
         "inf", "-0", "0x10", "1.5", "١٢", "newest", "oldest", "relevance", "trad", "simp", "orig",
         "2014", "2014-13", "2014-09", "9999-99", "0000", "洛阳", "洛陽", "李白", "唐", "呼叫中心",
         "明月 -明月", '"呼叫中心"', '"', "-", "--", "\x00", "\r\n", "\u202e", "\ufeff",
         "<script>alert(1)</script>", "news/洛阳/1", "odd/x/../y", "../../etc/passwd", "a" * 1001,
         "明" * 1001, "明" * 300, "-明" * 150, "x" * 10_000]
# Escapes as they appear in a URL: not UTF-8, cut short, malformed, separators.
RAW_ESCAPES = ["%ff", "%fe%ff", "%c3%28", "%ed%a0%80", "%00", "%", "%g0", "%e6%98", "+", "%2B",
               "&", "=", ";", "%0d%0a", "%25"]
DOC_IDS = ["news/洛阳/1", "诗/李白/静夜思", "hostile/<script>1", "odd/x/../y", "odd/q?#%&=+ 空格",
           "https://example.com/page", "nope", "..", "a//b", "%ff", "文章/hostile", ""]
STATIC = ["style.css", "app.js", "../webui/__init__.py", "..%2f__init__.py", "nope.css", ""]
GOOD_HOSTS = ["localhost", "127.0.0.1:8000", "[::1]", "evil.example"]
BAD_HOSTS = ["a..b", "a" * 64 + ".x", "xn--a.example", "xn--zz", ".", "", " ", "a b",
             "é.example", "x:99999", "x:-1", "user@x", "[zz]", "x" * 300]
# Mostly a host that lets the request through to the routes.
HOSTS = [None] * 4 + GOOD_HOSTS * 3 + BAD_HOSTS
ACCEPTS = [None, "application/json", "text/html", "*/*", "", "garbage;;q=x", "text/*;q=2"]
CONTENT_LENGTHS = [None] * 8 + ["abc", "-1", "99999999999999999999", "0", "5", "", " 3 "]
METHODS = ["GET", "GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH",
           "TRACE", "PROPFIND", "get"]

text = st.text(max_size=30)
value = st.one_of(st.sampled_from(WORDS), text, st.integers(-10**30, 10**30).map(str))
name = st.one_of(st.sampled_from(NAMES), text)


@st.composite
def query_strings(draw) -> str:
    """A query string: quoted names and values, with raw escapes mixed in."""
    parts = []
    for _ in range(draw(st.integers(0, 8))):
        key = quote(draw(name), safe="")
        val = quote(draw(value), safe="")
        if draw(st.integers(0, 9)) == 0:
            val += draw(st.sampled_from(RAW_ESCAPES))
        if draw(st.integers(0, 19)) == 0:
            key = draw(st.sampled_from(RAW_ESCAPES)) + key
        parts.append(key if draw(st.integers(0, 9)) == 0 else f"{key}={val}")
    return "&".join(parts)


def _segment(draw) -> str:
    return draw(st.one_of(st.sampled_from(DOC_IDS), text))


@st.composite
def paths(draw) -> bytes:
    """A path as the server hands it to WSGI: bytes, not always UTF-8."""
    doc = _segment(draw)
    path = draw(st.sampled_from([
        "/", "/doc", f"/doc/{doc}", "/api/search", f"/api/doc/{doc}", "/api/doc",
        "/api/stats", "/api/suggest", "/api/explain", f"/api/related/{doc}", "/api/related",
        f"/static/{draw(st.sampled_from(STATIC))}", "/api", "/api/", f"/{doc}", f"/api/{doc}",
        "//api//search", "/doc//x", f"/static/{doc}"]))
    raw = path.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        raw += draw(st.binary(max_size=6))
    return raw


def assert_security_headers(headers, what) -> None:
    for header, expected in SECURITY_HEADERS.items():
        assert headers.get(header) == expected, (header, what)


# -- round 1: the WSGI app, for volume ----------------------------------------


@pytest.fixture(scope="module")
def app(corpus_index):
    return create_app(index_dir=corpus_index)


@settings(FUZZ, max_examples=600)
@given(path=paths(), query=query_strings(), method=st.sampled_from(METHODS),
       host=st.sampled_from(HOSTS), accept=st.sampled_from(ACCEPTS),
       content_length=st.sampled_from(CONTENT_LENGTHS))
def test_every_route_answers_hostile_requests_without_a_5xx(app, path, query, method, host,
                                                            accept, content_length):
    environ = EnvironBuilder(method=method).get_environ()
    # What a WSGI server passes on: the path's bytes and the query as sent (latin-1 text).
    environ["PATH_INFO"] = path.decode("latin-1")
    environ["QUERY_STRING"] = query.encode("utf-8").decode("latin-1")
    environ["wsgi.input"] = io.BytesIO(b"q=abc")
    for key, header in (("HTTP_HOST", host), ("HTTP_ACCEPT", accept),
                        ("CONTENT_LENGTH", content_length)):
        environ.pop(key, None)
        if header is not None:
            environ[key] = header.encode("utf-8").decode("latin-1")
    body, status, headers = run_wsgi_app(app, environ, buffered=True)
    code = int(status.split()[0])
    what = (method, path, query[:200], host, code, b"".join(body)[:300])
    assert code < 500, what
    assert_security_headers(headers, what)


# -- round 2: raw bytes to a real server ---------------------------------------

LINE_METHODS = [b"GET", b"GET", b"GET", b"HEAD", b"POST", b"get", b"G\x00T", b"GET GET", b"",
                b"\xff", b"CONNECT", b"A" * 300]
VERSIONS = [b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/9.9", b"HTTP/1", b"FOO",
            b"", b"HTTP/1.1 extra"]
TARGETS_EXTRA = [b"*", b"http://evil.example/doc/x", b"//evil.example/", b"/a b", b"/\x00",
                 b"/\x7f", b"/%", b"", b"/?" + b"a" * 9000, b"/api//search?q=a"]
HOST_LINES = [None, b"Host: localhost", b"Host: localhost", b"Host: 127.0.0.1", b"Host: a..b", b"Host: " + b"a" * 64 + b".x",
              b"Host: xn--a.example", b"Host: \xc3\xa9.example", b"Host: evil.example",
              b"Host:", b"Host: x\r\nHost: y", b"Host : x", b"Host: x:99999"]
EXTRA_LINES = [b"Content-Length: abc", b"Content-Length: -1", b"Content-Length: 1, 2",
               b"Transfer-Encoding: bogus", b"Accept: */*", b"Accept: \x00",
               b"no colon here", b": empty name", b" folded: line", b"X-" + b"a" * 9000 + b": 1",
               b"Cookie: " + b"a=" * 2000]


# What the server answers by itself, before the app: no answer at all, a bad
# request line or header, too slow, a body it does not take, a head too long.
SERVER_REFUSALS = {0, 400, 408, 411, 413, 414, 431}


@st.composite
def raw_requests(draw) -> bytes:
    """A request as bytes: well-formed with a hostile target and ``Host``, or with one fault."""
    method, version = b"GET", b"HTTP/1.1"
    target = quote(draw(paths()), safe="/").encode("ascii")
    target += b"?" + draw(query_strings()).encode("utf-8").replace(b" ", b"%20")
    host = draw(st.sampled_from(HOST_LINES))
    extra: list[bytes] = []
    fault = draw(st.sampled_from(["none", "none", "none", "method", "target", "version", "header"]))
    if fault == "method":
        method = draw(st.sampled_from(LINE_METHODS))
    elif fault == "target":
        target = draw(st.sampled_from(TARGETS_EXTRA))
    elif fault == "version":
        version = draw(st.sampled_from(VERSIONS))
    elif fault == "header":
        extra.append(draw(st.sampled_from(EXTRA_LINES)))
    lines = [method + b" " + target + b" " + version]
    lines += ([host] if host is not None else []) + extra + [b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def test_raw_requests_to_a_real_server_never_get_a_5xx(corpus_index, tmp_path):
    log = tmp_path / "server.log"
    answers: list[tuple[bytes, bytes]] = []
    with serve(corpus_index, threads=2, log_path=log) as (base, _proc):

        @settings(FUZZ, max_examples=80)
        @given(request=raw_requests())
        def round_trip(request):
            answer = raw_request(base, request, timeout=15)
            answers.append((request, answer))
            assert not 500 <= status_of(answer) < 600, (request[:300], answer[:300])

        round_trip()
    # Whatever reached the app carries its headers.  The server's own refusals of a
    # request it cannot parse are made before the app, without them (and without
    # the "Server" header of gunicorn's answers for the app).
    from_app = 0
    for request, answer in answers:
        head = answer.split(b"\r\n\r\n", 1)[0].lower()
        if b"\r\ncontent-security-policy: default-src 'self'" in head:
            from_app += 1
        else:
            assert status_of(answer) in SERVER_REFUSALS, (request[:200], answer[:300])
            assert b"\r\nserver: gunicorn" not in head, (request[:200], answer[:300])
    assert from_app >= 20, from_app
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
