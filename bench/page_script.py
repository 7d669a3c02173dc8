"""What the page in traditional costs: result pages in simplified and in traditional, timed.

    python -m bench.page_script [--index DIR] [--queries N] [--rounds 3]

Over an index (default: the seeds, built into a temporary folder), asks the
search page of the first ``N`` queries of ``bench/queries.jsonl`` through
Flask's test client, once with the page in simplified and once with
``script=trad`` (the library converts the hits, ``webui.page_script`` the
rest of the page), and prints the median time of each, and the time of
``convert_page`` alone on the traditional pages, first with the kept
conversions of labels cleared and then with them.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bench.queries import load_queries
from bench.run import DEFAULT_QUERIES

REPO = Path(__file__).resolve().parent.parent


def _median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", help="an index (default: the seeds, built for this run)")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from webui import create_app
    from webui import page_script

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = args.index
        if index_dir is None:
            from search import build_index
            index_dir = str(Path(tmp) / "index")
            build_index([str(REPO / "seeds")], index_dir)
        client = create_app(index_dir=index_dir, config={"TESTING": True}).test_client()
        queries = [q["q"] if isinstance(q, dict) else q
                   for q in load_queries(DEFAULT_QUERIES)][:args.queries]
        urls = [f"/?q={quote(q)}" for q in queries]
        client.get(urls[0])                      # open the index, warm the caches
        timings: dict[str, list[float]] = {"simp": [], "trad": []}
        pages: list[str] = []
        for _ in range(args.rounds):
            for url in urls:
                for script, suffix in (("simp", ""), ("trad", "&script=trad")):
                    start = time.perf_counter()
                    resp = client.get(url + suffix)
                    timings[script].append(time.perf_counter() - start)
                    if script == "trad" and len(pages) < len(urls):
                        pages.append(resp.get_data(as_text=True))
        # convert_page alone, on pages already traditional: the same work as on the way out.
        cold, warm = [], []
        for html in pages:
            page_script._KEPT.clear()
            start = time.perf_counter()
            page_script.convert_page(html)
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            page_script.convert_page(html)
            warm.append(time.perf_counter() - start)
    print(f"{len(urls)} queries x {args.rounds} rounds, index {index_dir if args.index else 'seeds'}")
    print(f"page, simplified:          median {_median_ms(timings['simp']):6.2f} ms")
    print(f"page, traditional:         median {_median_ms(timings['trad']):6.2f} ms")
    print(f"convert_page, cold labels: median {_median_ms(cold):6.2f} ms  "
          f"(page of {statistics.median(len(p) for p in pages):,.0f} characters)")
    print(f"convert_page, kept labels: median {_median_ms(warm):6.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
