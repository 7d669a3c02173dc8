"""Security: what a query or a document can do to a page, a URL or the server.

``test_webui.py`` already checks the hostile documents of ``conftest`` (script
tags, handlers, ``javascript:`` links, ``</mark>``) on every page, and the
security headers.  Here: the query echoed everywhere it appears (title,
heading, box, messages, error pages, JSON), markup in filter names and values,
ids that look like URLs or paths, files outside the index, and raw HTTP the
production server (gunicorn) receives.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest

from tests.helpers import write_jsonl
from tests.serving import raw_request, serve, status_of

SCRIPT = '<script>alert("q")</script>'
IMG = "<img src=x onerror=alert(1)>"
# The page's own scripts (webui/static).
STATIC_SCRIPTS = {"/static/app.js", "/static/facets.js"}

ALLOWED_TAGS = {"html", "head", "meta", "title", "link", "script", "body", "a", "header", "div",
                "form", "label", "input", "button", "p", "kbd", "code", "pre", "main", "footer",
                "section", "h1", "h2", "h3", "h4", "ul", "ol", "li", "span", "strong", "nav",
                "aside", "details", "summary", "time", "mark", "article", "dl", "dt", "dd", "em",
                "small", "select", "option", "abbr", "br", "s"}


class Tags(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.title = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def assert_inert(html: str, where: str):
    """Only our own tags, no handlers, no script URLs, links that stay on this site."""
    page = Tags(html)
    for tag, attrs in page.tags:
        assert tag in ALLOWED_TAGS, (where, tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (where, tag, attrs)
        if tag == "script":
            assert attrs.get("src") in STATIC_SCRIPTS, (where, attrs)
        for name in ("href", "src", "action", "formaction"):
            value = (attrs.get(name) or "").strip()
            if not value:
                continue
            lower = re.sub(r"[\x00-\x20]", "", value).lower()
            assert not lower.startswith(("javascript:", "data:", "vbscript:")), (where, attrs)
            if value.startswith(("http://", "https://")):
                assert "noopener" in attrs.get("rel", ""), (where, attrs)   # a document's own URL
            else:
                assert value.startswith(("/", "#", "?")) and not value.startswith("//"), (where, attrs)
                assert "\\" not in value.split("?")[0], (where, attrs)
    # Only the page's own scripts, each a file of webui/static.
    assert html.count("<script") == len(STATIC_SCRIPTS), where
    return page


# ---------------------------------------------------------------------------
# An index of documents whose ids and fields are made to escape


HOSTILE_RECORDS = [
    {"id": "javascript:alert(1)", "title": "编号是脚本网址", "text": "这篇文档的编号是一个脚本网址。"},
    {"id": "//evil.example/x", "title": "编号是外站网址", "text": "这篇文档的编号以两个斜杠开头。"},
    {"id": "\\\\evil.example\\x", "title": "编号有反斜杠", "text": "这篇文档的编号有反斜杠。"},
    {"id": "../../etc/passwd", "title": "编号像密码文件", "text": "这不是密码文件，只是一个编号奇怪的文档。"},
    {"id": "data:text/html,<script>alert(1)</script>", "title": "编号是数据网址",
     "text": "这篇文档的编号是一个数据网址。"},
    {"id": "hostile/fields", "title": f"{IMG}字段", "text": f"正文 {SCRIPT} 字段很危险。",
     "url": " JaVaScRiPt:alert(1)", "link": "javascript\t:alert(1)", "home": "https://ok.example/页",
     "author": IMG, "tags": [SCRIPT, "</mark><mark>"]},
]


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory):
    from search import build_index
    root = tmp_path_factory.mktemp("hostile-ids")
    write_jsonl(root / "docs.jsonl", HOSTILE_RECORDS)
    report = build_index([root / "docs.jsonl"], root / "index")
    assert report.indexed == len(HOSTILE_RECORDS), report.summary()
    return root / "index"


@pytest.fixture(scope="module")
def hclient(hostile_index):
    from webui import create_app
    return create_app(index_dir=hostile_index, config={"TESTING": True}).test_client()


@pytest.fixture(scope="module")
def sclient(seed_index):
    from webui import create_app
    return create_app(index_dir=seed_index, config={"TESTING": True}).test_client()


# ---------------------------------------------------------------------------
# The query, echoed


@pytest.mark.parametrize("q", [SCRIPT, IMG, '"><script>alert(1)</script>', "</mark><mark>洛阳",
                               "</title><script>alert(1)</script>", "' onmouseover='alert(1)",
                               "javascript:alert(1)", "{{7*7}}", "${7*7}", "&lt;script&gt;"])
def test_the_query_is_escaped_wherever_it_is_echoed(sclient, q):
    # The results page (no results: the message echoes it too).
    resp = sclient.get("/", query_string={"q": q})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    page = assert_inert(html, q)
    assert q[:60] in page.title or q[:57] in page.title         # the title says it, as text
    assert "49" not in page.title                                 # and no template ran it
    for tag, attrs in page.tags:
        if tag == "input" and attrs.get("name") == "q":
            assert attrs.get("value") == q
    # A query with a phrase, an exclusion and a filter: suggestions echo it.
    resp = sclient.get("/", query_string={"q": f'"{q}" -{q}', "city": q})
    assert resp.status_code == 200
    assert_inert(resp.get_data(as_text=True), "suggestions " + q)
    # A 400 page (the query over the limit) echoes it in its title and links.
    resp = sclient.get("/", query_string={"q": q + "字" * 1000})
    assert resp.status_code == 400
    assert_inert(resp.get_data(as_text=True), "400 " + q)
    # A document page marks it.
    resp = sclient.get("/doc/002_75dd12776f2b8123.txt", query_string={"q": q})
    assert resp.status_code == 200
    assert_inert(resp.get_data(as_text=True), "doc " + q)


def test_the_query_in_json_is_data_not_markup(sclient):
    resp = sclient.get("/api/search", query_string={"q": SCRIPT + " 洛阳"})
    assert resp.mimetype == "application/json"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers.get("Cache-Control") == "no-store"
    data = resp.get_json()
    assert data["query"] == SCRIPT + " 洛阳"                     # the data, exactly
    for hit in data["hits"]:
        assert "<script" not in hit["snippet"]
        assert set(re.findall(r"<[^>]*>", hit["snippet"])) <= {"<mark>", "</mark>"}
    resp = sclient.get("/api/search", query_string={"q": SCRIPT + "字" * 1000})
    assert resp.status_code == 400 and resp.mimetype == "application/json"


@pytest.mark.parametrize("url", [
    "/?city=" + quote(SCRIPT), "/?year=" + quote(SCRIPT), "/?sort=" + quote(SCRIPT),
    "/?f." + quote(IMG) + "=x", "/?f.author=" + quote(IMG), "/?page=" + quote(SCRIPT),
    "/?per_page=" + quote(IMG), "/?q=x&city=" + quote("</mark>") + "&city=" + quote(IMG),
])
def test_markup_in_filter_names_and_values_is_text(sclient, url):
    resp = sclient.get(url)
    assert resp.status_code in (200, 400), url
    html = resp.get_data(as_text=True)
    assert_inert(html, url)
    api = sclient.get("/api/search" + url[1:])
    assert api.mimetype == "application/json" and api.status_code == resp.status_code


# ---------------------------------------------------------------------------
# Ids and fields that look like URLs or paths


def test_result_links_to_odd_ids_stay_on_this_site(hclient):
    resp = hclient.get("/?per_page=100")
    page = assert_inert(resp.get_data(as_text=True), "all results")
    doc_links = [a["href"] for t, a in page.tags if t == "a" and a.get("href", "").startswith("/doc")]
    assert len(doc_links) >= len(HOSTILE_RECORDS)
    for record in HOSTILE_RECORDS:
        resp = hclient.get("/api/search", query_string={"q": record["title"]})
        assert record["id"] in [h["id"] for h in resp.get_json()["hits"]]


@pytest.mark.parametrize("record", HOSTILE_RECORDS, ids=[r["id"][:20] for r in HOSTILE_RECORDS])
def test_documents_with_odd_ids_open_from_the_index(hclient, record):
    from webui import create_app
    from webui.params import doc_url
    with create_app(index_dir="unused").test_request_context():
        url = doc_url(record["id"], [("q", "文档")])
    assert url.startswith("/doc") and not url.startswith("//")
    resp = hclient.get(url)
    assert resp.status_code == 200, url
    html = resp.get_data(as_text=True)
    assert_inert(html, url)
    assert record["text"][-5:] in re.sub(r"</?mark[^>]*>", "", html).replace("&lt;", "<")
    assert "root:" not in html


def test_a_document_field_with_a_script_url_is_not_a_link(hclient):
    html = hclient.get("/doc/hostile/fields").get_data(as_text=True)
    page = assert_inert(html, "fields")
    hrefs = [a.get("href", "") for t, a in page.tags if t == "a"]
    assert "https://ok.example/页" in hrefs                       # a web address is a link
    assert not [h for h in hrefs if "alert" in h]                  # a script address is text
    assert "JaVaScRiPt:alert(1)" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize("url", [
    "/static/../../pyproject.toml", "/static/..%2f..%2fpyproject.toml",
    "/static/%2e%2e/%2e%2e/search/cli.py", "/static/..%5c..%5cpyproject.toml",
    "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/doc/..%2f..%2f..%2fetc%2fpasswd",
    "/api/doc/%2e%2e/%2e%2e/etc/passwd", "/doc?id=/etc/passwd", "/api/doc?id=/etc/passwd",
    "/api/related/../../etc/passwd", "/static/app.js%00.css",
])
def test_paths_reach_nothing_outside_the_index(sclient, url):
    resp = sclient.get(url)
    if resp.status_code == 308:
        # Werkzeug merges doubled slashes with a redirect, on this site, to a path
        # that is no more than a 404 either.
        location = urlsplit(resp.headers["Location"])
        assert location.netloc in ("", "localhost"), resp.headers["Location"]
        resp = sclient.get(location.path)
    assert resp.status_code in (404, 400), (url, resp.status_code)
    body = resp.get_data(as_text=True)
    assert "root:" not in body and "[build-system]" not in body and "def main" not in body


def test_a_path_like_id_is_looked_up_in_the_index_only(hclient):
    for url in ["/doc?id=../../etc/passwd", "/doc/../../etc/passwd", "/doc/..%2F..%2Fetc%2Fpasswd",
                "/api/doc?id=../../etc/passwd"]:
        resp = hclient.get(url)
        body = resp.get_data(as_text=True)
        assert "root:" not in body
        if resp.status_code == 200:            # the indexed document of that name, nothing else
            assert "这不是密码文件" in body, url
        else:
            assert resp.status_code == 404, url


def test_a_foreign_host_header_is_not_echoed(sclient):
    resp = sclient.get("/?q=洛阳", headers={"Host": "evil.example"})
    assert resp.status_code == 200 and "evil.example" not in resp.get_data(as_text=True)


# ---------------------------------------------------------------------------
# Raw HTTP to the production server


@pytest.fixture(scope="module")
def server(seed_index, tmp_path_factory):
    log = tmp_path_factory.mktemp("raw-http") / "server.log"
    with serve(seed_index, threads=4, log_path=log) as (base, proc):
        yield base, proc, log


def test_no_redirect_leaves_the_site(server):
    base, _, _ = server
    for path in [b"//evil.example", b"//evil.example/", b"/doc//evil.example/x", b"/static//evil.example",
                 b"/api//evil.example", b"/doc/%2f%2fevil.example", b"/%2f%2fevil.example", b"/\\evil.example",
                 b"///evil.example/x"]:
        response = raw_request(base, b"GET " + path + b" HTTP/1.1\r\nHost: good.example\r\n"
                                                      b"Connection: close\r\n\r\n")
        head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        locations = re.findall(r"(?im)^location:\s*(\S+)", head)
        assert status_of(response) in (308, 404), (path, head)
        for location in locations:
            assert urlsplit(location).netloc in ("", "good.example"), (path, location)


RAW_REQUESTS = {
    "bytes that are not UTF-8 in the query": (b"GET /?q=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
    "bytes that are not UTF-8 in the API": (b"GET /api/search?q=\xe6\xb4 HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
    "bytes that are not UTF-8 in the path": (b"GET /doc/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", {400, 404}),
    "escaped bytes that are not UTF-8": (b"GET /api/search?q=%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
    "a 10,000-character query": (b"GET /api/search?q=" + b"%E5%AD%97" * 10_000
                                 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {400, 414}),
    "a URL over the header limit": (b"GET /?q=" + b"a" * 300_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                                    {431, 400, 414}),
    "a path that climbs out": (b"GET /static/../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", {404, 400}),
    "an escaped path that climbs out": (b"GET /static/..%2f..%2fpyproject.toml HTTP/1.1\r\nHost: x\r\n\r\n",
                                        {404, 400}),
    "an absolute URL": (b"GET http://evil.example/doc/x HTTP/1.1\r\nHost: x\r\n\r\n", {404, 400}),
    "NUL in the query": (b"GET /api/search?q=%00%00 HTTP/1.1\r\nHost: x\r\n\r\n", {200}),
    "HTTP/1.0 without a host": (b"GET /api/stats HTTP/1.0\r\n\r\n", {200}),
    "a huge page number": (b"GET /api/search?page=" + b"9" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
    "a POST": (b"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nq=abc", {405}),
    "a DELETE": (b"DELETE /doc/x HTTP/1.1\r\nHost: x\r\n\r\n", {405}),
    "a TRACE": (b"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", {405}),
    "garbage": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(100) + b"\r\n\r\n", {400, 0}),
    "a header line without a colon": (b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", {400}),
}


@pytest.mark.parametrize("name", sorted(RAW_REQUESTS))
def test_raw_requests_get_a_clear_answer_never_a_500(server, name):
    base, proc, _ = server
    request, expected = RAW_REQUESTS[name]
    if b"Connection:" not in request and b"HTTP/1.1" in request.split(b"\r\n")[0]:
        request = request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
    response = raw_request(base, request)
    assert status_of(response) in expected, (name, response[:300])
    assert b"Traceback" not in response and b"root:" not in response
    assert proc.poll() is None


def test_the_server_sends_the_security_headers_and_logs_no_traceback(server):
    base, _, log = server
    for path in [b"/", b"/?q=%3Cscript%3E", b"/?page=0", b"/nope", b"/api/search?q=x",
                 b"/static/style.css", b"/doc/%ff"]:
        response = raw_request(base, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
        assert "content-security-policy: default-src 'self'" in head, path
        assert "x-content-type-options: nosniff" in head, path
        assert "x-frame-options: deny" in head, path
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


def test_every_response_of_the_app_has_the_headers(sclient, tmp_path):
    from webui import create_app
    responses = [sclient.get(u) for u in ["/", "/?page=0", "/nope", "/api/nope", "/static/app.js",
                                          "/doc/x", "/api/doc/x"]]
    responses.append(create_app(index_dir=tmp_path / "none").test_client().get("/"))    # 503
    assert {r.status_code for r in responses} >= {200, 400, 404, 503}
    for resp in responses:
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
        assert resp.headers["X-Frame-Options"] == "DENY"


def test_json_error_bodies_are_json_with_only_messages_and_codes(sclient):
    for url in ["/api/search?page=0", "/api/search?q=%ff", "/api/doc/none", "/api/nope",
                "/api/search?f." + quote(SCRIPT) + "=1"]:
        resp = sclient.get(url)
        assert resp.mimetype == "application/json", url
        data = json.loads(resp.get_data(as_text=True))
        assert set(data) == {"error", "code", "param", "message", "message_en"}
        assert isinstance(data["error"], str) and data["code"] and data["message"]
        for said in (data["error"], data["message"]):
            assert "Traceback" not in said and "/work/" not in said
    resp = sclient.post("/api/search")
    assert resp.status_code == 405 and resp.mimetype == "application/json"
    assert urlsplit(resp.request.url).path == "/api/search"
