"""The live index's benchmark: changes, updates, segments and merges, on a built index.

    python -m bench.live BASE_INDEX --corpus CORPUS [--work DIR] [--adds 10000] [...]

``BASE_INDEX`` is a full build of ``CORPUS`` (``bench.run`` passes the one it
built); it is only read: every step works on its own copy (``cp -a``, which
keeps the generations' hard links and the ``current`` symlink).

1. Visibility: a running ``python -m search serve`` on a copy; one change of
   ``--batch`` new documents through ``IndexWriter``, then one deleting them,
   each timed from the writer's creation until ``/api/search`` (polled) shows
   all of them, then none; after an untimed change (one document added and
   deleted) that loads what a process's first change and a server's first
   searches load once.  ``--repetitions`` times; between repetitions the
   background merge a change starts is waited for, so each change is timed on
   its own and not behind the previous one's merge.
2. Update (``python -m search index SOURCES``, as ``make index`` runs it): the
   sources are the corpus and a folder of ``--files`` small text files made
   from it.  Their first build is a full one (done once, and timed); then
   updates with nothing changed and with one small file changed.  Needs the
   incremental update (the CLI's ``--full``); without it the step says so.
3. Segments: query latency (``bench.queries``, the same set and rounds) on the
   base index plus the folder's documents added as ``--changes`` unmerged
   segments (``IndexWriter(..., merge=False)``) against the same documents as
   one segment (step 2's full build), alternating runs; with ``--merge-all``
   also the time of ``merging.merge(everything=True)`` on the unmerged copy
   (the other way to get the merged index; slower than the full build on
   the full corpus) and its latency.
4. Merge policy: ``--adds`` changes of one document each, background merging
   on as ``IndexWriter`` does it by default, without waiting for merges
   between them; the segment count after each change, the write
   amplification (documents written by changes and merges / documents
   added, from the manifest's ``writes``) and each add's latency.  The last
   merges are waited for before the figures are read.

Prints one JSON object (progress on stderr).  ``render`` makes its Markdown
section of ``BENCHMARKS.md``, ``goal_rows`` its rows of the goals table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

GOALS = {"add_visible_seconds": 2.0, "delete_visible_seconds": 1.0,
         "update_unchanged_seconds": 3.0, "update_one_file_seconds": 3.0,
         "segments_latency_ratio": 1.15}

# A new document's author: the facet value the visibility step searches for.
AUTHOR = "bench-live-{rep}"


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] live: {msg}", file=sys.stderr, flush=True)


def median(values):
    from bench.run import median as _median
    return _median(values)


def percentile(values, p):
    from bench.run import percentile as _percentile
    return _percentile(values, p)


def spread(values: list[float], digits: int = 3) -> dict:
    """Median, min and max of some seconds."""
    return {"median": round(median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits), "runs": [round(v, digits) for v in values]}


def copy_index(src: Path, dst: Path) -> Path:
    """A copy of an index folder that shares nothing with it but file contents."""
    if dst.exists():
        shutil.rmtree(dst)
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)
    return dst


def corpus_records(corpus: Path, count: int, skip: int = 0) -> list[dict]:
    """``count`` records at even steps through the corpus (after ``skip`` of
    each step's lines), as dicts; their ids are the corpus's own."""
    opener = gzip.open if corpus.name.endswith(".gz") else open
    with opener(corpus, "rb") as fh:
        lines = [line for line in fh if line.strip()]
    step = max(1, len(lines) // max(1, count))
    out = []
    for i in range(count):
        out.append(json.loads(lines[(i * step + skip) % len(lines)]))
    return out


def new_records(corpus: Path, count: int, prefix: str, skip: int = 0,
                author: str | None = None) -> list[dict]:
    """New documents (ids not in the index) with a corpus poem's text each."""
    out = []
    for i, rec in enumerate(corpus_records(corpus, count, skip)):
        rec = {k: v for k, v in rec.items() if k != "id"}
        rec["id"] = f"{prefix}-{i}"
        if author:
            rec["author"] = author
        out.append(rec)
    return out


def write_folder(corpus: Path, folder: Path, files: int) -> list[Path]:
    """A folder of small text files (front matter and a poem each) made from the corpus."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    paths = []
    for i, rec in enumerate(corpus_records(corpus, files, skip=1)):
        path = folder / f"poem-{i:04d}.txt"
        front = {"title": rec.get("title") or f"poem {i}"}
        if rec.get("author"):
            front["author"] = rec["author"]
        head = "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in front.items())
        path.write_text(f"---\n{head}---\n{rec.get('text') or ''}\n", encoding="utf-8")
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------
# 1. Visibility to a running server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m search serve`` on an index, as ``make serve`` runs it."""

    def __init__(self, py: str, index_dir: Path):
        self.port = _free_port()
        self.cmd = [py, "-m", "search", "serve", "--index", str(index_dir), "--host",
                    "127.0.0.1", "--port", str(self.port)]
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def __enter__(self) -> "Server":
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, cwd=REPO)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/api/stats", timeout=5):
                    return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError("the server did not start: "
                                       f"{self.proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stderr.close()

    def total(self, author: str) -> int | None:
        """Documents of this author the server finds now (None: an error answer)."""
        qs = urllib.parse.urlencode({"q": "", "f.author": author, "per_page": 1})
        try:
            with urllib.request.urlopen(f"{self.base}/api/search?{qs}", timeout=10) as resp:
                return json.loads(resp.read())["total"]
        except (OSError, ValueError, KeyError):
            return None


def _until(server: Server, author: str, expected: int, timeout: float = 30.0) -> tuple[float, int]:
    """Poll the server until it finds ``expected`` documents of ``author``:
    (when, as perf_counter, and how many polls)."""
    deadline = time.perf_counter() + timeout
    polls = 0
    while True:
        polls += 1
        if server.total(author) == expected:
            return time.perf_counter(), polls
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the server did not show {expected} documents of {author} "
                               f"within {timeout} s")
        time.sleep(0.005)


