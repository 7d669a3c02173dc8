"""Building: sources, reports, the atomic swap, stale builds, the CLI's JSON."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search import BuildError, IndexNotFound, build_index, open_index
from search.store import fields, layout
from tests.helpers import REPO, SEEDS, ids, write_folder, write_jsonl


def test_seeds_are_all_indexed(tmp_path):
    report = build_index([SEEDS], tmp_path / "index")
    assert report.ok and report.indexed == len(list(SEEDS.glob("*.txt")))
    ix = open_index(tmp_path / "index")
    assert ix.stats()["documents"] == report.indexed


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexNotFound, match=r"zhsearch index SOURCE --index .*make index"):
        open_index(tmp_path / "nothing")


def test_rebuild_is_picked_up_by_an_open_index(tmp_path):
    write_folder(tmp_path / "a", {"one.txt": "第一篇\n洛阳的故事"})
    write_folder(tmp_path / "b", {"two.txt": "第二篇\n贵阳的故事"})
    build_index([tmp_path / "a"], tmp_path / "index")
    ix = open_index(tmp_path / "index")
    assert ids(ix.search("故事")) == ["one.txt"]
    build_index([tmp_path / "b"], tmp_path / "index")
    assert ids(ix.search("故事")) == ["two.txt"]


def test_failed_build_leaves_the_previous_index_live(tmp_path, monkeypatch):
    write_folder(tmp_path / "a", {"one.txt": "第一篇\n洛阳的故事", "two.txt": "第二篇\n洛阳"})
    build_index([tmp_path / "a"], tmp_path / "index")
    ix = open_index(tmp_path / "index")
    calls = []

    def explode(doc):
        calls.append(doc.id)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return original(doc)

    original = fields.document_fields
    monkeypatch.setattr(fields, "document_fields", explode)
    with pytest.raises(RuntimeError):
        build_index([tmp_path / "a"], tmp_path / "index")
    assert ix.search("洛阳").total == 2
    leftovers = [p.name for p in (tmp_path / "index").iterdir() if p.name.startswith(".build-")]
    assert leftovers == []


def test_stale_build_folders_are_cleaned_and_old_generations_pruned(tmp_path, monkeypatch):
    write_folder(tmp_path / "a", {"one.txt": "第一篇\n洛阳"})
    root = tmp_path / "index"
    for _ in range(4):
        build_index([tmp_path / "a"], root)
    # Replaced a moment ago: kept for the readers that may still hold them.
    assert len([p for p in root.iterdir() if p.name.startswith("gen-")]) == 4
    monkeypatch.setattr(layout, "RETIRE_SECONDS", 0)
    (root / ".build-gen-killed").mkdir()
    (root / ".build-gen-killed" / "_MAIN_1.toc").write_text("half")
    build_index([tmp_path / "a"], root)
    names = sorted(p.name for p in root.iterdir())
    assert not any(n.startswith(".build-") for n in names)
    gens = [n for n in names if n.startswith("gen-")]
    assert len(gens) == 1 + layout.KEEP_PREVIOUS
    assert (root / "current").resolve().name in gens


def test_refuses_to_build_into_a_folder_that_is_not_an_index(tmp_path):
    write_folder(tmp_path / "notes", {"important.doc": "mine"})
    with pytest.raises(BuildError, match="not an index"):
        build_index([SEEDS], tmp_path / "notes")
    assert (tmp_path / "notes" / "important.doc").read_text() == "mine"


def test_duplicate_ids_first_one_wins(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"id": "x", "title": "甲", "text": "第一个版本"}])
    write_jsonl(tmp_path / "b.jsonl", [{"id": "x", "title": "乙", "text": "第二个版本"}])
    report = build_index([tmp_path / "a.jsonl", tmp_path / "b.jsonl"], tmp_path / "ix")
    assert report.indexed == 1
    assert len(report.skipped) == 1 and "duplicate id 'x'" in report.skipped[0].reason
    assert "a.jsonl" in report.skipped[0].reason
    assert open_index(tmp_path / "ix").document("x").title == "甲"


def test_bad_lines_are_reported_and_the_rest_indexed(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"id": "ok", "text": "好的文本"}\nnot json\n{"id": "no-text"}\n[1,2]\n'
                    '{"id": "ok2", "text": "另一个"}\n', encoding="utf-8")
    report = build_index([path], tmp_path / "ix")
    assert report.indexed == 2
    reasons = {p.source.rsplit(":", 1)[1]: p.reason for p in report.skipped}
    assert set(reasons) == {"2", "3", "4"}
    assert "JSON" in reasons["2"] and '"text"' in reasons["3"]


def _cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "search", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_cli_index_and_query_json_shape(tmp_path):
    built = _cli("index", str(SEEDS), "--index", str(tmp_path / "ix"))
    assert built.returncode == 0, built.stderr
    out = _cli("query", "洛陽", "--index", str(tmp_path / "ix"), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"query", "total", "page", "per_page", "hits", "facets"} <= set(data)
    assert data["query"] == "洛陽" and data["total"] >= 1
    hit = data["hits"][0]
    assert set(hit) == {"id", "title", "score", "date", "cities", "snippet", "source",
                         "match", "missing", "title_html", "snippets", "snippets_text",
                         "city_forms", "fields"}
    assert hit["snippets"][0] == hit["snippet"] and "<mark>" not in hit["snippets_text"][0]
    assert "洛陽" in hit["snippets_text"][0]
    assert hit["id"].startswith("002_") and "<mark>洛陽</mark>" in hit["snippet"]
    assert hit["source"].endswith(hit["id"])
    for name in ("city", "year"):
        assert all(set(f) == {"value", "count"} for f in data["facets"][name])
    assert {"value": "2012", "count": 1} in data["facets"]["year"]


def test_cli_reports_skipped_files_in_its_exit_status(tmp_path):
    write_folder(tmp_path / "docs", {"good.txt": "标题\n正文内容", "empty.txt": ""})
    out = _cli("index", str(tmp_path / "docs"), "--index", str(tmp_path / "ix"))
    assert out.returncode == 3
    assert "empty.txt" in out.stderr and "empty" in out.stderr


def test_cli_bad_query_exits_2_with_a_message(tmp_path):
    build_index([SEEDS], tmp_path / "ix")
    out = _cli("query", "洛阳", "--index", str(tmp_path / "ix"), "--page", "0")
    assert out.returncode == 2 and "page" in out.stderr and "Traceback" not in out.stderr


def test_cli_readable_output_emphasises_matches(tmp_path):
    build_index([SEEDS], tmp_path / "ix")
    out = _cli("query", "洛阳", "--index", str(tmp_path / "ix"))
    assert out.returncode == 0
    assert "【洛陽】" in out.stdout and "002_" in out.stdout


def test_the_schema_names_its_tokenizers_as_every_index_has_them(tmp_path):
    """Whoosh pickles the schema into each index's table of contents, and the
    project's tokenizers with it by module path: that path must stay what
    indexes built before have, or those indexes no longer open."""
    write_folder(tmp_path / "a", {"one.txt": "第一篇\n洛阳的文章。"})
    build_index([tmp_path / "a"], tmp_path / "index")
    toc = next((tmp_path / "index" / "current").glob("_MAIN_*.toc")).read_bytes()
    assert b"csearch.analysis\nWordTokenizer\n" in toc
    assert b"csearch.analysis\nGramTokenizer\n" in toc
    # And a fresh interpreter, importing nothing but the front door, opens it.
    import subprocess
    import sys
    code = ("import sys; from search import open_index; "
            f"print(open_index(sys.argv[1]).search('洛阳').total)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "index")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "1", out.stderr


def test_saved_tables_that_name_the_modules_of_before_the_store_package_load(tmp_path):
    """Facet tables and the vocabulary pickle their classes by module path;
    tables saved before ``search.store`` existed name ``search.facets`` and
    ``search.vocabulary``.  They must load, not be rebuilt in every process
    that opens the index (minutes on a large one)."""
    import pickle
    import zlib

    from search.store import checksums, facets, vocabulary
    from tests.helpers import SEEDS
    build_index([SEEDS], tmp_path / "index")
    gen = layout.live_generation(tmp_path / "index")
    count = open_index(tmp_path / "index").stats()["documents"]
    tables = {facets.FILE: (False, b"csearch.store.facets\n", b"csearch.facets\n"),
              vocabulary.FILE: (True, b"csearch.store.vocabulary\n", b"csearch.vocabulary\n")}
    for name, (compressed, new, old) in tables.items():
        raw = (gen / name).read_bytes()
        data = pickle.loads(zlib.decompress(raw) if compressed else raw)
        before = pickle.dumps(data, protocol=2)          # module names as plain text
        assert new in before
        before = before.replace(new, old)
        (gen / name).write_bytes(zlib.compress(before) if compressed else before)
    checksums.write_checksums(gen)                       # the tables as such an index has them
    assert facets.load(gen, count)["tables"]["city"].totals.get("洛阳")
    assert vocabulary.load(gen, count) is not None
    assert open_index(tmp_path / "index").search("洛阳", city="洛阳").total == 1
