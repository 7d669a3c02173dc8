"""bench.live runs end to end on a tiny corpus, and its figures hold together.

Timings are not asserted (the machine decides them); what is asserted is what
any run must show: every step measured what it says, on the documents it
says, and the unmerged and merged indexes answer every query alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.live import goal_rows, render

REPO = Path(__file__).resolve().parent.parent
RECORDS = 120


@pytest.fixture(scope="module")
def live_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench-live")
    corpus = tmp / "corpus.jsonl"
    with open(REPO / "bench" / "sample.jsonl", encoding="utf-8") as fh:
        corpus.write_text("".join(fh.readlines()[:RECORDS]), encoding="utf-8")
    env = dict(os.environ, SEARCH_BUILD_WORKERS="1")
    base = tmp / "base"
    subprocess.run([sys.executable, "-m", "search", "index", str(corpus), "--index", str(base),
                    "--quiet"], check=True, cwd=REPO, env=env, timeout=120)
    before = sorted(p.name for p in base.iterdir())
    out = subprocess.run(
        [sys.executable, "-m", "bench.live", str(base), "--corpus", str(corpus),
         "--work", str(tmp / "work"), "--batch", "5", "--repetitions", "2", "--update-runs", "1", "--files", "9",
         "--changes", "3", "--query-runs", "1", "--query-limit", "6", "--rounds", "2",
         "--adds", "30", "--merge-all"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout), base, before


def test_visibility_times_every_repetition(live_run):
    live, _, _ = live_run
    v = live["visibility"]
    assert v["documents"] == 5 and v["repetitions"] == 2
    for key in ("add", "delete"):
        visible, commit = v[f"{key}_visible_seconds"], v[f"{key}_commit_seconds"]
        assert len(visible["runs"]) == 2
        assert 0 < visible["min"] <= visible["median"] <= visible["max"]
        # Visible only once committed: each run's visibility comes after its commit.
        assert all(vis >= com for vis, com in zip(visible["runs"], commit["runs"]))
    assert "serve" in v["server_command"]


def test_segments_compare_the_same_documents(live_run):
    live, _, _ = live_run
    s = live["segments"]
    assert s["documents_added"] == 9 and s["changes"] == 3
    assert s["segments_unmerged"] == 4       # the build's segment and one a change
    assert s["queries"] == 6 and s["errors"] == []
    # The same documents in 4 segments or in one: every query finds as many.
    assert s["queries_with_other_totals"] == []
    for name in ("merged", "unmerged", "merged_by_merge"):
        m = s[name]
        assert 0 < m["warm_p50_ms"] <= m["warm_p99_ms"]
        assert 0 < m["first_p50_ms"] <= m["first_p99_ms"]
    assert s["ratio_unmerged_to_merged"]["warm_p50_ms"] == round(
        s["unmerged"]["warm_p50_ms"] / s["merged"]["warm_p50_ms"], 3)
    assert s["merge_everything"]["segments_after"] == 1


def test_single_adds_account_for_every_document(live_run):
    live, _, _ = live_run
    a = live["single_adds"]
    assert a["adds"] == 30 and a["documents_added"] == 30
    assert a["base_documents"] == RECORDS and a["documents_final"] == RECORDS + 30
    assert a["merges"] >= 1 and a["documents_written"] > a["documents_added"]
    assert a["write_amplification"] == round(a["documents_written"] / a["documents_added"], 2)
    assert a["merges_left_after_wait"] == 0
    assert 1 <= a["segments_final"] <= a["segments_max"]
    assert len(a["segments_over_time"]) == 30
    assert a["latency_ms"]["median"] <= a["latency_ms"]["p99"] <= a["latency_ms"]["max"]


def test_update_step_says_what_it_measured(live_run):
    live, _, _ = live_run
    u = live["update"]
    assert u["full_build"]["seconds"] > 0 and u["files"] == 9
    if u["available"]:
        assert len(u["unchanged_seconds"]["runs"]) == 1
        assert len(u["one_file_seconds"]["runs"]) == 1
        # The update read what changed: nothing, then the one file it replaced.
        assert u["reports"]["unchanged"][0].get("replaced", 0) == 0
        assert u["reports"]["one_file"][0].get("replaced") == 1
    else:
        assert "--full" in u["reason"]


def test_base_index_is_left_alone(live_run):
    _, base, before = live_run
    assert sorted(p.name for p in base.iterdir()) == before


def test_report_has_a_goal_beside_every_figure(live_run):
    live, _, _ = live_run
    rows = goal_rows(live)
    assert rows == live["goals"]
    assert len(rows) == 6
    assert all(r["met"] in ("yes", "**no**", "n/a") for r in rows)
    text = render(live)
    assert text.startswith("### Live index")
    for r in rows:
        assert f"| {r['goal']} | {r['measured']} | {r['met']} |" in text