def measure_visibility(py: str, base: Path, corpus: Path, work: Path, batch: int,
                       repetitions: int) -> dict:
    from search import IndexWriter
    from search.store import merging
    index_dir = copy_index(base, work / "visible")
    adds, deletes, add_commits, delete_commits = [], [], [], []
    try:
        with Server(py, index_dir) as server:
            # Not timed: what the first change of a process and the first
            # searches of a server cost once (the analysers' dictionaries).
            warm_up = AUTHOR.format(rep="warm-up")
            with IndexWriter(index_dir, wait=60) as w:
                w.add(new_records(corpus, 1, "live-warm-up", author=warm_up)[0])
            _until(server, warm_up, 1)
            with IndexWriter(index_dir, wait=60) as w:
                w.delete("live-warm-up-0")
            _until(server, warm_up, 0)
            for rep in range(repetitions):
                author = AUTHOR.format(rep=rep)
                records = new_records(corpus, batch, f"live-{rep}", skip=2 + rep, author=author)
                merging.wait_for_merges(index_dir)
                t0 = time.perf_counter()
                with IndexWriter(index_dir, wait=60) as w:
                    for rec in records:
                        w.add(rec)
                committed = time.perf_counter()
                seen, _ = _until(server, author, batch)
                adds.append(seen - t0)
                add_commits.append(committed - t0)
                merging.wait_for_merges(index_dir)
                t0 = time.perf_counter()
                with IndexWriter(index_dir, wait=60) as w:
                    for rec in records:
                        w.delete(rec["id"])
                committed = time.perf_counter()
                seen, _ = _until(server, author, 0)
                deletes.append(seen - t0)
                delete_commits.append(committed - t0)
                say(f"  repetition {rep + 1}: add {adds[-1]:.3f} s, delete {deletes[-1]:.3f} s")
            merging.wait_for_merges(index_dir)
    finally:
        shutil.rmtree(index_dir, ignore_errors=True)
    return {"documents": batch, "repetitions": repetitions,
            "server_command": shlex.join(["python"] + server.cmd[1:]).replace(
                str(server.port), "PORT"),
            "add_visible_seconds": spread(adds), "add_commit_seconds": spread(add_commits),
            "delete_visible_seconds": spread(deletes),
            "delete_commit_seconds": spread(delete_commits)}


# ---------------------------------------------------------------------------
# 2. `make index` with little changed


