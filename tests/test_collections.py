"""Several collections in one server (``webui.collections``), through the real
server: ``python -m search serve --index news=DIR --index poems=DIR`` over two
indexes with different documents (the seeds' news; generated poems), each
collection under its prefix and the default one at ``/`` too; a folder of
indexes (``--indexes``); names refused at start-up; gunicorn over
``SEARCH_INDEXES`` as the README says."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from poets_corpus import poet_records, write_poets
from search import build_index
from serving import REPO, Client, _wait_for_server, serve
from test_browser import free_port

SEEDS = REPO / "seeds"
KEY = "collections-test-key-0123456789"
NEWS_WORD, POEM_WORD = "洛阳", "明月"


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    root = tmp_path_factory.mktemp("collections")
    build_index([str(SEEDS)], root / "idx" / "news")
    build_index([str(write_poets(root / "poets"))], root / "idx" / "poems")
    scratch = root / "scratch.jsonl"
    scratch.write_text(json.dumps({"id": "s/1", "title": "草稿", "text": "一篇草稿。"},
                                  ensure_ascii=False) + "\n", encoding="utf-8")
    build_index([str(scratch)], root / "idx" / "scratch")
    (root / "idx" / "notes").mkdir()        # a folder that is not an index
    return root


@pytest.fixture(scope="module")
def site(indexes):
    """Two collections (news the default) and a third one the write API changes."""
    idx = indexes / "idx"
    env = {**os.environ, "SEARCH_API_KEY": KEY}
    with serve(f"news={idx / 'news'}", threads=4, log_path=indexes / "server.log", env=env,
               extra_args=["--index", f"poems={idx / 'poems'}",
                           "--index", f"scratch={idx / 'scratch'}", "--processes", "1"]) \
            as (base, _proc):
        client = Client(base)
        yield base, client
        client.close()


@pytest.fixture(scope="module")
def single(indexes):
    """A server of the news index alone, as one was served before collections."""
    with serve(indexes / "idx" / "news", threads=2, log_path=indexes / "single.log",
               extra_args=["--processes", "1"]) as (base, _proc):
        client = Client(base)
        yield client
        client.close()


def get(client, path):
    status, body, headers = client.get(path)
    return status, body.decode("utf-8"), headers


def search_json(client, path):
    status, data = client.json(path)
    assert status == 200, (path, data)
    return data


class Links(HTMLParser):
    """Every address a page gives (links, forms, scripts, styles, the box's
    suggestions), with the class of the element that gives it."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "action", "src", "data-suggest-url"):
            if attrs.get(name):
                self.found.append((tag, attrs.get("class") or "", attrs[name]))


def links_of(html: str) -> list[tuple[str, str, str]]:
    parser = Links()
    parser.feed(html)
    return parser.found


# -- each collection searches its own documents --------------------------------


def test_each_prefix_searches_only_its_own_collection_json(site):
    _, client = site
    poems = len(poet_records())
    assert search_json(client, "/news/api/search?q=" + quote(NEWS_WORD))["total"] > 0
    assert search_json(client, "/poems/api/search?q=" + quote(NEWS_WORD))["total"] == 0
    assert search_json(client, "/poems/api/search?q=" + quote(POEM_WORD))["total"] == poems
    assert search_json(client, "/news/api/search?q=" + quote(POEM_WORD))["total"] == 0
    news_ids = {h["id"] for h in search_json(client, "/news/api/search?per_page=100")["hits"]}
    assert news_ids == {p.name for p in SEEDS.glob("*.txt")}
    assert search_json(client, "/poems/api/stats")["documents"] == poems
    assert search_json(client, "/news/api/stats")["documents"] == len(news_ids)


