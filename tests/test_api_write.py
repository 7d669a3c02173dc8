"""The write API (``webui.documents``) through the real Flask app over a real index.

Every status it can answer, and after each change a search through the same
app finds the document (or no longer does).  Each test uses its own words and
ids, so the tests share one index built from the seeds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from urllib.parse import quote

import pytest

from conftest import SEEDS, build, make_client
from search.store.layout import write_lock
from search.store.merging import wait_for_merges

KEY = "test-key-0123456789-abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
NDJSON = {**AUTH, "Content-Type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("write-api") / "index"
    build([SEEDS], index_dir)
    return index_dir


@pytest.fixture()
def client(index_dir):
    yield make_client(index_dir, SEARCH_API_KEY=KEY)
    # A background merge must not hold the lock into the next test's wait.
    wait_for_merges(index_dir)


def found(client, q: str) -> list[str]:
    resp = client.get("/api/search?q=" + quote(q))
    assert resp.status_code == 200, resp.get_json()
    return [hit["id"] for hit in resp.get_json()["hits"]]


def live_generation(client) -> str:
    return client.get("/api/stats").get_json()["generation"]


# ---------------------------------------------------------------------------
# Off without a key; a key is needed, and compared in constant time


@pytest.mark.parametrize("method", ["put", "delete", "post"])
def test_without_a_key_configured_the_routes_are_absent(index_dir, method, monkeypatch):
    monkeypatch.delenv("SEARCH_API_KEY", raising=False)
    monkeypatch.delenv("SEARCH_API_KEY_FILE", raising=False)
    client = make_client(index_dir)
    before = live_generation(client)
    path = "/api/documents" + ("/off/1" if method != "post" else "")
    resp = getattr(client, method)(path, json={"id": "off/1", "text": "蝾螈"}, headers=AUTH)
    assert resp.status_code == 404
    assert resp.get_json()["error"] == "no such page or document"
    assert resp.get_json()["code"] == "not_found"
    assert live_generation(client) == before


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key-0123456789"},
                                     {"Authorization": f"Basic {KEY}"},
                                     {"Authorization": f"Bearer {KEY}x"},
                                     {"Authorization": "Bearer"},
                                     {"Authorization": "Bearer 密钥".encode().decode("latin-1")}],
                         ids=["missing", "wrong", "other scheme", "longer", "empty", "not ascii"])
def test_a_missing_or_wrong_key_is_401_with_a_bearer_challenge(client, headers):
    before = live_generation(client)
    for resp in (client.put("/api/documents/auth/1", json={"text": "蝾螈"}, headers=headers),
                 client.delete("/api/documents/auth/1", headers=headers),
                 client.post("/api/documents", data='{"id": "auth/2", "text": "蝾螈"}',
                             headers={**headers, "Content-Type": "application/x-ndjson"})):
        assert resp.status_code == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in resp.get_json()["error"] or \
            "not the write API's key" in resp.get_json()["error"]
    assert live_generation(client) == before


def test_the_key_is_compared_in_constant_time(client, monkeypatch):
    import hmac

    from webui import documents
    calls = []
    real_compare = hmac.compare_digest

    def compare(a, b):
        calls.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(documents.hmac, "compare_digest", compare)
    assert client.delete("/api/documents/ct/none", headers=AUTH).status_code == 404
    assert client.delete("/api/documents/ct/none",
                         headers={"Authorization": "Bearer nope"}).status_code == 401
    assert calls == [(KEY.encode(), KEY.encode()), (b"nope", KEY.encode())]


@pytest.mark.parametrize("key", ["short", "x" * 15, "has space in the key 0123", "密钥" * 10])
def test_a_weak_or_unsendable_key_is_refused_at_start(index_dir, key):
    from webui import create_app
    with pytest.raises(ValueError, match="SEARCH_API_KEY") as caught:
        create_app(index_dir, {"SEARCH_API_KEY": key})
    assert "16" in str(caught.value) or "visible ASCII" in str(caught.value)


def test_the_key_is_read_from_the_environment_or_a_key_file(index_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("SEARCH_API_KEY_FILE", raising=False)
    monkeypatch.setenv("SEARCH_API_KEY", KEY)
    client = make_client(index_dir)
    assert client.delete("/api/documents/env/none", headers=AUTH).status_code == 404
    assert client.delete("/api/documents/env/none").status_code == 401

    key_file = tmp_path / "key"
    key_file.write_text("from-a-file-0123456789\n")
    monkeypatch.delenv("SEARCH_API_KEY")
    monkeypatch.setenv("SEARCH_API_KEY_FILE", str(key_file))
    client = make_client(index_dir)
    resp = client.delete("/api/documents/env/none",
                         headers={"Authorization": "Bearer from-a-file-0123456789"})
    assert resp.status_code == 404 and resp.get_json()["not_found"] == ["env/none"]

    from webui import create_app
    monkeypatch.setenv("SEARCH_API_KEY", KEY)
    with pytest.raises(ValueError, match="both"):
        create_app(index_dir)
    monkeypatch.delenv("SEARCH_API_KEY")
    monkeypatch.setenv("SEARCH_API_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="cannot read the key file"):
        create_app(index_dir)


# ---------------------------------------------------------------------------
# PUT and DELETE one document


def test_put_adds_then_replaces_and_delete_removes_and_search_follows(client):
    assert found(client, "蝾螈") == []
    resp = client.put("/api/documents/news/蝾螈", headers=AUTH, json={
        "title": "洛阳发现蝾螈", "text": "洛阳的山里发现了蝾螈。", "date": "2026-12-01",
        "city": "洛阳", "author": "记者甲"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["added"] == ["news/蝾螈"] and body["replaced"] == [] and body["visible"] is True
    assert body["generation"] == live_generation(client)
    assert body["documents"] == client.get("/api/stats").get_json()["documents"]
    assert "index_dir" not in body
    assert resp.headers["Location"] == "/api/doc?id=" + quote("news/蝾螈", safe="")
    assert found(client, "蝾螈") == ["news/蝾螈"]
    doc = client.get(resp.headers["Location"]).get_json()
    assert doc["title"] == "洛阳发现蝾螈" and doc["date"] == "2026-12-01" and doc["cities"] == ["洛阳"]
    facets = client.get("/api/search?q=" + quote("蝾螈")).get_json()["facets"]
    assert {"value": "记者甲", "count": 1} in facets["author"]

    # The body's id may be given when it is the address's.
    resp = client.put("/api/documents/news/蝾螈", headers=AUTH,
                      json={"id": "news/蝾螈", "title": "改了", "text": "这里只剩鸭嘴兽。"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["replaced"] == ["news/蝾螈"] and resp.get_json()["added"] == []
    assert found(client, "蝾螈") == [] and found(client, "鸭嘴兽") == ["news/蝾螈"]

    resp = client.delete("/api/documents/news/蝾螈", headers=AUTH)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["deleted"] == ["news/蝾螈"] and body["visible"] is True
    assert body["generation"] == live_generation(client)
    assert found(client, "鸭嘴兽") == []
    assert client.get("/api/doc?id=" + quote("news/蝾螈")).status_code == 404


def test_deleting_what_is_not_there_is_404_json_and_changes_nothing(client):
    before = live_generation(client)
    resp = client.delete("/api/documents/no/such/doc", headers=AUTH)
    assert resp.status_code == 404
    body = resp.get_json()
    assert (body["error"], body["not_found"]) == ("no document with this id", ["no/such/doc"])
    assert body["code"] == "no_such_document" and body["message"] == "没有这个编号的文档"
    assert live_generation(client) == before


def test_ids_a_path_cannot_hold_go_by_query(client):
    odd = "odd//穿山甲/../x?#%"
    resp = client.put("/api/documents?id=" + quote(odd, safe=""), headers=AUTH,
                      json={"text": "穿山甲的编号很奇怪。"})
    assert resp.status_code == 201, resp.get_json()
    assert found(client, "穿山甲") == [odd]
    resp = client.delete("/api/documents?id=" + quote(odd, safe=""), headers=AUTH)
    assert resp.status_code == 200 and resp.get_json()["deleted"] == [odd]
    assert found(client, "穿山甲") == []
    resp = client.delete("/api/documents", headers=AUTH)
    assert resp.status_code == 400 and "id" in resp.get_json()["error"]


@pytest.mark.parametrize("body, reason", [
    (b'{"text": "unclosed', "not valid JSON"),
    (b'["text", "an array"]', "JSON object"),
    (b'"just a string"', "JSON object"),
    (b'{"title": "no text"}', '"text"'),
    (b'{"text": "   "}', '"text"'),
    (b'{"id": "other", "text": "\xe8\x9d\xbe"}', "is not the id of the address"),
    (b'{"text": "\xff\xfe bytes"}', "not UTF-8"),
    (b'{"text": "\\ud800 lone"}', "surrogate"),
    (b"[" * 100_000, "JSON"),
    (b"", "not valid JSON"),
], ids=["broken", "array", "string", "no text", "blank text", "other id", "not utf-8",
        "surrogate", "deep", "empty"])
def test_a_bad_document_is_400_with_the_reason(client, body, reason):
    before = live_generation(client)
    resp = client.put("/api/documents/bad/1", data=body,
                      headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status_code == 400, resp.get_data()
    assert reason in resp.get_json()["error"]
    assert live_generation(client) == before


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-ndjson",
                                          "application/x-www-form-urlencoded"])
def test_put_of_another_type_is_415(client, content_type):
    headers = dict(AUTH)
    if content_type:
        headers["Content-Type"] = content_type
    resp = client.put("/api/documents/type/1", data='{"text": "犰狳"}', headers=headers)
    assert resp.status_code == 415
    assert "application/json" in resp.get_json()["error"]
    assert found(client, "犰狳") == []


def test_a_json_content_type_with_a_charset_is_json(client):
    resp = client.put("/api/documents/type/2", data='{"text": "树懒慢慢地爬。"}'.encode(),
                      headers={**AUTH, "Content-Type": "application/json; charset=utf-8"})
    assert resp.status_code == 201, resp.get_json()
    assert found(client, "树懒") == ["type/2"]
    assert client.delete("/api/documents/type/2", headers=AUTH).status_code == 200


def test_a_body_over_the_limit_is_413_with_the_reason(index_dir):
    client = make_client(index_dir, SEARCH_API_KEY=KEY, SEARCH_API_MAX_BYTES=1000)
    big = json.dumps({"text": "考拉" * 600}, ensure_ascii=False)
    for resp in (client.put("/api/documents/big/1", data=big,
                            headers={**AUTH, "Content-Type": "application/json"}),
                 client.post("/api/documents", data=big, headers=NDJSON)):
        assert resp.status_code == 413
        assert "1,000 bytes" in resp.get_json()["error"]
        assert "SEARCH_API_MAX_BYTES" in resp.get_json()["error"]
    assert found(client, "考拉") == []
    small = json.dumps({"text": "考拉睡觉。"}, ensure_ascii=False)
    resp = client.put("/api/documents/big/1", data=small,
                      headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status_code == 201
    assert client.delete("/api/documents/big/1", headers=AUTH).status_code == 200


def test_the_default_limit_is_16_mib(index_dir):
    from webui.documents import DEFAULT_MAX_BYTES
    assert DEFAULT_MAX_BYTES == 16 * 1024 * 1024
    client = make_client(index_dir, SEARCH_API_KEY=KEY)
    resp = client.post("/api/documents", data=b"x" * (DEFAULT_MAX_BYTES + 1), headers=NDJSON)
    assert resp.status_code == 413


def test_other_methods_are_405_naming_the_ones_answered(client):
    resp = client.patch("/api/documents/x", headers=AUTH, json={"text": "x"})
    assert resp.status_code == 405
    assert resp.get_json()["error"] == "this address only answers DELETE, GET, PUT requests"
    assert client.get("/api/documents/x").status_code == 404


# ---------------------------------------------------------------------------
# A busy writer lock


def _hold_in_another_process(index_dir):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from pathlib import Path\n"
         "from search.store.layout import write_lock\n"
         "with write_lock(Path(sys.argv[1]), wait=10):\n"
         "    print('held', flush=True)\n"
         "    sys.stdin.read()\n", str(index_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.mark.parametrize("where", ["this process", "another process"])
def test_a_writer_lock_held_past_the_wait_is_503_with_retry_after(index_dir, where):
    client = make_client(index_dir, SEARCH_API_KEY=KEY, SEARCH_API_WAIT=0.5)
    wait_for_merges(index_dir)
    before = live_generation(client)
    holder = None
    held = write_lock(index_dir, wait=10)
    if where == "this process":
        held.__enter__()
    else:
        holder = _hold_in_another_process(index_dir)
    try:
        started = time.monotonic()
        answers = [client.put("/api/documents/busy/1", headers=AUTH, json={"text": "狐獴"}),
                   client.delete("/api/documents/busy/1", headers=AUTH),
                   client.post("/api/documents", headers=NDJSON,
                               data='{"id": "busy/2", "text": "狐獴"}')]
        took = time.monotonic() - started
        for resp in answers:
            assert resp.status_code == 503, resp.get_json()
            assert int(resp.headers["Retry-After"]) > 0
            assert "another writer" in resp.get_json()["error"]
        # Each waited its SEARCH_API_WAIT (0.5 s), not more.
        assert 1.4 < took < 5, took
        assert live_generation(client) == before
    finally:
        if holder is None:
            held.__exit__(None, None, None)
        else:
            holder.communicate("")
    resp = client.put("/api/documents/busy/1", headers=AUTH, json={"text": "狐獴"})
    assert resp.status_code == 201
    assert found(client, "狐獴") == ["busy/1"]
    wait_for_merges(index_dir)      # the merge it started holds the lock a moment
    assert client.delete("/api/documents/busy/1", headers=AUTH).status_code == 200


# ---------------------------------------------------------------------------
# Bulk


def test_bulk_json_lines_all_good_is_one_change(client):
    before = live_generation(client)
    lines = [{"id": f"bulk/{n}", "title": f"海象{n}", "text": f"第{n}头海象上岸了。"}
             for n in range(5)]
    resp = client.post("/api/documents", headers={**AUTH, "Content-Type": "application/jsonl"},
                       data="\n".join(json.dumps(r, ensure_ascii=False) for r in lines) + "\n\n")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert sorted(body["added"]) == [f"bulk/{n}" for n in range(5)]
    assert body["committed"] is True and body["rejected"] == [] and body["visible"] is True
    assert body["generation"] == live_generation(client) != before
    assert sorted(found(client, "海象")) == [f"bulk/{n}" for n in range(5)]
    # Again: each is replaced.
    resp = client.post("/api/documents", headers=NDJSON,
                       data="\n".join(json.dumps(r, ensure_ascii=False) for r in lines))
    assert resp.status_code == 200 and sorted(resp.get_json()["replaced"]) == \
        [f"bulk/{n}" for n in range(5)]
    for n in range(5):
        assert client.delete(f"/api/documents/bulk/{n}", headers=AUTH).status_code == 200
    assert found(client, "海象") == []


def test_bulk_with_bad_lines_keeps_the_good_ones_and_names_the_bad(client):
    data = "\n".join([
        json.dumps({"id": "mixed/1", "text": "河狸筑坝。"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "mixed/2", "title": "no text"}),
        "",
        json.dumps([1, 2]),
        json.dumps({"id": "mixed/1", "text": "第二只河狸。"}, ensure_ascii=False),
        json.dumps({"text": "河狸没有编号。"}, ensure_ascii=False),
        json.dumps({"id": "mixed/3", "text": "又一只河狸。", "date": "2026-02-30"},
                   ensure_ascii=False),
    ])
    resp = client.post("/api/documents", headers=NDJSON, data=data)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["committed"] is True and body["visible"] is True
    assert sorted(body["added"]) == ["mixed/1", "mixed/3"]
    assert body["generation"] == live_generation(client)
    assert body["rejected_count"] == 5
    reasons = {entry["line"]: entry for entry in body["rejected"]}
    assert sorted(reasons) == [2, 3, 5, 6, 7]
    assert "not valid JSON" in reasons[2]["reason"]
    assert '"text"' in reasons[3]["reason"] and reasons[3]["id"] == "mixed/2"
    assert "JSON object" in reasons[5]["reason"]
    assert "line 1 already" in reasons[6]["reason"]
    assert '"id"' in reasons[7]["reason"]
    assert "5 lines" in body["error"] and body["code"] == "some_rejected"
    assert body["message"] == "有 5 条没能建索引；2 篇文档已添加或替换"
    # An impossible date is a warning, not a refusal.
    assert any("mixed/3" in w["source"] for w in body["warnings"])
    assert sorted(found(client, "河狸")) == ["mixed/1", "mixed/3"]
    assert found(client, "第二只") == []
    for doc_id in ("mixed/1", "mixed/3"):
        assert client.delete(f"/api/documents/{doc_id}", headers=AUTH).status_code == 200


def test_bulk_with_no_good_line_is_400_and_changes_nothing(client):
    before = live_generation(client)
    for data, bad_lines in (("", 0), ("\n\n", 0), ("{bad\n[1]\n", 2)):
        resp = client.post("/api/documents", headers=NDJSON, data=data)
        assert resp.status_code == 400
        body = resp.get_json()
        assert body["committed"] is False and "added" not in body
        assert body["rejected_count"] == len(body["rejected"]) == bad_lines
        assert body["error"] == ("no document in the body" if not bad_lines
                                 else "no line could be indexed; nothing was changed")
        assert body["code"] == ("empty_body" if not bad_lines else "nothing_indexed")
    assert live_generation(client) == before


def test_bulk_as_a_json_array(client):
    docs = [{"id": "array/1", "text": "刺猬团成球。"}, {"text": "no id"},
            {"id": "array/2", "text": "刺猬吃虫子。"}]
    resp = client.post("/api/documents", headers=AUTH, json=docs)
    assert resp.status_code == 400
    body = resp.get_json()
    assert sorted(body["added"]) == ["array/1", "array/2"]
    assert body["rejected"] == [{"item": 2, "reason": body["rejected"][0]["reason"]}]
    assert sorted(found(client, "刺猬")) == ["array/1", "array/2"]
    resp = client.post("/api/documents", headers=AUTH, json={"id": "array/3", "text": "x"})
    assert resp.status_code == 400 and "array" in resp.get_json()["error"]
    for doc_id in ("array/1", "array/2"):
        assert client.delete(f"/api/documents/{doc_id}", headers=AUTH).status_code == 200


def test_bulk_of_another_type_is_415(client):
    resp = client.post("/api/documents", headers={**AUTH, "Content-Type": "text/csv"},
                       data="id,text\n1,x\n")
    assert resp.status_code == 415
    assert "application/x-ndjson" in resp.get_json()["error"]


def test_a_long_list_of_bad_lines_is_cut_with_its_count(client):
    from webui.documents import MAX_LISTED_REJECTIONS
    resp = client.post("/api/documents", headers=NDJSON, data="x\n" * 3000)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["rejected_count"] == 3000 and len(body["rejected"]) == MAX_LISTED_REJECTIONS


def test_a_change_without_an_index_is_503_saying_how_to_build_one(tmp_path):
    client = make_client(tmp_path / "no-index", SEARCH_API_KEY=KEY)
    resp = client.put("/api/documents/x", headers=AUTH, json={"text": "蝾螈"})
    assert resp.status_code == 503
    assert "zhsearch index SOURCE --index" in resp.get_json()["error"]
    assert not (tmp_path / "no-index").exists()
