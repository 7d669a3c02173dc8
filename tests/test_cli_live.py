"""The shell commands of a live index, end to end through ``python -m search``
(real processes, real files, a real index): ``index`` updates, ``add``,
``delete``, ``merge``; their messages and exit codes; and the Makefile's
``index`` and ``merge`` targets."""

from __future__ import annotations

import json
import subprocess
import sys

from search import open_index
from search.store.writing import IndexWriter

from tests.helpers import REPO, write_folder, write_jsonl

ARTICLES = {
    "a.txt": "洛阳呼叫中心\n\n洛阳的呼叫中心今天开业，员工三百人。",
    "b.txt": "贵阳大数据\n\n贵阳发展大数据与呼叫中心产业。",
}


def run(*args, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "search", *map(str, args)], cwd=REPO,
                          input=stdin, capture_output=True, text=True, timeout=300)


def test_index_add_delete_merge_end_to_end(tmp_path):
    folder = write_folder(tmp_path / "articles", ARTICLES)
    ix = tmp_path / "index"

    out = run("index", folder, "--index", ix)
    assert out.returncode == 0, out.stderr
    assert "full build: indexed 2 documents" in out.stdout

    out = run("index", folder, "--index", ix)
    assert out.returncode == 0, out.stderr
    assert "added 0, replaced 0, deleted 0, left 2 unchanged" in out.stdout

    lines = "\n".join([
        json.dumps({"id": "n1", "title": "西湖", "text": "杭州的西湖游客很多。", "author": "记者"},
                   ensure_ascii=False),
        json.dumps({"id": "a.txt", "text": "洛阳的呼叫中心扩建，员工五百人。"}, ensure_ascii=False),
        "{not json",
        json.dumps({"text": "没有编号的文字"}, ensure_ascii=False),
    ]) + "\n"
    out = run("add", "-", "--index", ix, stdin=lines)
    assert out.returncode == 3, out.stderr
    assert "added 1, replaced 1" in out.stderr
    assert "skipped <stdin>:3: not valid JSON" in out.stderr
    assert "skipped <stdin>:4" in out.stderr and '"id"' in out.stderr
    index = open_index(ix)
    assert [h.id for h in index.search("西湖").hits] == ["n1"]
    assert [h.id for h in index.search("五百人").hits] == ["a.txt"]

    more = write_jsonl(tmp_path / "more.jsonl", [{"id": "m1", "text": "成都的火锅很有名。"}])
    with open(more, "a", encoding="utf-8") as fh:
        fh.write("[1, 2]\n")
    out = run("add", more, "--index", ix)
    assert out.returncode == 3
    assert "added 1, replaced 0" in out.stderr and f"{more}:2" in out.stderr

    out = run("delete", "n1", "no-such-id", "--index", ix)
    assert out.returncode == 3
    assert "not found no-such-id" in out.stderr and "deleted 1" in out.stderr
    assert index.search("西湖").total == 0
    assert index.stats()["documents"] == 3

    out = run("merge", "--all", "--index", ix)
    assert out.returncode == 0, out.stderr
    assert index.stats()["segments"] == 1 and index.stats()["deleted"] == 0

    out = run("index", tmp_path / "artcles", "--index", ix)
    assert out.returncode == 1 and "no such file or folder" in out.stderr

    empty = write_folder(tmp_path / "empty", {"readme.xlsx": b"PK\x03\x04"})
    out = run("index", empty, "--index", ix)
    assert out.returncode == 1
    assert "--allow-empty" in out.stderr and "Traceback" not in out.stderr
    assert index.stats()["documents"] == 3
    out = run("index", empty, "--index", ix, "--allow-empty")
    assert out.returncode == 0, out.stderr
    # What the sources gave is gone; m1, added by hand, is no source's document.
    assert "deleted 2" in out.stdout
    assert [h.id for h in index.search("").hits] == ["m1"]

    out = run("index", folder, "--index", ix, "--full", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["full_build"] and report["indexed"] == 2
    assert index.stats()["documents"] == 2


def test_a_busy_index_is_a_clear_error(tmp_path):
    folder = write_folder(tmp_path / "articles", ARTICLES)
    ix = tmp_path / "index"
    assert run("index", folder, "--index", ix, "--quiet").returncode == 0
    with IndexWriter(ix) as writer:
        writer.delete("a.txt")
        out = run("delete", "b.txt", "--index", ix, "--wait", "0.2")
        assert out.returncode == 1
        assert "another build or change" in out.stderr and "waited 0.2 s" in out.stderr
        assert "Traceback" not in out.stderr
    assert open_index(ix).stats()["documents"] == 1
    out = run("merge", "--index", tmp_path / "nowhere")
    assert out.returncode == 1 and "no index at" in out.stderr


def test_make_targets_pass_the_flags():
    def dry(*args):
        out = subprocess.run(["make", "-n", *args], cwd=REPO, capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        return [line for line in out.stdout.splitlines() if "-m search" in line][-1]
    plain = dry("index", "SOURCES=src", "INDEX=ix")
    assert "-m search index src --index ix" in plain and "--full" not in plain
    assert "|| [ $? -eq 3 ]" in plain
    flags = dry("index", "SOURCES=src", "INDEX=ix", "FULL=1", "ALLOW_EMPTY=1", "FORCE=1",
                "FOLLOW_LINKS=1")
    for flag in ("--full", "--allow-empty", "--force", "--follow-links"):
        assert flag in flags
    assert "-m search merge --index ix" in dry("merge", "INDEX=ix")
    assert "--all" in dry("merge", "INDEX=ix", "ALL=1")


def test_serve_refuses_a_guessable_write_key_before_it_starts(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("short\n")
    out = subprocess.run([sys.executable, "-m", "search", "serve", "--index", str(tmp_path / "ix"),
                          "--port", "1", "--api-key-file", str(key_file)], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "has 5 characters; it needs at least 16" in out.stderr and "Traceback" not in out.stderr
