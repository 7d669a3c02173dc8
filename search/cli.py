"""The command line ``zhsearch`` (also ``python -m search``): a thin shell over the library.

    python -m search index [SOURCE ...] [--index DIR] [--full] [--allow-empty] [--force]
                       [--follow-links] [--wait S] [--json] [--quiet]
    python -m search add FILE|DIR|- ... [--index DIR] [--follow-links] [--wait S]
    python -m search delete ID ... [--index DIR] [--wait S]
    python -m search merge [--all] [--index DIR] [--wait S]
    python -m search query TEXT [--index DIR] [--city C] [--year Y] [--filter FIELD=VALUE]
                       [--sort relevance|newest|oldest] [--page N] [--per-page N]
                       [--script orig|simp|trad] [--json]
    python -m search serve [--index [NAME=]DIR ...] [--indexes FOLDER] [--default NAME]
                       [--host H] [--port P] [--processes N] [--threads N]
                       [--header-timeout S] [--body-timeout S] [--send-timeout S]
                       [--access-log [FILE]]
    python -m search explain TEXT [--index DIR] [--doc ID] [--json]
    python -m search check [--index DIR] [--json]

``index`` updates the live index from its sources (only the files that
changed are read; ``--full`` rebuilds it from scratch).  Exit status of
``index``: 0 when every document was indexed, 3 when the index was built or
updated but some files or lines were skipped (listed on stderr), 1 when
nothing could be done or it was refused (then the live index, if any, is
untouched): its sources all do not exist, they hold no document (an update
empties the index only with ``--allow-empty``), or a build would hold fewer
than half the live index's documents, an update delete more than half of
them, without ``--force``.  ``add`` exits 3 when a file or line was skipped,
``delete`` when an id was not in the index; ``index``, ``add``, ``delete``
and ``merge`` exit 1 when another writer holds the index longer than
``--wait`` seconds.  ``query`` exits 2 on a bad query
(including arguments that are not valid UTF-8), 1 without an index or with a
damaged one.  ``check`` exits 0 when the index is sound, 1 when it is damaged
(what is wrong and how to repair it on stderr).  Errors are one line on
stderr, never a traceback.

This docstring is for developers; ``--help`` is written for users in
``_parser`` (its program name is what the user typed: ``zhsearch``, or
``python -m search`` under ``-m``), ``--version`` prints ``zhsearch X.Y.Z``.
``index`` with no SOURCE reads ``./seeds`` when there is one (the checkout's
example documents), else it says what to pass (exit 2).  A long build draws
a progress bar per phase on stderr (tqdm) when stderr is a terminal, unless
``--quiet``.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys

from .about import COMMAND, __version__
from .errors import SearchError

EXIT_SKIPPED = 3
EXIT_USAGE = 2
DEFAULT_INDEX = os.environ.get("SEARCH_INDEX", "index")
INDEX_HELP = (f"the index folder (default: {DEFAULT_INDEX}"
              + (", from $SEARCH_INDEX)" if os.environ.get("SEARCH_INDEX") else
                 "; $SEARCH_INDEX changes it)"))
# The folder ``index`` reads when given no source, if the current folder has it.
SEEDS = "seeds"


class _HelpFormatter(argparse.HelpFormatter):
    """Options' help with their defaults (unless the help tells it already);
    a text of several lines (the examples) as written, one line wrapped."""

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text or action.default in (None, False, [], argparse.SUPPRESS)
                or not action.option_strings):
            return text
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


class _Commands:
    """The subcommands' parsers: each described by its one-line help, its
    options' help with their defaults."""

    def __init__(self, action):
        self.action = action

    def add_parser(self, name: str, *, help: str, **kwargs) -> argparse.ArgumentParser:
        kwargs.setdefault("description", help[0].upper() + help[1:] + ".")
        return self.action.add_parser(name, help=help, formatter_class=_HelpFormatter,
                                      **kwargs)


