"""Build safety: a rebuild cannot empty or gut the index, every file of a folder
that is not indexed is listed with why, links stay inside their folder, one
document cannot cost gigabytes or sink the build with its field names, and no
number the API cannot write reaches the index.

Real builds on disk (``build_index`` and ``python -m search index`` in a
subprocess), real files and links in ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from search import BuildError, build_index, open_index
from search.store.build import BuildRefused
from search.store.layout import live_generation
from tests.helpers import REPO, SEEDS, write_folder, write_jsonl

GOOD = "好的文档\n这是一篇正常的文章，讲洛阳的呼叫中心。"
SUPPORTED = ("not a supported type; indexed are .txt, .md, .markdown, .html, .htm, .shtml, "
             ".xhtml, .docx, .pdf, .jsonl, .jsonl.gz, .ndjson")


def run_cli(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "search", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def docs_folder(root: Path, count: int, tag: str = "文") -> Path:
    return write_folder(root, {f"{tag}{n:03d}.txt": f"{tag}第{n}篇\n正文讲洛阳的呼叫中心，第{n}篇。"
                               for n in range(count)})


@pytest.fixture()
def live(tmp_path):
    """An index of ten documents, and its live generation's name."""
    index_dir = tmp_path / "ix"
    build_index([docs_folder(tmp_path / "ten", 10)], index_dir)
    return index_dir, live_generation(index_dir).name


def assert_untouched(index_dir: Path, generation: str, documents: int = 10):
    ix = open_index(index_dir)
    assert ix.stats()["generation"] == generation
    assert ix.stats()["documents"] == documents
    assert ix.search("洛阳").total == documents


# ---------------------------------------------------------------------------
# 1. A rebuild that yields nothing, or too little, keeps the live index


@pytest.mark.parametrize("files", [
    {},                                                            # an empty folder
    {"a.xlsx": b"PK\x03\x04", "b.pdf": b"%PDF-1.4\n", "c.bin": bytes(range(256))},
    {"empty.txt": "", "blank.md": " \n\n", "bad.jsonl": "not json\n"},   # all skipped
], ids=["empty-folder", "only-unsupported-types", "all-skipped"])
def test_a_build_without_documents_keeps_the_live_index_and_exits_1(live, tmp_path, files):
    index_dir, generation = live
    source = write_folder(tmp_path / "src", files)
    out = run_cli("index", source, "--index", index_dir, "--quiet")
    assert out.returncode == 1, out
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the sources hold no document to index")
    assert "unchanged" in last and "Traceback" not in out.stderr
    assert_untouched(index_dir, generation)
    with pytest.raises(BuildRefused) as refused:          # the library refuses as well
        build_index([source], index_dir)
    assert isinstance(refused.value, BuildError) and refused.value.report.indexed == 0
    assert_untouched(index_dir, generation)
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".build-")]


