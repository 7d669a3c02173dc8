"""The production server (``python -m search serve``, gunicorn) in a subprocess, for tests.

``serve(index_dir)`` starts it on a free port (``--port 0``; the CLI prints the
port it bound), waits until it answers, yields its base URL and stops it.
``Client`` is a keep-alive HTTP client for one thread; ``raw_request`` sends
bytes no HTTP library would send.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent


@contextmanager
def serve(index_dir, threads: int = 8, log_path=None, env=None, extra_args=()):
    """Yield ``(base_url, process)`` of a server over ``index_dir``;
    ``extra_args`` are more options of ``serve`` (``--processes 2`` ...)."""
    log_path = Path(log_path or Path(index_dir).parent / "server.log")
    log = open(log_path, "w+", encoding="utf-8", errors="replace")
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "search", "serve", "--index", str(index_dir),
         "--host", "127.0.0.1", "--port", "0", "--threads", str(threads), *extra_args],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        base = _wait_for_server(proc, log)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def _wait_for_server(proc, log, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    base = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if base is None:
            log.seek(0)
            m = re.search(r"serving (http://127\.0\.0\.1:\d+)/", log.read())
            if m:
                base = m.group(1)
        if base is not None:
            try:
                with urllib.request.urlopen(base + "/api/stats", timeout=5) as resp:
                    if resp.status in (200, 503):
                        return base
            except urllib.error.HTTPError as exc:
                if exc.code == 503:     # up, over no index or a damaged one
                    return base
            except OSError:
                pass
        time.sleep(0.1)
    log.seek(0)
    raise RuntimeError(f"the server did not start:\n{log.read()}")


def server_log(proc_log_path) -> str:
    return Path(proc_log_path).read_text(encoding="utf-8", errors="replace")


class Client:
    """One keep-alive connection (one per thread); reconnects when the server closes it."""

    def __init__(self, base: str, timeout: float = 30.0):
        parts = urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.conn = None

    def get(self, path: str) -> tuple[int, bytes, dict]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("GET", path)
                resp = self.conn.getresponse()
                body = resp.read()
                headers = {k.lower(): v for k, v in resp.getheaders()}
                if headers.get("connection", "").lower() == "close":
                    self.close()
                return resp.status, body, headers
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had closed: retry once, fresh.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, path: str):
        status, body, _ = self.get(path)
        return status, json.loads(body)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def raw_request(base: str, request: bytes, timeout: float = 30.0) -> bytes:
    """Send ``request`` as it is and return everything the server answers."""
    parts = urlsplit(base)
    data = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass            # the server refused before reading it all
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    return data


def status_of(response: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", response)
    return int(m.group(1)) if m else 0