def _program() -> str:
    """The program's name as the user typed it: ``zhsearch``, or ``python -m search``."""
    if os.path.basename(sys.argv[0]) in ("__main__.py", "-m"):
        typed = getattr(sys, "orig_argv", None) or [sys.executable]
        return f"{os.path.basename(typed[0])} -m search"
    return os.path.basename(sys.argv[0]) or COMMAND


def _examples(prog: str) -> str:
    return f"""\
examples:
  # index a folder and a JSON-lines file (run again, it reads only what changed)
  {prog} index docs/ more.jsonl --index ~/zh-index
  # search it, in simplified or traditional script
  {prog} query 洛陽 --index ~/zh-index
  # its web UI and JSON API on http://127.0.0.1:8000/
  {prog} serve --index ~/zh-index --port 8000
  # a command's options and their defaults
  {prog} index --help

exit status: 0 done, 1 failed or refused (the index unchanged), 2 a bad command
line or query, 3 done but some files were skipped (listed on stderr)"""


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    prog = prog or _program()
    p = argparse.ArgumentParser(
        prog=prog, formatter_class=_HelpFormatter, epilog=_examples(prog),
        description="Full-text search for Chinese documents that mix simplified and "
                    "traditional script: build an index, query it, serve its web UI.")
    p.add_argument("--version", action="version", version=f"{COMMAND} {__version__}")
    sub = _Commands(p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     title="commands"))

    ix = sub.add_parser("index", help="build the index from folders and JSON-lines files, "
                        "or update it (only what changed; --full rebuilds it)")
    ix.add_argument("sources", nargs="*", metavar="SOURCE",
                    help="folders of files (.txt, .md, .html, .docx, .pdf), .jsonl[.gz] "
                         f"files (default: ./{SEEDS} when there is one here)")
    ix.add_argument("--index", default=DEFAULT_INDEX, metavar="DIR", help=INDEX_HELP)
    ix.add_argument("--full", action="store_true",
                    help="rebuild the index from scratch instead of updating it")
    ix.add_argument("--allow-empty", action="store_true",
                    help="let an update whose sources hold no document empty the index "
                         "(refused otherwise)")
    ix.add_argument("--json", action="store_true", help="print the report as JSON")
    ix.add_argument("--quiet", action="store_true",
                    help="no progress bar (drawn on stderr when it is a terminal)")
    ix.add_argument("--force", action="store_true",
                    help="make a build live even when it holds no document or fewer than "
                         "half the live index's, apply an update that deletes more than "
                         "half of it (refused otherwise)")
    _add_follow_links(ix)
    _add_wait(ix)

    a = sub.add_parser("add", help="add documents to the index (an id it holds already "
                       "is replaced)")
    a.add_argument("sources", nargs="+", metavar="FILE|DIR|-",
                   help="text or JSON-lines files, folders (read as `index` reads them), "
                        "or - for JSON lines on stdin (each with an \"id\")")
    a.add_argument("--index", default=DEFAULT_INDEX, metavar="DIR", help=INDEX_HELP)
    _add_follow_links(a)
    _add_wait(a)

    d = sub.add_parser("delete", help="delete documents from the index by id")
    d.add_argument("ids", nargs="+", metavar="ID", help="the documents' ids")
    d.add_argument("--index", default=DEFAULT_INDEX, metavar="DIR", help=INDEX_HELP)
    _add_wait(d)

    m = sub.add_parser("merge", help="merge the index's segments now, as the merge policy "
                       "says (--all: into one)")
    m.add_argument("--all", action="store_true", help="merge all segments into one")
    m.add_argument("--index", default=DEFAULT_INDEX, metavar="DIR", help=INDEX_HELP)
    _add_wait(m)

    q = sub.add_parser("query", help="search the index and print the results")
    q.add_argument("text", nargs="?", default="",
                   help='words, "exact phrases", -excluded (none: every document)')
    q.add_argument("--index", default=DEFAULT_INDEX, metavar="DIR", help=INDEX_HELP)
    q.add_argument("--city", action="append", help="only these cities (repeatable)")
    q.add_argument("--year", action="append", help="only these years or months (2014, 2014-09)")
    q.add_argument("--filter", action="append", default=[], metavar="FACET=VALUE",
                   help="any facet of the index, e.g. author=李白 (repeatable)")
    q.add_argument("--sort", default="relevance", choices=["relevance", "newest", "oldest"],
                   help="the results' order")
    q.add_argument("--page", type=int, default=1, metavar="N", help="the page of results to print")
    q.add_argument("--per-page", type=int, default=10, metavar="N", help="results per page")
    q.add_argument("--json", action="store_true", help="print one JSON object")
    q.add_argument("--verbatim", action="store_true",
                   help="search exactly the text given: a query that finds nothing is not "
                        "answered by its completion or pinyin reading (luoy → 洛阳)")
    q.add_argument("--script", default="orig", choices=["orig", "simp", "trad"],
                   help="show titles and snippets in their own script (default), "
                        "simplified or traditional")

    e = sub.add_parser("explain", help="show what the engine makes of a query "
                       "(normalisation, words, pinyin, expansions, the Whoosh query)")
    e.add_argument("text", help="the query, as for `query`")
    e.add_argument("--index", default=DEFAULT_INDEX, metavar="DIR", help=INDEX_HELP)
    e.add_argument("--doc", metavar="ID", help="also say why this document matches or not")
    e.add_argument("--json", action="store_true", help="print one JSON object")

    c = sub.add_parser("check", help="verify the whole live index: its manifest, every "
                       "file's checksum, every term's postings and stored document")
    c.add_argument("--index", default=DEFAULT_INDEX, metavar="DIR", help=INDEX_HELP)
    c.add_argument("--json", action="store_true", help="print the report as one JSON object")

    s = sub.add_parser("serve", help="serve the web UI with the production server")
    s.add_argument("--index", action="append", default=None, metavar="[NAME=]DIR",
                   help="the index to serve (default: $SEARCH_INDEX or index); repeatable: "
                        "each NAME=DIR is a collection under /NAME/ (webui.collections)")
    s.add_argument("--indexes", metavar="FOLDER",
                   help="serve each index in FOLDER as a collection named after its subfolder "
                        "(subfolders that are not indexes are skipped, and said)")
    s.add_argument("--default", metavar="NAME",
                   help="the collection also served at / (default: the first)")
    s.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"),
                   help="address to listen on (default: $HOST or 127.0.0.1, this machine "
                   "only; 0.0.0.0 for every address)")
    s.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)),
                   help="port to listen on (default: $PORT or 8000; 0 takes any free port, "
                   "and the first line says which)")
    s.add_argument("--threads", type=int, default=int(os.environ.get("THREADS") or 1),
                   help="threads per process (default 1: each process answers one request "
                        "at a time, the fastest for Python; more keep connections alive)")
    s.add_argument("--processes", type=int, default=None,
                   help="worker processes sharing the port (default: $PROCESSES, else the "
                        "usable cores, at most 4): Python runs one thread at a time per process")
    s.add_argument("--hide-facet", action="append", default=[], metavar="NAME",
                   help="do not list the facet NAME beside the results (repeatable; "
                        "also $SEARCH_HIDE_FACETS=a,b): a field that means little here")
    s.add_argument("--header-timeout", type=_seconds, default=10.0, metavar="S",
                   help="a request's line and headers must arrive within S seconds, "
                        "else 408 (default 10)")
    s.add_argument("--body-timeout", type=_seconds, default=10.0, metavar="S",
                   help="a request's body must arrive within S seconds of its headers "
                        "(default 10)")
    s.add_argument("--send-timeout", type=_seconds, default=30.0, metavar="S",
                   help="a client that takes no byte of its answer for S seconds is "
                        "disconnected (default 30)")
    s.add_argument("--access-log", nargs="?", const="-", metavar="FILE",
                   default=os.environ.get("SEARCH_ACCESS_LOG") or None,
                   help="log every request (Apache's combined format and the seconds it "
                        "took) to stderr, or appended to FILE (also $SEARCH_ACCESS_LOG=-|FILE; "
                        "default: off)")
    s.add_argument("--api-key-file", metavar="FILE",
                   help="turn on the write API (PUT/DELETE/POST /api/documents) with the key "
                        "in FILE (else $SEARCH_API_KEY or $SEARCH_API_KEY_FILE; none: off)")
    s.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="let pages of ORIGIN (https://host[:port], or *) call /api/* and "
                        "read /openapi.json (repeatable; also $SEARCH_CORS_ORIGINS; none: off)")
    return p


