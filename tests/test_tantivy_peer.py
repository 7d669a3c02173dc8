"""The Tantivy peer of the benchmark indexes every record and answers as its records say.

Runs only where the ``bench`` extra (tantivy, rjieba) is installed; CI does
without it.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("tantivy")
pytest.importorskip("rjieba")

from bench import tantivy_peer  # noqa: E402
from bench.queries import load_queries  # noqa: E402
from search.store.build import build_index  # noqa: E402
from search.text.script import to_simplified  # noqa: E402

BENCH = Path(__file__).resolve().parent.parent / "bench"
SAMPLE = BENCH / "sample.jsonl"


def _records():
    with open(SAMPLE, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """The peer run on the committed sample, its index kept, beside this project's index."""
    work = tmp_path_factory.mktemp("peer")
    build_index([str(SAMPLE)], str(work / "project"))
    queries = load_queries(str(BENCH / "queries.jsonl"), 30)
    result = tantivy_peer.run(SAMPLE, queries, rounds=2, project_index=work / "project",
                              work=work, keep=True)
    return result, tantivy_peer.open_tantivy(Path(result["index_dir"]))


def test_the_figures_are_there(peer):
    result, _index = peer
    b, q = result["build"], result["queries"]
    assert b["seconds"] > 0 and b["peak_rss_mb"] > 0 and b["index_bytes"] > 0
    assert q["queries"] == 30 and q["warm_rounds"] == 2
    for key in ("first_round", "warm"):
        assert 0 < q[key]["p50"] <= q[key]["p99"] <= q[key]["max"]
    assert all(len(row["top"]) <= 10 for row in q["per_query"])
    o = result["overlap"]
    assert o["compared"] > 0 and 0 <= o["overlap_at_10_median"] <= 10
    assert result["versions"]["tantivy"] and result["versions"]["rjieba"]


def test_the_index_holds_every_record(peer):
    result, index = peer
    records = _records()
    assert result["build"]["documents"] == result["build"]["indexed"] == len(records)
    assert index.searcher().num_docs == len(records)


def test_a_query_finds_the_record_holding_its_word(peer):
    _result, index = peer
    searcher = index.searcher()
    records = _records()
    # A word of one record's text that no other record's words hold, written in
    # traditional script in that record.
    word_count = Counter(w for r in records for w in set(tantivy_peer.words(r["text"])))
    record, word = next(
        (r, w) for r in records for w in tantivy_peer.words(r["text"])
        if len(w) > 1 and word_count[w] == 1 and w not in r["text"])
    page = tantivy_peer.results_page(index, searcher, {"q": word, "filters": {}})
    assert page["ids"] == [record["id"]] and page["total"] == 1
    # Typed as the record writes it, the same record: the query is converted as the text was.
    at = to_simplified(record["text"]).index(word)
    as_written = record["text"][at:at + len(word)]
    assert as_written != word
    assert tantivy_peer.results_page(index, searcher, {"q": as_written})["ids"] == [record["id"]]
    # The stored original comes back unchanged.
    [(_score, address)] = searcher.search(tantivy_peer.text_query(index, word), 1).hits
    assert bytes(searcher.doc(address)["text_original"][0]).decode("utf-8") == record["text"]


def test_facet_counts_are_the_records_counts(peer):
    _result, index = peer
    searcher = index.searcher()
    records = _records()
    word = "山"
    holding = [r for r in records
               if word in tantivy_peer.words(r.get("title") or "")
               or word in tantivy_peer.words(r["text"])]
    assert len(holding) > 5
    counts = tantivy_peer.facet_counts(searcher, tantivy_peer.text_query(index, word), size=1000)
    for facet in tantivy_peer.COUNTED_FACETS:
        expected = Counter(to_simplified(r[facet]) for r in holding if r.get(facet))
        assert counts[facet] == dict(expected), facet
    page = tantivy_peer.results_page(index, searcher, {"q": word, "filters": {}})
    assert page["total"] == len(holding)


def test_a_filter_narrows_to_the_facet_value(peer):
    _result, index = peer
    searcher = index.searcher()
    records = _records()
    dynasty = Counter(to_simplified(r["dynasty"]) for r in records).most_common()[-1][0]
    holding = [r for r in records if to_simplified(r["dynasty"]) == dynasty
               and "山" in tantivy_peer.words(r["text"]) + tantivy_peer.words(r.get("title") or "")]
    page = tantivy_peer.results_page(index, searcher, {"q": "山", "filters": {"dynasty": [dynasty]}})
    assert page["total"] == len(holding)
    assert set(page["facets"]["dynasty"]) <= {dynasty}
