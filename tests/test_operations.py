"""The operator's side: /healthz, /readyz, /api/status, /metrics (summed over the real
server's worker processes), the access log, what the server says at start-up and on a
busy port, ``make run`` updating the index only when a source changed, and the
README's section on all of it, run as written."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from search.store.layout import MANIFEST, live_generation
from search.text.segment import segmenter

from conftest import REPO, SEEDS, build, make_client
from helpers import write_jsonl
from serving import serve

RECORDS = [
    {"id": "a/1", "title": "洛阳呼叫中心", "text": "洛阳的呼叫中心今天开业。", "city": "洛阳"},
    {"id": "a/2", "title": "貴陽大數據", "text": "貴陽發展大數據與呼叫中心產業。", "city": "貴陽"},
]


@pytest.fixture()
def small_index(tmp_path) -> tuple[Path, float, float]:
    """An index of two documents, with the times just before and after its build."""
    source = write_jsonl(tmp_path / "docs.jsonl", RECORDS)
    before = time.time()
    build([source], tmp_path / "index")
    return tmp_path / "index", before, time.time()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus text answer, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


# -- in one process: Flask's test client -----------------------------------------

def test_healthz_answers_without_reading_the_index(seed_index, tmp_path):
    for index_dir in (seed_index, tmp_path / "nothing here"):
        client = make_client(index_dir)
        resp = client.get("/healthz")
        assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
        assert resp.headers["Cache-Control"] == "no-store"
        assert client.application.extensions["webui"]["index"] is None, "it opened the index"


def test_readyz_is_503_with_the_reason_until_the_index_is_sound(small_index, tmp_path):
    index_dir, _, _ = small_index
    resp = make_client(index_dir).get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ready", "documents": 2,
                               "generation": live_generation(index_dir).name}

    missing = make_client(tmp_path / "nowhere").get("/readyz")
    body = missing.get_json()
    assert missing.status_code == 503 and body["status"] == "unavailable"
    assert body["code"] == "no_index" and "zhsearch index" in body["error"]
    assert body["message"].startswith("这里还没有索引")

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "current").symlink_to("gen-gone")          # a generation that is not there
    damaged = make_client(broken).get("/readyz")
    assert damaged.status_code == 503
    assert damaged.get_json()["code"].startswith("index_damaged")
    assert make_client(broken).get("/healthz").status_code == 200


def test_status_reads_the_index_records_and_follows_an_update(small_index):
    index_dir, _, _ = small_index
    client = make_client(index_dir)
    status = client.get("/api/status").get_json()
    generation = live_generation(index_dir)
    manifest = json.loads((generation / MANIFEST).read_text())
    assert status["status"] == "ok"
    assert status["index"] == os.path.abspath(index_dir)
    assert (status["documents"], status["segments"], status["deleted"]) == (2, 1, 0)
    assert status["generation"] == generation.name
    assert status["built_at"] == status["updated_at"] == manifest["built_at"]
    assert status["segmenter"] == segmenter() == status["index_segmenter"]
    assert status["version"] == metadata.version("zhsearch")
    assert status["pid"] == os.getpid()
    assert 0 <= status["uptime_seconds"] < 600

    from search.store.writing import IndexWriter
    time.sleep(1.1)                 # updated_at is to the second
    with IndexWriter(index_dir) as writer:
        writer.add({"id": "a/3", "title": "新文档", "text": "上海的新文档。"})
        writer.delete("a/1")
    later = client.get("/api/status").get_json()
    assert later["generation"] == live_generation(index_dir).name != status["generation"]
    assert later["documents"] == 2 and later["segments"] == 2 and later["deleted"] == 1
    assert later["built_at"] == status["built_at"] < later["updated_at"]
    assert later["uptime_seconds"] > status["uptime_seconds"]


def test_status_without_an_index_is_the_apps_503(tmp_path):
    resp = make_client(tmp_path / "nowhere").get("/api/status")
    body = resp.get_json()
    assert resp.status_code == 503 and body["code"] == "no_index"
    assert str(tmp_path / "nowhere") in body["error"]


def test_metrics_label_requests_by_their_url_rule(seed_index):
    client = make_client(seed_index)
    before = samples(client.get("/metrics").get_data(as_text=True))
    ids = [hit["id"] for hit in client.get("/api/search?q=呼叫中心").get_json()["hits"]][:2]
    assert len(ids) == 2
    for doc_id in ids:
        assert client.get("/api/doc/" + quote(doc_id)).status_code == 200
    assert client.get("/no/such/page-1").status_code == 404
    assert client.get("/no/such/page-2").status_code == 404
    assert client.open("/healthz", method="BREW").status_code == 405
    resp = client.get("/metrics")
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    openmetrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert openmetrics.headers["Content-Type"].startswith("application/openmetrics-text")
    assert openmetrics.get_data(as_text=True).endswith("# EOF\n")
    after = samples(resp.get_data(as_text=True))

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "search_http_requests_total"
    assert grew(requests, route="/api/doc/<path:doc_id>", method="GET", status="200") == 2
    assert grew(requests, route="(unmatched)", method="GET", status="404") == 2
    assert grew(requests, route="(unmatched)", method="OTHER", status="405") == 1
    assert grew(requests, route="/api/search", method="GET", status="200") == 1
    assert grew("search_http_request_duration_seconds_count",
                route="/api/doc/<path:doc_id>") == 2
    routes = {dict(labels).get("route") for (name, labels) in after if name == requests}
    assert not any(doc_id in (route or "") for route in routes for doc_id in ids)
    assert value(after, "search_index_up") == 1
    assert value(after, "search_index_documents") == len(list(SEEDS.glob("*.txt")))


def test_metrics_count_the_searches_the_time_budget_cut_short(seed_index, monkeypatch):
    from search.query import budget
    client = make_client(seed_index)
    before = samples(client.get("/metrics").get_data(as_text=True))
    assert client.get("/api/search?q=呼叫中心").get_json()["partial"] is False
    monkeypatch.setattr(budget, "TIME_BUDGET", 0.0)
    cut = client.get("/api/search?q=呼叫中心 洛阳").get_json()
    assert cut["partial"] or not cut["total_exact"]
    assert client.get("/?q=洛阳").status_code == 200          # the page counts as well
    after = samples(client.get("/metrics").get_data(as_text=True))
    assert value(after, "search_queries_total") - value(before, "search_queries_total") == 3
    exhausted = "search_query_budget_exhausted_total"
    assert value(after, exhausted) - value(before, exhausted) == 2


def test_index_gauges_follow_the_live_generation(small_index, tmp_path):
    index_dir, before, after = small_index
    client = make_client(index_dir)
    found = samples(client.get("/metrics").get_data(as_text=True))
    made = value(found, "search_index_generation_timestamp_seconds")
    assert before <= made <= after
    assert value(found, "search_index_documents") == 2
    assert value(found, "search_index_segments") == 1
    info = [dict(labels) for (name, labels) in found if name == "search_info"]
    assert info == [{"version": metadata.version("zhsearch"),
                     "segmenter": segmenter(), "generation": live_generation(index_dir).name}]

    none = samples(make_client(tmp_path / "nowhere").get("/metrics").get_data(as_text=True))
    assert value(none, "search_index_up") == 0
    assert not any(name == "search_index_documents" for name, _ in none)


# -- the real server: gunicorn, worker processes ---------------------------------

def _get(base: str, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(base + path, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _json(base: str, path: str):
    return json.loads(_get(base, path)[1])


def test_metrics_sum_every_worker_process_and_keep_a_replaced_ones(small_index, tmp_path):
    index_dir, _, _ = small_index
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # What a server killed with SIGKILL left, and the folder of one still running.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    orphan = scratch / f"search-metrics-{gone.pid}-abc"
    running = scratch / f"search-metrics-{os.getpid()}-abc"
    for folder in (orphan, running):
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"")
    env = {**os.environ, "SEARCH_TIME_BUDGET": "0.000000001", "SEARCH_ACCESS_LOG": "-",
           "TMPDIR": str(scratch)}
    log_path = tmp_path / "server.log"
    with serve(index_dir, threads=1, log_path=log_path, env=env,
               extra_args=("--processes", "2")) as (base, proc):
        pids, status_calls = set(), 0
        while len(pids) < 2 and status_calls < 400:
            pids.add(_json(base, "/api/status")["pid"])
            status_calls += 1
        assert len(pids) == 2, "one process answered every request"
        searches = 12
        for n in range(searches):
            assert _get(base, "/api/search?q=" + quote(f"呼叫中心 {n}"))[0] == 200
        for doc_id in ("a/1", "a/2"):
            assert _get(base, "/api/doc/" + doc_id)[0] == 200
        assert not orphan.exists() and running.exists()
        folders = [f for f in scratch.glob("search-metrics-*") if f != running]
        assert len(folders) == 1
        counted_by = {re.sub(r"\D", "", p.name) for p in folders[0].glob("counter_*.db")}
        assert counted_by >= {str(pid) for pid in pids}

        def scrape():
            return samples(_get(base, "/metrics")[1].decode())

        found = scrape()
        requests = "search_http_requests_total"
        assert value(found, requests, route="/api/status", method="GET",
                     status="200") == status_calls
        assert value(found, requests, route="/api/search", method="GET",
                     status="200") == searches
        assert value(found, "search_http_request_duration_seconds_count",
                     route="/api/search") == searches
        assert value(found, requests, route="/api/doc/<path:doc_id>", method="GET",
                     status="200") == 2
        assert value(found, "search_queries_total") == searches
        assert value(found, "search_query_budget_exhausted_total") == searches
        assert value(found, "search_index_documents") == 2

        # A worker killed and replaced: what it counted is still summed.
        victim = _json(base, "/api/status")["pid"]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        seen = set()
        while time.monotonic() < deadline and len(seen - pids) == 0:
            try:
                seen.add(_json(base, "/api/status")["pid"])
            except OSError:
                pass
        assert seen - pids, "no new worker answered"
        assert value(scrape(), requests, route="/api/search", method="GET",
                     status="200") == searches
    assert list(scratch.glob("search-metrics-*")) == [running], "the metrics folder was left"
    said = log_path.read_text(encoding="utf-8", errors="replace")
    assert len(re.findall(r'"GET /api/search\?q=[^ ]+ HTTP/1\.1" 200 ', said)) == searches


COMBINED = re.compile(r'^(?P<host>\S+) - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] '
                      r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<size>\d+|-) '
                      r'"(?P<referer>[^"]*)" "(?P<agent>[^"]*)" (?P<seconds>\d+\.\d{6})$')


def test_access_log_to_a_file_in_the_combined_format(small_index, tmp_path):
    index_dir, _, _ = small_index
    log_file = tmp_path / "access.log"
    with serve(index_dir, threads=1, log_path=tmp_path / "server.log",
               extra_args=("--processes", "1", "--access-log", str(log_file))) as (base, _):
        request = urllib.request.Request(base + "/api/search?q=luoyang", headers={
            "User-Agent": "probe/1.0", "Referer": "http://example.test/from"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            size = len(resp.read())
    lines = log_file.read_text().splitlines()
    matches = [COMBINED.match(line) for line in lines]
    assert all(matches), lines
    probe = [m for m in matches if m["agent"] == "probe/1.0"]
    assert len(probe) == 1
    assert probe[0]["request"] == "GET /api/search?q=luoyang HTTP/1.1"
    assert (probe[0]["status"], probe[0]["size"]) == ("200", str(size))
    assert probe[0]["referer"] == "http://example.test/from"
    assert "probe/1.0" not in (tmp_path / "server.log").read_text()


def test_no_access_log_unless_asked(small_index, tmp_path):
    index_dir, _, _ = small_index
    env = {k: v for k, v in os.environ.items() if k != "SEARCH_ACCESS_LOG"}
    with serve(index_dir, threads=1, log_path=tmp_path / "server.log", env=env,
               extra_args=("--processes", "1")) as (base, _):
        assert _get(base, "/healthz")[0] == 200
    assert "GET /healthz" not in (tmp_path / "server.log").read_text()


def test_an_unwritable_access_log_is_one_line(small_index, tmp_path):
    index_dir, _, _ = small_index
    done = subprocess.run(
        [sys.executable, "-m", "search", "serve", "--index", str(index_dir), "--port", "0",
         "--access-log", str(tmp_path / "no such folder" / "access.log")],
        capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: No such file or directory: ")
    assert done.stderr.count("\n") == 1 and "serving" not in done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_busy_port_is_one_line_naming_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "search", "serve", "--index", str(tmp_path / "index"),
             "--port", str(port)], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"error: 127.0.0.1:{port} is already in use (another server?); "
                           "choose another port: --port N, or PORT=N with make\n")


def test_a_host_it_cannot_listen_on_is_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "search", "serve", "--index", str(tmp_path / "index"),
         "--host", "192.0.2.1", "--port", "8000"],
        capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: cannot listen on 192.0.2.1:8000 (")
    assert done.stderr.count("\n") == 1


# -- make run ---------------------------------------------------------------------

def _make(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300, **kwargs)


def _builds(index_dir, sources) -> bool:
    """Whether ``make run`` would update the index first (its dry run says)."""
    done = _make("-n", "run", f"INDEX={index_dir}", f"SOURCES={sources}")
    assert done.returncode == 0, done.stderr
    assert "-m search serve --index " + str(index_dir) in done.stdout
    return "-m search index " in done.stdout


def test_make_run_updates_the_index_only_when_a_source_changed(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    for seed in sorted(SEEDS.glob("*.txt"))[:2]:
        (sources / seed.name).write_bytes(seed.read_bytes())
    index_dir = tmp_path / "index"
    assert _builds(index_dir, sources), "no index: it must build one"
    made = _make("stamped-index", f"INDEX={index_dir}", f"SOURCES={sources}")
    assert made.returncode == 0, made.stderr
    assert "indexed 2 documents" in made.stdout and live_generation(index_dir)
    assert not _builds(index_dir, sources), "nothing changed: it must only serve"

    first = sorted(sources.iterdir())[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n新的一段。", encoding="utf-8")
    assert _builds(index_dir, sources), "a source was edited"
    assert _make("stamped-index", f"INDEX={index_dir}", f"SOURCES={sources}").returncode == 0
    assert not _builds(index_dir, sources)
    first.unlink()
    assert _builds(index_dir, sources), "a source was deleted"
    assert _make("stamped-index", f"INDEX={index_dir}", f"SOURCES={sources}").returncode == 0
    assert not _builds(index_dir, sources)
    assert _builds(index_dir, f"{sources} {SEEDS}"), "other sources"
    import shutil
    shutil.rmtree(index_dir)
    assert _builds(index_dir, sources), "the index is gone"


@pytest.mark.slow
def test_make_run_itself_builds_once_then_serves_at_once(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    seed = sorted(SEEDS.glob("*.txt"))[0]
    (sources / seed.name).write_bytes(seed.read_bytes())
    index_dir = tmp_path / "index"

    def make_run() -> str:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"INDEX={index_dir}",
             f"SOURCES={sources}", "PORT=0"], cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        said = []
        try:
            for line in proc.stdout:
                said.append(line)
                if line.startswith("serving http://"):
                    base = line.split()[1].rstrip("/")
                    assert _get(base, "/healthz")[0] == 200
                    break
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        return "".join(said)

    assert "indexed 1 document into" in make_run()
    assert "-m search index" not in make_run()
    (sources / "more.txt").write_text("标题：新文档\n\n上海的新文档。", encoding="utf-8")
    assert "-m search index" in make_run()


# -- the README's section, as written ---------------------------------------------

README = REPO / "README.md"
DEFAULT_BASE = "http://127.0.0.1:8000"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def _blocks(section: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", section, re.S)


def _examples(block: str) -> list[tuple[str, str]]:
    """``(command, expected)`` of a shell block: ``command  # expected``, the
    expected answer going on in comment lines under it."""
    examples = []
    for line in block.splitlines():
        if line.startswith("# ") and examples:
            command, expected = examples[-1]
            examples[-1] = (command, expected + line[2:].strip())
            continue
        command, _, expected = line.partition("  # ")
        examples.append((command.strip(), expected.strip()))
    return examples


def _says(output: str, expected: str) -> bool:
    """Whether ``output`` holds the parts of ``expected`` between its ``…``, in order."""
    at = 0
    for part in expected.split("…"):
        found = output.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


def test_readme_operations_examples_run_as_written(seed_index, tmp_path):
    section = _section("Operating the server")
    shell = _blocks(section, "sh")
    assert len(shell) == 2
    with serve(seed_index, threads=1, log_path=tmp_path / "server.log",
               extra_args=("--processes", "2")) as (base, _):
        for block in shell:
            for command, expected in _examples(block):
                done = subprocess.run(["bash", "-c", command.replace(DEFAULT_BASE, base)],
                                      capture_output=True, text=True, timeout=60)
                assert done.returncode == 0, (command, done.stderr)
                assert _says(done.stdout, expected), (command, expected, done.stdout)

        (scrape,) = _blocks(section, "yaml")
        job = yaml.safe_load(scrape)["scrape_configs"][0]
        assert job["static_configs"][0]["targets"] == [DEFAULT_BASE.split("//")[1]]
        families = {f.name for f in text_string_to_metric_families(
            _get(base, job["metrics_path"])[1].decode())}
        assert {"search_http_requests", "search_http_request_duration_seconds",
                "search_query_budget_exhausted", "search_index_documents"} <= families


def _console(block: str) -> list[tuple[str, list[str]]]:
    """``(command, lines it prints)`` of a console block."""
    steps = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:].partition("  # ")[0].strip(), []))
        else:
            steps[-1][1].append(line)
    return steps


def _search_command(command: str, port: int) -> list[str]:
    # `zhsearch` is `python -m search` installed: run as the latter, with this Python.
    words = shlex.split(command.rstrip("&").strip())
    if words[0] == "zhsearch":
        words = ["python", "-m", "search", *words[1:]]
    assert words[:3] == ["python", "-m", "search"], command
    return [sys.executable, "-u", *words[1:], "--port", str(port)]


def test_readme_access_log_example_is_what_the_server_writes(seed_index, tmp_path):
    (block,) = [b for b in _blocks(_section("Operating the server"), "console")
                if "--access-log" in b]
    (start, _), (request, shown) = _console(block)
    sample = COMBINED.match(shown[0])
    assert sample, shown
    words = shlex.split(start.rstrip("&"))
    args = words[words.index("serve") + 1:]
    with serve(seed_index, threads=1, log_path=tmp_path / "server.log",
               extra_args=args) as (base, _):
        done = subprocess.run(["bash", "-c", request.replace(DEFAULT_BASE, base)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0
    written = [COMBINED.match(line) for line in
               (tmp_path / "server.log").read_text().splitlines() if "/healthz" in line]
    written = [m for m in written if m and m["agent"].startswith("curl/")]
    assert len(written) == 1
    for part in ("host", "request", "status", "size", "referer"):
        assert written[0][part] == sample[part], part


def test_readme_start_up_examples_are_what_the_server_says(tmp_path):
    (block,) = [b for b in _blocks(_section("Operating the server"), "console")
                if "nowhere" in b]
    (start, said), (again, refused) = _console(block)
    port = _free_port()

    def shown(lines):
        return [line.replace(":8000", f":{port}") for line in lines]

    proc = subprocess.Popen(_search_command(start, port), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = [proc.stdout.readline().rstrip("\n") for _ in said]
        assert lines == shown(said)
        base = f"http://127.0.0.1:{port}"
        status, page = _get(base, "/")
        assert status == 503 and "zhsearch index" in page.decode()
        assert _get(base, "/healthz")[0] == 200 and _get(base, "/readyz")[0] == 503
        done = subprocess.run(_search_command(again, port), cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1
        assert done.stderr.splitlines() == shown(refused)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
