"""The command line: a thin shell over the library (``python -m search ...``).

    python -m search index [SOURCE ...] [--index DIR] [--json]
    python -m search query TEXT [--index DIR] [--city C] [--year Y]
                       [--sort relevance|newest|oldest] [--page N] [--per-page N] [--json]
    python -m search serve [--index DIR] [--host H] [--port P]

Exit status of ``index``: 0 when every document was indexed, 3 when the index
was built but some files or lines were skipped (listed on stderr), 1 when no
index could be built.  ``query`` exits 2 on a bad query, 1 without an index.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys

from .errors import SearchError

EXIT_SKIPPED = 3
DEFAULT_INDEX = os.environ.get("SEARCH_INDEX", "index")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m search", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    ix = sub.add_parser("index", help="build the index of folders and JSON-lines files")
    ix.add_argument("sources", nargs="*", default=["seeds"],
                    help="folders of .txt/.md, .jsonl or .jsonl.gz files (default: seeds)")
    ix.add_argument("--index", default=DEFAULT_INDEX, help="index folder (default: index)")
    ix.add_argument("--json", action="store_true", help="print the build report as JSON")
    ix.add_argument("--quiet", action="store_true", help="no progress line")

    q = sub.add_parser("query", help="search the index")
    q.add_argument("text", nargs="?", default="", help='words, "exact phrases", -excluded')
    q.add_argument("--index", default=DEFAULT_INDEX)
    q.add_argument("--city", action="append", help="only these cities (repeatable)")
    q.add_argument("--year", action="append", help="only these years or months (2014, 2014-09)")
    q.add_argument("--filter", action="append", default=[], metavar="FACET=VALUE",
                   help="any facet of the index, e.g. author=李白 (repeatable)")
    q.add_argument("--sort", default="relevance", choices=["relevance", "newest", "oldest"])
    q.add_argument("--page", type=int, default=1)
    q.add_argument("--per-page", type=int, default=10)
    q.add_argument("--json", action="store_true", help="print one JSON object")

    s = sub.add_parser("serve", help="serve the web UI with the production server")
    s.add_argument("--index", default=DEFAULT_INDEX)
    s.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    s.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    s.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", 8)))
    return p


def _emphasise(fragment: str, tty: bool) -> str:
    on, off = ("\x1b[1;33m", "\x1b[0m") if tty else ("【", "】")
    text = fragment.replace("<mark>", "\0").replace("</mark>", "\1")
    return html.unescape(text).replace("\0", on).replace("\1", off)


def cmd_index(args) -> int:
    from .indexing import build_index, print_progress
    progress = None if args.quiet or args.json or not sys.stderr.isatty() else print_progress
    report = build_index(args.sources, args.index, progress=progress)
    if progress:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.summary(), file=sys.stderr if report.skipped else sys.stdout)
    return 0 if report.ok else EXIT_SKIPPED


def cmd_query(args) -> int:
    from .querying import open_index
    filters: dict[str, list[str]] = {}
    for item in args.filter:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"--filter takes FACET=VALUE, not {item!r}", file=sys.stderr)
            return 2
        filters.setdefault(name.strip(), []).append(value.strip())
    res = open_index(args.index).search(
        args.text, city=args.city, year=args.year, filters=filters, sort=args.sort,
        page=args.page, per_page=args.per_page)
    if args.json:
        print(json.dumps(res.to_dict(), ensure_ascii=False, indent=2))
        return 0
    tty = sys.stdout.isatty()
    print(f"{res.total:,} results for {res.query!r} (page {res.page} of {res.pages}, "
          f"{res.elapsed_ms:.0f} ms)")
    for notice in res.notices:
        print(f"  note: {notice}")
    for n, hit in enumerate(res.hits, start=(res.page - 1) * res.per_page + 1):
        meta = " · ".join(x for x in [hit.date or "", "、".join(hit.cities)] if x)
        print(f"\n{n}. {_emphasise(hit.title_html, tty) or hit.id}  [{hit.id}]")
        if meta:
            print(f"   {meta}")
        for frag in hit.snippets:
            print(f"   {_emphasise(frag, tty)}")
    for name in ("city", "year"):
        values = res.facets.get(name) or []
        if values:
            shown = ", ".join(f"{v['value']} ({v['count']})" for v in values[:10])
            print(f"\n{name}: {shown}")
    return 0


def cmd_serve(args) -> int:
    from waitress import serve

    from webui import create_app
    app = create_app(index_dir=args.index)
    print(f"serving http://{args.host}:{args.port}/ (index: {args.index})", flush=True)
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="search")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"index": cmd_index, "query": cmd_query, "serve": cmd_serve}[args.command](args)
    except SearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        from .errors import QueryError
        return 2 if isinstance(exc, QueryError) else 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
