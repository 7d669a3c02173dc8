"""Rebuilds under load, ``kill -9`` during a build, and a load test, against the production server.

The server is ``python -m search serve`` (gunicorn) in a subprocess on a free
port; builds are ``python -m search index`` subprocesses, as ``make index``
runs them.  Slow (about a minute together), but run in CI like every test.
``pytest -s`` shows the figures: requests, errors, latency percentiles and
throughput.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from search import build_index, open_index
from tests import synthetic
from tests.serving import REPO, Client, serve

pytestmark = pytest.mark.slow


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def index_cli(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "search", "index", *map(str, args), "--quiet"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def corpus(path: Path, count: int, tag: str, seed: int) -> Path:
    """``count`` synthetic records tagged ``tag``, plus one document every version has."""
    records = synthetic.records(count, seed=seed, tag=tag)
    records.append({"id": "shared/1", "title": f"共同的文档（{tag}）", "text": f"每个版本都有的文档，版本{tag}。洛阳。",
                    "city": "洛阳", "date": "2015-05-05"})
    path.parent.mkdir(parents=True, exist_ok=True)
    import json
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n",
                    encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# make index while the server answers a steady load


class Hammer:
    """Threads requesting a mix of pages and API calls until stopped; every answer recorded."""

    PATHS = ["/api/search?q=" + quote("呼叫中心"), "/?q=" + quote("洛阳") + "&city=" + quote("洛阳"),
             "/api/stats", "/doc/shared/1?q=" + quote("洛阳"), "/api/search?sort=newest&per_page=5",
             "/?q=" + quote('"呼叫中心" -贵阳'), "/"]

    def __init__(self, base: str, threads: int):
        self.base = base
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.results: list[tuple[float, str, int, bytes]] = []   # (time, path, status, body)
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True)
                        for n in range(threads)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)

    def _run(self, n: int):
        client = Client(self.base)
        i = n
        while not self.stop.is_set():
            path = self.PATHS[i % len(self.PATHS)]
            i += 1
            try:
                status, body, _ = client.get(path)
            except Exception as exc:  # noqa: BLE001 -- every failure counts
                with self.lock:
                    self.errors.append(f"{path}: {exc!r}")
                client.close()
                time.sleep(0.05)
                continue
            with self.lock:
                self.results.append((time.monotonic(), path, status, body))
                if status != 200:
                    self.errors.append(f"{path}: HTTP {status}: {body[:200]!r}")
        client.close()

    def count(self) -> int:
        with self.lock:
            return len(self.results)


def generation_of(base: str) -> str:
    status, data = Client(base).json("/api/stats")
    assert status == 200
    return data["generation"]


def test_rebuilds_under_load_lose_no_request_and_are_served_at_once(tmp_path):
    index_dir = tmp_path / "index"
    first = corpus(tmp_path / "first.jsonl", 150, "first", seed=1)
    versions = [corpus(tmp_path / "second.jsonl", 150, "second", seed=2),
                corpus(tmp_path / "third.jsonl", 150, "third", seed=3)]
    build_index([first], index_dir)
    [initial] = index_dir.glob("gen-*")
    with serve(index_dir, threads=8, log_path=tmp_path / "server.log") as (base, proc):
        client = Client(base)
        with Hammer(base, threads=6) as hammer:
            time.sleep(2)
            assert hammer.count() > 0, hammer.errors[:3]
            switches = []
            for source in versions:
                tag = source.stem
                before = generation_of(base)
                # Generations replaced over 2 s ago are pruned by the next writer.
                build = index_cli(source, "--index", index_dir,
                                  env={**os.environ, "SEARCH_RETIRE_SECONDS": "2"})
                out, err = build.communicate(timeout=300)
                built_at = time.monotonic()
                assert build.returncode == 0, err.decode()
                # The next request is answered from the new index, without a restart.
                while True:
                    status, data = client.json("/api/search?q=" + quote("呼叫中心"))
                    assert status == 200
                    if data["hits"] and all(h["id"].startswith((tag, "shared")) for h in data["hits"]):
                        break
                    assert time.monotonic() - built_at < 10, "the new index was not served"
                    time.sleep(0.05)
                switches.append(time.monotonic() - built_at)
                assert generation_of(base) != before
                status, body, _ = client.get("/doc/shared/1")
                assert status == 200 and f"版本{tag}".encode() in body
                time.sleep(1)          # load on the new index, before the next rebuild
        requests = hammer.count()
        print(f"\nrebuilds under load: {requests:,} requests during {len(versions)} rebuilds, "
              f"{len(hammer.errors)} errors; new index served "
              f"{', '.join(f'{s * 1000:.0f} ms' for s in switches)} after each build ended")
        assert hammer.errors == []
        assert requests > 50
        assert proc.poll() is None
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "Traceback" not in log and "Exception" not in log, log[-2000:]
    # Generations replaced a while ago were pruned while the server ran.
    gens = sorted(index_dir.glob("gen-*"))
    assert (index_dir / "current").resolve() in gens and initial not in gens


# ---------------------------------------------------------------------------
# kill -9 during a build


def _build_dir(index_dir: Path) -> Path | None:
    found = [p for p in index_dir.iterdir() if p.name.startswith(".build-")]
    return found[0] if found else None


def _kill_when(proc: subprocess.Popen, index_dir: Path, ready, group: bool,
               timeout: float = 120) -> bool:
    """SIGKILL the build once ``ready(build_dir)`` holds; False if it ended first.

    ``group``: all its processes (as when the machine or the container stops),
    else the main process only (``kill -9 PID``).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        building = _build_dir(index_dir)
        try:
            if building is not None and ready(building):
                if group:
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                return True
        except FileNotFoundError:
            pass        # the build folder moved on meanwhile: look again
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the build never reached the point to kill it at")


