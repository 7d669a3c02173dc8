"""A damaged index says so: one line naming the file and the repair, never a traceback.

Each test copies a small index built once for the module, damages a file of
it (garbled, truncated, missing) or its ``current`` link, and checks the
library (``IndexDamaged``), the command line (``query``, ``explain``,
``check``: one line on stderr, exit 1) and ``python -m search check``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from search import IndexDamaged, IndexNotFound, build_index, cli, open_index
from search.store import checksums, integrity
from search.searcher import SearchIndex
from search.whoosh3.postings import read_every_block
from tests import synthetic
from tests.helpers import REPO

# Enough documents for a postings file of several times 64 KB.
DOCUMENTS = 400
GARBLED = 64 * 1024


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("built")
    source = synthetic.write_jsonl(root / "corpus.jsonl", DOCUMENTS)
    report = build_index([source], root / "index")
    assert report.indexed == DOCUMENTS
    return root / "index"


@pytest.fixture
def index(built, tmp_path) -> Path:
    """A fresh copy of the built index, to damage."""
    copy = tmp_path / "index"
    shutil.copytree(built, copy, symlinks=True)
    return copy


def generation(index: Path) -> Path:
    return (index / "current").resolve()


def segment_file(index: Path, suffix: str) -> Path:
    [path] = generation(index).glob(f"MAIN_*{suffix}")
    return path


def term_table_file(index: Path) -> Path:
    """The segment's term table: Whoosh's (.trm) or the compact one (.trb)."""
    [path] = [p for p in generation(index).glob("MAIN_*") if p.suffix in (".trm", ".trb")]
    return path


def garble(path: Path, count: int = GARBLED, at: int | None = None) -> None:
    """Flip the bits of ``count`` bytes in the middle of ``path`` (or ``at``)."""
    size = path.stat().st_size
    start = max(0, size // 2 - count // 2) if at is None else at
    with open(path, "r+b") as fh:
        fh.seek(start)
        data = bytes(b ^ 0x5A for b in fh.read(count))
        fh.seek(start)
        fh.write(data)


def run(argv, capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_damaged(err: str, file: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: the index at "), err
    assert " is damaged: " in lines[0] and file in lines[0], err
    assert "rebuild it with `zhsearch index " in lines[0], err


def assert_cli_says_damaged(index: Path, file: str, capsys) -> None:
    for argv in (["query", "洛阳"], ["explain", "洛阳", "--doc", "doc/000001"], ["check"]):
        code, _, err = run(argv + ["--index", str(index)], capsys)
        assert code == 1, (argv, err)
        assert_one_line_damaged(err, file)


def term_with_damaged_postings(index: Path) -> str:
    """A word (of the body) or a bigram whose postings can no longer be decoded:
    a query for it reads them."""
    from whoosh import index as whoosh_index
    with whoosh_index.open_dir(str(generation(index))).reader() as reader:
        for fieldname in ("body", "grams"):
            for term in reader.lexicon(fieldname):
                try:
                    read_every_block(reader.postings(fieldname, term))
                except Exception:
                    return term.decode("utf-8")
    pytest.fail("garbling the postings left every term readable")


# ---------------------------------------------------------------------------
# A sound index


def test_the_build_records_every_file_of_the_generation(index):
    gen = generation(index)
    recorded = checksums.recorded(gen)
    on_disk = {p.name for p in gen.iterdir()} - {checksums.CHECKSUMS}
    assert set(recorded) == on_disk
    assert {"build.json", "facets.pickle", "vocabulary.pickle", "_MAIN_1.toc"} <= on_disk
    for name, entry in recorded.items():
        assert checksums.file_checksum(gen / name) == (entry["size"], entry["crc32"])


def test_a_sound_index_checks_clean(index, capsys):
    code, out, err = run(["check", "--index", str(index)], capsys)
    assert code == 0 and err == ""
    assert out.strip().splitlines()[-1].startswith(f"the index at {index}/gen-")
    assert "is sound: 400 documents" in out
    code, out, _ = run(["check", "--index", str(index), "--json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["sound"] and report["problems"] == []
    assert report["files_checked"] == len(checksums.recorded(generation(index)))
    assert report["documents_read"] == DOCUMENTS and report["terms_read"] > 1000


def test_check_without_an_index_is_a_clear_error(tmp_path, capsys):
    code, _, err = run(["check", "--index", str(tmp_path / "nothing")], capsys)
    assert code == 1 and err.startswith("error: no index at ") and len(err.splitlines()) == 1


# ---------------------------------------------------------------------------
# Segment files


def test_garbled_64_kb_of_postings_are_found_by_check(index, capsys):
    pst = segment_file(index, ".pst")
    assert pst.stat().st_size > 4 * GARBLED
    garble(pst)
    report = integrity.check(index)
    assert not report.sound
    assert report.problems[0].file == pst.name
    assert "checksum" in report.problems[0].what
    code, out, err = run(["check", "--index", str(index)], capsys)
    assert code == 1
    assert f"damaged  {pst.name}: " in out
    assert_one_line_damaged(err, pst.name)
    code, out, _ = run(["check", "--index", str(index), "--json"], capsys)
    assert code == 1 and json.loads(out)["problems"][0]["file"] == pst.name


def test_a_query_reaching_garbled_postings_says_the_index_is_damaged(index, capsys):
    pst = segment_file(index, ".pst")
    garble(pst)
    word = term_with_damaged_postings(index)
    code, out, err = run(["query", word, "--index", str(index)], capsys)
    assert code == 1 and out == ""
    assert_one_line_damaged(err, pst.name)
    # The library: a search method guarded at the index raises IndexDamaged,
    # not what Whoosh's decoding raised.
    ix = open_index(index)
    with pytest.raises(IndexDamaged, match=pst.name):
        integrity.guarded(SearchIndex.search)(ix, word)


def test_garbled_postings_without_checksums_are_found_by_reading_them(index, capsys):
    garble(segment_file(index, ".pst"))
    (generation(index) / checksums.CHECKSUMS).unlink()
    report = integrity.check(index)
    assert not report.sound
    assert report.problems[0].file.endswith(".pst")
    assert "cannot be read" in report.problems[0].what
    assert any("no checksums recorded" in note for note in report.notes)


def test_garbled_stored_documents(index, capsys):
    stored = segment_file(index, "._stored.col")
    garble(stored)
    code, out, err = run(["query", "洛阳", "--index", str(index)], capsys)
    assert code == 1
    assert_one_line_damaged(err, stored.name)
    code, _, err = run(["check", "--index", str(index)], capsys)
    assert code == 1
    assert_one_line_damaged(err, stored.name)


def test_a_truncated_segment_file_is_named_on_open(index, capsys):
    terms = term_table_file(index)
    with open(terms, "r+b") as fh:
        fh.truncate(terms.stat().st_size // 3)
    with pytest.raises(IndexDamaged, match=rf"{terms.name}: is [\d,]+ bytes long, not the"):
        open_index(index)
    assert_cli_says_damaged(index, terms.name, capsys)


def test_a_missing_segment_file(index, capsys):
    terms = term_table_file(index)
    terms.unlink()
    with pytest.raises(IndexDamaged, match=f"{terms.name}: is missing"):
        open_index(index)
    assert_cli_says_damaged(index, terms.name, capsys)


def test_a_missing_table_of_contents(index, capsys):
    (generation(index) / "_MAIN_1.toc").unlink()
    with pytest.raises(IndexDamaged, match="_MAIN_1.toc: is missing"):
        open_index(index)
    assert_cli_says_damaged(index, "_MAIN_1.toc", capsys)
    # Without checksums the folder is still a damaged index, not "no index".
    (generation(index) / checksums.CHECKSUMS).unlink()
    with pytest.raises(IndexDamaged, match="table of contents"):
        open_index(index)


def test_a_garbled_table_of_contents(index, capsys):
    garble(generation(index) / "_MAIN_1.toc", count=200, at=100)
    with pytest.raises(IndexDamaged, match="_MAIN_1.toc: does not match its checksum"):
        open_index(index)
    assert_cli_says_damaged(index, "_MAIN_1.toc", capsys)
    (generation(index) / checksums.CHECKSUMS).unlink()
    with pytest.raises(IndexDamaged, match="_MAIN_1.toc: Whoosh cannot read"):
        open_index(index)


# ---------------------------------------------------------------------------
# Saved tables, manifest, checksums


@pytest.mark.parametrize("name", ["facets.pickle", "vocabulary.pickle"])
def test_a_truncated_saved_table(index, name, capsys):
    path = generation(index) / name
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)
    with pytest.raises(IndexDamaged, match=f"{name}: is [\\d,]+ bytes long"):
        open_index(index)
    assert_cli_says_damaged(index, name, capsys)


@pytest.mark.parametrize("name", ["facets.pickle", "vocabulary.pickle"])
def test_a_garbled_saved_table(index, name, capsys):
    garble(generation(index) / name, count=2000)
    with pytest.raises(IndexDamaged, match=f"{name}: does not match its checksum"):
        open_index(index)
    assert_cli_says_damaged(index, name, capsys)


@pytest.mark.parametrize("name", ["facets.pickle", "vocabulary.pickle"])
def test_a_garbled_saved_table_of_an_index_without_checksums(index, name, capsys):
    (generation(index) / checksums.CHECKSUMS).unlink()
    path = generation(index) / name
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)
    ix = open_index(index)
    with pytest.raises(IndexDamaged, match=f"{name}: cannot be decoded"):
        ix.search("luoyang")        # facets, and pinyin from the vocabulary
    code, _, err = run(["query", "luoyang", "--index", str(index)], capsys)
    assert code == 1
    assert_one_line_damaged(err, name)


def test_a_garbled_manifest(index, capsys):
    manifest = generation(index) / "build.json"
    manifest.write_text(manifest.read_text()[:-30])
    with pytest.raises(IndexDamaged, match="build.json: is [\\d,]+ bytes long"):
        open_index(index)
    assert_cli_says_damaged(index, "build.json", capsys)
    (generation(index) / checksums.CHECKSUMS).unlink()
    with pytest.raises(IndexDamaged, match="build.json: is not valid JSON"):
        open_index(index)


def test_garbled_checksums(index, capsys):
    garble(generation(index) / checksums.CHECKSUMS, count=40, at=60)
    with pytest.raises(IndexDamaged, match="checksums.json: is not the list of checksums"):
        open_index(index)
    assert_cli_says_damaged(index, "checksums.json", capsys)


def test_the_repair_names_the_sources_of_the_build(index, built, capsys):
    garble(generation(index) / "vocabulary.pickle", count=100)
    code, _, err = run(["query", "洛阳", "--index", str(index)], capsys)
    source = built.parent / "corpus.jsonl"
    assert code == 1
    assert f"rebuild it with `zhsearch index {source} --index {index}`" in err


# ---------------------------------------------------------------------------
# The live link and the generation folder


def test_a_dangling_current_link(index, capsys):
    gen = generation(index)
    shutil.rmtree(gen)
    with pytest.raises(IndexDamaged, match=f"current: names the generation {gen.name}, "
                                           "which does not exist"):
        open_index(index)
    assert_cli_says_damaged(index, "current", capsys)


def test_a_generation_that_is_a_file(index, capsys):
    gen = generation(index)
    shutil.rmtree(gen)
    gen.write_text("not a folder")
    with pytest.raises(IndexDamaged, match=f"{gen.name}: is not a folder"):
        open_index(index)
    assert_cli_says_damaged(index, gen.name, capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root from reading a "
                    "folder; the folder-level cases root can test are the dangling link and "
                    "the generation that is a file")
def test_an_unreadable_generation_folder(index, capsys):
    gen = generation(index)
    gen.chmod(0)
    try:
        with pytest.raises(IndexDamaged, match="the folder cannot be read"):
            open_index(index)
        assert_cli_says_damaged(index, gen.name, capsys)
    finally:
        gen.chmod(0o755)


def test_no_index_is_still_no_index(tmp_path):
    with pytest.raises(IndexNotFound):
        open_index(tmp_path / "nothing")


# ---------------------------------------------------------------------------
# Indexes built before checksums


def test_an_index_without_checksums_opens_and_checks(index, capsys):
    (generation(index) / checksums.CHECKSUMS).unlink()
    ix = open_index(index)
    assert ix.search("洛阳").total > 0
    code, out, err = run(["check", "--index", str(index)], capsys)
    assert code == 0 and err == ""
    assert "no checksums recorded" in out
    assert "is sound: 400 documents" in out


def test_check_runs_as_a_command(index):
    garble(segment_file(index, ".pst"))
    done = subprocess.run([sys.executable, "-m", "search", "check", "--index", str(index)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert_one_line_damaged(done.stderr, segment_file(index, ".pst").name)
