"""The curve (``make bench-curve``): build, index size, memory and results-page
latency from 50,000 to a million documents, their growth exponents, and the
size at which one machine stops being enough.

    python -m bench.curve [--sizes 50000,332878,1000000] [--corpus PATH] [--work-dir DIR]
    python -m bench.curve --calibrate [--corpus PATH]

For each size: the corpus at that size (below the corpus's own size, records at
even steps through it; above, the corpus in copies, see below), built by
``python -m search index`` (the default parallel build: wall time, peak RSS and
PSS of its process tree), the live generation's bytes on disk, the index's
vocabulary (distinct words of title and body, distinct character bigrams,
distinct authors, read from its lexicons), and the 300 queries of
``bench/queries.jsonl`` as complete results pages in one fresh process
(``bench.queries``: first round = each query seen for the first time, warm =
the last round; the query process's peak memory).  Then, between each pair of
sizes, the growth exponent of every measure (the slope of log(measure) against
log(documents): 1 grows with the documents, 0 not at all), the check "query
p99 at the largest size <= 3x that at the size before", and, from the
exponents of the last two sizes, the number of documents at which each of the
machine's limits (``limits``) would be crossed.

More documents than the corpus has are made from it, streamed into a
``.jsonl.gz`` in the work directory (never a list of records in memory):
copy 1 is the corpus as it is; in copy k >= 2 every record gets the id
``ID~k`` (a JSON-lines record's id is its ``id`` field, ``search.ingest.sources``,
so titles do not make ids; they are changed anyway), and ``SHARE`` of the Han
characters of its title and text are replaced, each with a character drawn
from the corpus's own character frequency, by a generator seeded with
``SEED`` and the copy (the same file every run).  Each author becomes
another name in each copy (one character of the name replaced, the same for
all that author's poems), so the author facet grows with the copies; the
dynasty, a closed set, is kept.  A size that is not a whole number of copies
takes the last copy's records at even steps.

Why ``SHARE`` = 0.15: ``--calibrate`` measures the real corpus's distinct Han
bigrams at 3/10 of its records (99,863, at even steps) and at all of them
(1,273,529 and 2,490,582: Heaps' law with exponent 0.557), the bigrams the law
gives a corpus three times as large (4.59 million), and the bigrams of the
three copies at several shares: 0.1 gives 0.885 of the law's, 0.15 gives
1.004, the closest (BENCHMARKS.md, "The curve").

Writes JSON under ``bench/results/`` and, for the default sizes and corpus
(or ``--report FILE``), the measured part of BENCHMARKS.md's "The curve".
"""

from __future__ import annotations

import argparse
import bisect
import collections
import gzip
import json
import math
import random
import shlex
import shutil
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Iterator

import bench.run as bench_run
from bench.run import (DEFAULT_CORPUS, DEFAULT_QUERIES, DEFAULT_RESULTS, REPO, dir_bytes,
                       machine, measure_build, measure_queries)
from search.text.chars import HAN_CHAR

DEFAULT_SIZES = (50_000, 332_878, 1_000_000)
DEFAULT_REPORT = REPO / "BENCHMARKS.md"
BEGIN, END = "<!-- curve:begin -->", "<!-- curve:end -->"
SHARE = 0.15
SEED = 20
CALIBRATION_SHARES = (0.1, 0.15, 0.2, 0.25, 0.3)
CALIBRATION_SAMPLE = 100_000
# Query p99 at the largest size may be at most this many times that at the size before.
P99_GROWTH_LIMIT = 3.0


def _ram_bytes() -> int:
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 24 * 2**30