def _add_follow_links(parser) -> None:
    parser.add_argument("--follow-links", action="store_true",
                        help="follow symbolic links that lead outside a source folder "
                             "(not followed otherwise)")


def _add_wait(parser) -> None:
    from .store.writing import DEFAULT_WAIT
    parser.add_argument("--wait", type=_wait_seconds, default=DEFAULT_WAIT, metavar="S",
                        help="wait up to S seconds for another writer of the index (a build, "
                             f"change or merge) to finish (default {DEFAULT_WAIT:g})")


def _wait_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 3600")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 3600")
    return value


_LINE_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]\s*")


def one_line(text: str) -> str:
    """``text`` on one line: each run of line breaks (and the spaces around it) one space."""
    return _LINE_BREAKS.sub(" ", text).strip()


def _emphasise(fragment: str, tty: bool) -> str:
    on, off = ("\x1b[1;33m", "\x1b[0m") if tty else ("【", "】")
    text = fragment.replace("<mark>", "\0").replace("</mark>", "\1")
    return one_line(html.unescape(text)).replace("\0", on).replace("\1", off)


def _results(count: int) -> str:
    return f"{count:,} result" + ("" if count == 1 else "s")


class ProgressBars:
    """A build's progress (``search.store.progress``) drawn on ``stream`` with
    tqdm: one bar per phase, with its total, percentage, rate and time left.
    The long phase (``reading``) is drawn at once, with its total; another
    phase over within ``delay`` seconds draws nothing."""

    delay = 0.5

    def __init__(self, stream):
        self.stream = stream
        self.phase: str | None = None
        self.bar = None

    def __call__(self, event) -> None:
        from tqdm import tqdm
        if event.phase != self.phase:
            self.close()
            self.phase = event.phase
            shape = {"bytes": dict(unit="B", unit_scale=True, unit_divisor=1024),
                     "steps": dict(bar_format="{desc}: {elapsed}")}.get(
                         event.unit, dict(unit=" " + event.unit))
            self.bar = tqdm(total=event.total, desc=f"  {event.label}", file=self.stream,
                            delay=0 if event.phase == "reading" else self.delay,
                            leave=True, dynamic_ncols=True, **shape)
        if event.total != self.bar.total:
            self.bar.total = event.total
        self.bar.update(event.done - self.bar.n)

    def close(self) -> None:
        """End the bar of the phase under way."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.phase = None


def cmd_index(args) -> int:
    from .store.build import BuildRefused
    from .store.update import UpdateRefused, update_index
    if not args.sources:
        if not os.path.isdir(SEEDS):
            where = _printable(args.index) if args.index != DEFAULT_INDEX else "DIR"
            print(f"error: no folder or file to index: name them, as in "
                  f"`{args.prog} index FOLDER ... --index {where}` (given none, `index` "
                  f"reads ./{SEEDS}, and there is none here)", file=sys.stderr)
            return EXIT_USAGE
        args.sources = [SEEDS]
    missing = [s for s in args.sources if not os.path.exists(s)]
    if args.sources and len(missing) == len(args.sources):
        print(f"error: no such file or folder: {', '.join(map(_printable, missing))}; "
              f"nothing was indexed and the index at {_printable(args.index)} is unchanged",
              file=sys.stderr)
        return 1
    progress = None if args.quiet or not sys.stderr.isatty() else ProgressBars(sys.stderr)
    try:
        report = update_index(args.sources, args.index, full=args.full,
                              allow_empty=args.allow_empty, force=args.force,
                              follow_links=args.follow_links, wait=args.wait,
                              progress=progress)
    except (BuildRefused, UpdateRefused) as exc:
        report = exc.report
    finally:
        if progress:
            progress.close()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.summary(), file=sys.stderr if report.skipped or report.refused
              else sys.stdout)
    if report.refused:
        # Last, so that the reason is what a terminal shows after a long listing.
        print(f"error: {report.refused}", file=sys.stderr)
        return 1
    return 0 if report.ok else EXIT_SKIPPED


def cmd_add(args) -> int:
    from .store.update import add_documents
    missing = [s for s in args.sources if s != "-" and not os.path.exists(s)]
    if missing:
        print(f"error: no such file or folder: {', '.join(map(_printable, missing))}; "
              f"nothing was added to the index at {_printable(args.index)}", file=sys.stderr)
        return 1
    change, problems = add_documents(args.sources, args.index, stdin=sys.stdin.buffer,
                                     follow_links=args.follow_links, wait=args.wait)
    skipped = [p for p in problems if p.skipped]
    for problem in problems:
        kind = "skipped" if problem.skipped else "ignored" if problem.ignored else "warning"
        print(f"  {kind} {problem}", file=sys.stderr)
    for problem in change.warnings:
        print(f"  warning {problem}", file=sys.stderr)
    print(change.summary() + (f"; skipped {len(skipped):,}" if skipped else ""),
          file=sys.stderr if skipped else sys.stdout)
    return EXIT_SKIPPED if skipped else 0


def cmd_delete(args) -> int:
    from .store.writing import IndexWriter
    _existing_index(args.index)
    with IndexWriter(args.index, wait=args.wait) as writer:
        for doc_id in args.ids:
            writer.delete(doc_id)
    change = writer.report
    for doc_id in change.not_found:
        print(f"  not found {_printable(doc_id)}: no document with this id", file=sys.stderr)
    print(change.summary(), file=sys.stderr if change.not_found else sys.stdout)
    return EXIT_SKIPPED if change.not_found else 0


def cmd_merge(args) -> int:
    from .store.merging import merge
    _existing_index(args.index)
    print(merge(args.index, everything=args.all, wait=args.wait).summary())
    return 0


def _existing_index(index_dir: str) -> None:
    from .errors import IndexNotFound, no_index_message
    from .store.layout import live_generation
    if live_generation(index_dir) is None:
        raise IndexNotFound(no_index_message(_printable(index_dir)))


def _not_utf8(args) -> str | None:
    """The name of the first argument that was not valid UTF-8 on the command line."""
    values = [("the query", args.text)]
    values += [("--city", v) for v in args.city or []]
    values += [("--year", v) for v in args.year or []]
    values += [("--filter", v) for v in args.filter]
    for name, value in values:
        if value and _printable(value) != value:
            return name
    return None


def _printable(text: str) -> str:
    """Command-line text as the user typed it; bytes that are not UTF-8 as ``\\xff``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def cmd_query(args) -> int:
    from .searcher import open_index
    bad = _not_utf8(args)
    if bad:
        print(f"error: {bad} is not valid UTF-8 text", file=sys.stderr)
        return 2
    filters: dict[str, list[str]] = {}
    for item in args.filter:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"--filter takes FACET=VALUE, not {item!r}", file=sys.stderr)
            return 2
        filters.setdefault(name.strip(), []).append(value.strip())
    res = open_index(args.index).search(
        args.text, city=args.city, year=args.year, filters=filters, sort=args.sort,
        page=args.page, per_page=args.per_page,
        fallback=not args.verbatim).in_script(args.script)
    if args.json:
        print(json.dumps(res.to_dict(), ensure_ascii=False, indent=2))
        return 0
    tty = sys.stdout.isatty()
    held = (f"; {res.total_full:,} hold every word, {res.total_partial:,} some"
            if res.total_full is not None and res.total_partial else "")
    print(f"{_results(res.total)} for {res.query!r} (page {res.page} of {res.pages}, "
          f"{res.elapsed_ms:.0f} ms{held})")
    if res.fell_back:
        print(f"  showing results for {res.shown_for!r}: no document holds all of "
              f"{res.searched_for!r} (--verbatim to search it as it is)")
    for notice in res.notices:
        print(f"  note: {one_line(notice)}")
    for exp in res.expansions:
        if exp["kind"] != "pinyin":      # pinyin is a notice already
            print(f"  also searched: {exp['from']} → {'、'.join(exp['to'])} ({exp['kind']})")
    if res.did_you_mean:
        print(f"  did you mean: {one_line(res.did_you_mean)}")
    if res.alternatives:
        print("  other readings: " + ", ".join(f"{one_line(a['text'])} ({a['count']:,})"
                                               for a in res.alternatives))
    for n, hit in enumerate(res.hits, start=(res.page - 1) * res.per_page + 1):
        meta = one_line(" · ".join(x for x in [hit.date or "", "、".join(hit.cities)] if x))
        print(f"\n{n}. {_emphasise(hit.title_html, tty) or one_line(hit.id)}  "
              f"[{one_line(hit.id)}]")
        if meta:
            print(f"   {meta}")
        for frag in hit.snippets:
            print(f"   {_emphasise(frag, tty)}")
        if hit.missing:
            print(f"   missing: {one_line('、'.join(hit.missing))}")
    from .store.facet_types import BUILTIN_FACETS
    for facet in BUILTIN_FACETS:
        values = [] if facet.nested_in else res.facets.get(facet.name) or []
        if values:
            shown = ", ".join(f"{v['value']} ({v['count']})" for v in values[:10])
            print(f"\n{facet.name}: {shown}")
    return 0


