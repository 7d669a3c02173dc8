"""The command line as a user meets it: ``zhsearch --version``, a ``--help``
written for users under the name they typed, defaults in every command's
help, ``index`` with nothing to read, and plain-text results on one line each.

Each case runs the installed console script or ``python -m search`` in a
subprocess, from a folder of its own, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import search
from search import cli

ZHSEARCH = Path(sys.executable).with_name("zhsearch")
PYTHON_M = [sys.executable, "-m", "search"]
COMMANDS = ["index", "add", "delete", "merge", "query", "explain", "check", "serve"]


def run(args: list[str], cwd: Path, *, program: list[str] | None = None):
    env = {k: v for k, v in os.environ.items() if k != "SEARCH_INDEX"}
    return subprocess.run([*(program or [str(ZHSEARCH)]), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module", autouse=True)
def _console_script():
    if not ZHSEARCH.exists():
        pytest.fail(f"{ZHSEARCH} is missing: install the project (make install)")


@pytest.mark.parametrize("program", [None, PYTHON_M], ids=["zhsearch", "python -m search"])
def test_version_is_the_distributions(tmp_path, program):
    done = run(["--version"], tmp_path, program=program)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"zhsearch {search.__version__}"
    # One version: the package's, which the installed distribution was built from.
    assert metadata.version("zhsearch") == search.__version__


def test_help_is_written_for_a_user(tmp_path):
    done = run(["--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("usage: zhsearch ")
    assert "Full-text search for Chinese documents" in text
    listed = {line.split()[0] for line in text.splitlines()
              if line.startswith("    ") and line.split()[0] in COMMANDS}
    assert listed == set(COMMANDS)
    examples = text.split("examples:")[1]
    commands = [line.strip() for line in examples.splitlines()
                if line.strip().startswith("zhsearch ")]
    assert 3 <= len(commands) <= 4 and any(" index " in c for c in commands)
    # The module's docstring is for developers, not the help.
    assert "thin shell" not in text and "python -m search" not in text
    assert cli.__doc__.split("\n")[2].strip() not in text


def test_the_help_names_the_program_as_typed(tmp_path):
    done = run(["query", "--help"], tmp_path, program=PYTHON_M)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {os.path.basename(sys.executable)} -m search query ")


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_a_description(tmp_path, command):
    done = run([command, "--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: zhsearch {command} ")
    description = done.stdout.split("\n\n")[1]
    assert description[0].isupper() and description.rstrip().endswith(".")


def test_commands_say_their_defaults(tmp_path):
    query = run(["query", "--help"], tmp_path).stdout
    for said in ["(default: 10)", "(default: 1)", "(default: relevance)",
                 "(default: index; $SEARCH_INDEX changes it)"]:
        assert said in " ".join(query.split()), said
    index = " ".join(run(["index", "--help"], tmp_path).stdout.split())
    assert "default: ./seeds when there is one here" in index and "(default 30)" in index


def test_index_without_sources_or_seeds_says_what_to_pass(tmp_path):
    done = run(["index"], tmp_path)
    assert done.returncode == 2
    assert "`zhsearch index FOLDER ... --index DIR`" in done.stderr
    assert "make index" not in done.stderr
    assert not (tmp_path / "index").exists()
    named = run(["index", "--index", "mine"], tmp_path, program=PYTHON_M)
    assert named.returncode == 2
    assert f"`{os.path.basename(sys.executable)} -m search index FOLDER ... --index mine`" \
        in named.stderr


def test_index_without_sources_reads_the_seeds_folder_here(tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text("洛阳的牡丹开了。", encoding="utf-8")
    done = run(["index", "--quiet"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "indexed 1 document into index" in done.stdout


def test_the_missing_index_error_names_the_command(tmp_path):
    done = run(["query", "牡丹", "--index", "nowhere"], tmp_path)
    assert done.returncode == 1
    assert "build one with `zhsearch index SOURCE --index nowhere`" in done.stderr


@pytest.fixture(scope="module")
def folder_index(tmp_path_factory):
    here = tmp_path_factory.mktemp("plain")
    (here / "docs").mkdir()
    (here / "docs" / "a.txt").write_text("牡丹记\n\n第一段，洛阳。\n\n\n第二段，牡丹。\r\n第三段。\n",
                                         encoding="utf-8")
    done = run(["index", "docs", "--index", "ix", "--quiet"], here)
    assert done.returncode == 0, done.stderr
    return here


def test_one_result_is_one_result_and_its_snippet_one_line(folder_index):
    done = run(["query", "", "--index", "ix"], folder_index)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("1 result for ''")
    assert "   第一段，洛阳。 第二段，牡丹。 第三段。" in lines
    assert not any("\r" in line for line in lines)


def test_explain_counts_one_document(folder_index):
    done = run(["explain", "牡丹", "--index", "ix"], folder_index)
    assert done.returncode == 0, done.stderr
    assert "matches:     1 document\n" in done.stdout


def test_many_results_are_results(tmp_path):
    (tmp_path / "docs").mkdir()
    for n in range(3):
        (tmp_path / "docs" / f"{n}.txt").write_text(f"牡丹第{n}篇。", encoding="utf-8")
    assert run(["index", "docs", "--index", "ix", "--quiet"], tmp_path).returncode == 0
    done = run(["query", "牡丹", "--index", "ix"], tmp_path)
    assert done.stdout.startswith("3 results for '牡丹'"), done.stdout


@pytest.mark.parametrize("text, line", [
    ("a\nb", "a b"), ("a \r\n\n  b", "a b"), ("a\u2028b\x85c", "a b c"), ("\n a  b \n", "a  b"),
])
def test_one_line_collapses_line_breaks_only(text, line):
    assert cli.one_line(text) == line