def has_incremental_update(py: str) -> bool:
    out = subprocess.run([py, "-m", "search", "index", "--help"], capture_output=True,
                         text=True, cwd=REPO, timeout=60)
    return "--full" in out.stdout


def index_command(py: str, sources: list[Path], index_dir: Path, full: bool = False) -> list[str]:
    return [py, "-m", "search", "index", *map(str, sources), "--index", str(index_dir),
            "--json", "--quiet"] + (["--full"] if full else [])


def _run_index(cmd: list[str]) -> tuple[float, dict]:
    from bench.run import run_measured
    result, seconds, _mem = run_measured(cmd)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        report = {}
    counts = {}
    for key in ("full_build", "added", "replaced", "deleted", "unchanged", "indexed",
                "files_read", "files_unchanged", "segments"):
        if key in report:
            value = report[key]
            counts[key] = len(value) if isinstance(value, list) else value
    return seconds, counts


def full_build(py: str, sources: list[Path], index_dir: Path, incremental: bool) -> dict:
    if index_dir.exists():
        shutil.rmtree(index_dir)
    cmd = index_command(py, sources, index_dir, full=incremental)
    seconds, counts = _run_index(cmd)
    return {"command": shlex.join(["python"] + cmd[1:]), "seconds": round(seconds, 2),
            "report": counts}


def measure_update(py: str, sources: list[Path], files: list[Path], index_dir: Path,
                   repetitions: int) -> dict:
    """Updates of the (fully built) index from the same sources: nothing
    changed, then one small file changed (a different one each time)."""
    cmd = index_command(py, sources, index_dir)
    unchanged, one_file, reports = [], [], {"unchanged": [], "one_file": []}
    for _ in range(repetitions):
        seconds, counts = _run_index(cmd)
        unchanged.append(seconds)
        reports["unchanged"].append(counts)
    for rep in range(repetitions):
        path = files[(rep * 7) % len(files)]
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"改過第{rep + 1}次。\n")
        seconds, counts = _run_index(cmd)
        one_file.append(seconds)
        reports["one_file"].append(counts)
    return {"available": True, "command": shlex.join(["python"] + cmd[1:]),
            "unchanged_seconds": spread(unchanged, 2), "one_file_seconds": spread(one_file, 2),
            "reports": reports}


# ---------------------------------------------------------------------------
# 3. Query latency over unmerged segments


def query_run(py: str, index_dir: Path, queries: Path, limit: int | None, rounds: int) -> dict:
    """One ``bench.queries`` process: each query's warm (last round) and first-round ms."""
    cmd = [py, "-m", "bench.queries", str(index_dir), str(queries), "--rounds", str(rounds)]
    if limit:
        cmd += ["--limit", str(limit)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True)
    rows = json.loads(out.stdout)["queries"]
    return {"warm": {r["qid"]: r["ms"][-1] for r in rows},
            "first": {r["qid"]: r["ms"][0] for r in rows},
            "totals": {r["qid"]: r["total"] for r in rows},
            "errors": [r["qid"] for r in rows if r["error"]],
            "documents": json.loads(out.stdout).get("documents")}


def _latency(runs: list[dict]) -> dict:
    """p50/p99 of warm and first-round ms, each the median over the runs."""
    out = {}
    for key in ("warm", "first"):
        for p in (50, 99):
            out[f"{key}_p{p}_ms"] = round(median(
                [percentile(list(run[key].values()), p) for run in runs]), 2)
    return out


def per_query_ms(runs: list[dict], key: str = "warm") -> dict[str, float]:
    return {qid: min(run[key][qid] for run in runs) for qid in runs[0][key]}