def cmd_explain(args) -> int:
    from .searcher import open_index
    info = open_index(args.index).explain(args.text, doc_id=args.doc)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    p = info["parsed"]
    print(f"query:       {info['query']!r}")
    print(f"normalised:  {info['normalised']!r}")
    print(f"words: {p['words']}  phrases: {p['phrases']}  excluded: {p['excluded']}")
    for word, tokens in info["tokens"].items():
        shown = " ".join(f"{t['word']}@{t['position']}" + ("(sub)" if t["subword"] else "")
                         + ("(stop)" if t["stop"] else "") for t in tokens)
        print(f"tokens of {word!r}: {shown}")
    for text, grams in info["grams"].items():
        print(f"bigrams of {text!r}: {' '.join(grams)}")
    for item in info["pinyin"]:
        if "readings" in item:
            print("pinyin:      " + ", ".join(f"{w} = {r}" for w, r in item["readings"].items()))
        else:
            print(f"pinyin?      {item['token']!r}: key {item['key']!r}, reads as "
                  f"{item['reads_as']}, in the index as typed: {item['in_index_as_typed']}"
                  + (", an English word" if item["english"] else ""))
    for exp in info["expansions"]:
        print(f"expansion:   {exp['kind']} {exp['from']} → {'、'.join(exp['to'])} "
              f"(weights {exp['weights']})")
    if info["did_you_mean"]:
        print(f"did you mean: {one_line(info['did_you_mean'])}")
    print(f"highlight:   {one_line('、'.join(info['highlight']))}")
    print(f"whoosh:      {one_line(str(info['whoosh_query']))}")
    print(f"matches:     {info['matches']:,} document" + ("" if info["matches"] == 1 else "s")
          + ("" if info.get("matches_exact", True) else " (matching was cut short)"))
    for notice in info.get("notices", []):
        print(f"note:        {one_line(notice)}")
    doc = info.get("document")
    if doc:
        if not doc["found"]:
            print(f"document {doc['id']!r}: no such document")
        else:
            print(f"document {doc['id']!r}: {'matches' if doc['matches'] else 'does not match'}"
                  + (f", score {doc['score']}, rank {doc['rank']}" if doc["matches"] else ""))
            for part in doc["parts"]:
                if part["matches"]:
                    print(f"  + {part['score']:>8}  {one_line(str(part['query']))}")
            if not doc.get("parts_complete", True):
                print("  (the breakdown was cut short by the time budget)")
            for phrase in doc["missing_phrases"]:
                print(f"  lacks the required phrase {phrase!r}")
            for phrase in doc["excluded_by"]:
                print(f"  left out: contains the excluded {phrase!r}")
    return 0


