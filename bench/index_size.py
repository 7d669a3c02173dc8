"""Where an index's bytes go: its files by kind, and its term table by field and part.

    python -m bench.index_size INDEX_DIR [--json]

The files of the live generation grouped by what they hold (term table,
postings, stored fields, per-document columns, the tables saved beside the
index), then each field's terms and the bytes of each part of their entries
(``search.whoosh3.sizes``), with bytes per term: the figures a more compact
term table would be judged by.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

KINDS = (
    (".trm", "term table (.trm)"),
    (".trb", "compact term table (.trb)"),
    (".pst", "postings (.pst)"),
    ("_stored.col", "stored fields"),
    (".col", "columns (lengths, sort keys)"),
    ("lengths-", "exact field lengths (.npz)"),
    ("facets.pickle", "facet tables"),
    ("vocabulary.pickle", "vocabulary"),
)


def files_by_kind(generation: Path) -> Counter:
    out = Counter()
    for path in generation.iterdir():
        if not path.is_file():
            continue
        kind = next((label for pattern, label in KINDS
                     if path.name.endswith(pattern) or path.name.startswith(pattern)), "other")
        out[kind] += path.stat().st_size
    return out


def measure(index_dir: str) -> dict:
    from whoosh import index as whoosh_index

    from search.store.layout import live_generation
    from search.whoosh3.sizes import PARTS, term_table_bytes

    generation = live_generation(Path(index_dir))
    if generation is None:
        raise SystemExit(f"no index in {index_dir}")
    files = files_by_kind(generation)
    ix = whoosh_index.open_dir(str(generation))
    with ix.reader() as reader:
        fields = term_table_bytes(reader)
    total = sum(files.values())
    result = {"index": str(generation), "bytes": total,
              "files": dict(files.most_common()), "fields": {}, "parts": PARTS}
    if fields is not None:
        tables = fields.pop("(tables)")
        result["term_table_tables"] = dict(tables)
        for name, parts in sorted(fields.items(), key=lambda kv: -kv[1]["terms"]):
            entry = {key: parts[key] for key in PARTS}
            entry["entry_bytes"] = sum(v for k, v in parts.items()
                                       if k not in ("terms", "single", "postings"))
            entry["bytes_per_term"] = round(entry["entry_bytes"] / max(1, parts["terms"]), 1)
            result["fields"][name] = entry
    return result


def render(result: dict) -> str:
    mb = lambda n: f"{n / 1e6:,.1f}"       # noqa: E731
    lines = [f"{result['index']}: {mb(result['bytes'])} MB", "", "| file kind | MB | share |",
             "|---|---:|---:|"]
    for kind, size in result["files"].items():
        lines.append(f"| {kind} | {mb(size)} | {100 * size / max(1, result['bytes']):.0f}% |")
    if result["fields"]:
        lines += ["", "| field | terms | in one doc | headers | keys | heads | inlined | "
                  "pointers | entry bytes/term | postings MB |", "|---|" + "---:|" * 9]
        for name, f in result["fields"].items():
            lines.append(f"| {name} | {f['terms']:,} | {f['single']:,} | {mb(f['lengths'])} | "
                         f"{mb(f['keys'])} | {mb(f['heads'])} | {mb(f['inlined'])} | "
                         f"{mb(f['pointers'])} | {f['bytes_per_term']} | {mb(f['postings'])} |")
        tables = result["term_table_tables"]
        lines.append("")
        lines.append("term table besides entries: " + ", ".join(
            f"{k} {mb(v)} MB" for k, v in tables.items()))
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.index_size", description=__doc__.split("\n")[0])
    p.add_argument("index")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    result = measure(args.index)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
