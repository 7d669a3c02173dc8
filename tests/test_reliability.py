"""Reliability: bad documents, bad queries, time budgets and hostile input that costs time.

Every bad document is reported with its path and a reason, and every other
document is indexed; nothing a file holds stops or stalls a build.  Every bad
query is a clear ``QueryError`` (400 on the web, exit 2 on the command line),
never another exception.  Rebuilds under load, ``kill -9`` and the load test
are in ``test_load.py``; what reaches a page in ``test_security.py``.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from search import QueryError, build_index, open_index
from search import cli
from search.ingest import sources as documents, metadata
from search.ingest.sources import iter_source
from search.ingest.model import Document, Problem
from tests import synthetic
from tests.helpers import REPO, SEEDS, ids, within, write_folder, write_jsonl

GOOD = "好的文档\n这是一篇正常的文章，讲洛阳的呼叫中心。"



def problems_by_name(report) -> dict[str, str]:
    """{file name (or name:line): reason} of the report's skipped items."""
    out = {}
    for p in report.skipped:
        out[Path(p.source.split(":")[0]).name + (":" + p.source.rsplit(":", 1)[1]
                                                if ".jsonl:" in p.source else "")] = p.reason
    return out


def run_cli(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "search", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


# ---------------------------------------------------------------------------
# Bad documents: each reported with its path and reason, every other one indexed

BILLION_LAUGHS = (
    "---\n"
    "a: &a [哈, 哈, 哈, 哈, 哈, 哈, 哈, 哈, 哈]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
    "title: *h\n"
    "---\n正文\n")

# name -> (content, words the reason must contain)
BAD_FILES = {
    "undecodable.txt": (bytes(range(0x80, 0x100)) * 12 + "洛阳".encode("utf-8"), "not valid UTF-8"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
    "controls.txt": (b"abc\x01\x02\x03\x04\x05" * 40, "control characters"),
    "empty.txt": (b"", "empty"),
    "blank.md": (b" \n\n\t\n\xe3\x80\x80\n", "empty"),
    "only-markup.md": ("<div><br/></div>\n<!-- 注释 -->\n", "no text"),
    "unclosed.md": ("---\ntitle: 没有结束的前言\n正文在这里\n", "never closed"),
    "invalid-yaml.md": ("---\ntitle: [没有闭合\nauthor: x\n---\n正文\n", "not valid YAML at line"),
    "not-a-mapping.md": ("---\n- 一\n- 二\n---\n正文\n", "not a mapping"),
    "alias-bomb.md": (BILLION_LAUGHS, "alias"),
    "deep-yaml.md": ("---\ntitle: " + "[" * 3000 + "\n---\n正文\n", "nested too deeply"),
    "surrogate.md": ('---\ntitle: "坏\\ud800标题"\n---\n正文\n', "surrogate"),
}
BAD_LINES = [
    ("not json at all", "not valid JSON"),
    ('{"id": "no-text", "title": "没有正文"}', '"text"'),
    ('{"id": "text-not-string", "text": 42}', '"text"'),
    ('{"id": "blank-text", "text": "   "}', '"text"'),
    ('["an", "array"]', "must be an object"),
    ('{"id": [1, 2], "text": "编号是列表"}', '"id"'),
    ('{"id": true, "text": "编号是布尔值"}', '"id"'),
    ('{"id": "truncated", "text": "半行', "not valid JSON"),
    ("[" * 100_000, "nested too deeply"),
    ('{"id": "surrogate-text", "text": "坏\\udc80字"}', "surrogate"),
    ('{"id": "surrogate-\\ud800", "text": "编号坏了"}', "surrogate"),
    ('{"id": "surrogate-author", "text": "作者坏了", "author": "李\\udfff"}', "surrogate"),
]
# Indexed, with a warning: the date is not used, the document is.
WARNED_FILES = {
    "date-not-a-date.md": "---\ndate: 明天下午\n---\n正文提到洛阳。\n",
    "impossible-date.md": "---\ndate: 2014-13-45\n---\n正文提到贵阳。\n",
    "date-is-a-list.md": "---\ndate: [2014, 9]\n---\n正文提到淮安。\n",
}


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad") / "docs"
    files = {name: content for name, (content, _) in BAD_FILES.items()}
    files.update(WARNED_FILES)
    files["good-1.txt"] = GOOD
    files["sub/good-2.md"] = "---\ntitle: 第二篇\ncity: 貴陽\n---\n貴陽的大數據產業。\n"
    files["yaml-keys.md"] = "---\n123: 数字键\nyes: 布尔键\n~: 空键\n---\n键很奇怪的文档，正文照常。\n"
    lines = ['{"id": "line-ok-1", "text": "第一行是好的记录。"}']
    lines += [line for line, _ in BAD_LINES]
    lines += ['{"id": "line-ok-2", "text": "最后一行也是好的。"}']
    files["records.jsonl"] = "\n".join(lines) + "\n"
    write_folder(root, files)
    return root


@pytest.fixture(scope="module")
def bad_build(bad_folder, tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("bad-ix") / "index"
    return build_index([bad_folder], index_dir), open_index(index_dir)


GOOD_IDS = {"good-1.txt", "sub/good-2.md", "yaml-keys.md", "line-ok-1", "line-ok-2",
            *WARNED_FILES}


def test_every_good_document_is_indexed_beside_the_bad_ones(bad_build):
    report, ix = bad_build
    assert report.indexed == len(GOOD_IDS), report.summary()
    assert {h.id for h in ix.search("", per_page=100).hits} == GOOD_IDS
    assert ix.search("洛阳").total >= 1 and ix.search("贵阳").total >= 1
    assert not report.ok


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_reported_with_its_path_and_reason(bad_build, bad_folder, name):
    report, _ = bad_build
    [problem] = [p for p in report.skipped if p.source == str(bad_folder / name)]
    assert BAD_FILES[name][1] in problem.reason, problem
    assert problem.reason.strip() and "Traceback" not in problem.reason


@pytest.mark.parametrize("n", range(len(BAD_LINES)), ids=[b[1] for b in BAD_LINES])
def test_bad_json_line_is_reported_with_its_line_number(bad_build, bad_folder, n):
    report, _ = bad_build
    where = f"{bad_folder / 'records.jsonl'}:{n + 2}"
    [problem] = [p for p in report.skipped if p.source == where]
    assert BAD_LINES[n][1] in problem.reason, problem


def test_a_date_that_is_not_a_date_is_a_warning_and_the_document_is_indexed(bad_build, bad_folder):
    report, ix = bad_build
    warned = {Path(p.source).name: p.reason for p in report.warnings}
    for name in WARNED_FILES:
        assert "is not a date" in warned[name], warned
        assert ix.document(name) is not None and ix.document(name).date is None
    assert "'2014-13-45'" in warned["impossible-date.md"]


def test_yaml_keys_that_are_not_text_do_not_break_the_build(bad_build):
    _, ix = bad_build
    doc = ix.document("yaml-keys.md")
    assert doc is not None and "正文照常" in doc.title + doc.body
    assert {"123", "True", "None"} <= set(doc.fields)


def test_the_report_says_how_many_and_which_in_text_and_json(bad_build, bad_folder):
    report, _ = bad_build
    text = report.summary()
    assert f"skipped {len(report.skipped)}" in text
    for p in report.skipped:
        assert f"skipped {p.source}: {p.reason}" in text
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert len(data["skipped"]) == len(BAD_FILES) + len(BAD_LINES)
    assert all(set(p) == {"source", "reason"} for p in data["skipped"] + data["warnings"])


def test_cli_exit_status_and_listing(bad_folder, tmp_path, capsys):
    """0: all indexed; 3: built, some skipped (listed on stderr); 1: nothing built."""
    good = write_folder(tmp_path / "good", {"a.txt": GOOD})
    assert cli.main(["index", str(good), "--index", str(tmp_path / "ix"), "--quiet"]) == 0
    out = capsys.readouterr()
    assert "indexed 1 document into" in out.out and out.err == ""

    assert cli.main(["index", str(bad_folder), "--index", str(tmp_path / "ix"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert f"skipped {len(BAD_FILES) + len(BAD_LINES)}" in err
    assert f"skipped {bad_folder / 'empty.txt'}: empty file" in err
    assert open_index(tmp_path / "ix").stats()["documents"] == len(GOOD_IDS)

    (tmp_path / "a-file").write_text("not a folder")
    assert cli.main(["index", str(good), "--index", str(tmp_path / "a-file")]) == 1
    assert "error:" in capsys.readouterr().err

    # An update: the good documents left as they were, the bad files read and listed again.
    assert cli.main(["index", str(bad_folder), "--index", str(tmp_path / "ix"), "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["unchanged"] == len(GOOD_IDS) and data["documents"] == len(GOOD_IDS)
    assert len(data["skipped"]) == len(BAD_FILES) + len(BAD_LINES)
    assert cli.main(["index", str(bad_folder), "--index", str(tmp_path / "ix"), "--json",
                     "--full"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["indexed"] == len(GOOD_IDS) and len(data["skipped"]) == len(BAD_FILES) + len(BAD_LINES)


def test_a_mistyped_source_does_not_replace_the_index(tmp_path, capsys):
    good = write_folder(tmp_path / "good", {"a.txt": GOOD})
    build_index([good], tmp_path / "ix")
    generation = open_index(tmp_path / "ix").stats()["generation"]
    code = cli.main(["index", str(tmp_path / "gooood"), "--index", str(tmp_path / "ix")])
    assert code == 1
    err = capsys.readouterr().err
    assert "no such file or folder" in err and "unchanged" in err and "Traceback" not in err
    ix = open_index(tmp_path / "ix")
    assert ix.stats()["generation"] == generation and ix.search("洛阳").total == 1
    # One source missing among good ones: built, and the missing one is listed (exit 3).
    code = cli.main(["index", str(good), str(tmp_path / "gooood"), "--index", str(tmp_path / "ix")])
    assert code == 3 and "gooood: no such file or folder" in capsys.readouterr().err


def test_library_build_with_only_missing_sources_keeps_the_live_index(tmp_path):
    from search import BuildError
    good = write_folder(tmp_path / "good", {"a.txt": GOOD})
    build_index([good], tmp_path / "ix")
    with pytest.raises(BuildError):
        build_index([tmp_path / "missing"], tmp_path / "ix")
    assert open_index(tmp_path / "ix").search("洛阳").total == 1


def test_cli_index_errors_are_one_line_not_a_traceback(tmp_path):
    out = run_cli("index", str(SEEDS), "--index", "/proc/no/such/index")
    assert out.returncode == 1
    assert out.stderr.startswith("error:") and "Traceback" not in out.stderr


# -- a file of 50 MB ----------------------------------------------------------

def test_a_50_mb_file_is_reported_quickly_without_being_read(tmp_path):
    big = tmp_path / "docs" / "huge.txt"
    big.parent.mkdir()
    with open(big, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)           # sparse: 50 MB that cost nothing to make
    (tmp_path / "docs" / "ok.txt").write_text(GOOD, encoding="utf-8")
    # Modules the reading imports on first use are loaded before the clock starts.
    (tmp_path / "warm").mkdir()
    (tmp_path / "warm" / "ok.txt").write_text(GOOD, encoding="utf-8")
    list(iter_source(tmp_path / "warm"))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        items = list(iter_source(tmp_path / "docs"))
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [problem] = [i for i in items if isinstance(i, Problem)]
    assert problem.source == str(big)
    assert "too large" in problem.reason and "52,428,800" in problem.reason
    assert "SEARCH_MAX_FILE_BYTES" in problem.reason
    assert [i.id for i in items if isinstance(i, Document)] == ["ok.txt"]
    assert seconds < 1.0, seconds
    assert peak < 5 * 1024 * 1024, f"{peak:,} bytes held: the file was read"


def test_a_50_mb_json_line_is_reported_without_holding_it(tmp_path):
    path = tmp_path / "big.jsonl"
    with open(path, "wb") as fh:
        fh.write(b'{"id": "before", "text": "\xe5\x89\x8d\xe9\x9d\xa2"}\n')
        fh.write(b'{"id": "huge", "text": "' + b"a" * (50 * 1024 * 1024) + b'"}\n')
        fh.write(b'{"id": "after", "text": "\xe5\x90\x8e\xe9\x9d\xa2"}\n')
    tracemalloc.start()
    try:
        items = list(iter_source(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [i.id for i in items if isinstance(i, Document)] == ["before", "after"]
    [problem] = [i for i in items if isinstance(i, Problem)]
    assert problem.source == f"{path}:2" and "line too long" in problem.reason
    # At most the limit itself is read at once (20 MB), never the 50 MB line.
    assert peak < documents.MAX_FILE_BYTES + 8 * 1024 * 1024, f"{peak:,}"


def test_building_a_json_file_with_a_50_mb_line_holds_at_most_the_limit(tmp_path):
    path = tmp_path / "big.jsonl"
    with open(path, "wb") as fh:
        fh.write(b'{"id": "huge", "text": "' + b"a" * (50 * 1024 * 1024) + b'"}\n')
        fh.write(b'{"id": "after", "text": "\xe5\x90\x8e\xe9\x9d\xa2"}\n')
    tracemalloc.start()
    try:
        report = build_index([path], tmp_path / "ix")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.indexed == 1 and "line too long" in report.skipped[0].reason
    assert peak < documents.MAX_FILE_BYTES + 8 * 1024 * 1024, f"{peak:,}"


def test_the_limit_is_exact_for_files_and_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "MAX_FILE_BYTES", 100)
    monkeypatch.setattr(documents, "LINE_CHUNK", 16)        # lines read in many steps
    write_folder(tmp_path / "docs", {"at.txt": b"a" * 100, "over.txt": b"a" * 101})
    lines = [b'{"text": "' + b"x" * (100 - 12) + b'"}',        # 100 bytes: kept
             b'{"text": "' + b"y" * (101 - 12) + b'"}',        # 101 bytes: refused
             b'{"text": "short"}',
             b'{"text": "' + b"z" * 5000 + b'"}',
             b'{"text": "' + b"w" * (100 - 12) + b'"}']        # the last line, no newline
    (tmp_path / "docs" / "lines.jsonl").write_bytes(b"\n".join(lines))
    items = list(iter_source(tmp_path / "docs"))
    kept = [i.source.rsplit("/", 1)[-1] for i in items if isinstance(i, Document)]
    refused = {i.source.rsplit("/", 1)[-1]: i.reason for i in items if isinstance(i, Problem)}
    assert kept == ["at.txt", "lines.jsonl:1", "lines.jsonl:3", "lines.jsonl:5"]
    assert set(refused) == {"over.txt", "lines.jsonl:2", "lines.jsonl:4"}
    assert "too large (101 bytes" in refused["over.txt"]
    assert "line too long" in refused["lines.jsonl:2"] and "line too long" in refused["lines.jsonl:4"]


def test_the_size_limit_is_set_by_the_environment(tmp_path):
    write_folder(tmp_path / "docs", {"small.txt": GOOD, "big.txt": "大文件\n" + "字" * 3000})
    out = run_cli("index", str(tmp_path / "docs"), "--index", str(tmp_path / "ix"),
                  env={"SEARCH_MAX_FILE_BYTES": "2000"})
    assert out.returncode == 3, out.stderr
    assert "big.txt: file too large" in out.stderr and "the limit is 2,000" in out.stderr
    out = run_cli("index", str(tmp_path / "docs"), "--index", str(tmp_path / "ix"),
                  env={"SEARCH_MAX_FILE_BYTES": "lots"})
    assert out.returncode == 0 and "SEARCH_MAX_FILE_BYTES='lots'" in out.stderr


# -- files that cannot be read ------------------------------------------------

def test_unreadable_file_real_permissions(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root, where chmod 000 does not stop reading; "
                    "test_unreadable_file_simulated covers the same path")
    write_folder(tmp_path / "docs", {"secret.txt": GOOD, "ok.txt": GOOD})
    (tmp_path / "docs" / "secret.txt").chmod(0)
    try:
        report = build_index([tmp_path / "docs"], tmp_path / "ix")
    finally:
        (tmp_path / "docs" / "secret.txt").chmod(0o644)
    assert report.indexed == 1
    assert problems_by_name(report) == {"secret.txt": "cannot read file: Permission denied"}


def test_unreadable_file_simulated(tmp_path, monkeypatch):
    write_folder(tmp_path / "docs", {"secret.txt": GOOD, "ok.txt": GOOD,
                                     "secret.jsonl": '{"text": "x"}\n'})
    secret = {str(tmp_path / "docs" / "secret.txt"), str(tmp_path / "docs" / "secret.jsonl")}
    real_open, real_os_open = open, os.open

    def guarded_os_open(path, *args, **kwargs):
        if os.fspath(path) in secret:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_os_open(path, *args, **kwargs)

    def guarded_open(path, *args, **kwargs):
        if isinstance(path, (str, os.PathLike)) and os.fspath(path) in secret:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_os_open)
    monkeypatch.setattr("builtins.open", guarded_open)
    items = list(iter_source(tmp_path / "docs"))
    monkeypatch.undo()
    assert [i.id for i in items if isinstance(i, Document)] == ["ok.txt"]
    problems = {Path(p.source).name: p.reason for p in items if isinstance(p, Problem)}
    assert problems == {"secret.txt": "cannot read file: Permission denied",
                        "secret.jsonl": "cannot read file: Permission denied"}


def test_unreadable_folder_is_reported_not_skipped_silently(tmp_path, monkeypatch):
    write_folder(tmp_path / "docs", {"ok.txt": GOOD, "locked/inside.txt": GOOD})
    locked = str(tmp_path / "docs" / "locked")
    if os.geteuid() != 0:
        os.chmod(locked, 0)
    else:   # root reads anything: make listing that folder fail as chmod 000 would
        real_scandir = os.scandir

        def guarded_scandir(path="."):
            if os.fspath(path) == locked:
                raise PermissionError(13, "Permission denied", locked)
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", guarded_scandir)
    try:
        items = list(iter_source(tmp_path / "docs"))
    finally:
        os.chmod(locked, 0o755)
    assert [i.id for i in items if isinstance(i, Document)] == ["ok.txt"]
    assert [(p.source, p.reason) for p in items if isinstance(p, Problem)] == [
        (locked, "cannot read folder: Permission denied")]


def test_symlink_loops_and_broken_links(tmp_path):
    docs = write_folder(tmp_path / "docs", {"a.txt": GOOD, "sub/b.txt": GOOD})
    (docs / "sub" / "loop").symlink_to("..")              # docs/sub/loop -> docs
    (docs / "self.txt").symlink_to("self.txt")            # a link to itself
    (docs / "dangling.txt").symlink_to("nowhere.txt")
    with within(10, "walking a folder with a symlink loop"):
        report = build_index([docs], tmp_path / "ix")
    assert report.indexed == 2
    reasons = {p.source: p.reason for p in report.skipped}
    assert "symlink loop" in reasons[str(docs / "sub" / "loop")]
    assert "cannot read file" in reasons[str(docs / "self.txt")]
    assert "cannot read file: No such file" in reasons[str(docs / "dangling.txt")]


def test_a_named_pipe_with_a_text_name_does_not_block_the_build(tmp_path):
    docs = write_folder(tmp_path / "docs", {"a.txt": GOOD})
    os.mkfifo(docs / "pipe.txt")
    os.mkfifo(docs / "pipe.jsonl")
    with within(10, "reading a folder with named pipes"):
        items = list(iter_source(docs))
    assert [i.id for i in items if isinstance(i, Document)] == ["a.txt"]
    reasons = {Path(p.source).name: p.reason for p in items if isinstance(p, Problem)}
    assert set(reasons) == {"pipe.txt", "pipe.jsonl"}
    assert all("not a regular file" in r for r in reasons.values())


def test_a_file_name_that_is_not_utf8_is_indexed_with_an_escaped_id(tmp_path, capsys):
    docs = write_folder(tmp_path / "docs", {"a.txt": GOOD})
    (docs / os.fsdecode(b"\xa4\xa4\xa4\xe5.txt")).write_text(GOOD, encoding="utf-8")  # Big5 中文
    code = cli.main(["index", str(docs), "--index", str(tmp_path / "ix"), "--quiet"])
    assert code == 0, capsys.readouterr()
    ix = open_index(tmp_path / "ix")
    assert ix.stats()["documents"] == 2
    assert ix.document("\\xa4\\xa4\\xa4\\xe5.txt") is not None


# -- duplicates ---------------------------------------------------------------

def test_duplicate_ids_first_source_wins_consistently(tmp_path):
    a = write_folder(tmp_path / "a", {"same.txt": "甲版本\n第一份。"})
    write_jsonl(tmp_path / "a" / "z.jsonl", [{"id": "same.txt", "title": "乙版本", "text": "第二份。"},
                                             {"id": "j", "title": "丙", "text": "第三份。"},
                                             {"id": "j", "title": "丁", "text": "第四份。"}])
    b = write_folder(tmp_path / "b", {"same.txt": "戊版本\n第五份。"})
    for _ in range(2):     # the same sources give the same winners, build after build
        report = build_index([a, b], tmp_path / "ix")
        ix = open_index(tmp_path / "ix")
        assert report.indexed == 2
        assert ix.document("same.txt").title == "甲版本" and ix.document("j").title == "丙"
        dupes = sorted((p.source, p.reason) for p in report.skipped)
        assert dupes == sorted([
            (f"{a / 'z.jsonl'}:1", f"duplicate id 'same.txt': the first one, from {a / 'same.txt'}, is kept"),
            (f"{a / 'z.jsonl'}:3", f"duplicate id 'j': the first one, from {a / 'z.jsonl'}:2, is kept"),
            (str(b / "same.txt"), f"duplicate id 'same.txt': the first one, from {a / 'same.txt'}, is kept"),
        ])
    # The order of the sources decides: b first, b's wins.
    build_index([b, a], tmp_path / "ix")
    assert open_index(tmp_path / "ix").document("same.txt").title == "戊版本"


# -- nothing is half-indexed --------------------------------------------------

def test_a_document_that_trips_a_bug_is_reported_and_the_rest_indexed(tmp_path, monkeypatch):
    write_jsonl(tmp_path / "d.jsonl", [{"id": f"r{n}", "text": f"第{n}篇正文。"} for n in range(5)])
    real = metadata.document_from_record

    def flaky(doc_id, source, record):
        if doc_id == "r2":
            raise KeyError("a bug in the cleaning code")
        return real(doc_id, source, record)

    monkeypatch.setattr(metadata, "document_from_record", flaky)
    items = list(iter_source(tmp_path / "d.jsonl"))
    assert [i.id for i in items if isinstance(i, Document)] == ["r0", "r1", "r3", "r4"]
    [problem] = [i for i in items if isinstance(i, Problem)]
    assert problem.source.endswith("d.jsonl:3") and "KeyError" in problem.reason


def test_an_interrupted_build_leaves_the_old_index_whole(tmp_path, monkeypatch):
    from search.store import fields
    write_folder(tmp_path / "old", {"old.txt": "旧的\n旧文档讲洛阳。"})
    write_jsonl(tmp_path / "new.jsonl", synthetic.records(30, tag="new"))
    build_index([tmp_path / "old"], tmp_path / "ix")
    ix = open_index(tmp_path / "ix")
    before = ix.stats()["generation"]
    calls = []
    real = fields.document_fields

    def interrupted(doc):
        calls.append(doc.id)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return real(doc)

    monkeypatch.setattr(fields, "document_fields", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_index([tmp_path / "new.jsonl"], tmp_path / "ix")
    assert ix.stats()["generation"] == before and ids(ix.search("洛阳")) == ["old.txt"]
    assert not [p for p in (tmp_path / "ix").iterdir() if p.name.startswith(".build-")]
    monkeypatch.undo()
    report = build_index([tmp_path / "new.jsonl"], tmp_path / "ix")
    assert report.indexed == 30 and ix.stats()["documents"] == 30


# -- documents whose text used to cost exponential or quadratic time ----------

HOSTILE_LINES = {
    "a navigation bar of spaced links": ("[首页](/)    " * 40) + "x",
    "digits and spaces after a contact label": "电话：" + "1 " * 2000 + "x",
    "a run of spaces": "开头" + " " * 200_000 + "结尾",
    "a run of ideographic spaces": "开头" + "\u3000" * 200_000 + "结尾",
    "a heading of marks": "# 标题" + "#" * 200_000 + "x",
    "a heading of spaces": "# 标题" + " " * 200_000 + "x",
    "unclosed comments": "<!--" * 100_000,
    "unclosed scripts": "<script>" * 50_000,
    "unclosed styles": "<style a='1'>" * 30_000,
    "unclosed link brackets": "](" + "[x" * 100_000,
    "breadcrumb separators far apart": "首页" + " " * 100_000 + "> x",
    "menu bars far apart": "首页" + " " * 100_000 + "| x",
    "a run of digits": "1" * 300_000,
    "a run of date-like pieces": "2012-1-" * 50_000,
    "a run of letters and dots": "a." * 150_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE_LINES))
def test_hostile_text_is_read_in_linear_time(name):
    line = HOSTILE_LINES[name]
    text = f"标题\n第一段正文，讲洛阳。\n{line}\n最后一段。\n"
    with within(5, f"a document with {name}"):
        doc = metadata.document_from_text("x.txt", "x.txt", {}, text)
        record = metadata.document_from_record("x", "x.jsonl:1", {"text": text, "title": line[:200]})
    assert isinstance(doc, Document) and "洛阳" in doc.body
    assert isinstance(record, Document)


def test_hostile_titles_are_read_in_linear_time():
    from search.ingest.cleaning import strip_site_suffix
    with within(5, "site suffixes"):
        assert strip_site_suffix("标题" + "_新浪网" * 50_000).startswith("标题")
        assert strip_site_suffix("标题" + " " * 100_000 + "x").startswith("标题")
        doc = metadata.document_from_text("x", "x", {"title": "标题" + "_新浪网" * 50_000}, "正文")
    assert doc.title.startswith("标题")


def test_find_date_in_text_is_linear_on_long_ascii_runs():
    from search.ingest.dates import find_date_in_text
    with within(1.5, "find_date_in_text on 300,000 digits"):
        assert find_date_in_text("1" * 300_000 + " 2012年1月12日") is not None


# ---------------------------------------------------------------------------
# Bad queries: a useful answer or a clear QueryError / 400 / exit 2

@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A synthetic corpus big enough to rank (300 documents), with cities and dates."""
    root = tmp_path_factory.mktemp("queries")
    synthetic.write_jsonl(root / "docs.jsonl", 300)
    report = build_index([root / "docs.jsonl"], root / "index")
    assert report.indexed == 300, report.summary()
    return root / "index"


@pytest.fixture(scope="module")
def cix(corpus):
    return open_index(corpus)


@pytest.fixture(scope="module")
def web(corpus):
    from webui import create_app
    app = create_app(index_dir=corpus, config={"TESTING": False, "PROPAGATE_EXCEPTIONS": False})
    return app.test_client()


PLAIN_TEXT_QUERIES = [
    '"', '"洛阳', '洛阳"', '""', '“呼叫中心', '「洛陽', "((洛阳", "洛阳))", "[洛阳", "{洛阳}",
    "!!!", "。。。", "？", "，、；：", "   ", "\t\n", "\u3000", "-", "--", "- -", "-\"\"",
    "*", "a*", "*洛*", "?", "洛?", "~", "洛阳~2", "title:洛阳", "id:doc/000001", "source:/etc/passwd",
    "city:洛阳", "extra:x", "_stored:x", "grams:洛阳", "[a TO z]", "{1 TO 9]", "date_key:[0 TO 99999999]",
    "洛阳^100", "洛阳^", "AND", "OR NOT", "洛阳 AND NOT 贵阳", "\\", "\\\\\"", "<>", "&&", "||",
    "%", "%%", "%00", "\x00", "\x00洛阳", "\x7f", "\ud800", "\U0001F600", "🀄" * 10,
    "洛" * 1000, ("呼叫中心 " * 200)[:1000], '"' * 999, "-" * 1000, "-洛阳 " * 100,
]


@pytest.mark.parametrize("q", PLAIN_TEXT_QUERIES, ids=[repr(q)[:30] for q in PLAIN_TEXT_QUERIES])
def test_query_syntax_is_plain_text_in_the_api_and_on_the_web(cix, web, q):
    res = cix.search(q)
    assert res.total >= 0 and len(res.hits) <= res.per_page
    if "\ud800" in q:
        return          # not text a URL can carry (see the UTF-8 checks)
    for url in ("/api/search", "/") if len(q) < 200 else ("/api/search",):   # long: slow, once
        resp = web.get(url, query_string={"q": q})
        assert resp.status_code == 200, (url, q, resp.get_data(as_text=True)[:300])


def test_query_syntax_cannot_reach_other_fields(cix):
    # "id:", "source:" are words, not fields: no document's text has them.
    assert cix.document("doc/000001") is not None
    for q in ("id:doc/000001", "source:/etc/passwd", "_stored:doc", "date_key:[0 TO 99999999]"):
        assert cix.search(q).total == 0, q
    # No wildcard expansion: "*" has no text (it browses, as an empty query does),
    # and "a*" is the word "a".
    assert cix.search("*").total == cix.search("").total
    assert cix.search("a*").total == cix.search("a").total
    assert cix.search("洛阳^100").total == cix.search("洛阳 100").total


BAD_QUERIES = [
    ({"q": "洛" * 10_000}, "limit"),
    ({"q": "洛" * 1001}, "limit"),
    ({"page": 0}, "page"), ({"page": -1}, "page"), ({"page": 10**9}, "page"),
    ({"page": "1e3"}, "page"), ({"page": ""}, "page"), ({"per_page": 10**6}, "per_page"),
    ({"per_page": -5}, "per_page"), ({"per_page": 0}, "per_page"),
    ({"sort": "bogus"}, "sort"), ({"sort": "date DESC; DROP"}, "sort"),
    ({"year": "20x4"}, "year"), ({"year": "2014-1"}, "year"),
    ({"filters": {"nosuch": ["x"]}}, "unknown filter"), ({"filters": {"source": ["/etc"]}}, "unknown filter"),
]


@pytest.mark.parametrize("kwargs,word", BAD_QUERIES, ids=[str(k)[:30] for k, _ in BAD_QUERIES])
def test_bad_parameters_are_a_clear_query_error(cix, kwargs, word):
    kwargs = {"q": "洛阳", **kwargs}
    with pytest.raises(QueryError, match=word):
        cix.search(**kwargs)


# (query, a word of the API's English message, a word of the page's Chinese one)
WEB_BAD = [
    ("page=0", "page", "页码"), ("page=-1", "page", "页码"), ("page=1000000000", "page", "页码"),
    ("per_page=1000000", "per_page", "每页条数"), ("sort=bogus", "sort", "排序"),
    ("q=" + "洛" * 10_000, "limit", "上限"),
    ("q=%ff", "UTF-8", "UTF-8"), ("q=%C0%AF", "UTF-8", "UTF-8"), ("q=%ED%A0%80", "UTF-8", "UTF-8"),
    ("year=%ff", "UTF-8", "UTF-8"), ("f.%ff=x", "UTF-8", "UTF-8"),
    ("f.source=x", "unknown filter", "筛选项"),
]


@pytest.mark.parametrize("query,word,chinese", WEB_BAD, ids=[q[:24] for q, _, _ in WEB_BAD])
def test_bad_parameters_on_the_web_are_400_with_the_reason(web, query, word, chinese):
    for url in ("/api/search?", "/?", "/doc/doc/000001?"):
        resp = web.get(url + query)
        if url.startswith("/doc/") and word not in ("UTF-8", "limit"):
            assert resp.status_code == 200      # a document page ignores paging
            continue
        assert resp.status_code == 400, (url, query, resp.status_code)
        body = resp.get_data(as_text=True)
        assert "Traceback" not in body
        if url.startswith("/api/"):
            data = resp.get_json()
            assert word in data["message_en"] and data["error"] == data["message_en"]
            assert chinese in data["message"] and data["code"]
        else:
            [message] = re.findall(r'<p class="error-message">(.*?)</p>', body, re.S)
            assert chinese in message and word not in message.replace("UTF-8", "")


def test_filters_that_match_nothing_answer_with_a_notice(cix, web):
    res = cix.search("洛阳", city="火星", year="1850")
    assert res.total == 0 and res.hits == []
    assert any("火星" in n for n in res.notices) and any("1850" in n for n in res.notices)
    data = web.get("/api/search?q=洛阳&city=火星&year=1850").get_json()
    assert data["total"] == 0 and len(data["notices"]) == 2
    page = web.get("/?q=洛阳&city=火星&year=1850")
    assert page.status_code == 200 and "火星" in page.get_data(as_text=True)


def test_cli_bad_queries_exit_2_with_a_message(corpus, capsys):
    for args, word in [(["--page", "0"], "page"), (["--per-page", "1000000"], "per_page"),
                       (["--year", "20x4"], "year"), (["--filter", "nosuch=x"], "unknown filter"),
                       (["--filter", "no-equals-sign"], "FACET=VALUE")]:
        assert cli.main(["query", "洛阳", "--index", str(corpus), *args]) == 2, args
        err = capsys.readouterr().err
        assert word in err and "Traceback" not in err
    for args in (["--sort", "bogus"], ["--page", "abc"], ["--per-page", "1e6"]):
        with pytest.raises(SystemExit) as exc:          # argparse: usage and exit 2
            cli.main(["query", "洛阳", "--index", str(corpus), *args])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "invalid" in err and "Traceback" not in err
    assert cli.main(["query", "洛" * 10_000, "--index", str(corpus)]) == 2
    assert "limit" in capsys.readouterr().err
    for q in ['"洛阳', "title:洛阳", "*", "!!!", ""]:
        assert cli.main(["query", q, "--index", str(corpus), "--json"]) == 0, q
        assert json.loads(capsys.readouterr().out)["total"] >= 0
    assert cli.main(["query", "洛阳", "--index", str(corpus), "--city", "火星"]) == 0
    assert "no document in the index has city 火星" in capsys.readouterr().out


def test_cli_arguments_that_are_not_utf8_exit_2(corpus):
    q = os.fsdecode(b"\xff\xfe\xe6\xb4")      # what Python makes of such bytes in argv
    for args in (["query", q], ["query", "洛阳", "--city", q], ["query", "洛阳", "--filter", "a=" + q]):
        out = subprocess.run([sys.executable, "-m", "search", *args, "--index", str(corpus)],
                             cwd=REPO, capture_output=True, timeout=120)
        assert out.returncode == 2, out
        assert b"not valid UTF-8" in out.stderr and b"Traceback" not in out.stderr


def test_cli_output_to_a_closed_pipe_is_not_a_traceback(corpus):
    for per_page in ("1", "100"):                      # all in the buffer, or more than a pipe holds
        proc = subprocess.Popen([sys.executable, "-m", "search", "query", "呼叫中心", "--per-page",
                                 per_page, "--index", str(corpus)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()                                 # like `| head -0`
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 141
        assert b"Traceback" not in err and b"BrokenPipe" not in err, err


def test_a_bad_time_budget_setting_is_not_a_traceback(corpus):
    out = run_cli("query", "洛阳", "--index", str(corpus), env={"SEARCH_TIME_BUDGET": "two"})
    assert "Traceback" not in out.stderr, out.stderr[-300:]


# -- the time budget ----------------------------------------------------------

def test_a_query_over_its_time_budget_answers_partial_results(cix, web, monkeypatch):
    from search.query import budget as query_budget
    full = cix.search("呼叫中心 洛阳")
    assert full.total > 100 and not full.partial
    monkeypatch.setattr(query_budget, "TIME_BUDGET", 0.0)
    res = cix.search("呼叫中心 洛阳")
    assert res.partial and any("too long" in n for n in res.notices)
    assert res.total == full.total and len(res.hits) <= res.per_page
    data = web.get("/api/search?q=呼叫中心 洛阳").get_json()
    assert data["partial"] is True
    page = web.get("/?q=呼叫中心 洛阳")
    assert page.status_code == 200 and "查询用时太长" in page.get_data(as_text=True)
    assert "too long" not in page.get_data(as_text=True)


def test_the_time_budget_covers_the_whole_query(cix, monkeypatch):
    from search.query import budget as query_budget
    from whoosh.query import spans

    real_next = spans.SpanWrappingMatcher.next

    def slow_next(self):          # a phrase matcher as slow as on a corpus 1000 times larger
        time.sleep(0.005)
        return real_next(self)

    budget = 0.1
    monkeypatch.setattr(query_budget, "TIME_BUDGET", budget)
    monkeypatch.setattr(spans.SpanWrappingMatcher, "next", slow_next)
    started = time.perf_counter()
    with within(budget + 1.5, "a query with a slow matcher"):
        res = cix.search('"呼叫中心"')
    elapsed = time.perf_counter() - started
    assert res.partial
    assert elapsed < budget + 0.5, f"{elapsed:.2f} s for a budget of {budget} s"


def test_a_long_query_answers_within_its_budget(cix, monkeypatch):
    from search.query import budget as query_budget
    monkeypatch.setattr(query_budget, "TIME_BUDGET", 0.5)
    for q in [("呼叫中心 " * 200)[:1000],
              "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(1000))]:
        with within(1.5, "a 1,000-character query with a 0.5 s budget"):
            res = cix.search(q)
        assert res.total >= 0


def test_snippets_of_a_document_repeating_the_query_are_quick():
    from search.results.highlight import snippets
    body = "呼叫中心。" * 20_000
    with within(1.5, "snippets of 20,000 matches"):
        frags = snippets(body, ["呼叫中心"])
    assert frags and "<mark>呼叫中心</mark>" in frags[0]
