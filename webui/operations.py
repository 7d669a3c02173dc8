"""What an operator asks of the running server: is it alive, is it ready,
what does it serve, how is it doing.

``GET /healthz``     liveness: ``{"status": "ok"}`` (200) from any process that
                     answers; it never reads the index, so it answers without one
``GET /readyz``      readiness: 200 ``{"status": "ready", ...}`` when the index
                     opens, else 503 with the app's JSON error (``no_index``,
                     ``index_damaged_file`` ...): take the server out of a load
                     balancer's rotation until it is built or repaired
``GET /api/status``  what is served: the index's documents, segments,
                     generation and the time of its last build and update (from
                     its ``build.json``), the segmenter, the package version,
                     the index path and the server's uptime; no index: the
                     app's 503 JSON (``no_index``)
``GET /metrics``     Prometheus' text format (``prometheus-client``)

Metrics: ``search_http_requests_total{route, method, status}`` and
``search_http_request_duration_seconds{route}`` (a histogram), by the URL
rule a request matched (``/doc/<path:doc_id>``; ``(unmatched)`` for none), so
their number stays bounded whatever is requested; ``search_queries_total``
and ``search_query_budget_exhausted_total`` (searches whose results the time
budget cut short: ``SearchResults.partial`` or not ``total_exact``); and,
read from the live index when scraped, ``search_index_up``,
``search_index_documents``, ``search_index_segments``,
``search_index_deleted_documents``, ``search_index_generation_timestamp_seconds``
(when the live generation was made: it changes with every build and update)
and ``search_info{version, segmenter, generation}``.

Under gunicorn (``webui.serve``) each worker process counts its own requests
in files of ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess
mode), and ``/metrics`` answers the sum over all of them, whichever process
is asked.  Without it (Flask's test client, ``flask run``) ``/metrics`` is
this process's own counts.

``prometheus_client`` chooses its multiprocess mode when it is imported, so
this module is imported by ``create_app`` (in each worker), never before
``webui.serve`` has set the folder.
"""

from __future__ import annotations

import calendar
import os
import re
import time

from flask import Blueprint, Response, current_app, g, jsonify, request
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.exposition import choose_encoder
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from search import IndexDamaged, IndexNotFound
from search.about import __version__

operations = Blueprint("operations", __name__)

# The ``*_created`` series (when each counter was made) say nothing here, and
# the multiprocess mode has none: one process answers as many do.
disable_created_metrics()

# Created unregistered: each scrape puts them (or, under gunicorn, the sum
# of every process's files) in a registry of its own.
REQUESTS = Counter("search_http_requests_total", "HTTP requests answered by the app",
                   ["route", "method", "status"], registry=None)
