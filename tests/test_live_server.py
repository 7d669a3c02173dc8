"""The real server (``python -m search serve``, gunicorn, several processes) while
documents are added, replaced and deleted: through the write API and, once,
through the Python ``IndexWriter`` of this process.

A 16-client load of pages and API searches runs meanwhile: every answer must
be a 200, each added or replaced document must be found by the first search
after its change is answered (polled, within 1 s), and a deleted one must be
gone as soon.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from urllib.parse import quote, urlsplit

import pytest

from search import build_index, open_index
from tests.helpers import SEEDS
from tests.serving import Client, serve
from tests.test_load import Hammer, corpus

KEY = "live-server-key-0123456789"
LOAD_CLIENTS = 16
LOAD_SECONDS = 10.0
VISIBLE_WITHIN = 1.0

pytestmark = pytest.mark.slow


class PageAndSearchLoad(Hammer):
    """Result pages, document pages and API searches over the seeds and the generated records."""

    PATHS = ["/api/search?q=" + quote("呼叫中心"), "/?q=" + quote("洛阳") + "&city=" + quote("洛阳"),
             "/api/search?q=" + quote("洛陽 呼叫中心") + "&per_page=20", "/?q=" + quote("贵阳"),
             "/doc/shared/1?q=" + quote("洛阳"), "/api/search?sort=newest&per_page=5",
             "/?q=" + quote('"呼叫中心" -贵阳'), "/api/stats", "/"]


class Writer:
    """Changes over HTTP, each timed from its answer until a search shows it."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.poller = Client(base)
        self.visible_after: list[tuple[str, float, int]] = []   # (what, seconds, searches)
        self.statuses: list[tuple[str, int, str]] = []
        self.seconds: list[float] = []      # of each change, until its answer

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/json") -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {KEY}"}
        if body is not None:
            headers["Content-Type"] = content_type
        # A connection of its own: a change is one request, not a stream of them.
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        self.statuses.append((f"{method} {path}", resp.status, data[:300].decode(errors="replace")))
        self.seconds.append(time.monotonic() - started)
        return resp.status, json.loads(data)

    def hits(self, word: str) -> list[str]:
        status, body, _ = self.poller.get("/api/search?q=" + quote(word))
        assert status == 200, body[:300]
        return [hit["id"] for hit in json.loads(body)["hits"]]

    def wait_until(self, what: str, condition) -> None:
        """Poll until ``condition()``; record how long after now the search that
        first showed it was sent (a search's own time under the load is not
        the change's), and how many searches that took."""
        started = time.monotonic()
        polls = 0
        while True:
            sent = time.monotonic()
            polls += 1
            if condition():
                self.visible_after.append((what, sent - started, polls))
                return
            if sent - started > VISIBLE_WITHIN:
                self.visible_after.append((what, float("inf"), polls))
                return
            time.sleep(0.02)

    def put(self, doc_id: str, word: str, title: str) -> dict:
        record = {"title": title, "text": f"实时文档 {word} 的正文，洛阳的呼叫中心。",
                  "city": "洛阳", "date": "2026-12-01"}
        status, report = self.request("PUT", "/api/documents/" + quote(doc_id),
                                       json.dumps(record, ensure_ascii=False).encode())
        assert status in (200, 201), report
        assert report["visible"] is True and report["generation"]
        return report


@pytest.fixture()
def live_index(tmp_path):
    generated = corpus(tmp_path / "generated.jsonl", 300, "gen", seed=16)
    report = build_index([SEEDS, generated], tmp_path / "index")
    assert report.indexed == 301 + len(list(SEEDS.glob("*.txt"))), report.summary()
    return tmp_path / "index"