def limits(free_disk: int) -> list[dict]:
    """The limits of this machine that a larger index crosses, each with why it is one
    (``free_disk``: the work disk's free bytes before the run)."""
    ram = _ram_bytes()
    return [
        {"measure": "build_peak_rss_bytes", "limit": int(ram * 0.75),
         "label": "build peak RSS ≤ 3/4 of RAM",
         "why": "the build must leave room for the running server and the page cache "
                "of the live index it replaces"},
        {"measure": "index_bytes", "limit": ram // 2,
         "label": "index ≤ 1/2 of RAM",
         "why": "the latencies hold only while the index is in the page cache; a rebuild "
                "writes a second generation beside the live one, read while it replaces it"},
        {"measure": "index_bytes", "limit": free_disk // 2,
         "label": "2 × index ≤ the work disk's free space",
         "why": "the live generation and the one being built are both on disk"},
        {"measure": "first_p99_ms", "limit": 25.0, "label": "first-round p99 ≤ 25 ms",
         "why": "the goal for queries seen for the first time"},
        {"measure": "warm_p99_ms", "limit": 5.0, "label": "warm p99 ≤ 5 ms",
         "why": "the goal for queries seen before"},
        {"measure": "build_seconds", "limit": 3600.0, "label": "full build ≤ 1 hour",
         "why": "a change of analysers or schema is a full rebuild: it should fit in an "
                "hour's maintenance window"},
    ]


# ---------------------------------------------------------------------------
# The corpus at each size


def _open(path: Path, mode: str = "rt"):
    return gzip.open(path, mode, encoding="utf-8") if path.name.endswith(".gz") else open(
        path, mode, encoding="utf-8")


def read_records(path: Path) -> Iterator[dict]:
    with _open(path) as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def han_mask(codes):
    """Which of ``codes`` (code points, a NumPy array) are Han characters
    (``search.text.chars.HAN``'s ranges)."""
    return (((codes >= 0x3400) & (codes <= 0x4DBF)) | ((codes >= 0x4E00) & (codes <= 0x9FFF))
            | ((codes >= 0xF900) & (codes <= 0xFAFF)) | ((codes >= 0x20000) & (codes <= 0x2FFFF)))


def _codes(text: str):
    import numpy as np
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


class CharacterFrequency:
    """The corpus's Han characters and their counts (titles and texts), to draw from."""

    def __init__(self, corpus: Path):
        import numpy as np
        counts: collections.Counter = collections.Counter()
        self.records = 0
        for record in read_records(corpus):
            self.records += 1
            counts.update(HAN_CHAR.findall((record.get("title") or "") + (record.get("text") or "")))
        self.characters = sorted(counts, key=lambda c: (-counts[c], c))
        self.cumulative = []
        total = 0
        for c in self.characters:
            total += counts[c]
            self.cumulative.append(total)
        self.total = total
        self.code_array = np.array([ord(c) for c in self.characters], dtype=np.uint32)
        self.cumulative_array = np.array(self.cumulative, dtype=np.float64)

    def draw(self, rng: random.Random) -> str:
        return self.characters[bisect.bisect_right(self.cumulative, rng.random() * self.total)]

    def draw_codes(self, rng, count: int):
        """``count`` code points drawn by frequency with NumPy's generator ``rng``."""
        import numpy as np
        at = np.searchsorted(self.cumulative_array, rng.random(count) * self.total, side="right")
        return self.code_array[np.minimum(at, len(self.code_array) - 1)]


def mutate(text: str, share: float, rng, chars: CharacterFrequency) -> str:
    """``text`` with about ``share`` of its Han characters replaced by drawn ones
    (``rng``: a NumPy generator; vectorised, as a million records pass through here)."""
    codes = _codes(text).copy()
    if not codes.size:
        return text
    replace = han_mask(codes) & (rng.random(codes.size) < share)
    count = int(replace.sum())
    if count:
        codes[replace] = chars.draw_codes(rng, count)
    return codes.tobytes().decode("utf-32-le")


def renamed(author: str, copy: int, chars: CharacterFrequency) -> str:
    """Another name for ``author`` in copy ``copy``: one Han character replaced, the
    same name every time (seeded by the name, not by the order of the poems)."""
    positions = [i for i, c in enumerate(author) if HAN_CHAR.match(c)]
    if not positions:
        return f"{author}{copy}" if author else author
    rng = random.Random(zlib.crc32(f"{SEED}:{copy}:{author}".encode()))
    i = rng.choice(positions)
    new = author[i]
    while new == author[i]:
        new = chars.draw(rng)
    return author[:i] + new + author[i + 1:]


