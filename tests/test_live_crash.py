"""A change reported done survives ``kill -9``; one cut short leaves the index as it was.

A child process makes changes one after another (adds and deletes, merges,
updates from a folder of files) and records each that ``commit`` reported
done, flushed to disk, in a journal.  It is killed with SIGKILL at a random
moment.  Then the index must be sound (``search check``), hold exactly the
documents of the last reported change or of the one after it (killed
between its swap and its journal line), and take the next change cleanly.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search import IndexWriter, build_index, open_index
from search.store import integrity, merging
from tests.synthetic import records

REPO = Path(__file__).resolve().parent.parent

CHANGES = r"""
import json, os, sys
from search import IndexWriter
root, journal, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(journal, "a") as log:
    for i in range(start, start + 10_000):
        with IndexWriter(root, merge=(i % 3 == 0)) as w:
            w.add({"id": f"c{i}", "text": f"第{i}篇，关于斑马和长颈鹿的文章。", "date": "2026-12-01"})
            if i >= 3:
                w.delete(f"c{i - 3}")
        log.write(f"{i}\n"); log.flush(); os.fsync(log.fileno())
"""

MERGES = r"""
import sys
from search.store import merging
merging.merge(sys.argv[1], everything=True)
open(sys.argv[2], "w").write("done")
"""


def _ids(root: Path) -> set[str]:
    ix = open_index(root)
    searcher = ix._current().searcher()
    reader = searcher.reader()
    return {reader.stored_fields(d)["id"] for d in reader.all_doc_ids()}


def _model(base: set[str], done: int) -> set[str]:
    """The documents after changes 0..done-1 of CHANGES."""
    return base | {f"c{i}" for i in range(max(0, done - 3), done)}


def _sound(root: Path) -> None:
    report = integrity.check(root)
    assert report.sound, report.verdict()


def _kill_after(proc: subprocess.Popen, seconds: float) -> None:
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _start(script: str, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def base(tmp_path):
    recs = records(30, seed=21, tag="b")
    path = tmp_path / "base.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs),
                    encoding="utf-8")
    build_index([path], tmp_path / "ix")
    return tmp_path / "ix", {r["id"] for r in recs}


@pytest.mark.slow
def test_changes_killed_at_random_moments(base, tmp_path):
    root, ids = base
    rng = random.Random(5)
    journal = tmp_path / "journal"
    done = 0
    for round_ in range(6):
        proc = _start(CHANGES, root, journal, done)
        # Past the interpreter's start (about a second), into the changes.
        _kill_after(proc, 1.2 + rng.random() * 2.0)
        reported = len(journal.read_text().split()) if journal.exists() else 0
        found = _ids(root)
        assert found in (_model(ids, reported), _model(ids, reported + 1)), round_
        done = reported
        if found != _model(ids, reported):
            # Killed after the swap, before its journal line: done all the same.
            done += 1
            with journal.open("a") as log:
                log.write(f"{reported}\n")
        _sound(root)
    assert done > 3, "the child never got to change the index"
    # The next writer starts cleanly, and nothing half-made is left.
    with IndexWriter(root) as w:
        w.add({"id": "after", "text": "一只独角兽在崩溃后出现。"})
    assert [h.id for h in open_index(root).search("独角兽").hits] == ["after"]
    merging.wait_for_merges(root)
    assert not [p for p in root.iterdir() if p.name.startswith(".build-")]


@pytest.mark.slow
def test_a_merge_killed_at_random_moments_loses_nothing(base, tmp_path):
    root, ids = base
    for n in range(12):
        with IndexWriter(root, merge=False) as w:
            w.add({"id": f"m{n}", "text": f"第{n}篇，关于河马。"})
            w.delete(sorted(ids)[n])
    want = _ids(root)
    rng = random.Random(9)
    finished = tmp_path / "merged"
    for _ in range(4):
        proc = _start(MERGES, root, finished)
        _kill_after(proc, 0.9 + rng.random() * 1.5)
        assert _ids(root) == want
        _sound(root)
        if finished.exists():
            break
    proc = _start(MERGES, root, finished)
    assert proc.wait(120) == 0, proc.stderr.read().decode()
    assert _ids(root) == want and open_index(root).stats()["segments"] == 1
    _sound(root)


@pytest.mark.slow
def test_an_update_from_sources_killed_leaves_the_old_or_the_new_documents(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(20):
        (folder / f"a{n:02d}.txt").write_text(f"第{n}篇\n关于洛阳的第{n}篇文章。", encoding="utf-8")
    root = tmp_path / "ix"
    build_index([folder], root)
    old = _ids(root)
    rng = random.Random(3)
    for round_ in range(4):
        for n in range(5):
            (folder / f"r{round_}-{n}.txt").write_text(f"新文章{n}\n关于贵阳的第{round_}轮文章。",
                                                       encoding="utf-8")
        os.remove(folder / sorted(os.listdir(folder))[0])
        new = {p.name for p in folder.iterdir()}
        proc = _start("import sys; from search.cli import main; sys.exit(main())",
                      "index", folder, "--index", root)
        _kill_after(proc, 0.8 + rng.random() * 2.0)
        found = _ids(root)
        assert found in (old, new), round_
        _sound(root)
        if found != new:
            out = subprocess.run([sys.executable, "-m", "search", "index", str(folder),
                                  "--index", str(root)], cwd=REPO, capture_output=True, text=True)
            assert out.returncode == 0, out.stderr
            assert _ids(root) == new
        old = new
