"""The OpenAPI document (``webui.openapi``): every route described, valid 3.1, and
strict enough that the app's real answers fit it and a broken one does not."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from apispec_webframeworks.flask import FlaskPlugin
from jsonschema.exceptions import ValidationError
from markupsafe import escape
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from conftest import REPO, make_client
from serving import serve
from test_browser import browser  # noqa: F401

KEY = "k" * 32


@pytest.fixture(scope="module")
def app(seed_index):
    from webui import create_app
    return create_app(index_dir=seed_index, config={"TESTING": True})


@pytest.fixture(scope="module")
def spec(app):
    resp = app.test_client().get("/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()


def _schema_of(spec, path, method, status, media="application/json"):
    answer = spec["paths"][path][method]["responses"][str(status)]
    return answer["content"][media]["schema"]


def check(spec, path, method, status, body):
    """``body`` against the spec's schema for that answer (refs resolved in the spec)."""
    schema = {**_schema_of(spec, path, method, status), "components": spec["components"]}
    OAS31Validator(schema).validate(body)


def test_every_rule_of_the_app_is_described(app, spec):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = FlaskPlugin.flaskpath2openapi(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = spec["paths"].get(path, {}).get(method.lower())
            if not op or not op.get("responses"):
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes the OpenAPI document does not describe: " + ", ".join(missing)
    # Nothing described that the app does not serve.
    served = {FlaskPlugin.flaskpath2openapi(r.rule) for r in app.url_map.iter_rules()}
    assert set(spec["paths"]) <= served


def test_the_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate_spec(spec)


def test_path_parameters_are_declared(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names == set(re.findall(r"{([^}]+)}", path)), (method, path)


def test_pages_are_html_and_the_write_api_needs_a_bearer_key(spec):
    for path in ("/", "/doc/{doc_id}", "/doc", "/facet/{name}", "/api"):
        assert "text/html" in spec["paths"][path]["get"]["responses"]["200"]["content"]
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"]}
    for method in ("put", "delete"):
        op = spec["paths"]["/api/documents/{doc_id}"][method]
        assert op["security"] == [{"bearer": []}] and "401" in op["responses"]
    assert spec["paths"]["/api/documents"]["post"]["security"] == [{"bearer": []}]


def test_real_answers_fit_the_document(app, spec):
    client = app.test_client()
    doc_id = client.get("/api/search?q=洛阳").get_json()["hits"][0]["id"]
    answers = [
        ("/api/search", "/api/search?q=洛阳&per_page=3", 200),
        ("/api/search", "/api/search?q=luoyang&script=trad", 200),
        ("/api/search", "/api/search?q=洛阳 呼叫中心 压缩", 200),
        ("/api/search", "/api/search?city=北京", 200),
        ("/api/search", "/api/search?sort=newest&facet_limit=0", 200),
        ("/api/search", "/api/search?page=0", 400),
        ("/api/doc/{doc_id}", f"/api/doc/{doc_id}?q=洛阳&script=simp", 200),
        ("/api/doc/{doc_id}", "/api/doc/nope", 404),
        ("/api/doc", f"/api/doc?id={doc_id}", 200),
        ("/api/suggest", "/api/suggest?q=luoy", 200),
        ("/api/suggest", "/api/suggest?limit=x", 400),
        ("/api/explain", f"/api/explain?q=洛阳&doc={doc_id}", 200),
        ("/api/explain", "/api/explain?q=&doc=nope", 200),
        ("/api/related/{doc_id}", f"/api/related/{doc_id}", 200),
        ("/api/related", "/api/related?id=nope", 404),
        ("/api/stats", "/api/stats", 200),
        ("/api/facet/{name}", "/api/facet/city?contains=ly&script=trad", 200),
        ("/api/facet/{name}", "/api/facet/nope", 404),
        ("/api/{anything}", "/api/nothing/here", 404),
    ]
    for path, url, status in answers:
        resp = client.get(url)
        assert resp.status_code == status, url
        check(spec, path, "get", status, resp.get_json())


def test_the_write_api_answers_fit_the_document(tmp_path, seed_index):
    import shutil
    index = tmp_path / "index"
    shutil.copytree(seed_index, index, symlinks=True)
    client = make_client(index, SEARCH_API_KEY=KEY)
    spec = client.get("/openapi.json").get_json()
    auth = {"Authorization": f"Bearer {KEY}"}
    put = client.put("/api/documents/n1", json={"title": "新闻", "text": "洛阳的呼叫中心"},
                     headers=auth)
    check(spec, "/api/documents/{doc_id}", "put", 201, put.get_json())
    lines = '{"id": "n2", "text": "贵阳"}\n{"id": "n3"}\n'
    bulk = client.post("/api/documents", data=lines, headers=auth,
                       content_type="application/x-ndjson")
    check(spec, "/api/documents", "post", 400, bulk.get_json())
    refused = client.post("/api/documents", data='{"id": "x"}\n', headers=auth,
                          content_type="application/x-ndjson")
    check(spec, "/api/documents", "post", 400, refused.get_json())
    gone = client.delete("/api/documents/n1", headers=auth)
    check(spec, "/api/documents/{doc_id}", "delete", 200, gone.get_json())
    missing = client.delete("/api/documents/n1", headers=auth)
    check(spec, "/api/documents/{doc_id}", "delete", 404, missing.get_json())
    unauthorised = client.delete("/api/documents/n2")
    assert unauthorised.status_code == 401
    check(spec, "/api/documents/{doc_id}", "delete", 401, unauthorised.get_json())


@pytest.mark.parametrize("breakage", [
    lambda hit: hit.pop("title_html"),
    lambda hit: hit.pop("snippets_text"),
    lambda hit: hit.__setitem__("score", "high"),
    lambda hit: hit.__setitem__("snippets", "one snippet"),
    lambda hit: hit.__setitem__("match", "most"),
    lambda hit: hit.__setitem__("origin", [{"kind": "planet", "text": "火星"}]),
    lambda hit: hit.__setitem__("surprise", 1),
], ids=["no title_html", "no snippets_text", "score as text", "snippets not a list",
        "unknown match", "unknown origin kind", "a key not described"])
def test_a_broken_hit_breaks_the_schema(app, spec, breakage):
    good = app.test_client().get("/api/search?q=洛阳").get_json()
    check(spec, "/api/search", "get", 200, good)
    bad = copy.deepcopy(good)
    breakage(bad["hits"][0])
    with pytest.raises(ValidationError):
        check(spec, "/api/search", "get", 200, bad)


def test_a_broken_error_breaks_the_schema(app, spec):
    error = app.test_client().get("/api/search?page=0").get_json()
    del error["code"]
    with pytest.raises(ValidationError):
        check(spec, "/api/search", "get", 400, error)


def test_the_api_page_reads_the_document_under_the_csp(app, spec):
    client = app.test_client()
    resp = client.get("/api")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    page = resp.get_data(as_text=True)
    assert "接口说明" in page and '<html lang="zh-Hans">' in page
    # No script of its own, nothing from another origin.
    assert not re.search(r"<script(?![^>]*src=\"/static/)", page)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    for path, item in spec["paths"].items():
        for method in item:
            assert f"<code>{path}</code>" in page, path
            assert f'id="{item[method]["operationId"]}"' in page
    for name in spec["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    # Each operation said in Chinese, its English beside it.
    for item in spec["paths"].values():
        for op in item.values():
            assert str(escape(op["x-description-zh"])) in page
            assert str(escape(op["description"])) in page
    moved = client.get("/api/docs")
    assert moved.status_code == 308 and moved.headers["Location"] == "/api"


def test_a_405_names_the_methods_the_address_answers(app):
    # RFC 9110; found by fuzzing from the description (schemathesis' unsupported_method).
    client = app.test_client()
    for path in ["/api/stats", "/", "/openapi.json"]:
        resp = client.delete(path)
        assert resp.status_code == 405 and resp.headers["Allow"] == "GET, HEAD, OPTIONS", path
    assert client.delete("/api/stats").get_json()["code"] == "method_not_allowed"


def test_the_document_is_json_as_served(spec):
    # What /openapi.json sends is the document itself, not a Python repr.
    assert json.loads(json.dumps(spec)) == spec


def _readme_block(marker: str) -> str:
    """The README's ``sh`` block holding ``marker``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    found = [b for b in blocks if marker in b]
    assert len(found) == 1, f"one README block with {marker!r}, found {len(found)}"
    return found[0]


def test_the_readme_example_runs_against_the_real_server(seed_index, tmp_path):
    block = _readme_block("/openapi.json | python")
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("# "):
            steps[-1][1].append(line[2:])
        elif line.strip():
            steps.append((line, []))
    assert len(steps) >= 5 and all(expected for _, expected in steps)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with serve(seed_index, threads=2, log_path=tmp_path / "server.log",
               extra_args=["--cors-origin", "https://a.example"]) as (base, _proc):
        for command, expected in steps:
            run = subprocess.run(["bash", "-c", command.replace("http://127.0.0.1:8000", base)],
                                 cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
            said = [line.rstrip("\r") for line in run.stdout.splitlines()]
            assert run.returncode == 0, (command, run.stderr)
            assert [s.lower() for s in said] == [e.lower() for e in expected], command


@pytest.mark.slow
@pytest.mark.parametrize("size", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_the_api_page_in_a_browser(seed_index, tmp_path, browser, size):  # noqa: F811
    from test_browser import axe_violations, no_horizontal_scroll, shot, watch_console
    with serve(seed_index, threads=2, log_path=tmp_path / "server.log") as (base, _proc):
        context = browser.new_context(viewport=size, locale="zh-CN")
        page = context.new_page()
        errors = watch_console(page, [])
        failed = []
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
        try:
            page.goto(base + "/api/docs")
            page.wait_for_load_state("networkidle")
            assert page.url == base + "/api"
            assert page.locator("h1").first.inner_text() == "接口说明"
            assert page.locator("article.api-op").count() >= 20
            assert not axe_violations(page)
            assert no_horizontal_scroll(page)
            shot(page, f"api-{size['width']}")
            # The table of contents leads to each operation.
            page.locator(".api-toc a[href='#api_search_get']").click()
            assert page.url.endswith("#api_search_get")
        finally:
            context.close()
    # Everything the page loads is there (a browser asks for /favicon.ico by itself).
    assert [u for u in failed if not u.endswith("/favicon.ico")] == []
    assert not [e for e in errors if "Failed to load resource" not in e], errors
