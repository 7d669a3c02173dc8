"""The curve (``bench.curve``): the corpus made larger than it is, the growth
exponents, the limits, and a whole run at tiny sizes on the committed sample.

* Sizes above the corpus are its copies: copy 1 unchanged, later copies with
  new ids, about ``SHARE`` of their Han characters redrawn, each author
  renamed the same way in every poem, the dynasty kept; the same bytes every
  run, written as a stream.
* The exponents are the slopes of log(measure) against log(documents) of
  the figures the report holds, and the limits are crossed where the figures
  say.
* ``python -m bench.curve`` at three tiny sizes writes a complete report:
  JSON, Markdown between its markers, no index left behind.
"""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench import curve
from search.text.chars import HAN_CHAR

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "bench" / "sample.jsonl"


@pytest.fixture(scope="module")
def chars():
    return curve.CharacterFrequency(SAMPLE)


def _sample():
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def test_sizes_below_the_corpus_take_records_at_even_steps(chars):
    records = list(curve.records_at(SAMPLE, 100, chars))
    originals = _sample()
    assert len(records) == 100
    assert records == [originals[int(i * 4)] for i in range(100)]


def test_copies_have_new_ids_changed_text_and_renamed_authors(chars):
    originals = _sample()
    made = list(curve.records_at(SAMPLE, 3 * len(originals) + 50, chars))
    n = len(originals)
    assert len(made) == 3 * n + 50
    assert made[:n] == originals
    ids = [r["id"] for r in made]
    assert len(set(ids)) == len(ids)
    assert made[n]["id"] == originals[0]["id"] + "~2" and made[3 * n]["id"].endswith("~4")
    changed = total = 0
    renames: dict[str, set[str]] = {}
    for copy in (2, 3):
        for original, record in zip(originals, made[(copy - 1) * n:copy * n]):
            assert record["dynasty"] == original["dynasty"]
            assert record["author"] != original["author"]
            renames.setdefault(f"{copy}:{original['author']}", set()).add(record["author"])
            for key in ("title", "text"):
                a, b = original[key], record[key]
                assert len(a) == len(b)
                for x, y in zip(a, b):
                    if HAN_CHAR.match(x):
                        total += 1
                        changed += x != y
                    else:
                        assert x == y          # punctuation and line breaks stay
    # A drawn character can be the one it replaces (。 never is): a little under SHARE.
    assert curve.SHARE * 0.85 < changed / total <= curve.SHARE * 1.05
    assert all(len(names) == 1 for names in renames.values())   # one new name per author and copy
    assert made[n:2 * n] != made[2 * n:3 * n]                     # each copy its own changes


def test_the_made_corpus_is_the_same_every_run(tmp_path, chars):
    a, b = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    assert curve.write_corpus(curve.records_at(SAMPLE, 1000, chars), a)[0] == 1000
    curve.write_corpus(curve.records_at(SAMPLE, 1000, curve.CharacterFrequency(SAMPLE)), b)
    assert gzip.decompress(a.read_bytes()) == gzip.decompress(b.read_bytes())


def test_exponents_are_slopes_of_the_logs():
    rows = [{"documents": 1000, "index_bytes": 5e6, "warm_p99_ms": 2.0},
            {"documents": 4000, "index_bytes": 2e7, "warm_p99_ms": 4.0},
            {"documents": 16000, "index_bytes": 8e7, "warm_p99_ms": 4.0}]
    e = curve.exponents(rows)
    assert e["index_bytes"] == {"steps": [1.0, 1.0], "fit": 1.0}
    assert e["warm_p99_ms"]["steps"] == [0.5, 0.0]
    assert e["words"] == {"steps": [None, None], "fit": None}    # not measured: no exponent