def copy_of(record: dict, copy: int, share: float, rng, chars: CharacterFrequency,
            names: dict[str, str] | None = None) -> dict:
    """Record ``record`` as copy ``copy`` (1: itself); ``names`` keeps the copy's
    new author names."""
    if copy == 1:
        return record
    out = dict(record)
    out["id"] = f"{record['id']}~{copy}"
    for key in ("title", "text"):
        if isinstance(out.get(key), str):
            out[key] = mutate(out[key], share, rng, chars)
    if isinstance(out.get("author"), str):
        author = out["author"]
        if names is None:
            out["author"] = renamed(author, copy, chars)
        else:
            out["author"] = names.get(author) or names.setdefault(author, renamed(author, copy, chars))
    return out


def _even_steps(total: int, take: int) -> set[int] | None:
    """The positions of ``take`` records at even steps through ``total`` (None: all)."""
    if take >= total:
        return None
    step = total / take
    return {int(i * step) for i in range(take)}


def records_at(corpus: Path, size: int, chars: CharacterFrequency, share: float = SHARE
               ) -> Iterator[dict]:
    """``size`` records from the corpus: at even steps, or whole copies and a part of one."""
    import numpy as np
    n = chars.records
    copy = 0
    left = size
    while left > 0:
        copy += 1
        take = min(n, left)
        chosen = _even_steps(n, take)
        rng = np.random.default_rng([SEED, copy])
        names: dict[str, str] = {}
        for i, record in enumerate(read_records(corpus)):
            if chosen is None or i in chosen:
                yield copy_of(record, copy, share, rng, chars, names)
        left -= take


def write_corpus(records: Iterator[dict], path: Path) -> tuple[int, int]:
    """Write records as JSON lines (gzip for ``.gz``); (records, characters of titles and texts)."""
    count = chars = 0
    with _open(path, "wt") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
            chars += len(record.get("title") or "") + len(record.get("text") or "")
    return count, chars


# ---------------------------------------------------------------------------
# Measuring


def vocabulary(index_dir: Path) -> dict:
    """Distinct terms of the live generation: words (title and body), character
    bigrams (grams), authors (the author facet)."""
    import heapq
    from whoosh.index import open_dir
    from search.store.layout import live_generation
    ix = open_dir(str(live_generation(index_dir)))
    with ix.reader() as reader:
        fields = set(reader.indexed_field_names())

        def count(*names):
            lexicons = [reader.lexicon(f) for f in names if f in fields]
            total, last = 0, None
            for term in heapq.merge(*lexicons):     # sorted lexicons: a union without a set
                if term != last:
                    total += 1
                    last = term
            return total

        return {"words": count("title", "body"), "bigrams": count("grams"),
                "authors": count("facet_author")}


