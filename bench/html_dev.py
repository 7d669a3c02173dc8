"""How well web pages are read: html-dev against its judged table.

    python -m bench.html_dev [--pages DIR] [--json]

For each page of html-dev (``../shared/corpora/html-dev``, 36 saved Chinese
news pages; judged in ``bench.html_dev_truth``) four measures, as the index
would hold the page:

* title: the indexed title equals the judged headline (or a ``title_also``);
* date: the indexed date is the judged day;
* body start: the body starts with the judged first paragraph (or a
  ``first_also``), or the first 30 characters of the body hold its start;
* no boilerplate: none of the page's furniture strings is in the body;

and a fifth, not cut: the body holds the start of the judged last paragraph.
Strings are compared without white space.

The full path is the build's own (``sources.read_source_file``: the HTML
reader, then our cleaning in ``metadata``).  The same run scores the reader
alone with ``cleaning.is_boilerplate`` applied to its blocks, and plain
trafilatura (``bare_extraction`` defaults: its title, date and text), so
that the table shows what each step adds; and pages per second of the
reader and of the full path (median of 3 passes).  An absent folder is said,
and the exit status is 0.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

from bench.html_dev_truth import PAGES, PAGES_DIR

MEASURES = ("title", "date", "start", "clean", "whole")
LABELS = {"title": "title", "date": "date", "start": "body start", "clean": "no boilerplate",
          "whole": "not cut"}
# The body start is also right when the judged start is this close to the top.
START_WINDOW = 30
START_PROBE = 15
PASSES = 3


def squeeze(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def full_path(path: Path) -> tuple[str, str | None, str]:
    """(title, ISO date or None, body) of a page as the build indexes it."""
    from search.ingest.model import Problem
    from search.ingest.sources import SourceFile, read_source_file

    for item in read_source_file(SourceFile(path, path.name)):
        if not isinstance(item, Problem):
            return item.title, item.date.iso() if item.date else None, item.body
    return "", None, ""


def reader_only(path: Path) -> tuple[str, str | None, str]:
    """(title, date, body) from the HTML reader, with our boilerplate test on each block."""
    from search.ingest.cleaning import is_boilerplate
    from search.ingest.formats import FormatError
    from search.ingest.formats.html import read

    try:
        found = read(path.read_bytes(), str(path))
    except FormatError:
        return "", None, ""
    body = "\n".join(b.text for b in found.blocks if b.text and not is_boilerplate(b.text))
    return found.title or "", found.date, body


def plain_trafilatura(path: Path) -> tuple[str, str | None, str]:
    """(title, date, text) of trafilatura's ``bare_extraction`` with its defaults."""
    import trafilatura

    found = trafilatura.bare_extraction(path.read_bytes(), with_metadata=True)
    if found is None:
        return "", None, ""
    return found.title or "", found.date, found.text or ""


EXTRACTORS = {"full path": full_path, "reader": reader_only, "trafilatura": plain_trafilatura}


def score_page(entry: dict, title: str, day: str | None, body: str) -> dict:
    """The five measures of one page."""
    flat = squeeze(body)
    titles = [entry["title"], *entry.get("title_also", [])]
    firsts = [entry["first"], *entry.get("first_also", [])]
    return {
        "title": squeeze(title) in {squeeze(t) for t in titles},
        "date": (day or None) == entry["date"],
        "start": any(flat.startswith(squeeze(f)) or squeeze(f)[:START_PROBE] in flat[:START_WINDOW]
                     for f in firsts),
        "clean": not any(squeeze(s) in flat for s in entry["boilerplate"]),
        "kept": [s for s in entry["boilerplate"] if squeeze(s) in flat],
        "whole": not entry.get("last") or squeeze(entry["last"]) in flat,
    }


def evaluate(pages_dir=PAGES_DIR, extract=None) -> dict:
    """Scores of ``extract`` (path -> (title, date, body); the build's full
    path by default) on the judged pages found in ``pages_dir``:
    ``{"pages": {name: {measure: bool, ...}}, "totals": {measure: n}, "count": n}``."""
    extract = extract or full_path
    pages_dir = Path(pages_dir)
    pages, totals = {}, dict.fromkeys(MEASURES, 0)
    for name, entry in sorted(PAGES.items()):
        path = pages_dir / name
        if not path.exists():
            continue
        title, day, body = extract(path)
        scores = score_page(entry, title, day, body)
        scores["got"] = {"title": title, "date": day, "start": body[:40]}
        pages[name] = scores
        for measure in MEASURES:
            totals[measure] += scores[measure]
    return {"pages": pages, "totals": totals, "count": len(pages)}


def pages_per_second(pages_dir, extract) -> float:
    paths = sorted(Path(pages_dir).glob("*.html"))
    times = []
    for _ in range(PASSES):
        start = time.perf_counter()
        for path in paths:
            extract(path)
        times.append(time.perf_counter() - start)
    return len(paths) / statistics.median(times)


def totals_line(result: dict) -> str:
    n = result["count"]
    return ", ".join(f"{LABELS[m]} {result['totals'][m]}/{n}" for m in MEASURES)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", default=str(PAGES_DIR), help="folder of the html-dev pages")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    pages_dir = Path(args.pages)
    if not pages_dir.is_dir() or not any(pages_dir.glob("*.html")):
        print(f"no html-dev pages in {pages_dir}: nothing to evaluate")
        return 0

    results = {label: evaluate(pages_dir, extract) for label, extract in EXTRACTORS.items()}
    speed = {label: pages_per_second(pages_dir, EXTRACTORS[label])
             for label in ("reader", "full path")}
    if args.json:
        print(json.dumps({"results": results, "pages_per_second": speed},
                         ensure_ascii=False, indent=1))
        return 0

    main_result = results["full path"]
    print(f"{'page':24} " + " ".join(f"{LABELS[m][:8]:>8}" for m in MEASURES) + "  title / start")
    for name, scores in main_result["pages"].items():
        marks = " ".join(f"{'✓' if scores[m] else '✗':>8}" for m in MEASURES)
        got = scores["got"]
        print(f"{name:24} {marks}  {got['title'][:30]} / {got['start'][:20]!r}")
    print()
    for label, result in results.items():
        print(f"{label:12} {totals_line(result)}")
    print()
    for label, rate in speed.items():
        print(f"{label:12} {rate:.1f} pages/s (median of {PASSES} passes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
