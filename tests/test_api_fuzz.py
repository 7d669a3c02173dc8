"""The API fuzzed from its own description: schemathesis reads ``/openapi.json`` of the real
server (gunicorn over a copy of the seeds index, the write API on) and sends what it
generates from it, valid and invalid, to every operation.

It fails on any 5xx, any answer that breaks the described schema, status, content
type or headers, a 405 without ``Allow``, a secured operation answering without its
key, and any answer slower than ``MAX_SECONDS`` (a correctness guard: generous on
purpose, not a benchmark).  The run is bounded: ``EXAMPLES`` cases per operation and
phase (about two thousand requests), one worker (writes take the index's one writer
lock in turn, so a second worker would measure waiting, not answering).  ``tests/test_fuzz.py``
fuzzes the query language through the library and the app; this fuzzes the HTTP surface.

``FUZZ_SEED`` replays another run (schemathesis prints the seed of each).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO
from serving import serve

pytestmark = pytest.mark.slow

KEY = "fuzz-" + "k" * 32
EXAMPLES = 25
MAX_SECONDS = 2
SEED = os.environ.get("FUZZ_SEED", "20261207")
CHECKS = ["not_a_server_error", "response_schema_conformance", "status_code_conformance",
          "content_type_conformance", "response_headers_conformance",
          # A method an address does not answer is a 405 naming those it does;
          # the write API refuses a request without its key.
          "unsupported_method", "ignored_auth", "missing_required_header"]
# The routing fallback under /api/: any word generated for it may be a real
# operation's address (stats, search), fuzzed under its own description.
EXCLUDED_PATHS = ["/api/{anything}"]


def test_the_api_holds_to_its_description(seed_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_index, index, symlinks=True)
    env = {**os.environ, "SEARCH_API_KEY": KEY}
    env.pop("SEARCH_API_KEY_FILE", None)
    with serve(index, threads=2, log_path=tmp_path / "server.log", env=env) as (base, _proc):
        command = [
            sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json",
            "--checks", ",".join(CHECKS), "--max-response-time", str(MAX_SECONDS),
            "--max-examples", str(EXAMPLES), "--seed", SEED,
            "--phases", "examples,coverage,fuzzing", "--workers", "1",
            "--header", f"Authorization: Bearer {KEY}",
            "--generation-database", "none", "--no-color", "--request-timeout", "30",
            *[arg for path in EXCLUDED_PATHS for arg in ("--exclude-path", path)],
        ]
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                              timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    said = done.stdout + done.stderr
    (tmp_path / "schemathesis.txt").write_text(said, encoding="utf-8")
    assert done.returncode == 0, _failures(said)
    generated = re.search(r"(\d+) generated", said)
    assert generated, said[-3000:]
    # Every operation of the description was reached, and many cases were sent.
    tested = re.search(r"Tested: (\d+)", said)
    selected = re.search(r"Selected: (\d+)/(\d+)", said)
    assert tested and selected and tested.group(1) == selected.group(1), said[-3000:]
    assert int(selected.group(2)) - int(selected.group(1)) == len(EXCLUDED_PATHS)
    assert int(generated.group(1)) >= 1000, said[-3000:]


def _failures(said: str, width: int = 300) -> str:
    """What schemathesis reported failing, each line cut to ``width`` (a generated
    value can be megabytes long)."""
    start = said.find("FAILURES")
    shown = said[start:] if start >= 0 else said[-6000:]
    return "\n".join(line[:width] for line in shown.splitlines())[:15000]
