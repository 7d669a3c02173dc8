"""The production server holds against slow clients, and serves a damaged index.

Real ``python -m search serve`` processes (gunicorn, ``webui.serve.HoldingWorker``)
on loopback, with two processes of one thread each (the default) or of four
threads (``--threads 4``): N = 2 or 8 requests at a time.
Each slow client is bounded in bytes and seconds and stops by itself:

* 4N + 2 slowloris connections (a header byte every half second) while a
  normal client is answered at once;
* 2N + 1 slow readers (a 6 MB answer, not read) while a normal client is
  answered at once;
* a head that never ends gets 408 and is closed at the header timeout, and a
  reader that takes nothing is disconnected at the send timeout;
* a damaged index: the server keeps serving and answers 503 with the reason.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from search import build_index
from tests.serving import Client, serve

PROCESSES, THREADS = 2, 1
BIG_DOC_ID = "big/1"
# More than loopback's socket buffers hold (a client with a 4 KiB receive
# buffer and the server's send buffer, which grows to 4 MiB): a server that
# writes from its request thread is stuck in send() until the client reads.
BIG_ANSWER = 5 * 1024 * 1024
NORMAL_WITHIN = 5.0


def _host_port(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    return parts.hostname, parts.port


@pytest.fixture(scope="module")
def big_index(tmp_path_factory) -> Path:
    """A few small documents and one whose page is a large answer."""
    root = tmp_path_factory.mktemp("slow-clients")
    lines = [json.dumps({"id": f"small/{n}", "title": f"小文{n}", "text": "床前明月光，疑是地上霜。"},
                        ensure_ascii=False) for n in range(3)]
    # Few words (cheap to index) and characters JSON escapes: about 1 MB of
    # text, over 6 MB of /api/doc.
    text = "\n".join(f"a{n} " + '<&"' * 20 for n in range(16000))
    lines.append(json.dumps({"id": BIG_DOC_ID, "title": "big", "text": text}))
    source = root / "docs.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = build_index([source], root / "index")
    assert report.indexed == 4, report.summary()
    return root / "index"


@pytest.fixture(scope="module", params=[1, 4], ids=["1 thread", "4 threads"])
def server(big_index, tmp_path_factory, request):
    """Yield ``(base, process, requests at once)``: the default (one thread
    per process) and ``--threads 4``."""
    threads = request.param
    log = tmp_path_factory.mktemp("slow-clients-log") / "server.log"
    with serve(big_index, threads=threads, log_path=log,
               extra_args=["--processes", str(PROCESSES)]) as (base, proc):
        yield base, proc, PROCESSES * threads


@pytest.fixture(scope="module")
def impatient_server(big_index, tmp_path_factory):
    """Short timeouts, to see them act within the test's time."""
    log = tmp_path_factory.mktemp("slow-clients-impatient") / "server.log"
    with serve(big_index, threads=THREADS, log_path=log,
               extra_args=["--processes", str(PROCESSES), "--header-timeout", "2",
                           "--send-timeout", "2"]) as (base, proc):
        yield base, proc


def _answered_in(base: str) -> float:
    """Seconds a fresh client takes to get /api/stats (fails past NORMAL_WITHIN)."""
    start = time.monotonic()
    client = Client(base, timeout=NORMAL_WITHIN)
    try:
        status, _, _ = client.get("/api/stats")
    finally:
        client.close()
    assert status == 200
    return time.monotonic() - start


def _slowloris(host, port, stop: threading.Event, seconds: float) -> None:
    """Send a request head a byte every half second, for ``seconds`` at most."""
    head = b"GET /api/stats HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"s" * 200
    deadline = time.monotonic() + seconds
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            for byte in head:
                if stop.is_set() or time.monotonic() > deadline:
                    return
                sock.sendall(bytes([byte]))
                stop.wait(0.5)
    except OSError:
        return          # closed by the server: fine, it is its right


def test_slowloris_connections_do_not_hold_the_workers(server):
    # More than N slow connections, so many that each process surely has
    # more than its threads: where they go is the processes' race to accept.
    base, proc, at_once = server
    host, port = _host_port(base)
    stop = threading.Event()
    trickles = [threading.Thread(target=_slowloris, args=(host, port, stop, 8.0), daemon=True)
                for _ in range(4 * at_once + 2)]
    try:
        for t in trickles:
            t.start()
        time.sleep(1.5)         # every slow connection accepted and under way
        assert _answered_in(base) < NORMAL_WITHIN
        assert _answered_in(base) < NORMAL_WITHIN
    finally:
        stop.set()
        for t in trickles:
            t.join(timeout=5)
    assert proc.poll() is None


