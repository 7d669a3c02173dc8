"""The compact term table (``search.whoosh3.compact``) holds what the W3 one holds.

The sample poems and the seeds are built both ways (``term_table="w3"`` and
``"compact"``); through Whoosh's reader API every field's every term has the
same counts, statistics and postings, the project's fast paths (a field's
frequencies, a prefix's documents) the same answers, and every benchmark
query the same results: ids, scores, totals, facets and snippets.  The
compact index opens in a fresh process with ``whoosh.index.open_dir``, its
size report adds up, and an index changed after the build (documents added
and deleted, segments written by Whoosh's writer beside the compact one,
then merged) answers as a build of the same documents does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from bench.compare import differences
from bench.queries import load_queries, search_args
from search import BuildError, build_index, open_index
from search.store.layout import MANIFEST, live_generation
from search.whoosh3 import compact, termtable
from search.whoosh3.sizes import term_table_bytes
from tests.helpers import SEEDS, write_jsonl

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "bench" / "sample.jsonl"
QUERIES = REPO / "bench" / "queries.jsonl"


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """{source name: (W3 index, compact index)} for the sample and the seeds."""
    root = tmp_path_factory.mktemp("tables")
    out = {}
    for name, source in (("sample", SAMPLE), ("seeds", SEEDS)):
        out[name] = tuple(root / f"{name}-{table}" for table in ("w3", "compact"))
        for index_dir, table in zip(out[name], ("w3", "compact")):
            build_index([str(source)], index_dir, term_table=table, workers=2)
    return out


def _reader(index_dir):
    return whoosh_index.open_dir(str(live_generation(index_dir))).reader()


def _postings(reader, fieldname, btext):
    m = reader.postings(fieldname, btext)
    out = []
    while m.is_active():
        out.append((m.id(), m.weight(), m.value()))
        m.next()
    return out


@pytest.mark.parametrize("name", ["sample", "seeds"])
def test_the_compact_segment_is_read_through_its_codec(both, name):
    w3, small = both[name]
    with _reader(small) as reader:
        assert compact.is_compact(reader)
        assert isinstance(reader.codec(), compact.CompactCodec)
    with _reader(w3) as reader:
        assert not compact.is_compact(reader)
    generation = live_generation(small)
    assert list(generation.glob("*.trb")) and not list(generation.glob("*.trm"))
    manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["builder"]["term_table"] == "compact"
    assert json.loads((live_generation(w3) / MANIFEST).read_text(encoding="utf-8")
                      )["builder"]["term_table"] == "w3"


@pytest.mark.parametrize("name", ["sample", "seeds"])
def test_every_term_has_the_same_counts_statistics_and_postings(both, name):
    w3, small = both[name]
    assert differences(w3, small, limit=5) == []
    with _reader(w3) as a, _reader(small) as b:
        terms = list(a.all_terms())
        assert len(terms) > 1000 and list(b.all_terms()) == terms
        for fieldname, btext in terms:
            assert (fieldname, btext) in b
            assert b.doc_frequency(fieldname, btext) == a.doc_frequency(fieldname, btext)
            assert b.frequency(fieldname, btext) == a.frequency(fieldname, btext)
            ia, ib = a.term_info(fieldname, btext), b.term_info(fieldname, btext)
            assert ib.is_inlined() == ia.is_inlined()
            if ia.is_inlined():
                assert ib.inlined_postings() == ia.inlined_postings()
            else:
                assert ib.extent()[0] == ia.extent()[0]
            assert _postings(b, fieldname, btext) == _postings(a, fieldname, btext)
        # Whole-table iteration and a field's iteration from a prefix.
        assert [(t, i.doc_frequency()) for t, i in b.iter_field("body")] == \
            [(t, i.doc_frequency()) for t, i in a.iter_field("body")]
        some = terms[len(terms) // 2]
        def walk(reader):
            return [(t, i.doc_frequency(), i.max_id()) for t, i in reader.iter_from(*some)]
        assert walk(b) == walk(a) and walk(a)
        # A term that is not there, in both tables.
        assert ("body", "不存在的词语".encode()) not in b
        assert ("nosuchfield", b"x") not in b


@pytest.mark.parametrize("name", ["sample", "seeds"])
def test_a_cursor_walks_a_field_as_whooshs_does(both, name):
    w3, small = both[name]
    with _reader(w3) as a, _reader(small) as b:
        ca, cb = a.cursor("body"), b.cursor("body")
        walked_a, walked_b = [], []
        while ca.is_valid():
            walked_a.append((ca.text(), ca.term_info().doc_frequency()))
            ca.next()
        while cb.is_valid():
            walked_b.append((cb.text(), cb.term_info().doc_frequency()))
            cb.next()
        assert walked_b == walked_a and walked_a
        middle = walked_a[len(walked_a) // 2][0]
        assert cb.find(middle) == ca.find(middle) == middle


@pytest.mark.parametrize("name", ["sample", "seeds"])
def test_the_fast_paths_answer_the_same(both, name):
    w3, small = both[name]
    with _reader(w3) as a, _reader(small) as b:
        for fieldname in sorted(a.indexed_field_names()):
            try:
                fa = termtable.field_frequencies(a, fieldname, 1)
            except UnicodeDecodeError:        # a numeric field's terms are not text
                with pytest.raises(UnicodeDecodeError):
                    termtable.field_frequencies(b, fieldname, 1)
                continue
            assert fa is not None
            assert termtable.field_frequencies(b, fieldname, 1) == fa
            assert termtable.field_frequencies(b, fieldname, 3) == \
                {t: n for t, n in fa.items() if n >= 3}
        words = sorted(termtable.field_frequencies(a, "body", 1))
        prefixes = sorted({w[:1] for w in words})[:40] + ["不存在"]
        for prefix in prefixes:
            da = termtable.prefix_doc_ids(a, "body", prefix)
            db = termtable.prefix_doc_ids(b, "body", prefix)
            assert da is not None and db is not None
            assert db.tolist() == da.tolist(), prefix


def _results(index, query):
    q, kwargs = search_args(query)
    res = index.search(q, **kwargs)
    return (res.total, [(h.id, h.score, h.snippets, h.title_html) for h in res.hits],
            json.dumps(res.facets, sort_keys=True, ensure_ascii=False))


def test_every_benchmark_query_finds_the_same(both):
    w3, small = both["sample"]
    a, b = open_index(w3), open_index(small)
    queries = load_queries(QUERIES)
    assert len(queries) >= 300
    found = 0
    for query in queries:
        expected = _results(a, query)
        assert _results(b, query) == expected, query
        found += expected[0] > 0
    assert found > len(queries) // 2          # the comparison is of results, mostly


def test_the_seeds_answer_the_same(both):
    w3, small = both["seeds"]
    a, b = open_index(w3), open_index(small)
    for q in ["洛陽", "洛阳", "呼叫中心 牡丹江", "贵阳 黔中声谷", '"呼叫中心"', "洛阳 -呼叫中心",
              "呼叫*", "不存在的词语", ""]:
        query = {"q": q, "filters": {}}
        assert _results(b, query) == _results(a, query), q


def test_a_fresh_process_opens_it_with_whoosh(both):
    _w3, small = both["sample"]
    script = ("import sys; from whoosh import index\n"
              "ix = index.open_dir(sys.argv[1])\n"
              "r = ix.reader()\n"
              "print(type(r.codec()).__name__, r.doc_count(), "
              "r.doc_frequency('body', '明月'.encode()))")
    out = subprocess.run([sys.executable, "-c", script, str(live_generation(small))],
                         capture_output=True, text=True, cwd=REPO, check=True).stdout.split()
    with _reader(small) as reader:
        assert out == ["CompactCodec", str(reader.doc_count()),
                       str(reader.doc_frequency("body", "明月".encode()))]
    assert int(out[2]) > 0


def test_the_size_report_adds_up_and_is_smaller(both):
    w3, small = both["sample"]
    generation = live_generation(small)
    with _reader(small) as reader:
        fields = term_table_bytes(reader)
        whoosh_terms = {}
        for fieldname, _text in reader.all_terms():
            whoosh_terms[fieldname] = whoosh_terms.get(fieldname, 0) + 1
    tables = fields.pop("(tables)")
    entries = sum(v for parts in fields.values() for k, v in parts.items()
                  if k not in ("terms", "single", "postings"))
    trb = sum(p.stat().st_size for p in generation.glob("*.trb"))
    assert entries + sum(tables.values()) == trb
    assert {name: parts["terms"] for name, parts in fields.items()} == whoosh_terms
    assert sum(parts["postings"] for parts in fields.values()) == \
        sum(p.stat().st_size for p in generation.glob("*.pst"))
    trm = sum(p.stat().st_size for p in live_generation(w3).glob("*.trm"))
    assert trb < trm / 3


def test_an_unknown_term_table_is_refused(tmp_path, monkeypatch):
    with pytest.raises(BuildError, match="term table"):
        build_index([str(SEEDS)], tmp_path / "a", term_table="tiny")
    monkeypatch.setenv("SEARCH_TERM_TABLE", "tiny")
    with pytest.raises(BuildError, match="SEARCH_TERM_TABLE"):
        build_index([str(SEEDS)], tmp_path / "b")


def _records(n=None):
    with open(SAMPLE, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    return records[:n] if n else records


def test_a_changed_compact_index_answers_as_a_build_of_its_documents(tmp_path):
    records = _records()
    first, later = records[:300], records[300:]
    start = write_jsonl(tmp_path / "first.jsonl", first)
    changed = tmp_path / "changed"
    build_index([str(start)], changed, term_table="compact")
    # Added and deleted through the CLI: segments from Whoosh's writer beside
    # the compact one, and deletions marked in it.
    added = write_jsonl(tmp_path / "later.jsonl", later)
    cli = [sys.executable, "-m", "search"]
    subprocess.run(cli + ["add", str(added), "--index", str(changed)], check=True, cwd=REPO,
                   capture_output=True)
    gone = [r["id"] for r in first[:20]] + [r["id"] for r in later[:5]]
    subprocess.run(cli + ["delete", *gone, "--index", str(changed)], check=True, cwd=REPO,
                   capture_output=True)
    index = open_index(changed)
    with _reader(changed) as reader:
        leaves = [leaf for leaf, _offset in reader.leaf_readers()]
        assert len(leaves) >= 2
        assert sum(compact.is_compact(leaf) for leaf in leaves) == 1
    kept = [r for r in records if r["id"] not in set(gone)]
    fresh = tmp_path / "fresh"
    build_index([str(write_jsonl(tmp_path / "kept.jsonl", kept))], fresh, term_table="w3")
    reference = open_index(fresh)
    queries = load_queries(QUERIES)[::10]

    def same(a, b):
        for query in queries:
            q, kwargs = search_args(query)
            ra, rb = a.search(q, **kwargs), b.search(q, **kwargs)
            # Scores depend on each segment's statistics: what is found is
            # compared, and the hits themselves where one page holds them all.
            assert ra.total == rb.total, query
            if ra.total <= len(ra.hits):
                assert sorted(h.id for h in ra.hits) == sorted(h.id for h in rb.hits), query
            assert json.dumps(ra.facets, sort_keys=True) == json.dumps(rb.facets, sort_keys=True)

    same(index, reference)
    # Merged into one segment: Whoosh's writer reads the compact one.
    subprocess.run(cli + ["merge", "--all", "--index", str(changed)], check=True, cwd=REPO,
                   capture_output=True)
    with _reader(changed) as reader:
        assert len(reader.leaf_readers()) == 1
    same(open_index(changed), reference)


def test_the_setting_in_the_environment_builds_it_from_the_command_line(tmp_path):
    # The README's example.
    index_dir = tmp_path / "seeds-compact"
    env = {**os.environ, "SEARCH_TERM_TABLE": "compact"}
    subprocess.run([sys.executable, "-m", "search", "index", str(SEEDS), "--index", str(index_dir),
                    "--quiet"], check=True, cwd=REPO, env=env, capture_output=True)
    generation = live_generation(index_dir)
    manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["builder"]["term_table"] == "compact"
    report = subprocess.run([sys.executable, "-m", "bench.index_size", str(index_dir)], check=True,
                            cwd=REPO, capture_output=True, text=True).stdout
    assert "compact term table (.trb)" in report and "| body |" in report


def test_the_readers_of_a_segment_share_its_decoded_blocks(both):
    _w3, small = both["sample"]
    index = open_index(small)
    first = _results(index, {"q": "明月", "filters": {}})
    with _reader(small) as a, _reader(small) as b:
        table = compact.table_of(a)
        assert table is compact.table_of(b)
        kept = len(table._cache)
        assert kept > 0                     # the search above decoded blocks
        found = [0]

        def look():
            found[0] = a.doc_frequency("body", "明月".encode())
        worker = threading.Thread(target=look)
        worker.start()
        worker.join()
        assert found[0] == b.doc_frequency("body", "明月".encode()) > 0
        assert len(table._cache) == kept    # nothing new to decode
    assert _results(index, {"q": "明月", "filters": {}}) == first