LATENCY = Histogram("search_http_request_duration_seconds",
                    "Time the app took to answer a request", ["route"], registry=None,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
QUERIES = Counter("search_queries_total", "Searches run (pages and /api/search)",
                  registry=None)
BUDGET_EXHAUSTED = Counter(
    "search_query_budget_exhausted_total",
    "Searches whose results the time budget (SEARCH_TIME_BUDGET) cut short", registry=None)

UNMATCHED = "(unmatched)"
# Any other method a client sends is counted as one, so that it cannot grow the labels.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
NO_STORE = {"Cache-Control": "no-store"}
_GENERATION_TIME = re.compile(r"^gen-(\d{8}T\d{6})(?:\.(\d{6}))?")


def register_operations(app) -> None:
    """The routes above and the request hooks that count every request.

    Called before the app's other hooks, so that the clock starts before
    them and the count is taken after them (Flask runs ``after_request``
    hooks last-registered first)."""
    app.config.setdefault("SEARCH_STARTED_AT", time.time())
    app.register_blueprint(operations)

    @app.before_request
    def start_clock():
        g.request_started = time.perf_counter()

    @app.after_request
    def count_request(response):
        rule = request.url_rule
        # Under a collection's prefix (webui.collections) the route is that
        # collection's: one series per collection and rule, still bounded.
        route = request.script_root + rule.rule if rule is not None else UNMATCHED
        method = request.method if request.method in METHODS else "OTHER"
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        started = g.get("request_started")
        if started is not None:
            LATENCY.labels(route).observe(time.perf_counter() - started)
        return response


def count_search(results) -> None:
    """Count a search of the web app, and whether its time budget ran out."""
    QUERIES.inc()
    if results.partial or not results.total_exact:
        BUDGET_EXHAUSTED.inc()


@operations.get("/healthz")
def healthz():
    return jsonify(status="ok"), 200, NO_STORE


@operations.get("/readyz")
def readyz():
    from . import get_index
    from .messages import describe
    from .page_script import in_page_script
    try:
        stats = get_index().stats()
    except (IndexNotFound, IndexDamaged) as exc:
        # The app's JSON error (the address is not under /api/, whose errors are JSON).
        body = describe(exc, 503).to_dict()
        body["message"] = in_page_script(body["message"])
        return jsonify(status="unavailable", **body), 503, NO_STORE
    return jsonify(status="ready", documents=stats["documents"],
                   generation=stats["generation"]), 200, NO_STORE


@operations.get("/api/status")
def status():
    from . import get_index
    ix = get_index()
    stats = ix.stats()
    started = current_app.config["SEARCH_STARTED_AT"]
    return jsonify({
        "status": "ok",
        "index": os.path.abspath(current_app.config["SEARCH_INDEX"]),
        "documents": stats["documents"],
        "segments": stats["segments"],
        "deleted": stats["deleted"],
        "generation": stats["generation"],
        "built_at": stats["built_at"],
        "updated_at": stats["updated_at"],
        "segmenter": _segmenter(),
        "index_segmenter": ix._current().manifest.get("segmenter"),
        "version": package_version(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "uptime_seconds": round(time.time() - started, 3),
        "pid": os.getpid(),
    })


@operations.get("/metrics")
def metrics():
    registry = CollectorRegistry(auto_describe=True)
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and os.path.isdir(folder):
        MultiProcessCollector(registry, path=folder)
    else:
        for metric in (REQUESTS, LATENCY, QUERIES, BUDGET_EXHAUSTED):
            registry.register(metric)
    registry.register(_IndexCollector(_index_stats()))
    # The format the scraper asks for: Prometheus' text, or OpenMetrics.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encode(registry), 200, {"Content-Type": content_type, **NO_STORE})


def _index_stats() -> dict | None:
    from . import get_index
    try:
        return get_index().stats()
    except (IndexNotFound, IndexDamaged):
        return None
    except Exception:   # noqa: BLE001 - a scrape reports the index down, it does not fail
        current_app.logger.exception("reading the index for /metrics failed")
        return None


class _IndexCollector:
    """The live index's gauges, read when scraped (the same in every process)."""

    def __init__(self, stats: dict | None):
        self.stats = stats

    def collect(self):
        up = GaugeMetricFamily("search_index_up", "1 when the index opens, 0 when it is "
                               "missing or damaged")
        up.add_metric([], 1 if self.stats else 0)
        yield up
        info = GaugeMetricFamily("search_info", "The server's version and segmenter, the "
                                 "index's generation", labels=["version", "segmenter",
                                                               "generation"])
        info.add_metric([package_version(), _segmenter(),
                         self.stats["generation"] if self.stats else ""], 1)
        yield info
        if not self.stats:
            return
        for name, key, text in (
                ("search_index_documents", "documents", "Documents in the live index"),
                ("search_index_segments", "segments", "Segments of the live index"),
                ("search_index_deleted_documents", "deleted",
                 "Deleted documents not yet merged away")):
            family = GaugeMetricFamily(name, text)
            family.add_metric([], self.stats[key])
            yield family
        made = generation_time(self.stats["generation"])
        if made is not None:
            family = GaugeMetricFamily(
                "search_index_generation_timestamp_seconds",
                "When the live generation was made (Unix time): each build and update "
                "makes a new one")
            family.add_metric([], made)
            yield family


def generation_time(name: str) -> float | None:
    """The Unix time a generation was made, from its name (``gen-20261122T101500.123456-…``,
    UTC: ``search.store.layout.new_generation_name``)."""
    m = _GENERATION_TIME.match(name or "")
    if not m:
        return None
    seconds = calendar.timegm(time.strptime(m.group(1), "%Y%m%dT%H%M%S"))
    return seconds + int(m.group(2) or 0) / 1e6


def _segmenter() -> str:
    from search.text.segment import segmenter
    return segmenter()


def package_version() -> str:
    # The one version of the code running (``search.about``), not what pip
    # recorded: a checkout's code may be ahead of its installation's record.
    return __version__
