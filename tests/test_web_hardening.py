"""What the web app refuses before its code runs, and what it never sends.

* the search page's size grows with the search, not with the search times the
  number of facet values (facet values and chips are buttons of one form);
* a ``Host`` header that is not a host name is a 400 with the security
  headers, never a 500 (the test client and a real server);
* redirects have relative locations and ``Cache-Control: no-store``;
* a damaged index is a 503 with what is wrong;
* JSON never holds ``Infinity`` or ``NaN``.
"""

from __future__ import annotations

import json
import math
import shutil
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from conftest import build, make_client
from serving import raw_request, serve, status_of
from webui import SECURITY_HEADERS, create_app

# A query at the length limit, most of it exclusions (9 bytes a character, encoded).
LONG_QUERY = ("呼叫中心 " + " ".join(f"-排除词{i}" for i in range(200)))[:1000]


def wsgi_get(app, path: str, query_string: str = "", **headers):
    """``(status, headers, body)`` of a GET sent straight to the WSGI app.

    The test client itself fails on some ``Host`` values (it decodes them for
    its cookie jar), so hostile headers go through this instead.
    """
    environ = EnvironBuilder(path=path, query_string=query_string, headers=headers).get_environ()
    body, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), response_headers, b"".join(body)


def assert_security_headers(headers) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name