def _collections(args):
    """``serve``'s collections and default (``webui.collections``), or None
    for one index served as it always was (a plain ``--index DIR``)."""
    from webui.collections import collections_from, environment_collections, parse_index_option
    indexes, folder = args.index or [], args.indexes
    listed, listed_folder, listed_default = environment_collections()
    default = args.default or listed_default
    if not indexes and not folder:
        indexes, folder = listed, listed_folder
        if not indexes and not folder:
            indexes = [DEFAULT_INDEX]
    if len(indexes) == 1 and not folder and not args.default \
            and parse_index_option(indexes[0])[0] is None:
        args.index = indexes[0]
        return None
    collections, default, skipped = collections_from(indexes, folder, default)
    for name in skipped:
        print(f"note: {_printable(os.path.join(folder, name))} is not an index: not served",
              file=sys.stderr)
    return collections, default


def cmd_serve(args) -> int:
    from webui.serve import metrics_folder
    # Before anything makes an app (checking the collections' names does).
    with metrics_folder():
        return _serve(args)


def _serve(args) -> int:
    from webui.collections import CollectionError
    from webui.cors import cors_origins
    from webui.documents import api_key
    from webui.serve import serve
    try:
        collections, default = _collections(args) or (None, None)
    except CollectionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.api_key_file:
        os.environ["SEARCH_API_KEY_FILE"] = args.api_key_file
    if args.hide_facet:
        # Read by each worker's app (``webui.create_app``).
        hidden = [os.environ.get("SEARCH_HIDE_FACETS", ""), *args.hide_facet]
        os.environ["SEARCH_HIDE_FACETS"] = ",".join(h for h in hidden if h)
    if args.cors_origin:
        # Read by each worker's app (``webui.cors``).
        allowed = [os.environ.get("SEARCH_CORS_ORIGINS", ""), *args.cors_origin]
        os.environ["SEARCH_CORS_ORIGINS"] = " ".join(a for a in allowed if a)
    try:
        # Checked here, before the server starts: each worker would fail on it.
        api_key({})
        cors_origins({})
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return serve(args.index, args.host, args.port, processes=args.processes,
                 threads=args.threads, header_timeout=args.header_timeout,
                 body_timeout=args.body_timeout, send_timeout=args.send_timeout,
                 access_log=args.access_log,
                 collections=collections, default_collection=default)