def measure_size(py: str, corpus: Path, size: int, chars: CharacterFrequency, work: Path,
                 queries: Path, query_limit: int | None, rounds: int, keep: bool,
                 say=print) -> dict:
    if size == chars.records:
        source, (docs, characters) = corpus, _count(corpus)
        made = 0.0
    else:
        source = work / f"corpus-{size}.jsonl.gz"
        t0 = time.perf_counter()
        docs, characters = write_corpus(records_at(corpus, size, chars), source)
        made = time.perf_counter() - t0
        say(f"  corpus: {docs:,} records written in {made:.0f} s ({source})")
    index_dir = work / f"index-{size}"
    shutil.rmtree(index_dir, ignore_errors=True)
    build = measure_build(py, source, index_dir, docs, characters, None)
    say(f"  build: {build['seconds']} s, {build['index_mb']} MB, "
        f"peak {build['memory']['peak_rss_mb']} MB RSS")
    vocab = vocabulary(index_dir)
    say(f"  vocabulary: {vocab['words']:,} words, {vocab['bigrams']:,} bigrams, "
        f"{vocab['authors']:,} authors")
    q = measure_queries(py, index_dir, queries, query_limit, rounds)
    say(f"  queries: first round p50 {q['first_round']['p50']} / p99 {q['first_round']['p99']} ms,"
        f" warm p50 {q['warm']['p50']} / p99 {q['warm']['p99']} ms")
    if not keep:
        shutil.rmtree(index_dir, ignore_errors=True)
        if source != corpus:
            source.unlink(missing_ok=True)
    return {
        "documents": build["documents"], "characters": characters, "corpus_seconds": round(made, 1),
        "build_seconds": build["seconds"], "build_command": build["command"],
        "build_phases": (build.get("builder") or {}).get("seconds"),
        "build_peak_rss_bytes": int(build["memory"]["peak_rss_mb"] * 2**20),
        "build_peak_pss_bytes": int((build["memory"]["peak_pss_mb"] or 0) * 2**20),
        "index_bytes": build["index_bytes"], **vocab,
        "first_p50_ms": q["first_round"]["p50"], "first_p99_ms": q["first_round"]["p99"],
        "warm_p50_ms": q["warm"]["p50"], "warm_p99_ms": q["warm"]["p99"],
        "query_rss_bytes": int(q["memory"]["peak_rss_mb"] * 2**20),
        "query_pss_bytes": int((q["memory"]["peak_pss_mb"] or 0) * 2**20),
        "queries": q["queries"], "errors": len(q["errors"]), "partial": q["partial"],
        "slowest": q["slowest"][:3], "open_seconds": q["open_seconds"],
        "query_command": q["command"],
    }


def _count(path: Path) -> tuple[int, int]:
    docs = chars = 0
    for record in read_records(path):
        docs += 1
        chars += len(record.get("title") or "") + len(record.get("text") or "")
    return docs, chars


# The measures whose growth the curve reports, with their labels.
MEASURES = {
    "build_seconds": "build time", "build_peak_rss_bytes": "build peak RSS",
    "build_peak_pss_bytes": "build peak PSS", "index_bytes": "index on disk",
    "words": "distinct words", "bigrams": "distinct bigrams", "authors": "distinct authors",
    "first_p50_ms": "first-round p50", "first_p99_ms": "first-round p99",
    "warm_p50_ms": "warm p50", "warm_p99_ms": "warm p99",
    "query_rss_bytes": "query process RSS",
}


def exponent(n1: float, m1: float | None, n2: float, m2: float | None) -> float | None:
    """The slope of log(measure) against log(documents) between two sizes."""
    if not m1 or not m2 or m1 <= 0 or m2 <= 0 or n1 == n2:
        return None
    return math.log(m2 / m1) / math.log(n2 / n1)