def test_an_unsupported_source_file_keeps_the_live_index(live, tmp_path):
    """``make index SOURCES=a.xlsx``."""
    index_dir, generation = live
    page = tmp_path / "a.xlsx"
    page.write_bytes(b"PK\x03\x04")
    out = subprocess.run(["make", "-s", "index", f"SOURCES={page}", f"INDEX={index_dir}"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0, out
    assert f"{page}: a .xlsx file: {SUPPORTED}" in out.stderr
    assert "error: the sources hold no document to index (1 skipped" in out.stderr
    assert_untouched(index_dir, generation)


def test_a_refused_first_build_creates_no_index(tmp_path):
    index_dir = tmp_path / "new-index"
    out = run_cli("index", write_folder(tmp_path / "empty", {}), "--index", index_dir, "--json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["indexed"] == 0 and "no index was created" in report["refused"]
    assert not index_dir.exists()


def test_a_build_that_loses_more_than_half_needs_force(live, tmp_path):
    index_dir, generation = live
    four = docs_folder(tmp_path / "four", 4, tag="新")
    out = run_cli("index", four, "--index", index_dir, "--quiet")
    assert out.returncode == 1, out
    assert ("this build has 4 documents and the live index 10: it would lose more than half"
            in out.stderr) and "--force" in out.stderr
    assert_untouched(index_dir, generation)
    with pytest.raises(BuildRefused, match="force=True"):
        build_index([four], index_dir)
    assert_untouched(index_dir, generation)
    # Half or more is a normal rebuild; --force makes a smaller one live.
    out = run_cli("index", four, "--index", index_dir, "--quiet", "--force")
    assert out.returncode == 0, out
    assert open_index(index_dir).stats()["documents"] == 4
    assert build_index([docs_folder(tmp_path / "two", 2)], index_dir, force=True).indexed == 2
    assert build_index([docs_folder(tmp_path / "one", 1)], index_dir).indexed == 1


def test_force_builds_an_empty_index_on_purpose(live, tmp_path):
    index_dir, _ = live
    report = build_index([write_folder(tmp_path / "empty", {})], index_dir, force=True)
    assert report.indexed == 0 and open_index(index_dir).stats()["documents"] == 0


def test_every_file_a_folder_walk_passes_over_is_listed_with_why(tmp_path):
    files = {"good.txt": GOOD, "..txt": GOOD, "sub/..weird.md": GOOD, ".hidden.txt": GOOD,
             "with space.txt": GOOD, "paper.pdf": b"%PDF-1.4\n", "photo.png": b"\x89PNG",
             "README": b"no suffix", "sub/ok.md": GOOD.replace("洛阳", "贵阳")}
    files.update({f".git/objects/{n:02x}/blob": b"x" for n in range(50)})
    source = write_folder(tmp_path / "docs", files)
    # A name that is not UTF-8 is indexed like any other, its id escaped.
    (source / os.fsdecode(b"caf\xe9.txt")).write_text(GOOD, encoding="utf-8")
    out = run_cli("index", source, "--index", tmp_path / "ix", "--quiet")
    assert out.returncode == 3, out          # the truncated PDF is skipped, with its reason
    said = out.stdout + out.stderr           # with a file skipped, the report goes to stderr
    assert "indexed 6 documents" in said and "ignored 4" in said, out
    assert f"skipped {source / 'paper.pdf'}: not a PDF, or a damaged or truncated one" in said
    assert f"ignored {source / '.hidden.txt'}: hidden file" in said
    assert f"ignored {source / 'photo.png'}: a .png file: {SUPPORTED}" in said
    assert f"ignored {source / 'README'}: a file without a type suffix: {SUPPORTED}" in said
    assert f"ignored {source / '.git'}: hidden folder" in said
    assert "objects" not in said                     # a hidden folder is one line
    ix = open_index(tmp_path / "ix")
    for doc_id in ("..txt", "sub/..weird.md", "with space.txt", "caf\\xe9.txt", "sub/ok.md"):
        assert ix.document(doc_id) is not None, doc_id
    out = run_cli("index", source, "--index", tmp_path / "ix2", "--json")
    data = json.loads(out.stdout)
    assert sorted(Path(p["source"]).name for p in data["ignored"]) == sorted(
        [".hidden.txt", "photo.png", "README", ".git"])
    assert [Path(p["source"]).name for p in data["skipped"]] == ["paper.pdf"]


# ---------------------------------------------------------------------------
# 10. Symbolic links stay inside their folder


@pytest.fixture()
def linked_folder(tmp_path):
    outside = write_folder(tmp_path / "outside", {
        "secret.txt": "机密\n外面的秘密文件：口令是芝麻开门。",
        "private/notes.txt": "笔记\n外面文件夹里的私人笔记：芝麻开门。",
        "blob.bin": bytes(range(256)) * 4})
    docs = write_folder(tmp_path / "docs", {"a.txt": GOOD, "sub/inner.txt": "内部\n里面的文档讲贵阳。",
                                            "data.bin": bytes(range(256))})
    (docs / "passwd.txt").symlink_to("/etc/passwd")
    (docs / "secret.txt").symlink_to(outside / "secret.txt")
    (docs / "private").symlink_to(outside / "private")
    (docs / "relative.txt").symlink_to("../outside/secret.txt")
    (docs / "inner-link.txt").symlink_to("sub/inner.txt")            # inside: fine
    (docs / "binary.txt").symlink_to("data.bin")                      # inside, not a text type
    return docs, outside


def test_links_out_of_the_source_folder_are_skipped_with_their_target(linked_folder, tmp_path):
    docs, outside = linked_folder
    report = build_index([docs], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    assert all(ix.document(i) for i in ("a.txt", "sub/inner.txt", "inner-link.txt"))
    assert report.indexed == 3
    assert ix.search("芝麻开门").total == 0 and ix.search("root").total == 0
    reasons = {Path(p.source).name: p.reason for p in report.skipped}
    assert reasons["passwd.txt"].startswith("a symbolic link to /etc/passwd, outside the source "
                                            "folder; not followed")
    assert f"a symbolic link to {outside / 'secret.txt'}, outside" in reasons["secret.txt"]
    assert f"a symbolic link to {outside / 'secret.txt'}, outside" in reasons["relative.txt"]
    assert f"a symbolic link to {outside / 'private'}, outside" in reasons["private"]
    assert reasons["binary.txt"] == (f"a symbolic link to {docs / 'data.bin'}, which is "
                                     f"a .bin file: {SUPPORTED}")
    out = run_cli("index", docs, "--index", tmp_path / "ix2", "--quiet")
    assert out.returncode == 3 and "--follow-links" in out.stderr


def test_follow_links_is_the_operators_choice(linked_folder, tmp_path):
    docs, outside = linked_folder
    out = run_cli("index", docs, "--index", tmp_path / "ix", "--quiet", "--follow-links")
    assert out.returncode == 3, out               # binary.txt still points at a binary
    ix = open_index(tmp_path / "ix")
    assert ix.search("芝麻开门").total == 3          # secret.txt, relative.txt, private/notes.txt
    assert f"{docs / 'binary.txt'}: a symbolic link to" in out.stderr
    blob = docs / "blob.txt"
    blob.symlink_to(outside / "blob.bin")        # named .txt, pointing at a binary elsewhere
    report = build_index([docs], tmp_path / "ix", follow_links=True)
    assert any(p.source == str(blob) and "blob.bin, which is a .bin file: not a supported type"
               in p.reason
               for p in report.skipped)


# ---------------------------------------------------------------------------
# 12. Numbers that are not finite never reach the index


def test_non_finite_numbers_are_kept_as_their_text_with_a_warning(tmp_path):
    source = tmp_path / "docs"
    source.mkdir()
    (source / "r.jsonl").write_text(
        '{"id": "big", "text": "大数", "score": 1e400, "nested": [1.5, -1e999]}\n'
        '{"id": "nan", "text": "非数", "score": NaN, "up": Infinity, "down": -Infinity}\n'
        '{"id": "fine", "text": "正常", "score": 2.5}\n', encoding="utf-8")
    (source / "f.md").write_text("---\nscore: .inf\nratio: .nan\nbig: 1.0e+400\nok: 0.5\n---\n前言里的数。\n",
                                 encoding="utf-8")
    report = build_index([source], tmp_path / "ix")
    assert report.indexed == 4 and report.skipped == []
    ix = open_index(tmp_path / "ix")
    assert ix.document("big").fields["score"] == "1e400"
    assert ix.document("big").fields["nested"] == [1.5, "-1e999"]
    assert {k: ix.document("nan").fields[k] for k in ("score", "up", "down")} == {
        "score": "NaN", "up": "Infinity", "down": "-Infinity"}
    assert ix.document("fine").fields["score"] == 2.5
    assert {k: ix.document("f.md").fields[k] for k in ("score", "ratio", "big", "ok")} == {
        "score": ".inf", "ratio": ".nan", "big": "1.0e+400", "ok": 0.5}
    warned = {(p.source, p.reason.split(" holds ")[0]) for p in report.warnings}
    assert (f"{source / 'r.jsonl'}:1", "the record's field 'score'") in warned
    assert (f"{source / 'r.jsonl'}:2", "the record's field 'down'") in warned
    assert (str(source / "f.md"), "front matter field 'ratio'") in warned
    # What the API writes is JSON a browser reads.
    from webui import create_app
    client = create_app(index_dir=tmp_path / "ix", config={"TESTING": True}).test_client()
    for doc_id in ("big", "nan", "f.md"):
        body = client.get(f"/api/doc/{doc_id}").get_data(as_text=True)
        json.loads(body, parse_constant=lambda name: pytest.fail(f"{doc_id}: {name} in {body}"))


# ---------------------------------------------------------------------------
# 5. Field names: a document brings at most 64, an index holds at most 100 facets


def test_a_record_of_70000_keys_and_700_records_of_100_keys_do_not_sink_the_build(tmp_path):
    source = tmp_path / "docs"
    source.mkdir()
    write_jsonl(source / "wide.jsonl", [{"id": "wide", "text": "很宽的记录",
                                         **{f"k{n}": "v" for n in range(70_000)}}])
    write_jsonl(source / "many.jsonl", [{"id": f"m{line}", "text": f"第{line}行",
                                         **{f"f{line}_{n}": "值" for n in range(100)}}
                                        for line in range(700)])
    (source / "front.md").write_text(
        "---\n" + "".join(f"y{n}: 1\n" for n in range(70_000)) + "---\n很长的前言。\n",
        encoding="utf-8")
    out = run_cli("index", source, "--index", tmp_path / "ix", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)
    assert report["indexed"] == 702
    by_source = {}
    for w in report["warnings"]:
        by_source.setdefault(w["source"], []).append(w["reason"])
    assert ("brings 70,000 fields; the limit is 64 (SEARCH_MAX_FIELDS): the first 64 are kept, "
            "the other 69,936 dropped") in by_source[f"{source / 'wide.jsonl'}:1"]
    assert any(r.startswith("brings 70,000 fields") for r in by_source[str(source / "front.md")])
    assert any(r.startswith("brings 100 fields") for r in by_source[f"{source / 'many.jsonl'}:1"])
    past_cap = [r for rs in by_source.values() for r in rs if "is not made a facet" in r]
    assert len(past_cap) == len(set(past_cap)) == 702 * 64 - 100    # once per field name
    ix = open_index(tmp_path / "ix")
    facets = ix.stats()["facets"]
    assert len([f for f in facets if f not in ("city", "year", "month")]) == 100
    # The first 100 names in document order (front.md, many.jsonl, wide.jsonl)
    # are the facets; the others stay stored and shown.
    assert {"y0", "y63", "f0_0", "f0_35"} <= set(facets)
    assert not {"f0_36", "f1_0", "k0"} & set(facets)
    assert ix.document("m1").fields["f1_0"] == "值"
    assert len(ix.document("wide").fields) == 64


def test_both_builders_keep_the_same_facets(tmp_path, monkeypatch):
    from search.store import fields
    monkeypatch.setattr(fields, "MAX_FACETS", 15)
    records = [{"id": f"r{i}", "text": f"第{i}篇", **{f"k{(i * 7 + n) % 40}": f"值{n}" for n in range(6)}}
               for i in range(30)]
    source = write_jsonl(tmp_path / "r.jsonl", records)
    kept = {}
    for builder in ("whoosh", "parallel"):
        report = build_index([source], tmp_path / builder, builder=builder, workers=1)
        ix = open_index(tmp_path / builder)
        kept[builder] = (sorted(ix.stats()["facets"]),
                         sorted((p.source, p.reason) for p in report.warnings),
                         [sorted(ix.document(f"r{i}").fields.items()) for i in range(30)],
                         ix.search("", filters={"k0": ["值0"]}).total)
    assert kept["whoosh"] == kept["parallel"]
    assert len(kept["whoosh"][0]) == 15 + 3


# ---------------------------------------------------------------------------
# 4. One long document costs a bounded multiple of its size


def _peak_rss_of_a_build(source: Path, index_dir: Path) -> int:
    """Peak RSS in bytes of ``python -m search index`` in one process (the
    build in its own process, no workers), measured from a fresh parent."""
    probe = (
        "import resource, subprocess, sys\n"
        "code = subprocess.call([sys.executable, '-m', 'search', 'index', sys.argv[1], '--index',"
        " sys.argv[2], '--quiet'], stdout=subprocess.DEVNULL)\n"
        "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n")
    out = subprocess.run([sys.executable, "-c", probe, str(source), str(index_dir)], cwd=REPO,
                         capture_output=True, text=True, timeout=900, check=True,
                         env={**os.environ, "SEARCH_BUILD_WORKERS": "1"})
    code, peak = map(int, out.stdout.split())
    assert code == 0, out
    return peak


def _long_text_file(folder: Path, megabytes: float) -> int:
    """A text file of realistic prose (the seeds' paragraphs, shuffled); its size."""
    paragraphs = [line for path in sorted(SEEDS.glob("*.txt"))
                  for line in path.read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.startswith("---")]
    pick = random.Random(1).choice
    text, size = [], 0
    while size < megabytes * 1024 * 1024:
        line = pick(paragraphs)
        text.append(line)
        size += len(line.encode("utf-8")) + 1
    write_folder(folder, {"long.txt": "\n".join(text)})
    return (folder / "long.txt").stat().st_size


@pytest.mark.slow
def test_a_long_document_costs_a_small_multiple_of_its_size(tmp_path):
    # Each build pays the same fixed cost (dictionaries, the segmenter's route
    # table, built after a few hundred thousand characters); what grows with
    # the document is the difference between a 1 MB and an 8 MB one.
    small = _long_text_file(tmp_path / "small", 1)
    large = _long_text_file(tmp_path / "large", 8)
    small_peak = _peak_rss_of_a_build(tmp_path / "small", tmp_path / "ix-small")
    large_peak = _peak_rss_of_a_build(tmp_path / "large", tmp_path / "ix-large")
    # Before: about 60 bytes of memory per byte of text (lists of tuples and
    # of Python ints, a list of every non-ASCII character); now under 10.
    assert large_peak - small_peak < 10 * (large - small), (small_peak, large_peak, small, large)
    ix = open_index(tmp_path / "ix-large")
    assert ix.stats()["documents"] == 1 and ix.search("洛阳").total == 1