def cmd_check(args) -> int:
    from .store.integrity import check
    report = check(args.index)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0 if report.sound else 1
    for problem in report.problems:
        print(f"damaged  {problem.file}: {problem.what}")
    for note in report.notes:
        print(f"note     {note}")
    if report.sound:
        print(report.verdict())
        return 0
    sys.stdout.flush()
    print(f"error: {report.verdict()}", file=sys.stderr)
    return 1


# Commands that read an index: an unexpected error there is checked against
# the index's checksums before it is reported.
_READING = ("query", "explain", "check")


def _reading_failed(args, exc: Exception) -> int:
    from .store.integrity import diagnose, reason
    error = diagnose(args.index, exc)
    if error is not None:
        print(f"error: {error}", file=sys.stderr)
    else:
        print(f"error: reading the index at {_printable(args.index)} failed ({reason(exc)}); "
              f"`{args.prog} check --index {_printable(args.index)}` verifies it",
              file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # Whatever a document or a file name holds, printing it never fails.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = _parser()
    args = parser.parse_args(argv)
    args.prog = parser.prog
    try:
        code = {"index": cmd_index, "add": cmd_add, "delete": cmd_delete, "merge": cmd_merge,
                "query": cmd_query, "serve": cmd_serve, "explain": cmd_explain,
                "check": cmd_check}[args.command](args)
        sys.stdout.flush()      # here, where a closed pipe is caught, not at exit
        return code
    except SearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        from .errors import QueryError
        return 2 if isinstance(exc, QueryError) else 1
    except BrokenPipeError:
        # The reader went away (``... | head``): stop quietly, as other tools do.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except OSError as exc:
        # The index folder cannot be created or written, the port is taken ...
        where = f": {_printable(str(exc.filename))}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.command not in _READING:
            raise
        return _reading_failed(args, exc)


if __name__ == "__main__":
    raise SystemExit(main())
