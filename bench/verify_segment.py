"""Check that ``search.text.segment.segment`` gives exactly ``jieba.tokenize``'s words, on real text.

    python -m bench.verify_segment [FILE_OR_FOLDER ...]

``segment`` runs jieba's algorithm with its own loop (``analysis._cut_han``);
``segment_reference`` calls ``jieba.tokenize``.  For every document (see
``bench.verify_t2s`` for what a document is) this compares the two on the
simplified text.  Default inputs: the corpora of ``../shared`` and ``seeds/``.
Exits 1 on a difference.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.verify_t2s import DEFAULTS, texts


def main(argv=None) -> int:
    from search.text.segment import segment, segment_reference
    from search.text.script import to_simplified
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in args] or [p for p in DEFAULTS if p.exists()]
    if not paths:
        print("verify_segment: no input (../shared is absent and no files were given); nothing checked")
        return 0
    started = time.perf_counter()
    checked = differ = 0
    for path in paths:
        for where, text in texts(path):
            checked += 1
            norm = to_simplified(text)
            ours, ref = segment(norm), segment_reference(norm)
            if ours != ref:
                differ += 1
                if differ <= 20:
                    at = next((i for i, (a, b) in enumerate(zip(ours, ref)) if a != b), None)
                    print(f"{where}: first difference at token {at}: "
                          f"{ours[at:at + 3] if at is not None else ours[-3:]} != "
                          f"{ref[at:at + 3] if at is not None else ref[-3:]}")
    print(f"{checked:,} documents from {', '.join(map(str, paths))}: {differ:,} segment differently "
          f"from jieba.tokenize ({time.perf_counter() - started:.0f} s)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
