"""Cross-origin calls (``webui.cors``): off by default, on for the origins the operator lists,
for the JSON API and its description only, preflights answered (also for the write API)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request

import pytest

from conftest import REPO, make_client
from serving import serve

A, B, OTHER = "https://a.example", "https://b.example:8443", "https://evil.example"
KEY = "k" * 32


def _origin(resp):
    return resp.headers.get("Access-Control-Allow-Origin")


def test_off_by_default(seed_index, monkeypatch):
    monkeypatch.delenv("SEARCH_CORS_ORIGINS", raising=False)
    client = make_client(seed_index)
    for path in ["/api/search?q=洛阳", "/openapi.json", "/api/stats"]:
        resp = client.get(path, headers={"Origin": A})
        assert resp.status_code == 200 and _origin(resp) is None, path
    pre = client.options("/api/search", headers={"Origin": A,
                                                 "Access-Control-Request-Method": "GET"})
    assert _origin(pre) is None and "Access-Control-Allow-Methods" not in pre.headers


def test_listed_origins_may_call_the_api_and_read_its_description(seed_index):
    client = make_client(seed_index, SEARCH_CORS_ORIGINS=f"{A} {B}")
    for origin in (A, B):
        for path in ["/api/search?q=洛阳", "/openapi.json", "/api/suggest?q=luoy"]:
            resp = client.get(path, headers={"Origin": origin})
            assert resp.status_code == 200 and _origin(resp) == origin, (origin, path)
            assert "Origin" in resp.headers.get("Vary", "")
    # Errors too: a page of that origin can read why it was refused.
    bad = client.get("/api/search?page=0", headers={"Origin": A})
    assert bad.status_code == 400 and _origin(bad) == A
    assert bad.get_json()["code"] == "page_out_of_range"
    # Not another origin, and never the pages.
    assert _origin(client.get("/api/search?q=洛阳", headers={"Origin": OTHER})) is None
    for path in ["/", "/api", "/doc/nope", "/static/style.css"]:
        assert _origin(client.get(path, headers={"Origin": A})) is None, path


def test_the_environment_names_the_origins(seed_index, monkeypatch):
    monkeypatch.setenv("SEARCH_CORS_ORIGINS", f"{A},{B}")
    client = make_client(seed_index)
    assert _origin(client.get("/api/stats", headers={"Origin": B})) == B


def test_a_preflight_is_answered(seed_index):
    client = make_client(seed_index, SEARCH_CORS_ORIGINS=A)
    pre = client.options("/api/search", headers={
        "Origin": A, "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200 and _origin(pre) == A
    assert "GET" in pre.headers["Access-Control-Allow-Methods"]


def test_the_write_api_from_another_origin(tmp_path, seed_index):
    index = tmp_path / "index"
    shutil.copytree(seed_index, index, symlinks=True)
    client = make_client(index, SEARCH_CORS_ORIGINS=A, SEARCH_API_KEY=KEY)
    # The preflight carries no key: it is answered, not refused with a 401.
    pre = client.options("/api/documents/n1", headers={
        "Origin": A, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert pre.status_code == 200 and _origin(pre) == A
    allowed = pre.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "PUT" in pre.headers["Access-Control-Allow-Methods"]
    assert int(pre.headers["Access-Control-Max-Age"]) > 0
    put = client.put("/api/documents/n1", json={"title": "新闻", "text": "洛阳的呼叫中心"},
                     headers={"Origin": A, "Authorization": f"Bearer {KEY}"})
    assert put.status_code == 201 and _origin(put) == A
    assert "Location" in put.headers["Access-Control-Expose-Headers"]
    # The key is still needed for the request itself.
    refused = client.delete("/api/documents/n1", headers={"Origin": A})
    assert refused.status_code == 401 and _origin(refused) == A
    # A preflight from an origin not listed gets no permission.
    other = client.options("/api/documents/n1", headers={
        "Origin": OTHER, "Access-Control-Request-Method": "PUT"})
    assert _origin(other) is None


@pytest.mark.parametrize("value", ["a.example", "https://a.example/path", "ftp://a.example"])
def test_a_setting_that_is_not_an_origin_stops_the_app(seed_index, value):
    with pytest.raises(ValueError, match="not an origin"):
        make_client(seed_index, SEARCH_CORS_ORIGINS=value)


def test_serve_refuses_a_bad_origin_at_start(seed_index):
    said = subprocess.run([sys.executable, "-m", "search", "serve", "--index", str(seed_index),
                           "--port", "0", "--cors-origin", "a.example/x"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert said.returncode == 1 and "not an origin" in said.stderr


def test_serve_cors_origin_through_the_real_server(seed_index, tmp_path):
    with serve(seed_index, threads=2, log_path=tmp_path / "server.log",
               extra_args=["--cors-origin", A, "--cors-origin", B]) as (base, _proc):
        for origin, expected in [(A, A), (B, B), (OTHER, None)]:
            req = urllib.request.Request(base + "/api/stats", headers={"Origin": origin})
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert resp.headers.get("Access-Control-Allow-Origin") == expected, origin
        req = urllib.request.Request(base + "/api/search", method="OPTIONS", headers={
            "Origin": A, "Access-Control-Request-Method": "GET"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
            assert resp.headers["Access-Control-Allow-Origin"] == A
