"""The server load benchmark (``bench.server_load``): its query set, and small real runs.

The runs serve the seeds index with ``python -m search serve`` (gunicorn), the
current tree's code beside HEAD's exported with ``git archive``, and load it
for two seconds; they check what the report says (rounds, sides, errors,
repeats, memory, the same answers on both sides), never a speed.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from collections import Counter

import pytest

from bench import server_load, server_queries
from search.text.script import to_simplified
from tests.serving import REPO


def test_the_committed_set_has_twenty_thousand_distinct_searches_of_every_kind():
    searches = server_queries.load()
    keys = {(to_simplified(s["q"]).strip(server_queries._QUOTES),
             json.dumps(s["filters"], sort_keys=True, ensure_ascii=False)) for s in searches}
    assert len(searches) >= 20_000 and len(keys) == len(searches)
    assert set(Counter(s["kind"] for s in searches)) == set(server_queries.SHARES)
    scripts = Counter(s["script"] for s in searches)
    assert min(scripts["trad"], scripts["simp"]) > len(searches) / 3
    assert {name for s in searches for name in s["filters"]} == {"author", "dynasty", "city"}


def test_the_committed_set_is_its_file_byte_for_byte(tmp_path):
    out = tmp_path / "again.jsonl.gz"
    server_queries.write(server_queries.load(), out)
    assert out.read_bytes() == server_queries.DEFAULT_SET.read_bytes()
    with gzip.open(out, "rt", encoding="utf-8") as fh:
        assert json.loads(fh.readline()).keys() == {"kind", "script", "q", "filters"}


def test_a_set_made_from_an_index_names_only_its_facets(seed_index):
    searches = server_queries.from_index(seed_index, count=500)
    assert len(searches) == 500
    assert {name for s in searches for name in s["filters"]} <= {"author", "city"}
    assert server_queries.from_index(seed_index, count=500) == searches


def test_each_search_is_one_path_the_api_and_the_page_in_turns():
    paths = server_load.paths_of([{"q": "明月", "filters": {}},
                                  {"q": "春风", "filters": {"city": ["洛阳"], "author": ["李白"]}}])
    assert paths == ["/api/search?q=%E6%98%8E%E6%9C%88",
                     "/?q=%E6%98%A5%E9%A3%8E&city=%E6%B4%9B%E9%98%B3&f.author=%E6%9D%8E%E7%99%BD"]


def test_the_time_a_search_took_is_all_that_is_left_out_of_the_comparison():
    one = '{"total":3,"elapsed_ms":12.5,"hits":[]}'.encode()
    other = '{"total":3,"elapsed_ms":0.7,"hits":[]}'.encode()
    assert server_load.comparable(one) == server_load.comparable(other)
    page = "共 3 条结果，第 1/1 页，用时 4.2 毫秒".encode()
    assert server_load.comparable(page) == server_load.comparable(page.replace(b"4.2", b"31.0"))
    assert server_load.comparable(one) != server_load.comparable(one.replace(b"3", b"4"))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to export HEAD")
@pytest.mark.parametrize("tool", ["wrk", "python"])
def test_a_run_against_head_reports_both_sides_without_errors(seed_index, tool):
    if tool == "wrk" and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install wrk)")
    report = server_load.measure(seed_index, baseline="HEAD", rounds=1, clients=4, seconds=2,
                                 queries="from-index", tool=tool, sample=20)
    assert set(report["sides"]) == {"baseline", "candidate"}
    assert [r["side"] for r in report["rounds"]] == ["baseline", "candidate"]
    for side in report["sides"].values():
        assert side["requests"] > 0 and side["errors"] == 0, report
        assert side["repeats"] == 0
        assert 0 < side["latency_ms"]["p50"] <= side["latency_ms"]["p99"]
        assert side["peak_pss_mb"] > 0 and side["peak_rss_mb"] >= side["peak_pss_mb"]
        assert side["server_cpu_ms_per_request"] > 0
    assert report["ratio"] > 0 and report["cpu_ratio"] > 0
    assert report["same_answers"] == {"sampled": 20, "identical": 20, "differing": []}
    assert report["trees"]["baseline"].endswith("(HEAD)")
    text = server_load.render(report)
    assert "candidate / baseline" in text and "| baseline: " in text


@pytest.mark.slow
def test_a_set_too_small_for_the_load_is_sent_again_and_counted(seed_index, tmp_path):
    searches = server_queries.from_index(seed_index, count=server_load.WARM_SEARCHES + 6)
    small = tmp_path / "small.jsonl"
    small.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in searches),
                     encoding="utf-8")
    out = tmp_path / "report.json"
    code = subprocess.run([sys.executable, "-m", "bench.server_load", "--index", str(seed_index),
                           "--rounds", "1", "--seconds", "2", "--clients", "2",
                           "--queries", str(small), "--json", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert code.returncode == 0, code.stdout + code.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    side = report["sides"]["candidate"]
    assert side["errors"] == 0
    # At least: wrk also counts what it sent on a connection the server was closing.
    assert side["repeats"] >= side["requests"] - 6 > 0
    assert "6 paths" in report["paths"] and "| candidate: " in code.stdout
