"""The server under load, each search sent once, against another commit's code in the same run.

    python -m bench.server_load --index DIR [--baseline REF] [--candidate TREE]
                                [--rounds 2] [--seconds 30] [--clients 16]
                                [--queries FILE|from-index] [--load-tool auto|wrk|python]
                                [--sample 200] [--json FILE]

Serves ``DIR`` with ``python -m search serve --index DIR --host 127.0.0.1
--port PORT`` (the command line ``make serve`` runs, its defaults: one process
per core, up to four) and loads it with 16 clients for 30 s (wrk if
installed, else ``bench.load``), over the searches of
``bench/server_queries.jsonl.gz`` (``bench.server_queries``; ``from-index``:
a set made from the index's own documents), the API (``/api/search?...``) and
the page (``/?...``) in turns, each search sent once: the wrk threads (or the
clients) share the set out, so no worker sees a search twice.  Should the load
get through the whole set, it starts over and the report counts the repeats
(``repeats``; the set is then too small for the server's speed).  The first 40
searches warm the server first and are not sent again.

``--baseline REF`` (a commit, branch or tag of this repository) measures the
same index served by REF's code beside the candidate's (the tree this module
is in, or ``--candidate TREE``): REF is exported with ``git archive`` into a
temporary folder and served from there with the same Python and command line,
one server after the other, interleaved (baseline, candidate, baseline,
candidate ...), each a fresh server.  The report gives each side's median
requests/s, p50/p90/p99, errors and peak server memory (PSS of the process
tree, ``bench.run.TreeMemory``), the ratio candidate / baseline, and whether
the server's CPU time per request (user and system, its whole process tree:
a figure that moves less than requests/s with what else runs on the
machine), and whether the two answer ``--sample`` of the paths with the same bytes (the time a search
took, ``elapsed_ms`` and the page's 用时, left out).  Without ``--baseline``
only the candidate is measured: to take "today's" figure, name the commit
before the change, e.g. ``--baseline main`` or ``--baseline HEAD~3``.

``bench.run``'s server stage is ``measure`` (one round of the candidate, or
with ``bench.run --baseline REF`` the same comparison).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WARM_SEARCHES = 40
SAMPLE = 200
# The time a search took is in each answer; everything else must be the same bytes.
_ELAPSED = re.compile(r'"elapsed_ms":\s*[0-9.eE+-]+|用[时時] [0-9.]+ ')


def search_path(query: dict, page: bool) -> str:
    """``/?...`` (``page``) or ``/api/search?...`` of one search of a query set."""
    params = [("q", query["q"])]
    for name, values in (query.get("filters") or {}).items():
        key = "city" if name == "city" else f"f.{name}"
        params += [(key, v) for v in values]
    return ("/?" if page else "/api/search?") + urllib.parse.urlencode(params)


def paths_of(queries: list[dict]) -> list[str]:
    """One path per search: the API and the page in turns."""
    return [search_path(q, page=i % 2 == 1) for i, q in enumerate(queries)]


# ---------------------------------------------------------------------------
# Load


_WRK_SCRIPT = r"""
-- Each wrk thread takes every NTHREADS-th path from its own offset, once:
-- the threads share the set out, so no path is sent twice until it runs out.
local file, nthreads = "{file}", {threads}
local counter, threads = 0, {{}}
function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end
function init(args)
  paths, n, repeats = {{}}, 0, 0
  local k = 0
  for line in io.lines(file) do
    if k % nthreads == id then paths[#paths + 1] = line end
    k = k + 1
  end
end
function request()
  n = n + 1
  if n > #paths then repeats = repeats + 1 end
  return wrk.format("GET", paths[((n - 1) % #paths) + 1])
end
function done(summary, latency, requests)
  local e, rep = summary.errors, 0
  for _, t in ipairs(threads) do rep = rep + t:get("repeats") end
  io.write(string.format("WRKJSON {{\"requests\": %d, \"duration_us\": %d, \"connect\": %d, \"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d, \"repeats\": %d, \"p50\": %f, \"p90\": %f, \"p99\": %f}}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, rep,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
"""


def load_with_wrk(host: str, port: int, paths: list[str], clients: int, seconds: float,
                  work: Path) -> dict | None:
    """wrk's figures for ``paths`` sent once each (None when wrk is not installed)."""
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    threads = max(1, min(clients, os.cpu_count() or 1))
    listing = work / "paths.txt"
    listing.write_text("".join(p + "\n" for p in paths), encoding="utf-8")
    script = work / "paths.lua"
    script.write_text(_WRK_SCRIPT.format(file=str(listing).replace("\\", "\\\\").replace('"', '\\"'),
                                         threads=threads), encoding="utf-8")
    cmd = [wrk, "-t", str(threads), "-c", str(clients), "-d", f"{int(seconds)}s",
           "--timeout", "10s", "-s", str(script), f"http://{host}:{port}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    d = json.loads(line[len("WRKJSON "):])
    errors = {k: d[k] for k in ("connect", "read", "write", "status", "timeout") if d[k]}
    secs = d["duration_us"] / 1e6
    return {"tool": f"wrk ({threads} threads)", "command": shlex.join(["wrk"] + cmd[1:]),
            "clients": clients, "seconds": round(secs, 3), "requests": d["requests"],
            "errors": sum(errors.values()), "error_kinds": errors, "repeats": d["repeats"],
            "requests_per_second": round(d["requests"] / secs, 1),
            "latency_ms": {"p50": round(d["p50"], 2), "p90": round(d["p90"], 2),
                           "p99": round(d["p99"], 2)}}


def load(host: str, port: int, paths: list[str], clients: int, seconds: float, work: Path,
         tool: str = "auto") -> dict:
    result = load_with_wrk(host, port, paths, clients, seconds, work) \
        if tool in ("auto", "wrk") else None
    if result is None:
        from bench.load import run as load_run
        result = load_run(host, port, paths, clients, seconds)
        result["command"] = (f"python -m bench.load {host} PORT PATHS --clients {clients} "
                             f"--seconds {seconds:g}")
    return result


# ---------------------------------------------------------------------------
# Servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(py: str, index_dir, port: int, host: str = "127.0.0.1") -> list[str]:
    return [py, "-m", "search", "serve", "--index", str(index_dir), "--host", host,
            "--port", str(port)]


@contextmanager
def running_server(tree: Path, index_dir, py: str = sys.executable, first_path: str = "/"):
    """``(host, port, process)`` of ``python -m search serve`` run with the code of
    ``tree`` (its own ``search`` and ``webui`` first on the path), stopped after."""
    host, port = "127.0.0.1", _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tree)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    server = subprocess.Popen(serve_command(py, index_dir, port, host), cwd=tree, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://{host}:{port}{first_path}", timeout=30):
                    break
            except urllib.error.HTTPError:
                break                       # it answers: the path's status is the load's to count
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    raise RuntimeError("the server did not start: "
                                       + server.stderr.read().decode("utf-8", "replace")[-2000:])
                time.sleep(0.2)
        yield host, port, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr:
            server.stderr.close()


def fetch(host: str, port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process and its descendants (Linux; 0 elsewhere)."""
    from bench.run import _tree
    total = 0
    for each in _tree(pid) if os.path.isdir("/proc") else []:
        try:
            with open(f"/proc/{each}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK") if total else 0.0


def comparable(body: bytes) -> bytes:
    """An answer without the time its search took."""
    return _ELAPSED.sub("<elapsed>", body.decode("utf-8", "replace")).encode("utf-8")


def one_round(tree: Path, index_dir, paths: list[str], warm: list[str], *, clients: int,
              seconds: float, tool: str, work: Path, sample: list[str]) -> dict:
    """One fresh server of ``tree``: warmed on ``warm``, loaded over ``paths``, then
    asked ``sample`` (the answers' digests, to compare with another tree's)."""
    from bench.run import TreeMemory
    with running_server(tree, index_dir, first_path=warm[0] if warm else "/") as (host, port, server):
        for path in warm[1:]:
            fetch(host, port, path)
        cpu_before = tree_cpu_seconds(server.pid)
        with TreeMemory(server.pid, interval=0.5) as mem:
            result = load(host, port, paths, clients, seconds, work, tool)
            mem.sample()
        # What the server spent per answer: unlike requests/s, it does not move
        # with what else shares the machine's cores.
        cpu = tree_cpu_seconds(server.pid) - cpu_before
        result["server_cpu_seconds"] = round(cpu, 2)
        result["server_cpu_ms_per_request"] = round(cpu * 1000 / result["requests"], 2) \
            if result["requests"] and cpu else None
        answers = {}
        for path in sample:
            status, body = fetch(host, port, path)
            answers[path] = (status, hashlib.sha256(comparable(body)).hexdigest())
    result["server_memory"] = mem.to_dict() | {"rss_mb_at_end": round(mem.last_rss_kb / 1024, 1)}
    result["answers"] = answers
    return result


def export_tree(ref: str, into: Path, repo: Path = REPO) -> str:
    """The files of commit ``ref`` under ``into`` (``git archive``); its full hash."""
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                            capture_output=True, text=True)
    if commit.returncode != 0:
        raise SystemExit(f"bench.server_load: {ref!r} is not a commit of {repo}: "
                         f"{commit.stderr.strip()}")
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.Popen(["git", "-C", str(repo), "archive", "--format=tar",
                                commit.stdout.strip()], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise RuntimeError(f"git archive {ref} failed")
    return commit.stdout.strip()


def _describe_tree(tree: Path) -> str:
    out = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return str(tree)
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + (" with local changes" if dirty else "")


def _side_summary(rounds: list[dict]) -> dict:
    def med(key, sub=None):
        values = [(r[key][sub] if sub else r[key]) for r in rounds]
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 2) if values else None
    return {"rounds": len(rounds),
            "requests_per_second": med("requests_per_second"),
            "requests_per_second_each": [r["requests_per_second"] for r in rounds],
            "latency_ms": {p: med("latency_ms", p) for p in ("p50", "p90", "p99")},
            "server_cpu_ms_per_request": med("server_cpu_ms_per_request"),
            "errors": sum(r["errors"] for r in rounds),
            "repeats": sum(r.get("repeats") or 0 for r in rounds),
            "requests": sum(r["requests"] for r in rounds),
            "peak_pss_mb": max((r["server_memory"].get("peak_pss_mb") or 0) for r in rounds) or None,
            "peak_rss_mb": max(r["server_memory"]["peak_rss_mb"] for r in rounds)}


def queries_for(spec: str | None, index_dir) -> tuple[list[dict], str]:
    from bench import server_queries
    if spec == "from-index":
        return server_queries.from_index(index_dir), f"made from the documents of {index_dir}"
    path = Path(spec) if spec else server_queries.DEFAULT_SET
    return server_queries.load(path), str(path.relative_to(REPO) if path.is_relative_to(REPO)
                                          else path)


def measure(index_dir, *, baseline: str | None = None, candidate: Path = REPO, rounds: int = 1,
            clients: int = 16, seconds: float = 30.0, queries: str | None = None,
            tool: str = "auto", sample: int = SAMPLE, say=None) -> dict:
    """The load on the candidate's server (and, with ``baseline``, REF's, interleaved):
    one dict with each round, each side's medians, the ratio and the sample's check."""
    say = say or (lambda _msg: None)
    searches, source = queries_for(queries, index_dir)
    if len(searches) <= WARM_SEARCHES:
        raise SystemExit(f"bench.server_load: only {len(searches)} searches ({source}): "
                         f"more than {WARM_SEARCHES} are needed")
    every = paths_of(searches)
    warm, paths = every[:WARM_SEARCHES], every[WARM_SEARCHES:]
    step = max(1, len(paths) // max(1, sample))
    asked = paths[::step][:sample] if sample else []
    work = Path(tempfile.mkdtemp(prefix="server-load-"))
    try:
        trees = {"candidate": Path(candidate).resolve()}
        described = {"candidate": _describe_tree(trees["candidate"])}
        if baseline:
            trees["baseline"] = work / "baseline"
            described["baseline"] = export_tree(baseline, trees["baseline"])[:12] + f" ({baseline})"
        order = (["baseline", "candidate"] if baseline else ["candidate"]) * rounds
        results: dict[str, list[dict]] = {side: [] for side in order[:2]}
        for n, side in enumerate(order, 1):
            say(f"round {n}/{len(order)}: {side} ({described[side]})")
            r = one_round(trees[side], index_dir, paths, warm, clients=clients, seconds=seconds,
                          tool=tool, work=work, sample=asked)
            results[side].append(r)
            say(f"  {r['requests_per_second']} requests/s, p50 {r['latency_ms']['p50']} ms, "
                f"p99 {r['latency_ms']['p99']} ms, {r['errors']} errors, "
                f"{r.get('repeats', 0)} repeats, {r['server_memory'].get('peak_pss_mb')} MB PSS")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    first = results["candidate"][0]
    report = {
        "index": str(index_dir), "queries": source, "searches": len(searches),
        "paths": f"{len(paths):,} paths, each search once (API and page in turns), "
                 f"after {len(warm)} to warm the server",
        "server_command": shlex.join(["python"] + serve_command("python", index_dir, 0)[1:])
        .replace("--port 0", "--port PORT"),
        "tool": first["tool"], "command": first.get("command"), "clients": clients,
        "seconds": seconds, "trees": described,
        "sides": {side: _side_summary(rs) for side, rs in results.items()},
        "rounds": [{"side": side, **{k: v for k, v in results[side][n // len(results)].items()
                                     if k != "answers"}}
                   for n, side in enumerate(order)],
    }
    # bench.run's keys: the candidate's first round's figures, as one load.
    report.update({k: first[k] for k in ("requests", "errors", "error_kinds", "requests_per_second",
                                         "latency_ms", "server_memory", "repeats",
                                         "server_cpu_ms_per_request") if k in first})
    if baseline:
        b, c = report["sides"]["baseline"], report["sides"]["candidate"]
        report["ratio"] = round(c["requests_per_second"] / b["requests_per_second"], 2) \
            if b["requests_per_second"] else None
        report["cpu_ratio"] = round(b["server_cpu_ms_per_request"] / c["server_cpu_ms_per_request"], 2) \
            if b["server_cpu_ms_per_request"] and c["server_cpu_ms_per_request"] else None
        theirs, ours = results["baseline"][0]["answers"], first["answers"]
        differing = [p for p in asked if theirs.get(p) != ours.get(p)]
        report["same_answers"] = {"sampled": len(asked), "identical": len(asked) - len(differing),
                                  "differing": differing[:10]}
    return report


def render(report: dict) -> str:
    lines = [f"`{report['server_command']}` over `{report['index']}`, loaded by {report['tool']}: "
             f"{report['clients']} clients, {report['seconds']:g} s a round; {report['paths']} "
             f"({report['searches']:,} searches of {report['queries']}).", "",
             "| code | rounds | requests/s (median; each) | p50 | p90 | p99 | errors | repeats "
             "| server CPU per request | peak server memory (PSS / RSS) |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for side, s in report["sides"].items():
        lat = s["latency_ms"]
        lines.append(f"| {side}: {report['trees'][side]} | {s['rounds']} | "
                     f"{s['requests_per_second']} ({', '.join(map(str, s['requests_per_second_each']))}) "
                     f"| {lat['p50']} ms | {lat['p90']} ms | {lat['p99']} ms | {s['errors']} "
                     f"| {s['repeats']} | {s['server_cpu_ms_per_request']} ms "
                     f"| {s['peak_pss_mb']} MB / {s['peak_rss_mb']} MB |")
    if "ratio" in report:
        same = report["same_answers"]
        lines += ["", f"Requests/s candidate / baseline: **{report['ratio']}**; server CPU per "
                  f"request baseline / candidate: **{report.get('cpu_ratio')}**. "
                  f"Same answers (bytes, the search's time left out): {same['identical']} of "
                  f"{same['sampled']} sampled paths"
                  + (f"; differing: {', '.join(same['differing'])}" if same["differing"] else "")
                  + "."]
    lines += ["", f"Load command: `{report.get('command')}`."]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.server_load",
                                description=__doc__.split("\n")[0])
    p.add_argument("--index", required=True, help="the index both servers serve")
    p.add_argument("--baseline", default=None,
                   help="a commit to compare with (e.g. main, HEAD~1); default: none")
    p.add_argument("--candidate", default=str(REPO),
                   help=f"the tree whose code is measured (default {REPO})")
    p.add_argument("--rounds", type=int, default=2, help="rounds of each side (default 2)")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--queries", default=None,
                   help="a query set (JSON lines, .gz or not), or from-index "
                        "(default bench/server_queries.jsonl.gz)")
    p.add_argument("--load-tool", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--sample", type=int, default=SAMPLE,
                   help="paths whose answers are compared between the sides")
    p.add_argument("--json", default=None, help="also write the report as JSON to this file")
    args = p.parse_args(argv)
    if not Path(args.index).is_dir():
        print(f"bench.server_load: no index at {args.index}", file=sys.stderr)
        return 2

    def say(msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    report = measure(args.index, baseline=args.baseline, candidate=Path(args.candidate),
                     rounds=args.rounds, clients=args.clients, seconds=args.seconds,
                     queries=args.queries, tool=args.load_tool, sample=args.sample, say=say)
    print(render(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2),
                                   encoding="utf-8")
    return 0 if not any(s["errors"] for s in report["sides"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