def strict_json(text: str):
    """JSON as a browser's ``JSON.parse`` reads it: no ``Infinity`` or ``NaN``."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


class FormButtons(HTMLParser):
    """The named submit buttons of a page, each with the form fields it submits."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, list[tuple[str, str]]] = {}
        self.actions: dict[str, str] = {}
        self.buttons: list[dict] = []
        self._form = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = attrs.get("id", "")
            self.actions[self._form] = attrs.get("action", "/")
            self.fields.setdefault(self._form, [])
        elif tag == "input" and attrs.get("name") and self._form is not None:
            self.fields[self._form].append((attrs["name"], attrs.get("value") or ""))
        elif tag == "button" and attrs.get("name"):
            self.buttons.append(attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None

    def click(self, button: dict) -> str:
        """The URL a browser asks for when ``button`` is clicked."""
        form = button["form"]
        pairs = self.fields[form] + [(button["name"], button.get("value", ""))]
        return self.actions[form] + "?" + urlencode(pairs)


# ---------------------------------------------------------------------------
# 7. The page's size follows the search's size


def page_bytes(client, pairs) -> tuple[int, int]:
    url = "/?" + urlencode(pairs)
    resp = client.get(url)
    assert resp.status_code == 200, (resp.status_code, resp.get_data(as_text=True)[:300])
    return len(url), len(resp.get_data())


def test_long_query_with_many_filters_gives_a_page_bounded_by_the_query(corpus_client):
    many_cities = [("city", f"城市{i}") for i in range(97)] + [("city", "洛阳"), ("year", "2014")]
    url_alone, alone = page_bytes(corpus_client, [("q", LONG_QUERY)])
    url_many, many = page_bytes(corpus_client, [("q", LONG_QUERY)] + many_cities)
    assert url_many > 6_000
    # Ten result links, sort, script and page links carry the search; facet values,
    # chips and "drop this filter" suggestions do not (the old page: 1.6 MB here).
    assert many < 40_000 + 30 * url_many, (url_many, many)
    # Each filter adds its own few hundred bytes, not another copy of the query.
    per_filter = (many - alone) / len(many_cities)
    assert per_filter < 2_000 < url_alone, per_filter


def test_a_facet_button_submits_the_search_with_one_value_more(corpus_client, cix):
    html = corpus_client.get("/?" + urlencode([("q", "呼叫中心"), ("city", "洛阳"),
                                               ("sort", "newest")])).get_data(as_text=True)
    page = FormButtons(html)
    facet_buttons = [b for b in page.buttons if "facet-link" in b.get("class", "")]
    assert facet_buttons and all(b["form"] == "search-form" for b in facet_buttons)
    # The search is in the page once (the header's form), not once per value.
    assert html.count('name="sort" value="newest"') == 1
    [year] = [b for b in facet_buttons if b["name"] == "year" and b["value"] == "2014"]
    assert year["aria-pressed"] == "false"
    added = page.click(year)
    assert parse_qs(urlsplit(added).query) == {"q": ["呼叫中心"], "city": ["洛阳"],
                                               "sort": ["newest"], "year": ["2014"]}
    resp = corpus_client.get(added)
    assert resp.status_code == 200
    expected = cix.search("呼叫中心", city="洛阳", year="2014").total
    assert f'<strong class="total">{expected}</strong>' in resp.get_data(as_text=True)


def test_a_chosen_value_or_chip_drops_its_filter_by_a_relative_uncached_redirect(corpus_client):
    html = corpus_client.get("/?q=呼叫中心&city=洛阳&city=北京&page=2").get_data(as_text=True)
    page = FormButtons(html)
    chosen = [b for b in page.buttons if b["name"] == "drop.city" and b["value"] == "洛阳"]
    assert {b["class"].split()[0] for b in chosen} == {"facet-link", "chip"}
    assert all(b.get("aria-pressed", "true") == "true" for b in chosen)
    for button in chosen:
        resp = corpus_client.get(page.click(button))
        assert resp.status_code == 303
        assert resp.headers["Location"] == "/?q=%E5%91%BC%E5%8F%AB%E4%B8%AD%E5%BF%83&city=%E5%8C%97%E4%BA%AC"
        assert resp.headers["Cache-Control"] == "no-store"
        assert_security_headers(resp.headers)
    # Dropping the last filter of an empty query lands on the start page.
    resp = corpus_client.get("/?q=&city=洛阳&drop.city=洛阳")
    assert resp.status_code == 303 and resp.headers["Location"] == "/"


# ---------------------------------------------------------------------------
# 8. A Host header that is not a host name


BAD_HOSTS = ["a..b", "a" * 64 + ".example", ".", "xn--a.example", "xn--zz", "a b",
             "\u00e9.example", "evil.example:99999", "user@evil.example", "a/b", "[zz]"]
GOOD_HOSTS = ["localhost:8000", "127.0.0.1", "[::1]:8000", "search.example.org",
              "xn--fiqs8s.example", "my_service:8000", "example.org."]
PATHS = ["/", "/doc/x", "/static/style.css", "/api/stats", "/api//search"]


@pytest.fixture()
def cix(corpus_index):
    from search import open_index
    return open_index(corpus_index)


@pytest.fixture(scope="module")
def app(corpus_index):
    return create_app(index_dir=corpus_index)


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_a_host_that_is_not_a_name_is_refused_with_400(app, host):
    for path in PATHS:
        status, headers, body = wsgi_get(app, path, Host=host)
        assert status == 400, (host, path, status)
        assert_security_headers(headers)
        assert headers["Cache-Control"] == "no-store"
        if path.startswith("/api/"):
            data = json.loads(body)
            assert "Host header" in data["error"] and data["code"] == "bad_host"
            assert "主机名" in data["message"]
        else:
            # In Chinese, then in English, as plain text: Flask never saw the request.
            chinese, english = body.decode("utf-8").splitlines()
            assert "主机名" in chinese and english.startswith("the Host header is not a valid")


@pytest.mark.parametrize("host", GOOD_HOSTS)
def test_real_host_names_are_served(app, host):
    for path in ["/", "/static/style.css", "/api/stats"]:
        status, headers, _ = wsgi_get(app, path, Host=host)
        assert status == 200, (host, path, status)
        assert_security_headers(headers)


def test_bad_hosts_through_a_real_server_answer_400_without_a_traceback(corpus_index, tmp_path):
    log = tmp_path / "server.log"
    with serve(corpus_index, threads=2, log_path=log) as (base, _proc):
        for host in [b"a..b", b"a" * 64 + b".example", b"xn--a.example", b"\xc3\xa9.example"]:
            for path in [b"/", b"/doc/x", b"/static/style.css", b"/api/stats"]:
                answer = raw_request(base, b"GET " + path + b" HTTP/1.1\r\nHost: " + host
                                     + b"\r\nConnection: close\r\n\r\n")
                assert status_of(answer) == 400, (host, path, answer[:200])
                head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
                assert "content-security-policy: default-src 'self'" in head
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


# ---------------------------------------------------------------------------
# 9. Redirects never name the request's host


def test_a_merged_slash_redirect_is_relative_and_uncached(app):
    status, headers, body = wsgi_get(app, "/api//search", "q=a", Host="evil.example")
    assert status == 308
    assert headers["Location"] == "/api/search?q=a"
    assert headers["Cache-Control"] == "no-store"
    assert b"evil.example" not in body
    assert_security_headers(headers)


def test_no_redirect_location_reads_as_another_host(app):
    for path in ["//evil.example//x", "//evil.example/api//stats", "/api///stats", "/doc//x//y"]:
        status, headers, body = wsgi_get(app, path, Host="evil.example")
        assert status < 500
        location = headers.get("Location")
        if location is not None:
            assert location.startswith("/") and not location.startswith("//"), (path, location)
            assert urlsplit(location).netloc == "", (path, location)
            assert headers["Cache-Control"] == "no-store"


def test_redirects_through_a_real_server_are_relative(corpus_index, tmp_path):
    with serve(corpus_index, threads=2, log_path=tmp_path / "server.log") as (base, _proc):
        answer = raw_request(base, b"GET /api//search?q=a HTTP/1.1\r\nHost: evil.example\r\n"
                                   b"Connection: close\r\n\r\n")
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert status_of(answer) == 308
    assert "\r\nlocation: /api/search?q=a\r\n" in head + "\r\n"
    assert "cache-control: no-store" in head
    assert b"evil.example" not in answer


# ---------------------------------------------------------------------------
# 11. A damaged index is a 503 with what is wrong


def test_index_damaged_is_a_503_with_its_message(corpus_index):
    from search import IndexDamaged
    app = create_app(index_dir=corpus_index, config={"TESTING": True})
    message = "the index at /srv/index is damaged: facets.pickle fails its check"

    def damaged():
        raise IndexDamaged(message)
    app.add_url_rule("/api/damaged-for-test", "api_damaged", damaged)
    app.add_url_rule("/damaged-for-test", "page_damaged", damaged)
    client = app.test_client()
    resp = client.get("/api/damaged-for-test")
    assert resp.status_code == 503 and resp.get_json()["error"] == message
    assert resp.get_json()["code"] == "index_damaged" and "已损坏" in resp.get_json()["message"]
    resp = client.get("/damaged-for-test")
    assert resp.status_code == 503 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "索引已损坏" in html and "facets.pickle fails its check" in html
    assert "is damaged" not in html
    assert_security_headers(resp.headers)


@pytest.mark.parametrize("garbled", ["facets.pickle", "_MAIN_1.toc"])
def test_a_garbled_index_file_answers_503_never_500(corpus_index, tmp_path, garbled):
    from search import IndexDamaged, open_index
    copy = tmp_path / "index"
    shutil.copytree(corpus_index, copy, symlinks=True)
    [generation] = [p for p in copy.glob("gen-*") if p.is_dir()]
    target = generation / garbled
    if not target.exists():
        pytest.skip(f"this index has no {garbled}")
    target.write_bytes(b"\x80\x04garbled" + bytes(range(256)) * 4)
    client = make_client(copy)
    try:
        open_index(copy).search("呼叫中心")
        library_says_damaged = False
    except IndexDamaged:
        library_says_damaged = True
    for url in ["/?q=呼叫中心", "/", "/api/search?q=呼叫中心", "/api/stats"]:
        resp = client.get(url)
        assert resp.status_code != 500, (url, resp.get_data(as_text=True)[:300])
        assert b"Traceback" not in resp.get_data()
        if url.startswith("/api/search") or url == "/?q=呼叫中心":
            if library_says_damaged:
                assert resp.status_code == 503, url
                text = resp.get_data(as_text=True)
                said = "damaged" if url.startswith("/api/") else "已损坏"
                assert said in text and garbled in text


# ---------------------------------------------------------------------------
# 12. JSON never holds Infinity or NaN


def test_json_responses_send_non_finite_numbers_as_null(corpus_index):
    from flask import jsonify
    app = create_app(index_dir=corpus_index, config={"TESTING": True})
    app.add_url_rule("/api/numbers-for-test", "numbers", lambda: jsonify(
        {"big": math.inf, "list": [math.nan, 1.5, -math.inf], "deep": {"x": [{"y": math.nan}]},
         "fine": 2.5, "text": "Infinity"}))
    resp = app.test_client().get("/api/numbers-for-test")
    assert resp.status_code == 200
    assert strict_json(resp.get_data(as_text=True)) == {
        "big": None, "list": [None, 1.5, None], "deep": {"x": [{"y": None}]},
        "fine": 2.5, "text": "Infinity"}


def test_a_document_with_1e400_and_nan_gives_valid_json(tmp_path):
    source = tmp_path / "docs"
    source.mkdir()
    # JSON text as a source may hold it: 1e400 reads as infinity, NaN as not-a-number.
    (source / "numbers.jsonl").write_text(
        '{"id": "n/1", "title": "数字", "text": "很大的数字。", "score": 1e400, "ratio": NaN}\n'
        '{"id": "n/2", "title": "普通", "text": "普通的数字。", "score": 3}\n', encoding="utf-8")
    build([source], tmp_path / "index")
    client = make_client(tmp_path / "index")
    for url in ["/api/doc/n/1", "/api/search?q=数字", "/api/search", "/api/related/n/1",
                "/api/stats", "/api/explain?q=数字&doc=n/1"]:
        resp = client.get(url)
        assert resp.status_code < 500, url
        strict_json(resp.get_data(as_text=True))
    # The page shows the document (or, if ingestion refused it, says it is not there).
    assert client.get("/doc/n/1").status_code in (200, 404)


def test_page_of_a_missing_index_is_still_503(tmp_path):
    # The guards sit around the app: the no-index answer is unchanged.
    client = make_client(tmp_path / "nothing-here")
    resp = client.get("/api/stats")
    assert resp.status_code == 503 and "error" in resp.get_json()
    assert_security_headers(resp.headers)