def test_limits_are_crossed_where_the_figures_say():
    rows = [{"documents": 10_000, "index_bytes": 1e8, "warm_p99_ms": 2.0},
            {"documents": 100_000, "index_bytes": 1e9, "warm_p99_ms": 8.0}]
    found = curve.crossings(rows, [
        {"measure": "index_bytes", "limit": 1e10, "label": "", "why": ""},
        {"measure": "warm_p99_ms", "limit": 4.0, "label": "", "why": ""},
        {"measure": "warm_p99_ms", "limit": 1.0, "label": "", "why": ""}])
    assert found[0]["how"] == "extrapolated" and found[0]["documents"] == pytest.approx(1e6, rel=1e-6)
    assert found[1]["how"] == "crossed between measured sizes"
    # 2 ms at 10,000 growing as documents^0.602: 4 ms at 10,000 x 2^(1/0.602)
    assert found[1]["documents"] == pytest.approx(10_000 * 2 ** (1 / math.log10(4)), rel=1e-3)
    assert found[2]["how"] == "over at the smallest size"


def test_p99_check_compares_the_last_two_sizes():
    rows = [{"documents": 1, "first_p99_ms": 10.0, "warm_p99_ms": 1.0},
            {"documents": 3, "first_p99_ms": 20.0, "warm_p99_ms": 3.5}]
    first, warm = curve.p99_check(rows)
    assert (first["ratio"], first["met"]) == (2.0, True)
    assert (warm["ratio"], warm["met"]) == (3.5, False)


def test_calibration_counts_distinct_bigrams():
    records = [{"title": "明月", "text": "明月光，明月。"}, {"title": "", "text": "月光 abc 光明"}]
    # 明月 月光 光明: "月光" twice, "，" and spaces break pairs, "abc" is no Han
    assert curve.distinct_bigrams(iter(records)) == 3


@pytest.mark.slow
def test_a_tiny_curve_reports_every_measure(tmp_path):
    work, results = tmp_path / "work", tmp_path / "results"
    report = tmp_path / "BENCH.md"
    report.write_text("# Benchmarks\n\n## Other\n\nkept\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bench.curve", "--corpus", str(SAMPLE), "--sizes", "900,100,400",
         "--query-limit", "12", "--work-dir", str(work), "--results-dir", str(results),
         "--report", str(report)],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(next(results.glob("curve-*.json")).read_text(encoding="utf-8"))
    rows = data["sizes"]
    assert [r["documents"] for r in rows] == [100, 400, 900]
    for r in rows:
        assert r["build_seconds"] > 0 and r["index_bytes"] > 0 and r["build_peak_rss_bytes"] > 0
        assert r["queries"] == 12 and r["errors"] == 0
        assert 0 < r["warm_p50_ms"] <= r["warm_p99_ms"]
        assert 0 < r["first_p50_ms"] <= r["first_p99_ms"]
        assert r["words"] > 0 and r["bigrams"] > 0 and r["authors"] > 0
    # More poems, more of everything the index holds; the copies add authors.
    for key in ("index_bytes", "words", "bigrams", "authors"):
        assert rows[0][key] < rows[1][key] < rows[2][key], key
    for key in curve.MEASURES:
        steps = data["exponents"][key]["steps"]
        for (a, b), e in zip(zip(rows, rows[1:]), steps):
            expected = math.log(b[key] / a[key]) / math.log(b["documents"] / a["documents"])
            assert e == pytest.approx(expected, abs=1e-3), key
    assert {c["measure"] for c in data["p99_check"]} == {"first_p99_ms", "warm_p99_ms"}
    assert {c["label"] for c in data["limits"]} == {c["label"] for c in curve.limits(10**12)}
    for c in data["limits"]:
        assert c["how"] and c["value"] == rows[-1][c["measure"]]
    text = report.read_text(encoding="utf-8")
    assert "## Other\n\nkept" in text and "## The curve" in text
    assert text.count(curve.BEGIN) == 1 and "| 900 |" in text and "Where this machine stops" in text
    assert not list(work.glob("index-*")) and not list(work.glob("corpus-*"))