def fitted_exponent(points: list[tuple[float, float | None]]) -> float | None:
    """The least-squares slope of log(measure) against log(documents) over all sizes."""
    pts = [(math.log(n), math.log(m)) for n, m in points if m and m > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else None


def exponents(rows: list[dict]) -> dict:
    """For each measure: the exponent between each pair of consecutive sizes, and the fit."""
    out = {}
    for key in MEASURES:
        steps = [exponent(a["documents"], a.get(key), b["documents"], b.get(key))
                 for a, b in zip(rows, rows[1:])]
        out[key] = {"steps": [None if e is None else round(e, 3) for e in steps],
                    "fit": _round(fitted_exponent([(r["documents"], r.get(key)) for r in rows]))}
    return out


def _round(x, digits=3):
    return None if x is None else round(x, digits)


def p99_check(rows: list[dict]) -> list[dict]:
    """Query p99 at the largest size against ``P99_GROWTH_LIMIT`` times that at the size before."""
    if len(rows) < 2:
        return []
    before, last = rows[-2], rows[-1]
    out = []
    for key in ("first_p99_ms", "warm_p99_ms"):
        ratio = last[key] / before[key] if before[key] else None
        out.append({"measure": key, "documents": [before["documents"], last["documents"]],
                    "values": [before[key], last[key]], "ratio": _round(ratio, 2),
                    "limit": P99_GROWTH_LIMIT,
                    "met": ratio is not None and ratio <= P99_GROWTH_LIMIT})
    return out


def crossings(rows: list[dict], machine_limits: list[dict]) -> list[dict]:
    """The documents at which each limit is crossed: between two measured sizes when it
    already is, else extrapolated by the exponent of the last two sizes."""
    out = []
    for lim in machine_limits:
        key, limit = lim["measure"], lim["limit"]
        row = dict(lim, value=rows[-1].get(key), documents=None, how=None)
        over = [i for i, r in enumerate(rows) if r.get(key) is not None and r[key] > limit]
        if over and over[0] == 0:
            row.update(how="over at the smallest size", documents=rows[0]["documents"])
        elif over:
            a, b = rows[over[0] - 1], rows[over[0]]
            e = exponent(a["documents"], a[key], b["documents"], b[key])
            row["exponent"] = _round(e)
            row["documents"] = int(a["documents"] * (limit / a[key]) ** (1 / e)) if e else None
            row["how"] = "crossed between measured sizes"
        elif len(rows) >= 2:
            a, b = rows[-2], rows[-1]
            e = exponent(a["documents"], a.get(key), b["documents"], b.get(key))
            row["exponent"] = _round(e)
            if e and e > 0:
                row["documents"] = int(b["documents"] * (limit / b[key]) ** (1 / e))
                row["how"] = "extrapolated"
            else:
                row["how"] = "does not grow between the last two sizes"
        out.append(row)
    return out


# ---------------------------------------------------------------------------
# Calibration: the share of characters changed


def _han_bigrams(texts: list[str]):
    """Distinct Han bigrams of ``texts`` as a sorted array of 64-bit keys."""
    import numpy as np
    codes = _codes("\n".join(texts)).astype(np.uint64)
    han = han_mask(codes)
    both = han[:-1] & han[1:]
    return np.unique((codes[:-1][both] << np.uint64(32)) | codes[1:][both])


def distinct_bigrams(records: Iterator[dict], chunk: int = 20_000) -> int:
    import numpy as np
    seen = np.zeros(0, dtype=np.uint64)
    texts: list[str] = []
    for record in records:
        texts.append((record.get("title") or "") + "\n" + (record.get("text") or ""))
        if len(texts) >= chunk:
            seen = np.union1d(seen, _han_bigrams(texts))
            texts = []
    if texts:
        seen = np.union1d(seen, _han_bigrams(texts))
    return int(seen.size)


def calibrate(corpus: Path, copies: int = 3, shares=CALIBRATION_SHARES, say=print) -> dict:
    """Heaps' law on the real corpus's Han bigrams, against the copies at each share."""
    chars = CharacterFrequency(corpus)
    n = chars.records
    small = min(CALIBRATION_SAMPLE, n * 3 // 10)
    chosen = _even_steps(n, small)
    v_small = distinct_bigrams(r for i, r in enumerate(read_records(corpus))
                               if chosen is None or i in chosen)
    v_all = distinct_bigrams(read_records(corpus))
    beta = exponent(small, v_small, n, v_all)
    target = v_all * copies ** beta if beta is not None else None
    say(f"real: {v_small:,} bigrams at {small:,}, {v_all:,} at {n:,}: Heaps exponent "
        f"{beta:.3f}; at {copies * n:,} the law gives {target:,.0f}")
    synthetic = []
    for share in shares:
        v = distinct_bigrams(records_at(corpus, copies * n, chars, share))
        synthetic.append({"share": share, "bigrams": v, "over_target": _round(v / target, 3)})
        say(f"  share {share}: {v:,} bigrams ({v / target:.3f} of the law's)")
    best = min(synthetic, key=lambda s: abs(math.log(s["over_target"])))
    return {"corpus": str(corpus), "records": n, "sample": small, "bigrams_sample": v_small,
            "bigrams_all": v_all, "heaps_exponent": _round(beta), "copies": copies,
            "target_bigrams": int(target), "shares": synthetic, "closest_share": best["share"]}


# ---------------------------------------------------------------------------
# The report


def _mb(b):
    return f"{b / 1e6:,.0f}" if b else "?"


def _docs(n):
    return f"{n:,}" if n is not None else "—"


def render(results: dict) -> str:
    rows, exps = results["sizes"], results["exponents"]
    m = results["machine"]
    lines = [BEGIN, "",
             f"Run of {results['started_at']} (`{results['command']}`), commit "
             f"{m.get('git_commit')}{' (with local changes)' if m.get('git_dirty') else ''}, "
             f"{results['seconds'] / 60:.0f} minutes in all.",
             "",
             f"Machine: {m.get('nproc')} CPUs ({m.get('cpu', '?')}), {m.get('ram_gb')} GB RAM, "
             f"load average at start {m.get('load_average_at_start')}; work disk "
             f"{results['disk']['free_gb']} GB free of {results['disk']['total_gb']} GB.",
             "",
             f"Corpus: `{results['corpus']}` ({results['corpus_records']:,} records); sizes above it "
             f"are its copies with {results['share']:.0%} of the Han characters of copies 2 and "
             f"later redrawn from its character frequency (seed {results['seed']}) and their "
             f"authors renamed (`bench/curve.py`'s docstring says how).",
             "",
             "| documents | build (s) | build peak RSS / PSS (MB) | index (MB) | words | bigrams "
             "| authors | first round p50 / p99 (ms) | warm p50 / p99 (ms) | query process RSS (MB) "
             "| errors / partial |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(
            f"| {r['documents']:,} | {r['build_seconds']} | {_mb(r['build_peak_rss_bytes'])} / "
            f"{_mb(r['build_peak_pss_bytes'])} | {_mb(r['index_bytes'])} | {r['words']:,} "
            f"| {r['bigrams']:,} | {r['authors']:,} | {r['first_p50_ms']} / {r['first_p99_ms']} "
            f"| {r['warm_p50_ms']} / {r['warm_p99_ms']} | {_mb(r['query_rss_bytes'])} "
            f"| {r['errors']} / {r['partial']} |")
    last = rows[-1]
    lines += ["", f"Slowest warm queries at {last['documents']:,}: " + ", ".join(
        f"{x['qid']} {x['ms']} ms ({x['total'] or 0:,} hits)" for x in last["slowest"]) +
        f"; the index opened in {last['open_seconds']} s."]
    pairs = [f"{a['documents']:,} → {b['documents']:,}" for a, b in zip(rows, rows[1:])]
    lines += ["", "Growth exponents (slope of log(measure) against log(documents); 1 = "
              "proportional to the documents):", "",
              "| measure | " + " | ".join(pairs) + " | fit over all sizes |",
              "| --- | " + " | ".join("---:" for _ in pairs) + " | ---: |"]
    for key, label in MEASURES.items():
        e = exps[key]
        cells = ["—" if x is None else f"{x:.2f}" for x in e["steps"]]
        lines.append(f"| {label} | " + " | ".join(cells) +
                     f" | {'—' if e['fit'] is None else format(e['fit'], '.2f')} |")
    if results["p99_check"]:
        lines += ["", f"Query p99 at {rows[-1]['documents']:,} ≤ {P99_GROWTH_LIMIT:g}× that at "
                  f"{rows[-2]['documents']:,}: " + "; ".join(
                      f"{'first round' if c['measure'].startswith('first') else 'warm'} "
                      f"{c['values'][0]} → {c['values'][1]} ms, ×{c['ratio']}: "
                      f"{'met' if c['met'] else '**not met**'}" for c in results["p99_check"]) + "."]
    lines += ["", "Where this machine stops (the first size at which each limit is crossed; "
              "beyond the measured sizes, extrapolated by the exponent of the last two):", "",
              "| limit | why | at the largest size | exponent | documents |",
              "| --- | --- | ---: | ---: | ---: |"]
    for c in results["limits"]:
        value = c["value"]
        shown = (f"{value / 1e9:.2f} GB" if c["measure"].endswith("bytes") else
                 f"{value} ms" if c["measure"].endswith("ms") else f"{value} s")
        lines.append(f"| {c['label']} | {c['why']} | {shown} | "
                     f"{'—' if c.get('exponent') is None else format(c['exponent'], '.2f')} | "
                     f"{_docs(c['documents'])} ({c['how']}) |")
    lines += ["", "Commands: " + "; ".join(
        f"`{c}`" for c in (rows[-1]["build_command"], rows[-1]["query_command"])) + ".", "", END]
    return "\n".join(lines)


def write_report(path: Path, text: str) -> None:
    bench_run.write_report(path, text, (BEGIN, END), "The curve")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.curve", description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                   help="documents at each point, comma-separated")
    p.add_argument("--corpus", default=None, help=f"JSON-lines corpus (default {DEFAULT_CORPUS})")
    p.add_argument("--work-dir", default=None,
                   help="where corpora and indexes are made (default: a temp dir, deleted after)")
    p.add_argument("--queries", default=str(DEFAULT_QUERIES))
    p.add_argument("--query-limit", type=int, default=None)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--keep", action="store_true", help="keep each size's corpus and index")
    p.add_argument("--results-dir", default=str(DEFAULT_RESULTS))
    p.add_argument("--report", default=None,
                   help="Markdown file to update (default: BENCHMARKS.md for the default run)")
    p.add_argument("--calibrate", action="store_true",
                   help="measure the share of characters changed against Heaps' law, and stop")
    args = p.parse_args(argv)

    corpus = Path(args.corpus) if args.corpus else DEFAULT_CORPUS
    if not corpus.exists():
        print(f"bench.curve: no corpus at {corpus} (--corpus FILE.jsonl[.gz]); nothing measured.")
        return 0

    def say(msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    if args.calibrate:
        print(json.dumps(calibrate(corpus, say=say), ensure_ascii=False, indent=2))
        return 0
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or sizes[0] <= 0:
        p.error("--sizes takes positive whole numbers, e.g. 50000,332878,1000000")
    default_run = args.corpus is None and tuple(sizes) == DEFAULT_SIZES
    report_path = Path(args.report) if args.report else (DEFAULT_REPORT if default_run else None)
    command = "python -m bench.curve" + ("" if argv is None and len(sys.argv) == 1 else
                                         " " + shlex.join(sys.argv[1:] if argv is None else argv))
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="curve-"))
    work.mkdir(parents=True, exist_ok=True)
    disk = shutil.disk_usage(work)
    started = time.perf_counter()
    results: dict = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": command,
                     "machine": machine(), "corpus": str(corpus), "share": SHARE, "seed": SEED,
                     "disk": {"path": str(work), "free_gb": round(disk.free / 1e9, 1),
                              "total_gb": round(disk.total / 1e9, 1)}}
    py = sys.executable
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_json = out_dir / f"curve-{time.strftime('%Y%m%dT%H%M%S')}.json"

    def save():
        results["seconds"] = round(time.perf_counter() - started, 1)
        out_json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")

    try:
        say(f"corpus: counting {corpus}'s records and characters")
        chars = CharacterFrequency(corpus)
        results["corpus_records"] = chars.records
        results["sizes"] = rows = []
        for size in sizes:
            say(f"size {size:,}")
            rows.append(measure_size(py, corpus, size, chars, work, Path(args.queries),
                                     args.query_limit, args.rounds, args.keep, say))
            save()            # a size that fails later (memory, disk) leaves the ones before
        results["exponents"] = exponents(rows)
        results["p99_check"] = p99_check(rows)
        results["limits"] = crossings(rows, limits(disk.free))
    finally:
        if not args.work_dir and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    save()
    text = render(results)
    print(text)
    print(f"\nresults: {out_json}")
    if report_path:
        write_report(report_path, text)
        print(f"report: {report_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
