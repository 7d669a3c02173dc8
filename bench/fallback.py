"""How often Enter on pinyin cut short reaches the word meant (``search(fallback=True)``).

    python -m bench.fallback [--index PATH] [--count 200] [--seed 19] [--json OUT]

Without ``--index`` it builds the seeds into a temporary folder.  Targets are
drawn by a seeded random from the index's own vocabulary: Chinese words of
two to four characters with a known reading, among the ``POOL`` commonest.
Each is typed as its pinyin with the last syllable cut to one or two letters
(洛阳 → ``luoy``), never as bare initials.  For each typed query:

* ``reached``: the fallback showed the target's results (``shown_for``);
* ``offered``: not shown, but the target is among the ``alternatives``;
* ``other``: another reading was shown (a clear reading, not the one meant);
* ``found``: the typed text finds documents itself (no fallback asked);
* ``none``: nothing shown and nothing offered.

Also the median milliseconds of the fallback search and of the same query
searched verbatim.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from search import build_index, open_index
from search.store.vocabulary import vocabulary
from search.text import pinyin
from search.text.chars import HAN_RUN

POOL = 5000
REPO = Path(__file__).resolve().parent.parent


def typed_prefix(word: str, cut: int) -> str | None:
    """``word``'s pinyin with its last syllable cut to ``cut`` letters (None: initials only)."""
    syl = pinyin.word_syllables(word)
    if len(syl) != len(word) or not all(syl):
        return None
    last = syl[-1][:cut]
    typed = "".join(syl[:-1]) + last
    if typed == "".join(syl) or pinyin.is_initials(typed):
        return None
    return typed


def targets(ix, count: int, seed: int) -> list[tuple[str, str]]:
    vocab = vocabulary(ix._current(), timeout=None)
    words = [w for w in vocab.words if 2 <= len(w) <= 4 and HAN_RUN.fullmatch(w)]
    words.sort(key=lambda w: -vocab.frequency(w))
    rng = random.Random(seed)
    pool = words[:POOL]
    rng.shuffle(pool)
    out, seen = [], set()
    for word in pool:
        typed = typed_prefix(word, rng.choice((1, 2)))
        if typed and typed not in seen:
            seen.add(typed)
            out.append((word, typed))
        if len(out) == count:
            break
    return out


def measure(ix, pairs) -> dict:
    kinds = {"reached": 0, "offered": 0, "other": 0, "found": 0, "none": 0}
    fallback_ms, verbatim_ms, examples = [], [], {k: [] for k in kinds}
    for word, typed in pairs:
        started = time.perf_counter()
        plain = ix.search(typed)
        verbatim_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        res = ix.search(typed, fallback=True)
        fallback_ms.append((time.perf_counter() - started) * 1000)
        if res.fell_back and res.shown_for == word:
            kind = "reached"
        elif res.fell_back:
            kind = "other"
        elif plain.total and plain.total_full != 0:
            kind = "found"
        elif any(a["text"] == word for a in res.alternatives):
            kind = "offered"
        else:
            kind = "none"
        kinds[kind] += 1
        if len(examples[kind]) < 5:
            examples[kind].append({"word": word, "typed": typed, "shown_for": res.shown_for})
    asked = len(pairs) - kinds["found"]
    return {
        "queries": len(pairs), "asked": asked, **kinds,
        "reached_share": round(kinds["reached"] / asked, 3) if asked else None,
        "reached_or_offered_share": (round((kinds["reached"] + kinds["offered"]) / asked, 3)
                                     if asked else None),
        "median_ms_fallback": round(statistics.median(fallback_ms), 1) if fallback_ms else None,
        "median_ms_verbatim": round(statistics.median(verbatim_ms), 1) if verbatim_ms else None,
        "examples": examples,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", help="an index folder (default: the seeds, built now)")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--json", help="write the figures to this file too")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index
        if index is None:
            index = str(Path(tmp) / "index")
            build_index([str(REPO / "seeds")], index)
        ix = open_index(index)
        report = measure(ix, targets(ix, args.count, args.seed))
    report["index"] = args.index or "seeds"
    print(f"{report['queries']} typed prefixes, {report['asked']} finding nothing as typed: "
          f"reached {report['reached']} ({report['reached_share']}), offered {report['offered']}, "
          f"other reading {report['other']}, nothing {report['none']}; "
          f"median {report['median_ms_fallback']} ms with fallback, "
          f"{report['median_ms_verbatim']} ms verbatim")
    for kind in ("other", "none"):
        for ex in report["examples"][kind]:
            print(f"  {kind}: {ex['typed']} (meant {ex['word']}) -> {ex['shown_for']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