def test_changes_under_a_16_client_load_are_visible_at_once_and_fail_no_request(
        live_index, tmp_path):
    env = {**os.environ, "SEARCH_API_KEY": KEY}
    env.pop("SEARCH_API_KEY_FILE", None)
    log_path = tmp_path / "server.log"
    with serve(live_index, threads=4, log_path=log_path, env=env,
               extra_args=["--processes", "2"]) as (base, proc):
        writer = Writer(base)
        added = replaced = deleted = 0
        with PageAndSearchLoad(base, LOAD_CLIENTS) as load:
            deadline = time.monotonic() + LOAD_SECONDS
            n = 0
            # At least three rounds, so that every kind of change is made.
            while time.monotonic() < deadline or n < 3:
                n += 1
                doc_id, word, new_word = f"live/{n}", f"zq{n:04d}w", f"zr{n:04d}v"
                writer.put(doc_id, word, f"实时文档{n}")
                added += 1
                writer.wait_until(f"added {doc_id}", lambda: writer.hits(word) == [doc_id])
                if n % 2 == 0:
                    writer.put(doc_id, new_word, f"改过的实时文档{n}")
                    replaced += 1
                    writer.wait_until(f"replaced {doc_id}", lambda: writer.hits(new_word) == [doc_id]
                                      and writer.hits(word) == [])
                if n % 3 == 0:
                    status, report = writer.request("DELETE", "/api/documents/" + quote(doc_id))
                    assert status == 200 and report["deleted"] == [doc_id], report
                    deleted += 1
                    gone = new_word if n % 2 == 0 else word
                    writer.wait_until(f"deleted {doc_id}", lambda: writer.hits(gone) == [])
                if n == 1:
                    # One bulk change of several lines, one of them bad.
                    lines = [json.dumps({"id": f"bulk/{k}", "text": f"批量 zb{k:03d}x 文档"})
                             for k in range(3)] + ["{not json"]
                    status, report = writer.request(
                        "POST", "/api/documents", "\n".join(lines).encode(), "application/x-ndjson")
                    assert status == 400 and sorted(report["added"]) == \
                        [f"bulk/{k}" for k in range(3)], report
                    assert report["rejected"][0]["line"] == 4
                    writer.wait_until("bulk", lambda: all(writer.hits(f"zb{k:03d}x") == [f"bulk/{k}"]
                                                          for k in range(3)))
                if n == 2:
                    # A change from this process, through the library, under the same lock.
                    with open_index(live_index).writer() as w:
                        w.add({"id": "python/1", "text": "从库里加的 zp0001y 文档"})
                        w.delete("gen/000003")
                    writer.wait_until("added by IndexWriter",
                                      lambda: writer.hits("zp0001y") == ["python/1"])
            requests = load.count()
        assert proc.poll() is None
        status, stats = writer.poller.json("/api/stats")
        assert status == 200

    failed = [s for s in writer.statuses if s[1] not in (200, 201, 400)]
    slow = [v for v in writer.visible_after if v[1] > VISIBLE_WITHIN]
    first_search = sum(polls == 1 for _, _, polls in writer.visible_after)
    print(f"\nlive: {LOAD_CLIENTS} clients, {requests:,} requests in {LOAD_SECONDS:.0f} s, "
          f"{len(load.errors)} failed; {added} added, {replaced} replaced, {deleted} deleted "
          f"over HTTP; {first_search} of {len(writer.visible_after)} changes seen by the first "
          f"search after their answer, the latest after "
          f"{max(t for _, t, _ in writer.visible_after) * 1000:.0f} ms; "
          f"{stats['segments']} segments at the end; a change answered in "
          f"{sorted(writer.seconds)[len(writer.seconds) // 2] * 1000:.0f} ms (median), "
          f"{max(writer.seconds) * 1000:.0f} ms at most")
    assert load.errors == [], load.errors[:5]
    assert failed == [], failed[:5]
    assert slow == [], slow[:5]
    assert added >= 3 and replaced >= 1 and deleted >= 1, (added, replaced, deleted)
    assert {"bulk", "added by IndexWriter"} <= {what for what, _, _ in writer.visible_after}
    assert requests >= 100, requests
    expected = 301 + len(list(SEEDS.glob("*.txt"))) + added - deleted + 3 + 1 - 1
    assert stats["documents"] == expected, (stats, expected)
    log = log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


def _post(base: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.request("POST", "/api/documents", body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_only_the_write_api_with_its_key_sends_a_body_over_a_mebibyte(tmp_path):
    report = build_index([SEEDS], tmp_path / "index")
    assert report.indexed
    env = {**os.environ, "SEARCH_API_KEY": KEY}
    env.pop("SEARCH_API_KEY_FILE", None)
    lines = [json.dumps({"id": f"big-{n}", "text": "一匹斑馬在草原上。" * 60}, ensure_ascii=False)
             for n in range(1200)]
    body = ("\n".join(lines) + "\n").encode("utf-8")
    assert len(body) > 1024 * 1024
    ndjson = {"Content-Type": "application/x-ndjson"}
    with serve(tmp_path / "index", threads=2, log_path=tmp_path / "server.log", env=env) as (
            base, _proc):
        status, answer = _post(base, body, ndjson)                 # no key: the server's 413
        assert status == 413 and b"1 MiB" in answer
        status, answer = _post(base, body, {**ndjson, "Authorization": f"Bearer {KEY}"})
        assert status == 200, answer[:300]
        assert len(json.loads(answer)["added"]) == 1200
    assert open_index(tmp_path / "index").search("斑马").total == 1200