def _writing_postings(building: Path) -> bool:
    """True once the build writes the index's postings (its last, longest write)."""
    return any(p.suffix == ".pst" and p.stat().st_size > 0 for p in building.iterdir())


def test_kill_9_during_a_build_leaves_the_old_index_and_the_next_build_works(tmp_path):
    """All the build's processes killed at two points; the next build, at once, succeeds."""
    index_dir = tmp_path / "index"
    old = corpus(tmp_path / "old.jsonl", 20, "old", seed=4)
    big = corpus(tmp_path / "big.jsonl", 2500, "big", seed=5)
    new = corpus(tmp_path / "new.jsonl", 20, "new", seed=6)
    build_index([old], index_dir)
    ix = open_index(index_dir)
    live = ix.stats()["generation"]

    started = {}

    def one_second_in(building: Path) -> bool:
        started.setdefault(building.name, time.monotonic())
        return time.monotonic() - started[building.name] > 1.0

    kills = {"while reading documents": one_second_in, "while writing postings": _writing_postings}
    for when, ready in kills.items():
        for attempt in range(3):
            proc = index_cli(big, "--index", index_dir, start_new_session=True)
            if _kill_when(proc, index_dir, ready, group=True):
                break
            # The build finished between two looks (its last write takes ~0.3 s):
            # put the old index back and try again.
            build_index([old], index_dir, force=True)
            ix = open_index(index_dir)
            live = ix.stats()["generation"]
        else:
            pytest.fail(f"the build always ended before it could be killed {when}")
        assert proc.returncode == -signal.SIGKILL
        # What the killed build left: a half-written build folder, and the old index live.
        assert _build_dir(index_dir) is not None, when
        assert ix.stats()["generation"] == live, when
        fresh = open_index(index_dir)
        assert fresh.stats()["documents"] == 21, when
        res = fresh.search("呼叫中心", per_page=100)
        assert res.total > 0 and all(h.id.startswith(("old/", "shared/")) for h in res.hits), when
        assert fresh.document("shared/1") is not None
        print(f"\nkilled {when}: the old index ({res.total} hits for 呼叫中心) stays live")

    # The next build needs no clean-up by hand: stale folder and lock are dealt with.
    proc = index_cli(new, "--index", index_dir)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert _build_dir(index_dir) is None
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".current-")]
    res = ix.search("呼叫中心", per_page=100)
    assert res.total > 0 and all(h.id.startswith(("new/", "shared/")) for h in res.hits)


def test_kill_9_of_the_main_build_process_then_an_immediate_rebuild_succeeds(tmp_path):
    index_dir = tmp_path / "index"
    build_index([corpus(tmp_path / "old.jsonl", 20, "old", seed=4)], index_dir)
    big = corpus(tmp_path / "big.jsonl", 2500, "big", seed=5)
    new = corpus(tmp_path / "new.jsonl", 20, "new", seed=6)

    proc = index_cli(big, "--index", index_dir, start_new_session=True)
    seen = {}

    def workers_busy(building: Path) -> bool:
        """Half a second after the build has worker processes (when it has any)."""
        if _children(proc.pid):
            seen.setdefault("at", time.monotonic())
        return "at" in seen and time.monotonic() - seen["at"] > 0.5

    try:
        assert _kill_when(proc, index_dir, workers_busy, group=False), "the build had no workers"
        again = index_cli(new, "--index", index_dir)
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err.decode()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)      # the killed build's orphaned workers
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------------------
# A load test on loopback

LOAD_CLIENTS = 16
LOAD_SECONDS = float(os.environ.get("SEARCH_LOAD_SECONDS", 10))