def test_each_prefix_searches_only_its_own_collection_html(site):
    _, client = site
    status, news, _ = get(client, "/news/?q=" + quote(NEWS_WORD))
    assert status == 200 and "/news/doc/" in news and "呼叫中心" in news
    status, poems, _ = get(client, "/poems/?q=" + quote(NEWS_WORD))
    assert status == 200 and "/doc/" not in poems.replace("/poems/doc/", "")
    assert 'class="hit-title"' not in poems
    status, poems, _ = get(client, "/poems/?q=" + quote(POEM_WORD))
    assert status == 200 and 'href="/poems/doc/poem/' in poems and "呼叫中心" not in poems


def test_suggestions_are_the_collections_own(site):
    _, client = site
    news = [s["text"] for s in search_json(client, "/news/api/suggest?q=luo")]
    poems = [s["text"] for s in search_json(client, "/poems/api/suggest?q=" + quote("李"))]
    assert "洛阳" in news
    assert "李白" in poems
    assert "李白" not in [s["text"] for s in search_json(client, "/news/api/suggest?q="
                                                          + quote("李"))]


def test_documents_and_facet_pages_under_the_prefix(site):
    _, client = site
    status, page, _ = get(client, "/poems/doc/poem/0/0?q=" + quote(POEM_WORD))
    assert status == 200 and "李白的诗其1" in page and "<mark" in page
    assert get(client, "/news/doc/poem/0/0")[0] == 404
    assert get(client, "/poems/doc?id=" + quote("poem/0/0"))[0] == 200
    status, doc = client.json("/poems/api/doc/poem/0/0")
    assert status == 200 and doc["id"] == "poem/0/0"
    status, doc = client.json("/news/api/doc/poem/0/0")
    assert status == 404 and doc["code"] == "no_such_document"

    status, page, _ = get(client, "/poems/facet/author?q=" + quote(POEM_WORD) + "&contains="
                          + quote("李"))
    assert status == 200 and "李白" in page and 'href="/poems/?q=' in page
    status, values = client.json("/poems/api/facet/author?contains=" + quote("李"))
    assert status == 200 and [v["value"] for v in values["values"]] == ["李白"]
    status, refused = client.json("/news/api/facet/genre")
    assert status == 404 and refused["code"] == "no_such_facet"
    assert client.json("/poems/api/facet/genre")[0] == 200


def test_a_prefix_without_its_slash_is_sent_to_it(site):
    _, client = site
    status, _, headers = get(client, "/poems?q=" + quote(POEM_WORD))
    assert status == 308 and headers["location"].startswith("/poems/")


def test_redirects_stay_in_the_collection(site):
    _, client = site
    status, _, headers = get(client, "/poems/?q=" + quote(POEM_WORD) + "&f.author="
                             + quote("李白") + "&drop.f.author=" + quote("李白"))
    assert status == 303
    assert headers["location"] == "/poems/?q=" + quote(POEM_WORD)


# -- the default collection at / -------------------------------------------------


def _without_switch(html: str) -> str:
    html = re.sub(r'<link rel="stylesheet" href="[^"]*collections\.css">\n', "", html)
    html = re.sub(r'\s*<details class="collection-switch">.*?</details>', "", html, flags=re.S)
    return re.sub(r"用[时時]\s*[\d.]+\s*毫秒", "", html)


@pytest.mark.parametrize("path", [
    "/", "/?q=" + quote(NEWS_WORD), "/?q=" + quote(NEWS_WORD) + "&city=" + quote(NEWS_WORD),
    "/?q=" + quote("呼叫中心") + "&script=trad", "/facet/city?q=" + quote("呼叫中心"),
    "/doc/002_75dd12776f2b8123.txt?q=" + quote(NEWS_WORD), "/nothing/here",
    "/doc/no-such-document"])
def test_the_default_collection_answers_at_root_as_a_single_index_server(site, single, path):
    _, client = site
    status, page, headers = get(client, path)
    alone_status, alone, alone_headers = get(single, path)
    assert status == alone_status
    assert headers["content-type"] == alone_headers["content-type"]
    assert headers["content-security-policy"] == alone_headers["content-security-policy"]
    assert _without_switch(page) == _without_switch(alone)
    if status == 200:
        assert 'class="collection-switch"' in page and "collection-switch" not in alone