def _slow_reader(host, port) -> socket.socket:
    """A client that asks for the large page and does not read it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    sock.connect((host, port))
    sock.sendall(f"GET /api/doc/{quote(BIG_DOC_ID)} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    return sock


def test_slow_readers_do_not_hold_the_workers(server):
    base, proc, at_once = server
    host, port = _host_port(base)
    readers = []
    try:
        for _ in range(2 * at_once + 1):
            readers.append(_slow_reader(host, port))
        time.sleep(2.0)         # the large answers made and stuck on the wire
        assert _answered_in(base) < NORMAL_WITHIN
        assert _answered_in(base) < NORMAL_WITHIN
        # A slow reader still gets its whole answer when it does read.
        first = readers[0]
        data = b""
        deadline = time.monotonic() + 20
        while b"\r\n\r\n" not in data and time.monotonic() < deadline:
            data += first.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")))
        assert length > BIG_ANSWER
        while len(body) < length and time.monotonic() < deadline:
            chunk = first.recv(1 << 20)
            if not chunk:
                break
            body += chunk
        assert len(body) == length
    finally:
        for sock in readers:
            sock.close()
    assert proc.poll() is None


def test_a_head_that_never_ends_gets_408_at_the_header_timeout(impatient_server):
    base, _ = impatient_server
    host, port = _host_port(base)
    start = time.monotonic()
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET /api/stats HTTP/1.1\r\nHost: a\r\n")     # no blank line: never ends
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    took = time.monotonic() - start
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert 1.5 < took < 6, took
    assert _answered_in(base) < NORMAL_WITHIN


def test_a_client_that_reads_nothing_is_disconnected_at_the_send_timeout(impatient_server):
    base, _ = impatient_server
    host, port = _host_port(base)
    sock = _slow_reader(host, port)
    try:
        time.sleep(6.0)         # send timeout 2 s: the server has given up by now
        sock.setblocking(False)
        received, closed = 0, False
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(1 << 20)
            except BlockingIOError:
                time.sleep(0.05)
                continue
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            received += len(chunk)
        assert closed, f"still open after {received:,} bytes"
        assert received < BIG_ANSWER    # cut short: the client was too slow
    finally:
        sock.close()
    assert _answered_in(base) < NORMAL_WITHIN


def test_a_request_with_a_chunked_body_is_refused_at_once(impatient_server):
    base, _ = impatient_server
    host, port = _host_port(base)
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"POST /api/stats HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        assert sock.recv(65536).startswith(b"HTTP/1.1 411")


@pytest.mark.parametrize("damage", ["segment", "saved table"])
def test_serve_on_a_damaged_index_keeps_serving_and_answers_503(big_index, tmp_path, damage):
    import shutil
    damaged = tmp_path / "index"
    shutil.copytree(big_index, damaged, symlinks=True)      # ``current`` stays a link
    generation = next(p for p in damaged.iterdir()
                      if p.is_dir() and not p.is_symlink() and p.name.startswith("gen-"))
    if damage == "segment":
        for segment_file in [*generation.glob("*.trm"), *generation.glob("*.trb")]:
            segment_file.write_bytes(b"\xff" * segment_file.stat().st_size)
    else:
        (generation / "facets.pickle").write_bytes(b"\x00garbled\xff" * 64)
    with serve(damaged, threads=1, log_path=tmp_path / "server.log",
               extra_args=["--processes", "1"]) as (base, proc):
        client = Client(base, timeout=10)
        try:
            for path in ["/?q=alpha", "/api/search?q=alpha", "/", "/api/stats"]:
                status, body, _ = client.get(path)
                assert status == 503, (path, status, body[:300])
                assert b"damaged" in body and b"zhsearch index" in body, body[:500]
        finally:
            client.close()
        time.sleep(0.5)
        assert proc.poll() is None
    log = (tmp_path / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert "serving anyway" in log          # said once, in one line, at start
