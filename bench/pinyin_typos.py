"""Pinyin typed with typos: how often the reader still reaches the word meant.

    python -m bench.pinyin_typos [--index PATH] [--targets 240] [--seed 19] [--out FILE]

Without ``--index`` it builds the project's ``seeds/`` into a temporary folder.
From the index's own vocabulary (``search.store.vocabulary``) it draws, with
a seeded random, ``--targets`` words: names (stored facet values: authors,
cities) and words (not fragments) of two to four Han characters with a known
pinyin of at least ``MIN_KEY`` letters, each the word its own pinyin reads
first (typed without a typo, the key reaches it: ``luoyang`` is 洛阳, not
落阳).  Of each target's pinyin it makes one typo of each kind:

* ``near key``: a letter replaced by one next to it on the keyboard (``luoyanh``);
* ``swap``: two neighbouring letters swapped (``louyang``);
* ``missing``: a letter left out (``luoyng``);
* ``extra``: a letter added next to one of its neighbours on the keyboard (``luoyangh``).

A typed query reaches the target when the target is the first suggestion
for it (``SearchIndex.suggest``), or the search for it reads it (the
target among the words a pinyin expansion searched, the did-you-mean
offered, or, where ``search(..., fallback=True)`` exists, the query whose
results were shown).  A typo that spells another word exactly (``luoyan``
for 洛阳 is 落雁) is counted as typed: usually a miss.  Prints the share
reached overall and by kind, and writes the JSON (``--out``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KINDS = ("near key", "swap", "missing", "extra")
MIN_KEY = 4
MAX_CHARS = 4
GOAL = 0.90
POOL = 2000


def typo(key: str, kind: str, rng: random.Random) -> str | None:
    """One typo of ``kind`` in ``key``, or None if it can have none."""
    from search.text.pinyin import near_keys
    near = near_keys()
    for _ in range(20):
        i = rng.randrange(len(key))
        if kind == "near key":
            out = key[:i] + rng.choice(near[key[i]]) + key[i + 1:]
        elif kind == "swap":
            if i + 1 >= len(key) or key[i] == key[i + 1]:
                continue
            out = key[:i] + key[i + 1] + key[i] + key[i + 2:]
        elif kind == "missing":
            out = key[:i] + key[i + 1:]
        else:
            out = key[:i + 1] + rng.choice(near[key[i]]) + key[i + 1:]
        if out != key:
            return out
    return None


def draw_targets(vocab, count: int, rng: random.Random, pool: int = 0) -> list[tuple[str, str]]:
    """``(word, pinyin key)`` of ``count`` targets (see the module)."""
    from search.text import pinyin
    from search.text.chars import HAN_CHAR
    eligible = []
    for word in vocab.words:
        if not 2 <= len(word) <= MAX_CHARS or not all(HAN_CHAR.fullmatch(c) for c in word):
            continue
        if vocab.kind(word) not in ("name", "word"):
            continue
        syllables = pinyin.word_syllables(word)
        key = "".join(syllables)
        if len(syllables) != len(word) or len(key) < MIN_KEY or not key.isalpha():
            continue
        if vocab.by_pinyin(key, limit=1) != [word]:
            continue
        eligible.append((word, key))
    if pool:
        eligible.sort(key=lambda wk: (-vocab.frequency(wk[0]), wk[0]))
        eligible = eligible[:pool]
    rng.shuffle(eligible)
    return sorted(eligible[:count], key=lambda wk: wk[1])


def reached(ix, typed: str, target: str, fallback: bool) -> tuple[bool, str]:
    """Whether ``typed`` reaches ``target``, and how (``suggest``, ``search`` or ``""``)."""
    from search.text.script import to_simplified
    found = ix.suggest(typed, limit=8)
    if found:
        first = found[0]["text"] if isinstance(found[0], dict) else found[0]
        if to_simplified(first) == target:
            return True, "suggest"
    res = ix.search(typed, fallback=True) if fallback else ix.search(typed)
    words = {w for e in res.expansions for w in e.get("to", [])}
    for shown in (res.did_you_mean, getattr(res, "shown_for", None)):
        if shown:
            words.update(shown.split())
    return (target in {to_simplified(w) for w in words}), "search"


def evaluate(index: Path, targets: int, seed: int, pool: int = 0) -> dict:
    from search import open_index
    from search.store.vocabulary import vocabulary
    ix = open_index(index)
    gen = ix._current()
    vocab = vocabulary(gen)     # built now (a large index builds it in the background)
    rng = random.Random(seed)
    drawn = draw_targets(vocab, targets, rng, pool)
    fallback = "fallback" in inspect.signature(ix.search).parameters
    by_kind = {k: [0, 0] for k in KINDS}
    via = {"suggest": 0, "search": 0}
    misses = []
    started = time.perf_counter()
    for word, key in drawn:
        for kind in KINDS:
            typed = typo(key, kind, rng)
            if typed is None:
                continue
            ok, how = reached(ix, typed, word, fallback)
            by_kind[kind][1] += 1
            if ok:
                by_kind[kind][0] += 1
                via[how] += 1
            else:
                first = ix.suggest(typed, limit=1)
                misses.append({"target": word, "pinyin": key, "typed": typed, "kind": kind,
                               "first_suggestion": first[0]["text"] if first else None})
    seconds = time.perf_counter() - started
    hits = sum(h for h, _ in by_kind.values())
    total = sum(n for _, n in by_kind.values())
    return {
        "index": str(index), "documents": gen.doc_count, "seed": seed, "pool": pool,
        "targets": len(drawn), "queries": total, "reached": hits,
        "share": round(hits / total, 4) if total else None, "goal": GOAL,
        "by_kind": {k: {"queries": n, "reached": h, "share": round(h / n, 4) if n else None}
                    for k, (h, n) in by_kind.items()},
        "reached_by": via, "fallback_used": fallback,
        "ms_per_query": round(seconds * 1000 / total, 1) if total else None,
        "misses": misses,
    }


def render(r: dict) -> str:
    lines = [f"pinyin typos: {r['targets']} target words of {r['index']} ({r['documents']:,} documents), "
             f"{r['queries']} typed queries (seed {r['seed']})",
             f"  reached the word meant: {r['reached']}/{r['queries']} = {r['share']:.1%} "
             f"(goal {r['goal']:.0%}: {'met' if r['share'] >= r['goal'] else 'NOT met'}); "
             f"by the first suggestion {r['reached_by']['suggest']}, by the search "
             f"{r['reached_by']['search']}"]
    for kind, k in r["by_kind"].items():
        if k["queries"]:
            lines.append(f"  {kind:<9} {k['reached']:>4}/{k['queries']:<4} = {k['share']:.1%}")
    lines.append(f"  {r['ms_per_query']} ms per typed query (suggest and search)")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pinyin_typos",
                                description=__doc__.split("\n")[0])
    p.add_argument("--index", help="an index to draw from and search (default: seeds/, built now)")
    p.add_argument("--targets", type=int, default=240)
    p.add_argument("--seed", type=int, default=19)
    p.add_argument("--pool", type=int, default=POOL,
                   help="draw among this many commonest eligible words (0: all of them)")
    p.add_argument("--out", default="eval-results/pinyin_typos.json")
    p.add_argument("--show-misses", type=int, default=0)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.index:
            index = Path(args.index)
        else:
            from search import build_index
            index = Path(tmp) / "index"
            report = build_index([REPO / "seeds"], index)
            print(f"indexed the {report.indexed} seed documents in {report.seconds:.1f} s")
        results = evaluate(index, args.targets, args.seed, args.pool)
    print(render(results))
    for miss in results["misses"][:args.show_misses]:
        print(f"  miss {miss}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
