"""Check that ``search.text.script.to_simplified`` is OpenCC's ``t2s``, on real text.

    python -m bench.verify_t2s [FILE_OR_FOLDER ...]

``to_simplified`` is documented as OpenCC's ``t2s`` (opencc-python-reimplemented)
computed by ``str.translate`` plus one regular expression, with full-width ASCII
(U+FF01 to U+FF5E: letters, digits and punctuation such as ，) folded to ASCII
on the way.  For every document (title and text of JSON-lines records, whole
.txt/.md files) this compares ``to_simplified(text)`` with
``fold(OpenCC("t2s").convert(text))`` and reports every difference.

Default inputs: the poetry corpus and the relevance collection of
``../shared/corpora`` and the project's ``seeds/``.  Exits 1 on a difference,
0 when all agree (or when no input exists, saying so).
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "corpora"
DEFAULTS = [SHARED / "poetry.jsonl.gz", SHARED / "relevance-dev" / "docs.jsonl",
            SHARED / "relevance-dev" / "queries.jsonl", REPO / "seeds"]

_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def fold(text: str) -> str:
    """Full-width ASCII to ASCII, as ``to_simplified`` does."""
    return text.translate(_FOLD)


def texts(path: Path):
    """(where, text) of every document of a file or folder."""
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.suffix in (".txt", ".md") and p.is_file():
                yield str(p), p.read_text(encoding="utf-8", errors="replace")
            elif p.name.endswith((".jsonl", ".jsonl.gz")):
                yield from texts(p)
        return
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as fh:
            for n, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                record = json.loads(raw)
                parts = [v for k, v in record.items() if isinstance(v, str) and k != "id"]
                yield f"{path}:{n}", "\n".join(parts)
        return
    yield str(path), path.read_text(encoding="utf-8", errors="replace")


def verify(paths) -> tuple[int, int, list[str]]:
    import opencc

    from search.text.script import to_simplified
    converter = opencc.OpenCC("t2s")
    checked = differ = 0
    examples: list[str] = []
    for path in paths:
        for where, text in texts(Path(path)):
            checked += 1
            ours, theirs = to_simplified(text), fold(converter.convert(text))
            if ours != theirs:
                differ += 1
                if len(examples) < 20:
                    at = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b),
                              min(len(ours), len(theirs)))
                    examples.append(f"{where}: at {at}: ours {ours[max(0, at - 8):at + 8]!r}, "
                                    f"OpenCC {theirs[max(0, at - 8):at + 8]!r} "
                                    f"(original {text[max(0, at - 8):at + 8]!r})")
    return checked, differ, examples


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in args] or [p for p in DEFAULTS if p.exists()]
    if not paths:
        print("verify_t2s: no input (../shared is absent and no files were given); nothing checked")
        return 0
    started = time.perf_counter()
    checked, differ, examples = verify(paths)
    for e in examples:
        print(e)
    print(f"{checked:,} documents from {', '.join(map(str, paths))}: "
          f"{differ:,} differ from OpenCC t2s ({time.perf_counter() - started:.0f} s)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
