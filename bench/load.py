"""A bounded HTTP load generator: N keep-alive clients, each waiting for its answer.

    python -m bench.load HOST PORT URLS.txt [--clients 16] [--seconds 30]

Each client sends the next path of the list (the clients share it out, so
each path is sent once; past its end the list starts over and the report
counts those requests as ``repeats``), waits for the whole response, and
sends the next: a closed loop, so the load never exceeds what the server
answers.  HTTP/1.1 with keep-alive, asyncio in
one thread (the server under test gets the rest of the machine).  A response
other than 2xx, a reset connection or a malformed response counts as an error
(the client reconnects).  Prints one JSON object: requests, errors (by
kind), seconds, requests/s, latency percentiles in milliseconds.

``bench.run`` uses wrk instead when it is installed (``apt-get install wrk``),
with the same paths, clients and duration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:
        await reader.read()          # until close
        return status, True
    return status, headers.get("connection", "").lower() == "close"


async def _client(host, port, paths, deadline, latencies, errors):
    reader = writer = None
    while time.perf_counter() < deadline:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError as exc:
                errors[f"connect: {type(exc).__name__}"] += 1
                await asyncio.sleep(0.05)
                continue
        path = next(paths)
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                   f"Accept: */*\r\nConnection: keep-alive\r\n\r\n").encode("ascii")
        t0 = time.perf_counter()
        try:
            writer.write(request)
            await writer.drain()
            status, close = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                IndexError) as exc:
            errors[f"response: {type(exc).__name__}"] += 1
            writer.close()
            writer = None
            continue
        latencies.append((time.perf_counter() - t0) * 1000)
        if not 200 <= status < 300:
            errors[f"status {status}"] += 1
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


class _Paths:
    """The paths in order, then again from the start, counting the repeats."""

    def __init__(self, paths: list[str]):
        self.paths, self.sent = paths, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        path = self.paths[self.sent % len(self.paths)]
        self.sent += 1
        return path

    @property
    def repeats(self) -> int:
        return max(0, self.sent - len(self.paths))


async def _run(host, port, paths, clients, seconds):
    latencies: list[float] = []
    errors: Counter = Counter()
    cycle = _Paths(paths)
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_client(host, port, cycle, deadline, latencies, errors)
                           for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return latencies, errors, elapsed, cycle.repeats


def run(host: str, port: int, paths: list[str], clients: int = 16, seconds: float = 30.0) -> dict:
    latencies, errors, elapsed, repeats = asyncio.run(_run(host, port, paths, clients, seconds))
    latencies.sort()
    return {
        "tool": "bench.load (asyncio)", "clients": clients, "seconds": round(elapsed, 3),
        "requests": len(latencies), "errors": sum(errors.values()), "error_kinds": dict(errors),
        "repeats": repeats,
        "requests_per_second": round(len(latencies) / elapsed, 1) if elapsed else None,
        "latency_ms": {f"p{p}": (round(percentile(latencies, p), 2) if latencies else None)
                       for p in (50, 90, 99)},
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("urls", help="a file of paths, one a line (/api/search?q=...)")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=30.0)
    args = p.parse_args(argv)
    with open(args.urls, encoding="utf-8") as fh:
        paths = [line.strip() for line in fh if line.strip()]
    print(json.dumps(run(args.host, args.port, paths, args.clients, args.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