@pytest.mark.parametrize("path", [
    "/api/search?q=" + quote(NEWS_WORD), "/api/search?q=" + quote(POEM_WORD),
    "/api/doc/002_75dd12776f2b8123.txt", "/api/suggest?q=luo", "/api/facet/city",
    "/api/no-such-thing", "/api/search?page=0"])
def test_the_default_collections_api_at_root_as_a_single_index_server(site, single, path):
    _, client = site
    status, body, _ = get(client, path)
    alone_status, alone, _ = get(single, path)
    assert status == alone_status
    drop_timing = re.compile(r'"elapsed_ms":[\d.]+')
    assert drop_timing.sub("", body) == drop_timing.sub("", alone)


def test_the_default_is_also_under_its_prefix(site):
    _, client = site
    at_root = search_json(client, "/api/search?q=" + quote(NEWS_WORD))
    under_prefix = search_json(client, "/news/api/search?q=" + quote(NEWS_WORD))
    assert [h["id"] for h in at_root["hits"]] == [h["id"] for h in under_prefix["hits"]]
    status, page, _ = get(client, "/?q=" + quote(NEWS_WORD))
    # Reached at /, its links are the root's, as a single-index server's are.
    assert 'href="/doc/' in page and 'href="/news/doc/' not in page


# -- links and the switch ------------------------------------------------------------


PAGES = ["/?q=" + quote(POEM_WORD), "/", "/?q=" + quote(POEM_WORD) + "&f.genre=" + quote("绝句"),
         "/?q=" + quote("没有这种词语"), "/doc/poem/3/0?q=" + quote(POEM_WORD),
         "/facet/author?q=" + quote(POEM_WORD), "/?q=" + quote(POEM_WORD) + "&script=trad",
         "/?page=0"]


@pytest.mark.parametrize("page", PAGES)
def test_links_in_pages_stay_within_their_collection(site, page):
    _, client = site
    status, html, _ = get(client, "/poems" + page)
    assert status in (200, 400)
    found = links_of(html)
    assert found
    for tag, classes, url in found:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith("#"):
            continue
        if "collection-link" in classes:
            continue        # the switch: the one way to another collection
        assert parts.path.startswith("/poems/"), (page, tag, url)


def test_links_of_a_page_lead_to_pages_of_the_same_collection(site):
    _, client = site
    _, html, _ = get(client, "/poems/?q=" + quote(POEM_WORD))
    local = sorted({url for _, classes, url in links_of(html)
                    if url.startswith("/") and "collection-link" not in classes})
    assert len(local) > 10
    for url in local:
        status, body, _ = get(client, url.replace("&amp;", "&"))
        assert status == 200, url
        if url.startswith("/poems/doc/"):
            assert "呼叫中心" not in body


def test_the_switch_lists_every_collection_and_keeps_the_query(site):
    _, client = site
    _, html, _ = get(client, "/poems/?q=" + quote(POEM_WORD) + "&f.genre=" + quote("绝句")
                     + "&script=trad&page=2")
    switch = [(url, classes) for tag, classes, url in links_of(html) if "collection-link" in classes]
    query = "?q=" + quote(POEM_WORD) + "&script=trad"
    assert [url for url, _ in switch] == ["/news/" + query, "/poems/" + query, "/scratch/" + query]
    current = re.findall(r'<a class="collection-link"[^>]*aria-current="page"[^>]*>([^<]+)</a>', html)
    assert current == ["poems"]
    assert re.search(r'<span class="collection-current"[^>]*>poems</span>', html)
    # A document page: the query goes along, the document does not (it is not there).
    _, html, _ = get(client, "/poems/doc/poem/3/0?q=" + quote(POEM_WORD))
    urls = [url for _, classes, url in links_of(html) if "collection-link" in classes]
    assert urls[0] == "/news/?q=" + quote(POEM_WORD)
    # A script that is not one is refused here, and not carried to be refused there.
    status, html, _ = get(client, "/poems/?q=" + quote(POEM_WORD) + "&script=xyz")
    urls = [url for _, classes, url in links_of(html) if "collection-link" in classes]
    assert status == 400 and urls[0] == "/news/?q=" + quote(POEM_WORD)