def test_load_16_clients_on_loopback(tmp_path):
    source = corpus(tmp_path / "docs.jsonl", 400, "doc", seed=8)
    build_index([source], tmp_path / "index")
    queries = ["呼叫中心", "洛阳", "洛陽 呼叫中心", "貴陽 大數據", '"呼叫中心"', "洛阳 -贵阳", "客服",
               "中国移动", "产业园区", "淮安", "什么是呼叫中心", "2012年"]
    paths = []
    for n, q in enumerate(queries):
        paths.append("/api/search?q=" + quote(q))
        paths.append("/?q=" + quote(q) + ("&page=2" if n % 3 == 0 else ""))
    paths += ["/?city=" + quote("洛阳"), "/api/search?sort=newest&per_page=20",
              "/doc/doc/000007?q=" + quote("呼叫中心"), "/api/stats", "/"]

    with serve(tmp_path / "index", threads=8, log_path=tmp_path / "server.log") as (base, proc):
        warm = Client(base)
        for path in paths:                       # caches warm, as on a server that has run a while
            assert warm.get(path)[0] == 200, path
        latencies: list[list[float]] = [[] for _ in range(LOAD_CLIENTS)]
        errors: list[str] = []
        barrier = threading.Barrier(LOAD_CLIENTS + 1)
        deadline = [0.0]

        def client_loop(n: int):
            client = Client(base)
            barrier.wait()
            i = n * 7
            while time.monotonic() < deadline[0]:
                path = paths[i % len(paths)]
                i += 1
                t0 = time.perf_counter()
                try:
                    status, body, _ = client.get(path)
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"{path}: {exc!r}")
                    client.close()
                    continue
                latencies[n].append(time.perf_counter() - t0)
                if status != 200:
                    errors.append(f"{path}: HTTP {status}")
            client.close()

        threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(LOAD_CLIENTS)]
        for t in threads:
            t.start()
        deadline[0] = time.monotonic() + LOAD_SECONDS
        started = time.monotonic()
        barrier.wait()
        for t in threads:
            t.join(timeout=LOAD_SECONDS + 120)
        seconds = time.monotonic() - started
        assert proc.poll() is None

    flat = [x for per in latencies for x in per]
    throughput = len(flat) / seconds
    p50, p90, p99 = (percentile(flat, p) * 1000 for p in (50, 90, 99))
    print(f"\nload: {LOAD_CLIENTS} clients for {seconds:.1f} s on {os.cpu_count()} cores: "
          f"{len(flat):,} requests, {len(errors)} errors, {throughput:.1f} requests/s, "
          f"latency p50 {p50:.0f} ms, p90 {p90:.0f} ms, p99 {p99:.0f} ms, "
          f"max {max(flat) * 1000:.0f} ms")
    assert errors == [], errors[:5]
    assert all(per for per in latencies), "a client got no answer at all"
    assert throughput >= 5, throughput
    assert p50 < 2000 and p99 < 10_000, (p50, p99)
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-2000:]


def _workers(pid: int, count: int) -> list[int]:
    """The server's ``count`` workers, once forked (the first answers before
    the last is started)."""
    deadline = time.monotonic() + 30
    while len(_children(pid)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = _children(pid)
    assert len(workers) == count, workers
    return workers


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (forked by any of its threads); none
    once it is gone."""
    out = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        return []
    return out


def _port_is_closed(base: str) -> bool:
    host, port = base.rsplit("//", 1)[1].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return False
    except OSError:
        return True


def test_server_workers_share_the_port_are_replaced_and_end_with_their_parent(tmp_path):
    index_dir = tmp_path / "index"
    build_index([corpus(tmp_path / "c.jsonl", 50, "p", seed=9)], index_dir)
    env = {**os.environ, "PROCESSES": "3"}
    with serve(index_dir, env=env) as (base, proc):
        workers = _workers(proc.pid, 3)
        for _ in range(30):
            assert Client(base).get("/api/stats")[0] == 200
        # Workers that die take nothing down: they are replaced.
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(set(_children(proc.pid)) - set(workers)) < 3:
            time.sleep(0.2)
        assert len(set(_children(proc.pid)) - set(workers)) == 3
        assert Client(base).get("/api/search?q=%E5%91%BC%E5%8F%AB")[0] == 200
    # kill -9 of the parent: its workers follow, nothing keeps the port.
    with serve(index_dir, env=env) as (base, proc):
        workers = _workers(proc.pid, 3)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _port_is_closed(base):
            time.sleep(0.2)
        assert _port_is_closed(base)
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()
                    and "zombie" not in Path(f"/proc/{pid}/status").read_text()]
