"""The benchmark (``make bench``): build, queries and server, on one corpus, in one run.

    python -m bench.run [--corpus PATH] [--limit N] [--naive-limit N] [...]

1. Build: this project's build (``python -m search index``) with the peak
   memory of its process tree; beside it, on the same text, the floor
   (jieba alone, OpenCC alone, one process: ``bench.floor``) and the naive
   peer (Whoosh + jieba's ``ChineseAnalyzer``, one writer: ``bench.naive``).
2. Queries: every query of ``bench/queries.jsonl`` as a complete results page
   (``bench.queries``), and the time from a fresh process's start to its
   first answer.
3. Server: ``python -m search serve`` (gunicorn, as ``make serve`` runs it)
   under a bounded load (wrk if installed, else ``bench.load``): 16 clients
   for 30 s over searches it has not seen, API and HTML pages in turns, each
   sent once (``bench.server_load``); ``--baseline REF`` loads REF's code
   too, on the same index, to give the ratio.
   Beside them, the fast peer (``bench.tantivy_peer``, ``--skip-tantivy``
   leaves it out; skipped when tantivy or rjieba is not installed): Tantivy
   with rjieba's words on the same records, its build and the same queries,
   with the ratios this project / Tantivy.
4. Live index (``bench.live``, on copies of the built index; ``--skip-live``
   leaves it out): changes visible to a running server, ``make index`` with
   little changed, query latency over unmerged segments, and the merge
   policy over ``--live-adds`` single adds.

Writes the figures as JSON under ``bench/results/`` and, for a run over the
default corpus, the measured part of ``BENCHMARKS.md``.  The default corpus is
``../shared/corpora/poetry.jsonl.gz``; without it the benchmark says so and
exits 0.  ``--limit N`` takes N records at even steps through the corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "poetry.jsonl.gz"
HTML_PAGES = REPO.parent / "shared" / "corpora" / "html-dev"
DEFAULT_QUERIES = HERE / "queries.jsonl"
DEFAULT_RESULTS = HERE / "results"
DEFAULT_REPORT = REPO / "BENCHMARKS.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# The goals this benchmark is held to (full corpus, two cores).
GOALS = {
    "build_seconds": 300, "build_ratio_to_naive": 0.45, "query_p50_ms": 5, "query_p99_ms": 50,
    "first_answer_seconds": 1.5, "server_rps": 150, "server_rss_mb": 600,
}


# ---------------------------------------------------------------------------
# Measuring


def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}
    try:
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pass
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal"):
                info["ram_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
            text=True, timeout=10).stdout.strip() or None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True, timeout=10).stdout
        info["git_dirty"] = bool(dirty.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def _tree(pid: int) -> list[int]:
    children = _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB (PSS 0 when unknown)."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                    break
    except OSError:
        return 0, 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                    break
    except OSError:
        pass
    return rss, pss


class TreeMemory:
    """Samples the memory of a process and all its descendants until stopped.

    RSS counts pages shared between processes (forked workers share jieba's
    dictionary) once per process; PSS divides them among the sharers.  Both
    peaks are kept.  Linux (/proc) only; elsewhere psutil's RSS if installed.
    """

    def __init__(self, pid: int, interval: float = 1.0):
        self.pid = pid
        self.interval = interval
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.last_rss_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        if os.path.isdir("/proc"):
            rss = pss = 0
            for pid in _tree(self.pid):
                r, p = _memory_kb(pid)
                rss += r
                pss += p
        else:
            try:
                import psutil
                proc = psutil.Process(self.pid)
                procs = [proc] + proc.children(recursive=True)
                rss = sum(p.memory_info().rss for p in procs) // 1024
                pss = 0
            except Exception:
                return
        self.samples += 1
        self.last_rss_kb = rss
        self.peak_rss_kb = max(self.peak_rss_kb, rss)
        self.peak_pss_kb = max(self.peak_pss_kb, pss)

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def to_dict(self) -> dict:
        return {"peak_rss_mb": round(self.peak_rss_kb / 1024, 1),
                "peak_pss_mb": round(self.peak_pss_kb / 1024, 1) if self.peak_pss_kb else None,
                "samples": self.samples}


def _children_cpu() -> float:
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(cmd: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, float, dict]:
    """Run a command to completion: (result, wall seconds, memory and CPU of its process tree).

    CPU seconds are user + system time of the command and every process it
    waited for (its workers), so a busy machine shows as wall time well above
    CPU time / cores.
    """
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=REPO, **kwargs)
    with TreeMemory(proc.pid) as mem:
        out, err = proc.communicate()
    seconds = time.perf_counter() - started
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    usage = mem.to_dict()
    usage["cpu_seconds"] = round(_children_cpu() - cpu_before, 1)
    return result, seconds, usage


def dir_bytes(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, name))
            except OSError:
                pass
    return total


def percentile(values: list[float], p: float) -> float | None:
    from bench.load import percentile as nearest_rank
    return nearest_rank(sorted(values), p)


def median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def sample_corpus(corpus: Path, limit: int | None, work: Path) -> tuple[Path, int, int]:
    """The corpus (or ``limit`` records at even steps through it); records and characters."""
    import gzip
    opener = gzip.open if corpus.name.endswith(".gz") else open
    with opener(corpus, "rb") as fh:
        lines = [line for line in fh if line.strip()]
    if limit and limit < len(lines):
        step = len(lines) / limit
        lines = [lines[int(i * step)] for i in range(limit)]
        path = work / "corpus.jsonl"
        with open(path, "wb") as out:
            out.writelines(lines)
    else:
        path = corpus
    chars = 0
    for line in lines:
        record = json.loads(line)
        chars += len(record.get("title") or "") + len(record.get("text") or "")
    return path, len(lines), chars


def measure_build(py: str, corpus: Path, index_dir: Path, docs: int, chars: int,
                  workers: int | None) -> dict:
    cmd = [py, "-m", "search", "index", str(corpus), "--index", str(index_dir), "--json", "--quiet"]
    env = dict(os.environ)
    if workers:
        env["SEARCH_BUILD_WORKERS"] = str(workers)
    result, seconds, mem = run_measured(cmd, env=env)
    report = json.loads(result.stdout)
    from search.store.layout import live_generation
    gen = live_generation(index_dir)
    manifest = json.loads((gen / "build.json").read_text())
    return {
        "command": shlex.join(["python"] + cmd[1:]) + (f"  # SEARCH_BUILD_WORKERS={workers}"
                                                        if workers else ""),
        "documents": report["indexed"], "skipped": len(report["skipped"]),
        "seconds": round(seconds, 2), "build_seconds_reported": report["seconds"],
        "documents_per_second": round(docs / seconds, 1),
        "characters_per_second": round(chars / seconds),
        "index_bytes": dir_bytes(gen), "index_mb": round(dir_bytes(gen) / 1e6, 1),
        "memory": mem, "builder": manifest.get("builder"),
    }


def measure_floor(py: str, corpus: Path) -> dict:
    cmd = [py, "-m", "bench.floor", str(corpus)]
    result, seconds, mem = run_measured(cmd)
    out = json.loads(result.stdout)
    out.update({"command": shlex.join(["python"] + cmd[1:]), "memory": mem})
    return out


def measure_naive(py: str, corpus: Path, index_dir: Path, limit: int | None) -> dict:
    cmd = [py, "-m", "bench.naive", str(corpus), str(index_dir)]
    if limit:
        cmd += ["--limit", str(limit)]
    result, seconds, mem = run_measured(cmd)
    out = json.loads(result.stdout)
    out.update({"command": shlex.join(["python"] + cmd[1:]), "wall_seconds": round(seconds, 2),
                "index_mb": round(out["index_bytes"] / 1e6, 1), "memory": mem})
    shutil.rmtree(index_dir, ignore_errors=True)
    return out


def measure_queries(py: str, index_dir: Path, queries: Path, limit: int | None,
                    rounds: int) -> dict:
    cmd = [py, "-m", "bench.queries", str(index_dir), str(queries), "--rounds", str(rounds)]
    if limit:
        cmd += ["--limit", str(limit)]
    result, _seconds, mem = run_measured(cmd)
    data = json.loads(result.stdout)
    rows = data["queries"]
    last = [r["ms"][-1] for r in rows]
    first = [r["ms"][0] for r in rows]

    def summary(values):
        return {f"p{p}": round(percentile(values, p), 2) for p in (50, 95, 99)} | {
            "max": round(max(values), 2), "mean": round(sum(values) / len(values), 2)}

    by_kind: dict[str, list[float]] = {}
    for r in rows:
        by_kind.setdefault(r["kind"], []).append(r["ms"][-1])
    slowest = sorted(rows, key=lambda r: -r["ms"][-1])[:10]
    return {
        "command": shlex.join(["python"] + cmd[1:]), "queries": len(rows), "rounds": rounds,
        "warm": summary(last), "first_round": summary(first),
        "by_kind_p50_ms": {k: round(median(v), 2) for k, v in sorted(by_kind.items())},
        "by_kind_p99_ms": {k: round(percentile(v, 99), 2) for k, v in sorted(by_kind.items())},
        "errors": [r for r in rows if r["error"]],
        "partial": sum(1 for r in rows if r["partial"]),
        "zero_hits": sum(1 for r in rows if r["total"] == 0),
        "slowest": [{"qid": r["qid"], "ms": round(r["ms"][-1], 1), "total": r["total"]}
                    for r in slowest],
        "open_seconds": data["open_seconds"], "memory": mem,
        "keystrokes": {"prefixes": data["keystrokes"]["prefixes"],
                       "vocabulary_seconds": data["keystrokes"]["vocabulary_seconds"]} | (
            summary(data["keystrokes"]["ms"]) if data["keystrokes"]["ms"] else {}),
    }


def measure_tantivy(py: str, corpus: Path, project_index: Path, args) -> dict:
    """``bench.tantivy_peer`` on the same records, in its own process; {"skipped": why}
    without its packages."""
    cmd = [py, "-m", "bench.tantivy_peer", "--corpus", str(corpus), "--queries", args.queries,
           "--project-index", str(project_index)]
    if args.query_limit:
        cmd += ["--query-limit", str(args.query_limit)]
    result, seconds, mem = run_measured(cmd)
    out = json.loads(result.stdout)
    out.update({"command": shlex.join(["python"] + cmd[1:]), "wall_seconds": round(seconds, 2)})
    return out


def tantivy_ratios(results: dict) -> dict:
    """This project's figures over Tantivy's, from the same run."""
    t, b, q = results.get("tantivy") or {}, results["build"], results["queries"]
    if "build" not in t or t["build"]["documents"] != b["documents"]:
        return {}
    tb, tq = t["build"], t["queries"]

    def ratio(a, b):
        return round(a / b, 2) if a is not None and b else None

    return {"build time / Tantivy": ratio(b["seconds"], tb["seconds"]),
            "index size / Tantivy": ratio(b["index_bytes"], tb["index_bytes"]),
            "build peak RSS / Tantivy": ratio(b["memory"]["peak_rss_mb"], tb["peak_rss_mb"]),
            # The workers share pages (the dictionaries): PSS counts them once.
            "build peak PSS / Tantivy RSS": ratio(b["memory"].get("peak_pss_mb"), tb["peak_rss_mb"]),
            "query p50 first round / Tantivy": ratio(q["first_round"]["p50"], tq["first_round"]["p50"]),
            "query p99 first round / Tantivy": ratio(q["first_round"]["p99"], tq["first_round"]["p99"]),
            "query p50 warm / Tantivy": ratio(q["warm"]["p50"], tq["warm"]["p50"]),
            "query p99 warm / Tantivy": ratio(q["warm"]["p99"], tq["warm"]["p99"])}


def render_tantivy(results: dict) -> list[str]:
    t = results.get("tantivy")
    if not t:
        return []
    lines = ["### Against Tantivy", ""]
    if "skipped" in t:
        return lines + [f"The Tantivy peer was skipped: {t['skipped']}.", ""]
    b, q, tb, tq = results["build"], results["queries"], t["build"], t["queries"]
    r, o = results.get("tantivy_ratios") or {}, t.get("overlap") or {}
    lines += [
        "The peer a user would pick for speed: Tantivy (tantivy-py "
        f"{(t.get('versions') or {}).get('tantivy', '?')}) with rjieba "
        f"{(t.get('versions') or {}).get('rjieba', '?')}'s words, one Python process "
        "(`bench.tantivy_peer`).  It indexes the same records: title and text converted "
        "with this project's `to_simplified`, cut by `rjieba.cut`, indexed through the "
        "whitespace tokenizer; the original text stored; author and dynasty as fast "
        "fields; `index.writer()` with Tantivy's defaults, one commit.  Its results page "
        "is the top 10 by BM25 (words OR'ed, a quoted query as a phrase) with the total "
        "and two facet counts (author, dynasty).  It does not make snippets or highlight, "
        "converts the query with the same `to_simplified` and nothing more (no variants, "
        "no pinyin, no bigrams, no expansions), counts no other facet, and has no city "
        f"field ({tq['city_filter_dropped']} city-filtered queries run without the filter).",
        "",
        "| | this project | Tantivy + rjieba | this project / Tantivy |",
        "| --- | ---: | ---: | ---: |",
        f"| build (s) | {b['seconds']} | {tb['seconds']} | {r.get('build time / Tantivy')} |",
        f"| index on disk (MB) | {b['index_mb']} | {tb['index_mb']} | {r.get('index size / Tantivy')} |",
        f"| build peak RSS (MB; this project's process tree: RSS / PSS) "
        f"| {b['memory']['peak_rss_mb']} / {b['memory']['peak_pss_mb']} | {tb['peak_rss_mb']} "
        f"| {r.get('build peak RSS / Tantivy')} / {r.get('build peak PSS / Tantivy RSS')} |"]
    for label, key in (("first round", "first_round"), ("warm", "warm")):
        for p in ("p50", "p99"):
            lines.append(f"| results page {label} {p} (ms) | {q[key][p]} | {tq[key][p]} "
                         f"| {r.get(f'query {p} {label} / Tantivy')} |")
    lines += ["",
              f"This project's pages carry snippets and every facet; its build runs "
              f"{b['builder'].get('workers') if b.get('builder') else '?'} workers, Tantivy's "
              f"writer its default threads.  Tantivy's peak RSS is its build process's "
              f"(`getrusage`), this project's sampled each second over the build's processes.  "
              f"Tantivy's warm figure is each query's median of "
              f"{tq['warm_rounds']} rounds after the first; this project's, its last round.",
              f"Answers alike: Tantivy's top 10 shares with this project's a median of "
              f"**{o.get('overlap_at_10_median')}** (mean {o.get('overlap_at_10_mean')}) over "
              f"{o.get('compared')} queries ({o.get('identical_top_sets')} with the same documents "
              f"in both; city-filtered queries and those this project finds nothing for left out).",
              "", f"Command: `{t['command']}`.", ""]
    return lines


def measure_live(py: str, index_dir: Path, corpus: Path, work: Path, args) -> dict:
    """``bench.live`` on the built index (which it only copies); its progress
    goes to this run's stderr."""
    cmd = [py, "-m", "bench.live", str(index_dir), "--corpus", str(corpus), "--work",
           str(work / "live"), "--queries", args.queries, "--rounds", str(args.rounds),
           "--adds", str(args.live_adds)]
    if args.query_limit:
        cmd += ["--query-limit", str(args.query_limit)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({out.returncode})")
    live = json.loads(out.stdout)
    live["command"] = shlex.join(["python"] + cmd[1:])
    return live


FIRST_ANSWER = ("import sys; from search import open_index; "
                "r = open_index(sys.argv[1]).search(sys.argv[2], per_page=10); "
                "print(r.total, flush=True)")


def measure_html(py: str, pages: Path) -> dict:
    """Web pages read: html-dev against its judged table, and pages per second
    (``bench.html_dev``, in a fresh process)."""
    cmd = [py, "-m", "bench.html_dev", "--pages", str(pages), "--json"]
    if not pages.is_dir():
        return {"absent": str(pages), "command": " ".join(cmd)}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
    data = json.loads(out.stdout)
    data["command"] = f"python -m bench.html_dev --pages {pages}"
    return data


def render_html(h: dict) -> list[str]:
    if h.get("absent"):
        return ["### Web pages", "", f"html-dev is absent ({h['absent']}): not measured.", ""]
    lines = ["### Web pages", "",
             "The 36 saved news pages of html-dev read as the build reads them (the HTML reader, "
             "then our cleaning), scored against the judgements of `bench/html_dev_truth.py`:", "",
             "| | title | date | body start | no boilerplate | not cut |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for label, result in h["results"].items():
        t, n = result["totals"], result["count"]
        lines.append(f"| {label} | {t['title']}/{n} | {t['date']}/{n} | {t['start']}/{n} "
                     f"| {t['clean']}/{n} | {t['whole']}/{n} |")
    speed = h["pages_per_second"]
    lines += ["", "Pages per second (median of 3 passes, one process): " + "; ".join(
        f"{label} {rate:.1f}" for label, rate in speed.items()) + ".", "",
        f"Command: `{h['command']}`.", ""]
    return lines


def measure_first_answer(py: str, index_dir: Path, query: str, runs: int) -> dict:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen([py, "-c", FIRST_ANSWER, str(index_dir), query],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=REPO)
        line = proc.stdout.readline()
        times.append(time.perf_counter() - started)
        proc.communicate()
        if proc.returncode != 0 or not line.strip():
            raise RuntimeError(f"first-answer run failed: {proc.stderr.read() if proc.stderr else ''}")
    return {"command": f"python -c {shlex.quote(FIRST_ANSWER)} INDEX {shlex.quote(query)}",
            "runs": runs, "median_seconds": round(median(times), 3),
            "min_seconds": round(min(times), 3), "max_seconds": round(max(times), 3)}


def measure_server(index_dir: Path, clients: int, seconds: float, tool: str = "auto",
                   baseline: str | None = None, queries: str | None = None, say=None) -> dict:
    """``bench.server_load``: the server loaded with searches it has not seen, each
    sent once; with ``baseline`` (a commit) that commit's code too, interleaved."""
    from bench.server_load import measure
    return measure(index_dir, baseline=baseline, rounds=1, clients=clients, seconds=seconds,
                   queries=queries, tool=tool, sample=50 if baseline else 0, say=say)


# ---------------------------------------------------------------------------
# Reporting


def _ok(value, goal, lower_is_better=True) -> str:
    if value is None:
        return "n/a"
    return "yes" if (value <= goal if lower_is_better else value >= goal) else "**no**"


def render(results: dict) -> str:
    m = results["machine"]
    b = results["build"]
    f = results.get("floor") or {}
    n = results.get("naive") or {}
    q = results["queries"]
    fa = results["first_answer"]
    s = results["server"]
    c = results["corpus"]
    lines = [BEGIN, "", f"Run of {results['finished_at']} (`{results['command']}`), "
             f"commit {m.get('git_commit')}{' with local changes' if m.get('git_dirty') else ''}.",
             "",
             f"Machine: {m.get('nproc')} CPUs ({m.get('cpu', '?')}), {m.get('ram_gb', '?')} GB RAM, "
             f"Python {m['python']}, {m['platform']}; load average at start "
             f"{m.get('load_average_at_start')}.",
             "",
             f"Corpus: `{c['path']}`{' (' + str(c['limit']) + ' records at even steps)' if c.get('limit') else ''}: "
             f"{c['documents']:,} documents, {c['characters']:,} characters (titles and texts).",
             "", "### Build", "",
             "| what | seconds | docs/s | chars/s | index | peak memory (RSS / PSS of the process tree) |",
             "| --- | ---: | ---: | ---: | ---: | --- |",
             f"| this project (`search index`, {b['builder'].get('workers') if b.get('builder') else '?'} workers) "
             f"| {b['seconds']} | {b['documents_per_second']:,} | {b['characters_per_second']:,} "
             f"| {b['index_mb']} MB | {b['memory']['peak_rss_mb']} MB / {b['memory']['peak_pss_mb']} MB |"]
    if n:
        scale = "" if n["documents"] == b["documents"] else f" ({n['documents']:,} documents)"
        lines.append(f"| naive peer: Whoosh + `ChineseAnalyzer`, one writer{scale} | {n['wall_seconds']} "
                     f"(commit {n['commit_seconds']}) | {round(n['documents'] / n['wall_seconds'], 1):,} | "
                     f"| {n['index_mb']} MB | {n['memory']['peak_rss_mb']} MB / {n['memory']['peak_pss_mb']} MB |")
    if f:
        lines.append(f"| floor: jieba `cut` alone, one process | {f['jieba_seconds']} | | "
                     f"{round(f['characters'] / f['jieba_seconds']):,} | | |")
        lines.append(f"| floor: OpenCC `t2s` alone, one process | {f['opencc_seconds']} | | "
                     f"{round(f['characters'] / f['opencc_seconds']):,} | | |")
        lines.append(f"| (ours alone: `segment` / `to_simplified`, one process) | {f['segment_seconds']} / "
                     f"{f['to_simplified_seconds']} | | | | |")
    lines.append("")
    if b.get("builder"):
        lines.append(f"Build phases (seconds): {b['builder'].get('seconds')}.")
    ratios = results["ratios"]
    if ratios:
        lines.append("Ratios within this run: " + "; ".join(f"{k} {v}" for k, v in ratios.items()) + ".")
    if f:
        lines.append(f"`to_simplified` differs from OpenCC `t2s` on {f['to_simplified_differs_from_opencc']} "
                     f"of {f['documents']:,} documents.")
    lines += ["", "Commands:", ""]
    lines.append(f"* build: `{b['command']}`")
    if f:
        lines.append(f"* floor: `{f['command']}`")
    if n:
        lines.append(f"* naive peer: `{n['command']}`")
    lines += ["", "### Queries", "",
              f"{q['queries']} queries of `bench/queries.jsonl`, {q['rounds']} rounds in one fresh process; "
              f"a complete results page each (`open_index(...).search(q, ..., per_page=10)`: "
              f"top 10, total, facets, snippets).  Warm = last round: the same queries again, "
              f"so the terms' decoded postings a process keeps (`SEARCH_TERM_CACHE`) serve them; "
              f"the first round is each query seen for the first time.", "",
              "| | p50 | p95 | p99 | max | mean |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for label, key in (("warm (ms)", "warm"), ("first round (ms)", "first_round")):
        v = q[key]
        lines.append(f"| {label} | {v['p50']} | {v['p95']} | {v['p99']} | {v['max']} | {v['mean']} |")
    lines += ["", "By kind, warm p50 / p99 (ms): " + "; ".join(
        f"{k} {q['by_kind_p50_ms'][k]} / {q['by_kind_p99_ms'][k]}" for k in q["by_kind_p50_ms"]) + ".",
        f"Slowest: " + ", ".join(f"{x['qid']} {x['ms']} ms ({x['total']:,} hits)" for x in q["slowest"][:5]) + ".",
        f"Errors: {len(q['errors'])}; answered partially (time budget): {q['partial']}; "
        f"no hits: {q['zero_hits']}.", "",
        f"Suggestions as you type (`open_index(...).suggest(prefix)`, every prefix of the first "
        f"100 queries and of their pinyin, {q['keystrokes']['prefixes']} keystrokes, same process): "
        f"p50 {q['keystrokes'].get('p50')} ms, p95 {q['keystrokes'].get('p95')} ms, "
        f"p99 {q['keystrokes'].get('p99')} ms, max {q['keystrokes'].get('max')} ms; the vocabulary "
        f"they come from (saved with the index) is read in the background on the first keystroke "
        f"({q['keystrokes']['vocabulary_seconds']} s here; until then suggestions are empty).", "",
        f"First answer (fresh process: start Python, import, open the index, answer one query; "
        f"median of {fa['runs']}): **{fa['median_seconds']} s** (min {fa['min_seconds']}, max {fa['max_seconds']}).",
        "", "Commands:", "", f"* `{q['command']}`", f"* `{fa['command']}`",
        ""] + render_tantivy(results) + [
        "### Server", "", render_server(s), "",
        "RSS adds up each process's pages, those the processes share (loaded before "
        "`serve` forks them) once per process; PSS divides shared pages among the processes "
        "sharing them, so it sums to the memory the server takes.", ""]
    if results.get("live"):
        from bench.live import render as render_live
        lines += [render_live(results["live"]), ""]
    if results.get("html"):
        lines += render_html(results["html"])
    lines += ["### Against the goals", "", "| goal | measured | met |", "| --- | --- | --- |"]
    g = results["goals"]
    for row in g:
        lines.append(f"| {row['goal']} | {row['measured']} | {row['met']} |")
    lines += ["", END]
    return "\n".join(lines)


def render_server(s: dict) -> str:
    from bench.server_load import render
    return render(s)


def goals(results: dict) -> list[dict]:
    b, n, q = results["build"], results.get("naive") or {}, results["queries"]
    fa, s = results["first_answer"], results["server"]
    ratio = results["ratios"].get("build / naive build")
    rows = [
        {"goal": f"build ≤ {GOALS['build_seconds']} s", "measured": f"{b['seconds']} s",
         "met": _ok(b["seconds"], GOALS["build_seconds"])},
        {"goal": f"build ≤ {GOALS['build_ratio_to_naive']} of the naive build (same run)",
         "measured": f"{ratio}" if ratio is not None else "no naive build",
         "met": _ok(ratio, GOALS["build_ratio_to_naive"])},
        {"goal": "index no larger than the naive one",
         "measured": f"{b['index_mb']} MB vs {n.get('index_mb')} MB" if n else "no naive build",
         "met": _ok(b["index_mb"], n["index_mb"]) if n and n["documents"] == b["documents"] else "n/a"},
        {"goal": f"results page p50 ≤ {GOALS['query_p50_ms']} ms", "measured": f"{q['warm']['p50']} ms",
         "met": _ok(q["warm"]["p50"], GOALS["query_p50_ms"])},
        {"goal": f"results page p99 ≤ {GOALS['query_p99_ms']} ms", "measured": f"{q['warm']['p99']} ms",
         "met": _ok(q["warm"]["p99"], GOALS["query_p99_ms"])},
        {"goal": f"first answer ≤ {GOALS['first_answer_seconds']} s",
         "measured": f"{fa['median_seconds']} s", "met": _ok(fa["median_seconds"], GOALS["first_answer_seconds"])},
        {"goal": f"server ≥ {GOALS['server_rps']} requests/s, no errors",
         "measured": f"{s['requests_per_second']} requests/s, {s['errors']} errors",
         "met": "yes" if s["requests_per_second"] >= GOALS["server_rps"] and not s["errors"] else "**no**"},
        {"goal": f"server memory ≤ {GOALS['server_rss_mb']} MB",
         "measured": f"{s['server_memory'].get('peak_pss_mb')} MB PSS "
                     f"({s['server_memory']['peak_rss_mb']} MB RSS)",
         "met": _ok(s["server_memory"].get("peak_pss_mb"), GOALS["server_rss_mb"])},
    ]
    if results.get("live"):
        from bench.live import goal_rows
        rows += goal_rows(results["live"])
    return rows


def write_report(path: Path, text: str, markers: tuple[str, str] = (BEGIN, END),
                 heading: str = "Latest run") -> None:
    """``text`` (which starts and ends with ``markers``) in place of what the
    markers enclose in ``path``, or appended under ``heading`` the first time."""
    begin, end = markers
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in old and end in old:
        new = old[:old.index(begin)] + text + old[old.index(end) + len(end):]
    else:
        new = ((old.rstrip() + "\n\n" if old else "# Benchmarks\n\n") + f"## {heading}\n\n"
               + text + "\n")
    path.write_text(new, encoding="utf-8")


# ---------------------------------------------------------------------------


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--corpus", default=None, help=f"JSON-lines corpus (default {DEFAULT_CORPUS})")
    p.add_argument("--limit", type=int, default=None, help="records at even steps through the corpus")
    p.add_argument("--queries", default=str(DEFAULT_QUERIES))
    p.add_argument("--query-limit", type=int, default=None)
    p.add_argument("--rounds", type=int, default=2, help="rounds over the query set")
    p.add_argument("--naive-limit", type=int, default=None,
                   help="build the naive peer on the first N records of the (sampled) corpus")
    p.add_argument("--skip-naive", action="store_true")
    p.add_argument("--skip-floor", action="store_true")
    p.add_argument("--workers", type=int, default=None, help="build workers (default: the cores)")
    p.add_argument("--first-answer-runs", type=int, default=5)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=30.0, help="server load duration")
    p.add_argument("--load-tool", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--baseline", default=None, metavar="REF",
                   help="also load the server with the code of commit REF, to compare "
                        "(bench.server_load); default: none")
    p.add_argument("--skip-tantivy", action="store_true",
                   help="leave out the Tantivy + rjieba peer (bench.tantivy_peer)")
    p.add_argument("--skip-live", action="store_true",
                   help="leave out the live index's steps (changes, updates, segments, merges)")
    p.add_argument("--live-adds", type=int, default=10000,
                   help="single adds of the live index's merge-policy step")
    p.add_argument("--skip-html", action="store_true", help="do not read the html-dev pages")
    p.add_argument("--html-pages", default=str(HTML_PAGES),
                   help=f"the html-dev pages (default {HTML_PAGES})")
    p.add_argument("--results-dir", default=str(DEFAULT_RESULTS))
    p.add_argument("--report", default=None,
                   help="Markdown file to update (default: BENCHMARKS.md for the default corpus)")
    p.add_argument("--work-dir", default=None, help="where indexes are built (default: a temp dir)")
    args = p.parse_args(argv)

    corpus = Path(args.corpus) if args.corpus else DEFAULT_CORPUS
    if not corpus.exists():
        print(f"bench: no corpus at {corpus}.  The benchmark runs on the poetry corpus of "
              f"../shared (or --corpus FILE.jsonl[.gz]); nothing measured.")
        return 0
    report_path = Path(args.report) if args.report else (
        DEFAULT_REPORT if args.corpus is None and not args.limit else None)
    py = sys.executable
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="bench-"))
    work.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.run" + ("" if argv is None and len(sys.argv) == 1 else
                                       " " + shlex.join(sys.argv[1:] if argv is None else argv))
    results: dict = {"started_at": started_at, "command": command, "machine": machine()}
    from bench.queries import load_queries
    queries = load_queries(args.queries, args.query_limit)

    def say(msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    try:
        source, docs, chars = sample_corpus(corpus, args.limit, work)
        results["corpus"] = {"path": str(corpus), "limit": args.limit, "documents": docs,
                             "characters": chars}
        index_dir = work / "index"
        say(f"build: {docs:,} documents")
        results["build"] = b = measure_build(py, source, index_dir, docs, chars, args.workers)
        say(f"  {b['seconds']} s, {b['index_mb']} MB, peak {b['memory']['peak_rss_mb']} MB RSS")
        if not args.skip_floor:
            say("floor: jieba alone, OpenCC alone")
            results["floor"] = f = measure_floor(py, source)
            say(f"  jieba {f['jieba_seconds']} s, OpenCC {f['opencc_seconds']} s")
        if not args.skip_naive:
            say("naive peer: Whoosh + ChineseAnalyzer" +
                (f" on {args.naive_limit:,} records" if args.naive_limit else ""))
            results["naive"] = n = measure_naive(py, source, work / "naive", args.naive_limit)
            say(f"  {n['wall_seconds']} s, {n['index_mb']} MB")
        say(f"queries: {len(queries)} x {args.rounds} rounds")
        results["queries"] = qr = measure_queries(py, index_dir, Path(args.queries),
                                                  args.query_limit, args.rounds)
        say(f"  warm p50 {qr['warm']['p50']} ms, p99 {qr['warm']['p99']} ms")
        results["first_answer"] = fa = measure_first_answer(
            py, index_dir, queries[0]["q"] if queries else "明月", args.first_answer_runs)
        say(f"first answer: {fa['median_seconds']} s")
        if not args.skip_tantivy:
            say("Tantivy peer: Tantivy + rjieba, same records and queries (bench.tantivy_peer)")
            results["tantivy"] = t = measure_tantivy(py, source, index_dir, args)
            results["tantivy_ratios"] = tantivy_ratios(results)
            say(f"  skipped: {t['skipped']}" if "skipped" in t else
                f"  build {t['build']['seconds']} s, {t['build']['index_mb']} MB, "
                f"warm p50 {t['queries']['warm']['p50']} ms; this project / Tantivy: "
                + ", ".join(f"{k.replace(' / Tantivy', '')} {v}"
                            for k, v in results["tantivy_ratios"].items()))
        say(f"server: {args.clients} clients, {args.seconds:g} s"
            + (f", beside {args.baseline}'s code" if args.baseline else ""))
        results["server"] = s = measure_server(
            index_dir, args.clients, args.seconds, args.load_tool, baseline=args.baseline,
            queries=None if args.corpus is None else "from-index", say=say)
        say(f"  {s['requests_per_second']} requests/s, {s['errors']} errors, "
            f"p99 {s['latency_ms']['p99']} ms, server {s['server_memory']['peak_rss_mb']} MB")
        if not args.skip_live:
            say("live index: changes, updates, segments, merges (bench.live)")
            results["live"] = lv = measure_live(py, index_dir, source, work, args)
            say(f"  {lv['seconds']} s")
        if not args.skip_html:
            say("web pages: html-dev (bench.html_dev)")
            results["html"] = h = measure_html(py, Path(args.html_pages))
            say(f"  {h['pages_per_second']['full path']:.1f} pages/s" if "pages_per_second" in h
                else f"  absent: {h['absent']}")
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)

    ratios = {}
    b, f, n = results["build"], results.get("floor"), results.get("naive")
    if n and n["documents"] == b["documents"]:
        ratios["build / naive build"] = round(b["seconds"] / n["wall_seconds"], 3)
        ratios["index / naive index"] = round(b["index_bytes"] / n["index_bytes"], 3)
    if f:
        ratios["build / jieba floor"] = round(b["seconds"] / f["jieba_seconds"], 3)
        ratios["build / (jieba + OpenCC floor)"] = round(
            b["seconds"] / (f["jieba_seconds"] + f["opencc_seconds"]), 3)
    results["ratios"] = ratios
    results["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results["goals"] = goals(results)

    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_json = out_dir / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out_json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    text = render(results)
    print(text)
    print(f"\nresults: {out_json}")
    if report_path:
        write_report(report_path, text)
        print(f"report: {report_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