def measure_segments(py: str, base: Path, merged: Path, folder: Path, work: Path,
                     queries: Path, query_limit: int | None, rounds: int, changes: int,
                     query_runs: int, merge_all: bool) -> dict:
    from search import IndexWriter
    from search.ingest.model import Document
    from search.ingest.sources import iter_source
    from search.store import merging
    docs = [d for d in iter_source(folder) if isinstance(d, Document)]
    unmerged = copy_index(base, work / "unmerged")
    per_change = max(1, -(-len(docs) // changes))
    t0 = time.perf_counter()
    made = 0
    for start in range(0, len(docs), per_change):
        with IndexWriter(unmerged, merge=False) as w:
            for doc in docs[start:start + per_change]:
                w.add(doc)
        made += 1
    added_seconds = time.perf_counter() - t0
    say(f"  {len(docs)} documents in {made} changes, {w.report.segments} segments "
        f"({added_seconds:.1f} s); queries, {query_runs} runs each")
    runs: dict[str, list[dict]] = {"merged": [], "unmerged": []}
    for _ in range(query_runs):
        for name, index_dir in (("merged", merged), ("unmerged", unmerged)):
            runs[name].append(query_run(py, index_dir, queries, query_limit, rounds))
    merged_ms, unmerged_ms = per_query_ms(runs["merged"]), per_query_ms(runs["unmerged"])
    lat = {name: _latency(r) for name, r in runs.items()}
    ratio = {k: round(lat["unmerged"][k] / lat["merged"][k], 3) if lat["merged"][k] else None
             for k in lat["merged"]}
    slower = sorted(((unmerged_ms[q] - merged_ms[q], q) for q in merged_ms
                     if unmerged_ms[q] > GOALS["segments_latency_ratio"] * merged_ms[q]
                     and unmerged_ms[q] - merged_ms[q] > 1.0), reverse=True)
    differ = sorted(q for q in merged_ms
                    if runs["merged"][0]["totals"][q] != runs["unmerged"][0]["totals"][q])
    out = {
        "documents_added": len(docs), "changes": made,
        "segments_unmerged": w.report.segments, "add_seconds": round(added_seconds, 2),
        "query_runs": query_runs, "rounds": rounds,
        "queries": len(merged_ms), "merged": lat["merged"], "unmerged": lat["unmerged"],
        "ratio_unmerged_to_merged": ratio,
        "slower_queries": [{"qid": q, "merged_ms": round(merged_ms[q], 2),
                            "unmerged_ms": round(unmerged_ms[q], 2)} for _, q in slower[:10]],
        "queries_with_other_totals": differ,
        "errors": sorted(set(sum((r["errors"] for rs in runs.values() for r in rs), []))),
    }
    if merge_all:
        say("  merging.merge(everything=True) on the unmerged copy")
        t0 = time.perf_counter()
        merge_report = merging.merge(unmerged, everything=True, wait=60)
        out["merge_everything_seconds"] = round(time.perf_counter() - t0, 2)
        out["merge_everything"] = merge_report.to_dict()
        out["merged_by_merge"] = _latency(
            [query_run(py, unmerged, queries, query_limit, rounds)])
    shutil.rmtree(unmerged, ignore_errors=True)
    return out


# ---------------------------------------------------------------------------
# 4. The merge policy over single adds


def measure_single_adds(base: Path, corpus: Path, work: Path, adds: int) -> dict:
    from search import IndexWriter
    from search.store import merging
    from search.store.layout import MANIFEST, live_generation
    index_dir = copy_index(base, work / "single")
    before = json.loads((live_generation(index_dir) / MANIFEST).read_text()).get("writes") or {}
    records = new_records(corpus, adds, "single", skip=3)
    latencies, segments = [], []
    started = time.perf_counter()
    for n, rec in enumerate(records, 1):
        t0 = time.perf_counter()
        with IndexWriter(index_dir, wait=120) as w:
            w.add(rec)
        latencies.append(time.perf_counter() - t0)
        segments.append(w.report.segments)
        if n % 1000 == 0:
            say(f"  {n:,} adds, {w.report.segments} segments, "
                f"median {median(latencies[-1000:]) * 1000:.0f} ms")
    adding = time.perf_counter() - started
    merging.wait_for_merges(index_dir)
    waited = time.perf_counter() - started - adding
    # Whatever the policy still wants (a merge skipped while a change held the lock).
    left = merging.merge(index_dir, wait=120)
    manifest = json.loads((live_generation(index_dir) / MANIFEST).read_text())
    writes = manifest.get("writes") or {}
    added = writes.get("documents_added", 0) - before.get("documents_added", 0)
    written = writes.get("documents_written", 0) - before.get("documents_written", 0)
    ms = [x * 1000 for x in latencies]
    step = max(1, adds // 50)
    out = {
        "adds": adds, "base_documents": manifest.get("documents", 0) - adds,
        "seconds": round(adding, 1), "merge_wait_seconds_after": round(waited, 2),
        "merges_left_after_wait": len(left.merged),
        "latency_ms": {"median": round(median(ms), 1), "p99": round(percentile(ms, 99), 1),
                       "max": round(max(ms), 1),
                       "median_first_1000": round(median(ms[:1000]), 1),
                       "median_last_1000": round(median(ms[-1000:]), 1)},
        "segments_max": max(segments), "segments_final": manifest.get("segments"),
        "segments_over_time": [[i + 1, segments[i]] for i in range(step - 1, adds, step)],
        "documents_added": added, "documents_written": written,
        "merges": writes.get("merges", 0) - before.get("merges", 0),
        "write_amplification": round(written / added, 2) if added else None,
        "documents_final": manifest.get("documents"),
    }
    shutil.rmtree(index_dir, ignore_errors=True)
    return out


# ---------------------------------------------------------------------------
# Reporting


def _met(value, goal) -> str:
    if value is None:
        return "n/a"
    return "yes" if value <= goal else "**no**"


def goal_rows(live: dict) -> list[dict]:
    rows = []
    v = live.get("visibility")
    if v:
        for key, what in (("add", "add"), ("delete", "delete")):
            goal = GOALS[f"{key}_visible_seconds"]
            s = v[f"{key}_visible_seconds"]
            rows.append({"goal": f"{what} {v['documents']} documents: visible to a running "
                                 f"server ≤ {goal:g} s",
                         "measured": f"{s['median']} s (median of {v['repetitions']}; "
                                     f"{s['min']}–{s['max']})",
                         "met": _met(s["median"], goal)})
    u = live.get("update") or {}
    for key, what in (("unchanged", "nothing changed"), ("one_file", "one source file changed")):
        goal = GOALS[f"update_{key}_seconds" if key == "unchanged" else "update_one_file_seconds"]
        if u.get("available"):
            s = u[f"{key}_seconds"]
            rows.append({"goal": f"`make index`, {what} ≤ {goal:g} s",
                         "measured": f"{s['median']} s (median; {s['min']}–{s['max']})",
                         "met": _met(s["median"], goal)})
        elif u:
            rows.append({"goal": f"`make index`, {what} ≤ {goal:g} s",
                         "measured": "not measured: " + u.get("reason", "?"), "met": "n/a"})
    s = live.get("segments")
    if s:
        limit = round((GOALS["segments_latency_ratio"] - 1) * 100)
        for p in (50, 99):
            r = s["ratio_unmerged_to_merged"][f"warm_p{p}_ms"]
            rows.append({"goal": f"results page p{p} with {s['changes']} unmerged segments "
                                 f"within {limit}% of the merged index",
                         "measured": f"{s['unmerged'][f'warm_p{p}_ms']} ms vs "
                                     f"{s['merged'][f'warm_p{p}_ms']} ms (×{r})",
                         "met": _met(r, GOALS["segments_latency_ratio"])})
    return rows


def render(live: dict) -> str:
    lines = ["### Live index", ""]
    v, u, s, a = (live.get(k) for k in ("visibility", "update", "segments", "single_adds"))
    if v:
        lines += [f"Changes through `IndexWriter` on a copy of the index while "
                  f"`{v['server_command']}` runs on it: one change of {v['documents']} new "
                  f"documents, then one deleting them, {v['repetitions']} times; timed from "
                  f"the writer's creation until `/api/search` (polled every 5 ms) finds all "
                  f"of them, then none (commit: until `commit()` returns).", "",
                  "| change | visible: median | min | max | commit: median |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for key in ("add", "delete"):
            vis, com = v[f"{key}_visible_seconds"], v[f"{key}_commit_seconds"]
            lines.append(f"| {key} {v['documents']} | {vis['median']} s | {vis['min']} s "
                         f"| {vis['max']} s | {com['median']} s |")
        lines.append("")
    if u:
        if u.get("available"):
            lines += [f"`make index` (`{u['command']}`) on the full build of the same sources "
                      f"({u['full_build']['seconds'] or '?'} s, `{u['full_build']['command']}`): "
                      f"nothing changed {u['unchanged_seconds']['median']} s (median, "
                      f"{u['unchanged_seconds']['min']}–{u['unchanged_seconds']['max']}); one "
                      f"of the {u['files']} small files changed {u['one_file_seconds']['median']} s "
                      f"({u['one_file_seconds']['min']}–{u['one_file_seconds']['max']}).", ""]
        else:
            lines += [f"`make index` updates: not measured ({u.get('reason')}).", ""]
    if s:
        lines += [f"Query latency over unmerged segments: the base index plus "
                  f"{s['documents_added']:,} documents (the small files) added in "
                  f"{s['changes']} changes with `IndexWriter(..., merge=False)` "
                  f"({s['segments_unmerged']} segments, {s['add_seconds']} s), against the "
                  f"same documents as one segment (the full build above); `bench.queries`, "
                  f"{s['queries']} queries, {s['rounds']} rounds, {s['query_runs']} alternating "
                  f"runs per index (each figure the median over the runs).", "",
                  "| index | warm p50 | warm p99 | first round p50 | first round p99 |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        rows = [("merged (one segment)", s["merged"]),
                (f"{s['changes']} unmerged segments", s["unmerged"])]
        if s.get("merged_by_merge"):
            rows.append(("merged by `merge(everything=True)`", s["merged_by_merge"]))
        for label, m in rows:
            lines.append(f"| {label} | {m['warm_p50_ms']} ms | {m['warm_p99_ms']} ms "
                         f"| {m['first_p50_ms']} ms | {m['first_p99_ms']} ms |")
        r = s["ratio_unmerged_to_merged"]
        lines.append(f"| ratio unmerged / merged | ×{r['warm_p50_ms']} | ×{r['warm_p99_ms']} "
                     f"| ×{r['first_p50_ms']} | ×{r['first_p99_ms']} |")
        lines.append("")
        if s.get("merge_everything_seconds") is not None:
            lines.append(f"`merging.merge(everything=True)` of those segments took "
                         f"{s['merge_everything_seconds']} s (the full build "
                         f"{u['full_build']['seconds'] if u and u.get('full_build') else '?'} s).")
        if s["slower_queries"]:
            lines.append("Queries more than 15% (and 1 ms) slower unmerged (warm, best run): " +
                         ", ".join(f"{x['qid']} {x['unmerged_ms']} vs {x['merged_ms']} ms"
                                   for x in s["slower_queries"]) + ".")
        if s["queries_with_other_totals"]:
            lines.append(f"Queries whose total differs between the two: "
                         f"{', '.join(s['queries_with_other_totals'][:20])}.")
        lines.append("")
    if a:
        lat = a["latency_ms"]
        lines += [f"Merge policy: {a['adds']:,} changes of one document each on a copy of the "
                  f"{a['base_documents']:,}-document index, background merging as by default, "
                  f"no waiting between them ({a['seconds']} s; the last merges "
                  f"{a['merge_wait_seconds_after']} s more).", "",
                  "| segments: max | final | merges | documents written / added "
                  "| add latency: median | p99 | max | median of first / last 1,000 |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
                  f"| {a['segments_max']} | {a['segments_final']} | {a['merges']:,} "
                  f"| {a['documents_written']:,} / {a['documents_added']:,} = "
                  f"**{a['write_amplification']}** | {lat['median']} ms | {lat['p99']} ms "
                  f"| {lat['max']} ms | {lat['median_first_1000']} / {lat['median_last_1000']} ms |",
                  "", f"Segments when a change commits, sampled every "
                  f"{a['segments_over_time'][0][0]:,} changes: "
                  + " ".join(str(c) for _, c in a["segments_over_time"]) + ".", ""]
    rows = goal_rows(live)
    if rows:
        lines += ["| goal | measured | met |", "| --- | --- | --- |"]
        lines += [f"| {r['goal']} | {r['measured']} | {r['met']} |" for r in rows]
        lines.append("")
    lines.append(f"Live-index steps: {live.get('seconds')} s in all.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------


def run(py: str, base: Path, corpus: Path, work: Path, *, queries: Path,
        query_limit: int | None = None, rounds: int = 2, batch: int = 100,
        repetitions: int = 5, update_runs: int = 3, files: int = 1000, changes: int = 20, query_runs: int = 2,
        adds: int = 10000, merge_all: bool = False, merged: Path | None = None,
        skip: set[str] = frozenset()) -> dict:
    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    out: dict = {}
    if "visibility" not in skip:
        say(f"visibility: {repetitions} x add and delete {batch} documents under a running server")
        out["visibility"] = measure_visibility(py, base, corpus, work, batch, repetitions)
    folder = work / "poems"
    paths = write_folder(corpus, folder, files)
    sources = [corpus, folder]
    incremental = has_incremental_update(py)
    given = merged is not None
    if given:
        # A full build of these sources made before (only read): no new one.
        full = {"command": "(given: --merged)", "seconds": None, "report": {}}
    elif {"update", "segments"} - skip:
        merged = work / "merged"
        say(f"full build of the corpus and {files} small files"
            + ("" if incremental else " (no incremental update: `index` has no --full)"))
        full = full_build(py, sources, merged, incremental)
        say(f"  {full['seconds']} s")
    if "segments" not in skip:
        say(f"segments: {changes} unmerged changes against one segment")
        out["segments"] = measure_segments(py, base, merged, folder, work, queries, query_limit,
                                           rounds, changes, query_runs, merge_all)
        s = out["segments"]
        say(f"  warm p50 {s['unmerged']['warm_p50_ms']} vs {s['merged']['warm_p50_ms']} ms, "
            f"p99 {s['unmerged']['warm_p99_ms']} vs {s['merged']['warm_p99_ms']} ms")
    if "update" not in skip:
        if incremental:
            say("update: `python -m search index` with nothing and with one file changed")
            updated = copy_index(merged, work / "updated") if given else merged
            out["update"] = measure_update(py, sources, paths, updated, update_runs)
            out["update"].update(full_build=full, files=files)
            if given:
                shutil.rmtree(updated, ignore_errors=True)
        else:
            out["update"] = {"available": False, "full_build": full, "files": files,
                             "reason": "`python -m search index` has no incremental update "
                                       "(no --full option) in this checkout"}
    if merged is not None and not given:
        shutil.rmtree(merged, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    if "single_adds" not in skip and adds:
        say(f"merge policy: {adds:,} single adds")
        out["single_adds"] = a = measure_single_adds(base, corpus, work, adds)
        say(f"  {a['seconds']} s, segments max {a['segments_max']}, final "
            f"{a['segments_final']}, write amplification {a['write_amplification']}")
    out["goals"] = goal_rows(out)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


STEPS = ("visibility", "update", "segments", "single_adds")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.split("\n")[0])
    p.add_argument("base_index", help="a full build of the corpus (only read)")
    p.add_argument("--corpus", required=True, help="the JSON-lines corpus the index was built from")
    p.add_argument("--work", default=None, help="where the copies go (default: a temp dir)")
    p.add_argument("--queries", default=str(HERE / "queries.jsonl"))
    p.add_argument("--query-limit", type=int, default=None)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--batch", type=int, default=100, help="documents of one change (step 1)")
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--update-runs", type=int, default=3,
                   help="updates with nothing changed, and with one file changed (step 2)")
    p.add_argument("--files", type=int, default=1000, help="small source files (steps 2, 3)")
    p.add_argument("--changes", type=int, default=20, help="unmerged segments (step 3)")
    p.add_argument("--query-runs", type=int, default=2)
    p.add_argument("--adds", type=int, default=10000, help="single adds (step 4)")
    p.add_argument("--merge-all", action="store_true",
                   help="also time merge(everything=True) in step 3 (on the full corpus it "
                        "takes longer than the full build)")
    p.add_argument("--merged", default=None,
                   help="a full build of CORPUS and the --files small files made before "
                        "(only read): steps 2 and 3 use it instead of building one")
    p.add_argument("--skip", action="append", choices=STEPS, default=[])
    args = p.parse_args(argv)
    import tempfile
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-live-"))
    try:
        out = run(sys.executable, Path(args.base_index), Path(args.corpus), work,
                  queries=Path(args.queries), query_limit=args.query_limit, rounds=args.rounds,
                  batch=args.batch, repetitions=args.repetitions, update_runs=args.update_runs,
                  files=args.files,
                  changes=args.changes, query_runs=args.query_runs, adds=args.adds,
                  merge_all=args.merge_all, merged=Path(args.merged) if args.merged else None,
                  skip=set(args.skip))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
