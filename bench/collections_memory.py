"""What one more collection costs a server (``webui.collections``): memory.

    python -m bench.collections_memory [--documents 3000] [--processes 2]

Builds three indexes in a temporary folder (the seeds twice, and
``--documents`` records generated from them, ``tests/synthetic.py``), then
serves, one after the other, one collection (the seeds), two (the seeds
twice) and three (and the generated one) with ``python -m search serve``,
asks every collection for the same pages and API searches until each has
opened its index in every process, and prints the server's memory (RSS and
PSS of its process tree, and of one worker) for each, as a JSON line.
Also one plain ``--index`` server of the seeds (no collections) as the baseline.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from bench.run import _memory_kb, _tree

REPO = Path(__file__).resolve().parent.parent
PATHS = ["/?q=" + quote("洛阳"), "/api/search?q=" + quote("呼叫中心") + "&per_page=20",
         "/api/suggest?q=luo", "/facet/city", "/?q=" + quote("贵阳") + "&city=" + quote("贵阳"),
         "/api/stats"]


def _serve(args: list[str], processes: int):
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "search", "serve", *args, "--host", "127.0.0.1",
         "--port", "0", "--processes", str(processes)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    match = re.search(r"serving (http://[^/]+)/", line)
    if not match:
        proc.kill()
        raise SystemExit(f"the server did not start: {line}{proc.stdout.read()}")
    return proc, match.group(1)


def _get(url: str) -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                resp.read()
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {url}")


def measure(args: list[str], prefixes: list[str], processes: int) -> dict:
    proc, base = _serve(args, processes)
    try:
        # Each request's connection closes (one thread per process), so that
        # rounds of them reach every process: each opens every collection's index.
        for _ in range(6 * processes):
            for prefix in prefixes:
                for path in PATHS:
                    _get(base + prefix + path)
        time.sleep(1)
        pids = _tree(proc.pid)
        memory = [_memory_kb(pid) for pid in pids]
        workers = [m for pid, m in zip(pids, memory) if pid != proc.pid]
        return {"collections": len(prefixes) if prefixes != [""] else 0,
                "processes": processes,
                "rss_mb": round(sum(r for r, _ in memory) / 1024, 1),
                "pss_mb": round(sum(p for _, p in memory) / 1024, 1),
                "worker_rss_mb": round(max(r for r, _ in workers) / 1024, 1),
                "worker_pss_mb": round(max(p for _, p in workers) / 1024, 1)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--documents", type=int, default=3000)
    p.add_argument("--processes", type=int, default=2)
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO / "tests"))
    from synthetic import write_jsonl

    from search import build_index
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_index([str(REPO / "seeds")], root / "news")
        build_index([str(REPO / "seeds")], root / "news2")
        generated = write_jsonl(root / "generated.jsonl", args.documents, tag="gen")
        build_index([str(generated)], root / "generated")
        news, news2 = f"news={root / 'news'}", f"news2={root / 'news2'}"
        runs = [
            ("seeds (plain --index)", ["--index", str(root / "news")], [""]),
            ("seeds", ["--index", news], ["/news"]),
            ("seeds, seeds", ["--index", news, "--index", news2], ["/news", "/news2"]),
            (f"seeds, seeds, {args.documents} generated",
             ["--index", news, "--index", news2, "--index", f"generated={root / 'generated'}"],
             ["/news", "/news2", "/generated"]),
        ]
        for what, serve_args, prefixes in runs:
            print(json.dumps({"served": what, **measure(serve_args, prefixes, args.processes)},
                             ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