def test_a_single_index_server_has_no_switch(single):
    _, html, _ = get(single, "/?q=" + quote(NEWS_WORD))
    assert "collection" not in html


def test_api_collections_lists_prefixes_and_document_counts(site):
    _, client = site
    listed = search_json(client, "/api/collections")
    assert listed["default"] == "news"
    by_name = {c["name"]: c for c in listed["collections"]}
    assert list(by_name) == ["news", "poems", "scratch"]
    for name, entry in by_name.items():
        assert entry["prefix"] == "/" + name and entry["url"] == f"/{name}/"
        assert entry["default"] == (name == "news")
        assert entry["documents"] == search_json(client, f"/{name}/api/stats")["documents"]
    assert by_name["poems"]["documents"] == len(poet_records())


def test_each_collections_api_description_names_its_own_prefix(site):
    _, client = site
    assert search_json(client, "/openapi.json")["servers"] == [{"url": "/"}]
    for name in ("news", "poems"):
        spec = search_json(client, f"/{name}/openapi.json")
        assert spec["servers"] == [{"url": f"/{name}/"}]
        assert "/api/search" in spec["paths"] and "/api/collections" in spec["paths"]


def test_metrics_count_each_collections_requests_apart(site):
    _, client = site
    def count(route):
        status, text, _ = get(client, "/metrics")
        assert status == 200
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("search_http_requests_total{")
                   and f'route="{route}"' in line)
    before = {name: count(f"/{name}/api/stats") for name in ("news", "poems")}
    for _ in range(3):
        assert get(client, "/poems/api/stats")[0] == 200
    assert get(client, "/news/api/stats")[0] == 200
    assert count("/poems/api/stats") - before["poems"] == 3
    assert count("/news/api/stats") - before["news"] == 1


# -- the write API under a prefix --------------------------------------------------


