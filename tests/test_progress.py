"""A build's progress: the library's callback (``build_index(...,
progress=...)``: phases in order, each long one with its total before it
starts, counts that reach it) and the command line's bars on a terminal
(tqdm on stderr: totals, percentage, rate; nothing when stderr is not a
terminal or with ``--quiet``).

The terminal is a real pseudo-terminal (``pty``); the builds are real ones,
of small sources cut into many small chunks so that each phase reports more
than once.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from search import BuildProgress, build_index, update_index
from search import cli
from search.store import parallel
from search.store.progress import PHASES

LINES = 130            # JSON-lines records, one of them not JSON
FILES = 12             # text files, and one file of a type not indexed


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("progress")
    folder = root / "docs"
    folder.mkdir()
    for n in range(FILES):
        (folder / f"{n:02}.txt").write_text(f"第{n}篇\n\n洛阳的牡丹开了，第{n}次。", encoding="utf-8")
    (folder / "table.xlsx").write_bytes(b"not indexed")
    records = [json.dumps({"id": f"line-{n}", "text": f"開封的菊花開了，第{n}回。"},
                          ensure_ascii=False) for n in range(LINES - 1)]
    records.insert(40, "{not json")
    (root / "more.jsonl").write_text("\n".join(records) + "\n\n", encoding="utf-8")
    return [str(folder), str(root / "more.jsonl")]


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few documents: many reports from a small build."""
    monkeypatch.setattr(parallel, "CHUNK_DOCS", 25)
    monkeypatch.setattr(parallel, "FILES_PER_TASK", 4)


def _phases(events: list[BuildProgress]) -> list[str]:
    order = []
    for event in events:
        if not order or order[-1] != event.phase:
            order.append(event.phase)
    return order


@pytest.mark.parametrize("builder, phases", [
    ("parallel", ["counting", "reading", "encoding", "tables", "saving"]),
    ("whoosh", ["counting", "reading", "merging", "tables", "saving"]),
])
def test_build_reports_each_phase_with_its_total(tmp_path, sources, small_chunks, builder,
                                                 phases):
    events: list[BuildProgress] = []
    report = build_index(sources, tmp_path / "index", progress=events.append,
                         builder=builder, workers=1)
    assert _phases(events) == phases            # each phase once, in order
    assert all(e.phase in PHASES and e.label == PHASES[e.phase] for e in events)

    reading = [e for e in events if e.phase == "reading"]
    expected = report.indexed + len(report.skipped) + len(report.ignored)
    assert report.indexed == FILES + LINES - 1 and len(report.skipped) == 1
    # Known before the first document is read, the same to the end, reached.
    assert {e.total for e in reading} == {expected}
    assert reading[0].done == 0 and reading[-1].done == expected and reading[-1].finished
    assert [e.done for e in reading] == sorted(e.done for e in reading)
    if builder == "parallel":
        assert len(reading) >= 1 + (LINES + FILES) // 25     # one report per chunk
        encoding = [e for e in events if e.phase == "encoding"]
        assert encoding[0].unit == "bytes" and encoding[0].total > 0
        assert encoding[-1].done == encoding[0].total
    seconds = [e.seconds for e in events]
    assert seconds == sorted(seconds) and seconds[-1] <= report.seconds + 1
    for phase in phases:                         # every phase ends complete
        last = [e for e in events if e.phase == phase][-1]
        assert last.finished, last


def test_an_update_of_a_full_build_reports_it(tmp_path, sources):
    events: list[BuildProgress] = []
    update_index(sources, tmp_path / "index", progress=events.append)
    assert "reading" in _phases(events)
    events.clear()
    update_index(sources, tmp_path / "index", progress=events.append)
    assert events == []              # nothing changed: no build, nothing to report


def test_a_callback_that_raises_stops_the_build_and_leaves_the_live_index(tmp_path, sources):
    index = tmp_path / "index"
    first = build_index(sources[:1], index)

    def stop(event):
        if event.phase == "reading" and event.done:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        build_index(sources, index, progress=stop, workers=1)
    from search import open_index
    assert open_index(index).stats()["documents"] == first.indexed


class Terminal:
    """A pseudo-terminal of 120 columns; what is written to it, read as it comes."""

    def __init__(self):
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.chunks: list[bytes] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.chunks.append(data)

    def text(self) -> str:
        os.close(self.slave)
        self.reader.join(timeout=10)
        os.close(self.master)
        return b"".join(self.chunks).decode("utf-8", "replace")


def _index_on_a_terminal(monkeypatch, args: list[str]) -> tuple[int, str]:
    """``zhsearch index ARGS`` with stderr on a terminal: its exit status and what it drew."""
    terminal = Terminal()
    stream = open(os.dup(terminal.slave), "w", encoding="utf-8", buffering=1)
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setattr(cli.ProgressBars, "delay", 0)   # draw even the quick phases
    try:
        code = cli.main(["index", *args])
    finally:
        stream.close()
    return code, terminal.text()


def test_the_command_draws_bars_on_a_terminal(tmp_path, sources, small_chunks, monkeypatch):
    code, drawn = _index_on_a_terminal(monkeypatch, [*sources, "--index", str(tmp_path / "ix"),
                                                     "--full"])
    assert code == cli.EXIT_SKIPPED                       # the line that is not JSON
    total = FILES + LINES + 1
    assert "reading and segmenting" in drawn
    assert "100%" in drawn and f"{total}/{total}" in drawn and "documents/s" in drawn
    assert "encoding postings" in drawn and "B/s" in drawn
    for label in ("counting documents", "facets and vocabulary", "saving"):
        assert label in drawn
    assert "\r" in drawn                                  # redrawn in place
    # The bars end before the summary (on stderr here: a file was skipped).
    summary = drawn.index(f"full build: indexed {FILES + LINES - 1} documents")
    assert drawn.rindex("saving") < summary


def test_the_bars_are_drawn_under_json_too(tmp_path, sources, monkeypatch, capsys):
    code, drawn = _index_on_a_terminal(monkeypatch, [*sources, "--index", str(tmp_path / "ix"),
                                                     "--json"])
    assert code == cli.EXIT_SKIPPED and "reading and segmenting" in drawn
    assert json.loads(capsys.readouterr().out)["indexed"] == FILES + LINES - 1


def test_quiet_draws_nothing_on_a_terminal(tmp_path, sources, monkeypatch):
    code, drawn = _index_on_a_terminal(monkeypatch, [*sources, "--index", str(tmp_path / "ix"),
                                                     "--quiet"])
    assert code == cli.EXIT_SKIPPED
    assert "reading" not in drawn and "%" not in drawn


def test_nothing_is_drawn_when_stderr_is_not_a_terminal(tmp_path, sources):
    done = subprocess.run([sys.executable, "-m", "search", "index", *sources,
                           "--index", str(tmp_path / "ix")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == cli.EXIT_SKIPPED, done.stderr
    # stderr holds the list of what was skipped and ignored, and nothing else.
    assert "\r" not in done.stderr and "%" not in done.stderr
    assert "reading and segmenting" not in done.stderr
    assert all(line.startswith(("full build:", "  skipped", "  ignored", "  warning"))
               for line in done.stderr.splitlines()), done.stderr
