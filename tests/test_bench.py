"""The benchmark keeps working, and the fast build and segmentation stay exact.

* The parallel build writes the index Whoosh's own writer writes: the same
  terms, postings, statistics and stored fields, and the same results for the
  benchmark's queries (on the committed
  sample; ``python -m bench.equivalence`` runs it on 5,000 poems).
* ``segment`` (jieba's algorithm, our loop) equals ``jieba.tokenize``'s words,
  and the indexing fast path equals the analyzers.
* A tiny ``bench.run`` (a few hundred poems, a few queries, a 2-second server
  load) produces a complete, sane report.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.compare import differences
from bench.equivalence import compare_queries
from bench.queries import load_queries
from search.store.analyzers import gram_analyzer, word_analyzer
from search.text.segment import (gram_positions, segment, segment_reference, segmenter, word_positions)
from search.store.layout import MANIFEST, live_generation
from search.store.build import build_index
from search.text.script import to_simplified

from tests.helpers import SEEDS, write_jsonl

BENCH = Path(__file__).resolve().parent.parent / "bench"
SAMPLE = BENCH / "sample.jsonl"
QUERIES = BENCH / "queries.jsonl"


def _sample_records(n=None):
    with open(SAMPLE, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    return records[:n] if n else records


def _report_key(report):
    return (report.indexed, [(p.source, p.reason) for p in report.skipped],
            [(p.source, p.reason) for p in report.warnings])


@pytest.fixture(scope="module")
def mixed_sources(tmp_path_factory):
    """The sample poems, an awkward JSON-lines file (gzipped) and the seeds folder."""
    root = tmp_path_factory.mktemp("sources")
    records = _sample_records()
    write_jsonl(root / "poems.jsonl", records)
    awkward = [
        {"id": "a/1", "title": "洛陽城東", "text": "洛陽城東桃李花，飛來飛去落誰家。", "city": "洛陽",
         "date": "2014-09-01", "tags": ["春", "花"]},
        {"id": "a/2", "text": "沒有標題的一段文字，ｗｉｆｉ COVID-19 版本3.5。"},
        {"id": records[0]["id"], "title": "重複", "text": "這個編號已經用過了。"},
        {"id": "a/3", "title": "日期不對", "text": "正文。", "date": "not a date"},
        {"id": "a/4", "title": "空", "text": "   "},
        {"id": "a/5", "title": "𠀀𪚥 ext", "text": "擴展區漢字𠀀𪚥和〇與㐀，還有  空格\t製表。"},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in awkward]
    lines.insert(2, "")
    lines.insert(3, "{not json")
    lines.insert(4, "[1, 2]")
    with gzip.open(root / "awkward.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    shutil.copytree(SEEDS, root / "seeds")
    return [root / "poems.jsonl", root / "awkward.jsonl.gz", root / "seeds"]


@pytest.fixture(scope="module")
def reference_index(mixed_sources, tmp_path_factory):
    out = tmp_path_factory.mktemp("whoosh") / "index"
    report = build_index(mixed_sources, out, builder="whoosh")
    return out, report


@pytest.mark.parametrize("workers", [1, 2])
def test_parallel_build_writes_what_whooshs_writer_writes(mixed_sources, reference_index,
                                                          tmp_path, workers):
    ref_dir, ref_report = reference_index
    out = tmp_path / "index"
    report = build_index(mixed_sources, out, builder="parallel", workers=workers)
    assert _report_key(report) == _report_key(ref_report)
    assert report.skipped, "the awkward file has lines to skip"
    assert differences(ref_dir, out) == []
    manifest = json.loads((live_generation(out) / MANIFEST).read_text())
    assert manifest["segmenter"] == segmenter()
    assert manifest["builder"]["method"] == "parallel"
    assert manifest["builder"]["workers"] == workers


def test_one_document_chunks_with_duplicates_and_problems(mixed_sources, reference_index,
                                                         tmp_path, monkeypatch):
    # Chunks made of nothing but a duplicate or a bad line must not shift
    # the document numbers of the chunks after them.
    from search.store import parallel
    monkeypatch.setattr(parallel, "CHUNK_DOCS", 1)
    ref_dir, ref_report = reference_index
    out = tmp_path / "index"
    report = build_index(mixed_sources[1:] + mixed_sources[:1], out, builder="parallel",
                         workers=1)
    ref = tmp_path / "ref"
    ref_report = build_index(mixed_sources[1:] + mixed_sources[:1], ref, builder="whoosh")
    assert _report_key(report) == _report_key(ref_report)
    assert any("duplicate id" in p.reason for p in report.skipped)
    assert differences(ref, out) == []


def test_parallel_build_gives_the_same_results_for_every_benchmark_query(
        mixed_sources, reference_index, tmp_path):
    ref_dir, _ = reference_index
    out = tmp_path / "index"
    build_index(mixed_sources, out, builder="parallel", workers=2)
    queries = load_queries(str(QUERIES))
    queries += [{"qid": "x-1", "q": "洛陽 花", "filters": {"city": ["洛阳"]}},
                {"qid": "x-2", "q": "", "filters": {"year": ["2014"]}},
                {"qid": "x-3", "q": '"呼叫中心" -洛阳', "filters": {}}]
    checked, diffs = compare_queries(ref_dir, out, queries, every=5)
    assert checked > len(queries)
    assert diffs == []


def test_an_empty_build_is_the_same_too(tmp_path):
    empty = write_jsonl(tmp_path / "empty.jsonl", [])
    a = build_index([empty], tmp_path / "a", builder="whoosh", force=True)
    b = build_index([empty], tmp_path / "b", builder="parallel", force=True)
    assert a.indexed == b.indexed == 0
    from search import open_index
    assert open_index(tmp_path / "b").search("明月").total == 0


def test_segment_is_jiebas_segmentation_on_the_sample():
    for record in _sample_records():
        text = to_simplified(f"{record.get('title', '')}\n{record['text']}")
        assert segment(text) == segment_reference(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(
    list("的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会"
         "明月光床前疑地上霜举头望低思故乡江南春风花落知多少長安洛陽蘇州杭州")
    + ["㐀", "𠀀", "鿿", "丽", "〇", "ａ", "1", "x", " ", "，", "\n"]), max_size=40))
def test_segment_is_jiebas_segmentation_on_any_text(text):
    norm = to_simplified(text)
    assert segment(norm) == segment_reference(norm)


def _grouped(analyzer, text):
    out = {}
    for t in analyzer(text, positions=True):
        out.setdefault(t.text, []).append(t.pos)
    return out


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_index_fast_path_gives_the_analyzers_terms(text):
    assert word_positions(text) == _grouped(word_analyzer(), text)
    assert gram_positions(text) == _grouped(gram_analyzer(), text)


def test_index_fast_path_on_the_sample():
    words, grams = word_analyzer(), gram_analyzer()
    for record in _sample_records(100):
        for text in (record.get("title", ""), record["text"]):
            assert word_positions(text) == _grouped(words, text)
            assert gram_positions(text) == _grouped(grams, text)


def test_a_tiny_benchmark_run_reports_sane_figures(tmp_path, capsys):
    from bench import run
    report = tmp_path / "BENCH.md"
    report.write_text("# Benchmarks\n\nkept\n\n<!-- bench:begin -->\nold\n<!-- bench:end -->\n\ntail\n")
    code = run.main(["--corpus", str(SAMPLE), "--limit", "300", "--query-limit", "12",
                     "--seconds", "2", "--first-answer-runs", "1", "--clients", "4",
                     "--results-dir", str(tmp_path / "results"), "--report", str(report),
                     "--load-tool", "python", "--skip-live", "--skip-html"])
    assert code == 0
    [result_file] = list((tmp_path / "results").glob("bench-*.json"))
    r = json.loads(result_file.read_text())
    assert r["machine"]["nproc"] >= 1 and r["machine"]["python"]
    b = r["build"]
    assert b["documents"] == 300 and b["skipped"] == 0
    assert 0 < b["seconds"] < 60 and b["index_bytes"] > 0 and b["memory"]["peak_rss_mb"] > 0
    assert r["floor"]["jieba_seconds"] > 0 and r["floor"]["opencc_seconds"] > 0
    assert r["floor"]["to_simplified_differs_from_opencc"] == 0
    assert r["naive"]["documents"] == 300 and r["naive"]["index_bytes"] > 0
    assert set(r["ratios"]) >= {"build / naive build", "index / naive index"}
    q = r["queries"]
    assert q["queries"] == 12 and not q["errors"]
    assert 0 < q["warm"]["p50"] <= q["warm"]["p95"] <= q["warm"]["p99"]
    assert 0 < r["first_answer"]["median_seconds"] < 30
    s = r["server"]
    assert s["requests"] > 0 and s["errors"] == 0, s
    assert s["requests_per_second"] > 0 and s["latency_ms"]["p50"] > 0
    assert s["server_memory"]["peak_rss_mb"] > 0
    assert len(r["goals"]) == 8
    t = r["tantivy"]
    if "skipped" not in t:
        assert t["build"]["documents"] == 300 and t["queries"]["queries"] == 12
        assert len(r["tantivy_ratios"]) == 8 and all(v > 0 for v in r["tantivy_ratios"].values())
    text = report.read_text()
    assert text.startswith("# Benchmarks\n\nkept\n") and text.endswith("\n\ntail\n")
    assert "old" not in text and "### Server" in text and "requests/s" in text
    assert "### Against Tantivy" in text


def test_without_tantivy_the_peer_is_skipped_and_says_why(tmp_path):
    """The peer's stage on a Python where ``import tantivy`` fails, as without the bench extra."""
    import subprocess
    import sys
    from bench import run
    (tmp_path / "tantivy.py").write_text("raise ImportError('No module named tantivy')\n")
    out = subprocess.run([sys.executable, "-m", "bench.tantivy_peer", "--corpus", str(SAMPLE)],
                         capture_output=True, text=True, cwd=BENCH.parent, check=True,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)})
    peer = json.loads(out.stdout)
    assert "tantivy not installed" in peer["skipped"] and ".[bench]" in peer["skipped"]
    results = {"build": {"documents": 400}, "queries": {}, "tantivy": peer}
    assert run.tantivy_ratios(results) == {}
    assert "The Tantivy peer was skipped: tantivy not installed" in "\n".join(run.render_tantivy(results))


def test_the_benchmark_without_its_corpus_says_so(tmp_path, capsys):
    from bench import run
    assert run.main(["--corpus", str(tmp_path / "absent.jsonl.gz")]) == 0
    assert "no corpus" in capsys.readouterr().out