def _request(base, method, path, body=None):
    request = urllib.request.Request(
        base + path, method=method, data=body,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, dict(resp.headers), _json_or_text(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), _json_or_text(exc.read())


def _json_or_text(body: bytes):
    # The server's own refusals (413 ...) are plain text, the app's JSON.
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def test_the_write_api_changes_its_own_collection(site):
    base, client = site
    body = json.dumps({"title": "新草稿", "text": "第二篇草稿，写在 scratch 里。"},
                      ensure_ascii=False).encode("utf-8")
    status, headers, _ = _request(base, "PUT", "/scratch/api/documents/s/2", body)
    assert status == 201
    assert headers["Location"] == "/scratch/api/doc?id=s%2F2"
    assert search_json(client, "/scratch/api/search?q=" + quote("草稿"))["total"] == 2
    assert search_json(client, "/news/api/search?q=" + quote("草稿"))["total"] == 0
    assert client.json(headers["Location"])[1]["title"] == "新草稿"
    status, _, _ = _request(base, "DELETE", "/scratch/api/documents/s/2")
    assert status == 200
    assert search_json(client, "/scratch/api/search?q=" + quote("草稿"))["total"] == 1


def test_a_large_write_under_a_prefix_is_read_as_the_write_apis(site):
    # The server buffers a write request with its key beyond the 1 MiB of
    # other requests (webui.serve), under a collection's prefix too.
    base, _ = site
    text = "长" * 500_000       # 1.5 MB of UTF-8
    body = json.dumps({"title": "长文", "text": text}, ensure_ascii=False).encode("utf-8")
    assert len(body) > 1024 * 1024
    status, _, answer = _request(base, "PUT", "/scratch/api/documents/long", body)
    assert status in (200, 201, 400), (status, answer)
    if status != 400:
        _request(base, "DELETE", "/scratch/api/documents/long")


# -- start-up -----------------------------------------------------------------------


def _serve(*args, env=None):
    return subprocess.run([sys.executable, "-m", "search", "serve", *args, "--port", "0"],
                          cwd=REPO, capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize("name", ["api", "doc", "facet", "static", "healthz", "metrics",
                                  "API", "Static"])
def test_names_of_the_apps_own_routes_are_refused_at_start_up(indexes, name):
    done = _serve("--index", f"{name}={indexes / 'idx' / 'news'}",
                  "--index", f"poems={indexes / 'idx' / 'poems'}")
    assert done.returncode == 2
    assert "serving" not in done.stdout
    assert f"collection name '{name}' is taken by the app's own /{name.lower()}/" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args, said", [
    (["--index", "新闻=X", "--index", "poems=Y"], "use ASCII letters, digits"),
    (["--index", "a.b=X", "--index", "poems=Y"], "use ASCII letters, digits"),
    (["--index", "news=X", "--index", "NEWS=Y"], "two collections named 'NEWS' and 'news'"),
    (["--index", "news=X", "--index", "poems=Y", "--default", "films"],
     "--default films: no such collection (there are news, poems)"),
    (["--index", "news="], "the folder after news= is missing"),
    (["--indexes", "/no/such/folder"], "--indexes /no/such/folder: no such folder"),
])
def test_bad_collections_are_refused_at_start_up(args, said):
    done = _serve(*args)
    assert done.returncode == 2 and "serving" not in done.stdout
    assert said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_folder_of_indexes_serves_each_and_says_what_it_skips(indexes):
    log_path = indexes / "folder.log"
    log = open(log_path, "w+", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "search", "serve", "--indexes", str(indexes / "idx"),
         "--default", "poems", "--host", "127.0.0.1", "--port", "0", "--processes", "1"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = _wait_for_server(proc, log)
        client = Client(base)
        listed = search_json(client, "/api/collections")
        assert [c["name"] for c in listed["collections"]] == ["news", "poems", "scratch"]
        assert listed["default"] == "poems"
        assert search_json(client, "/api/search?q=" + quote(POEM_WORD))["total"] == \
            len(poet_records())
        assert get(client, "/notes/")[0] == 404
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
    said = log_path.read_text(encoding="utf-8")
    assert f"note: {indexes / 'idx' / 'notes'} is not an index: not served" in said


def test_a_plain_index_is_served_as_before(indexes, single):
    # No prefix, no list of collections: /news/ and /api/collections are unknown pages.
    assert get(single, "/news/")[0] == 404
    status, refused = single.json("/api/collections")
    assert status == 404 and refused["code"] == "not_found"


def test_gunicorn_over_search_indexes_as_the_readme_says(indexes):
    idx = indexes / "idx"
    port = free_port()
    env = {**os.environ, "SEARCH_INDEXES": f"news={idx / 'news'},poems={idx / 'poems'}",
           "SEARCH_DEFAULT_COLLECTION": "poems"}
    log = open(indexes / "gunicorn.log", "w+", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1",
         "webui.collections:from_environment()"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        log.write(f"serving {base}/\n")
        log.flush()
        _wait_for_server(proc, log)
        client = Client(base)
        assert search_json(client, "/api/search?q=" + quote(POEM_WORD))["total"] == \
            len(poet_records())
        assert search_json(client, "/news/api/search?q=" + quote(NEWS_WORD))["total"] > 0
        assert [c["name"] for c in search_json(client, "/api/collections")["collections"]] \
            == ["news", "poems"]
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_an_unknown_collection_is_a_page_not_found(site):
    _, client = site
    status, page, _ = get(client, "/films/?q=" + quote(NEWS_WORD))
    assert status == 404 and "没有这个页面或文档" in page
