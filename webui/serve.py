"""The production server of the web UI (``python -m search serve``): gunicorn's
pre-forked worker processes, each running ``HoldingWorker``, a worker kind that
holds against slow clients.

gunicorn's own workers give a connection a whole worker (``sync``) or a whole
thread (``gthread``) as soon as its first byte arrives, and then wait on the
socket without a deadline: a few clients that send their request a byte at a
time, or that do not read a large answer, hold every worker.  ``HoldingWorker``
(a ``gthread`` worker) keeps every connection in its event loop, without
blocking, until the whole request head (and a small body) has arrived, and
sends the answer from its event loop as the client takes it; a request only
takes a thread (or, with one thread, the process) while the application runs.
A slow socket costs a buffer, not a worker.  Its limits:

* ``header_timeout``: a request head (request line and headers) must arrive
  within this many seconds of the connection (of its first byte on a kept-alive
  connection); else ``408`` and the connection is closed;
* ``max_head``: header fields larger than this in all are ``431``, a request
  line over gunicorn's ``limit_request_line`` (8,190 bytes) ``414``, both told
  as soon as the limit is passed; gunicorn's limits on each header field
  still apply;
* ``body_timeout``: a request body must arrive within this many seconds of its
  head; a body over ``max_buffered_body`` (1 MiB) is ``413``, except a
  request of the write API with a bearer key (``webui.documents``), up to
  ``SEARCH_API_MAX_BYTES``; a chunked body is ``411`` (it could only be read by a
  thread, which a slow client would hold);
* ``send_timeout``: a client that takes no byte of its answer for this many
  seconds is disconnected.

The server also makes a folder for the workers' metrics (prometheus-client's
``PROMETHEUS_MULTIPROC_DIR``: ``webui.operations``), removed when it stops,
and writes an access log only when asked (``access_log``).

With one thread (the default) a process runs each request in its event loop,
one at a time, which is what Python runs fastest for CPU-bound work, and
closes the connection after each answer, as gunicorn's ``sync`` worker does,
so that the next request goes to whichever process is free.  With
``--threads N`` requests run in N threads and connections are kept alive.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time
from concurrent import futures
from functools import partial

from gunicorn.workers.gthread import ThreadWorker, TConn

from search.errors import index_command

from . import SECURITY_HEADERS

HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
SEND_TIMEOUT = 30.0
MAX_HEAD = 64 * 1024
MAX_BUFFERED_BODY = 1024 * 1024
# After a "Connection: close" answer the socket is half-closed and read until
# the client closes, at most this long, so that the kernel does not reset it
# (and cut the end of the answer) over request bytes left unread.
LINGER = 2.0

_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.I | re.M)
_TRANSFER_ENCODING = re.compile(rb"^transfer-encoding[ \t]*:", re.I | re.M)
# The write API's requests (webui.documents) may bring a larger body: only
# with a bearer key, so an anonymous slow client cannot make the server hold it.
# (Also a collection's, under its prefix: webui.collections.)
_WRITE_REQUEST = re.compile(rb"\A(?:PUT|POST) (?:/[A-Za-z0-9_-]+)?/api/documents[/? ]")
_AUTHORIZATION = re.compile(rb"^authorization[ \t]*:[ \t]*bearer[ \t]+\S", re.I | re.M)


def _write_body_limit() -> int:
    """The write API's body limit (``SEARCH_API_MAX_BYTES``, 16 MiB), 0 while it is off."""
    if not (os.environ.get("SEARCH_API_KEY") or os.environ.get("SEARCH_API_KEY_FILE")):
        return 0
    try:
        limit = int(os.environ.get("SEARCH_API_MAX_BYTES") or 16 * 1024 * 1024)
    except ValueError:
        limit = 16 * 1024 * 1024
    return max(limit, 0)


def _plain_response(status: str, text: str) -> bytes:
    # The answers the server gives before the app carry the app's headers too.
    body = (text + "\n").encode("utf-8")
    headers = "".join(f"{name}: {value}\r\n" for name, value in SECURITY_HEADERS.items())
    return (f"HTTP/1.1 {status}\r\nConnection: close\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            f"Cache-Control: no-store\r\n{headers}\r\n").encode("ascii") + body


REQUEST_TIMEOUT = _plain_response(
    "408 Request Timeout", "The request took too long to arrive: send it again, at once.")
URI_TOO_LONG = _plain_response(
    "414 URI Too Long", "The request line is longer than 8,190 bytes: shorten the query.")
HEAD_TOO_LARGE = _plain_response(
    "431 Request Header Fields Too Large",
    f"The request headers are larger than {MAX_HEAD // 1024} KiB: send fewer or shorter ones.")
LENGTH_REQUIRED = _plain_response(
    "411 Length Required", "A request body needs a Content-Length here.")
BODY_TOO_LARGE = _plain_response(
    "413 Content Too Large", "A request body here is at most 1 MiB, except for the write "
    "API's (PUT or POST /api/documents with its key), up to SEARCH_API_MAX_BYTES.")


class _HeldSocket:
    """A connection's socket as gunicorn's request code sees it: a read waits at
    most ``read_timeout`` (then reads as the end of the connection), and what
    is written goes to ``out``, which the event loop sends as the client
    takes it.  Everything else is the socket's own."""

    def __init__(self, sock: socket.socket, read_timeout: float):
        self.raw = sock
        self.read_timeout = read_timeout
        self.out = bytearray()
        self.sent = 0               # of ``out``, by the event loop
        self.read_timed_out = False

    def setblocking(self, flag):
        # gunicorn makes the socket blocking before reading a request: here
        # that is "blocking with a deadline".
        if flag:
            self.raw.settimeout(self.read_timeout)
        else:
            self.raw.setblocking(False)

    def recv(self, size, *flags):
        try:
            return self.raw.recv(size, *flags)
        except (TimeoutError, BlockingIOError):
            self.read_timed_out = True
            return b""

    def sendall(self, data, *_flags):
        self.out += data

    def send(self, data, *_flags):
        self.out += data
        return len(data)

    def __getattr__(self, name):
        return getattr(self.raw, name)


class HoldingWorker(ThreadWorker):
    """A ``gthread`` worker whose event loop reads request heads and sends
    answers itself, so that a slow client holds no thread (see the module)."""

    header_timeout = HEADER_TIMEOUT
    body_timeout = BODY_TIMEOUT
    send_timeout = SEND_TIMEOUT
    max_head = MAX_HEAD
    max_buffered_body = MAX_BUFFERED_BODY

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.write_body_limit = _write_body_limit()
        # Every connection the event loop holds (reading a head, sending an
        # answer, lingering before close), with the time it must be done by.
        self.deadlines: dict[TConn, float] = {}
        self.watched: set[TConn] = set()

    # -- the event loop's connections -------------------------------------

    def _watch(self, conn, events, callback):
        if conn in self.watched:
            self.poller.modify(conn.sock.raw, events, partial(callback, conn))
        else:
            self.poller.register(conn.sock.raw, events, partial(callback, conn))
            self.watched.add(conn)

    def _unwatch(self, conn):
        if conn in self.watched:
            self.watched.discard(conn)
            try:
                self.poller.unregister(conn.sock.raw)
            except (KeyError, ValueError, OSError):
                pass

    def _close(self, conn):
        self._unwatch(conn)
        self.deadlines.pop(conn, None)
        self.nr_conns -= 1
        try:
            conn.sock.raw.close()
        except OSError:
            pass

    def _say_and_close(self, conn, response: bytes):
        """Best effort, without waiting: the client is misbehaving already."""
        try:
            conn.sock.raw.send(response)
        except OSError:
            pass
        self._linger(conn)

    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, _HeldSocket(client_sock, self.body_timeout),
                     client_addr, listener.getsockname())
        conn.head = bytearray()
        conn.keep = False
        self._await_head(conn, time.monotonic() + self.header_timeout, idle=False)

    def _await_head(self, conn, deadline, idle):
        # ``idle``: a kept-alive connection between requests, which may stay
        # quiet for ``keepalive`` seconds; its head is timed from its first byte.
        conn.stage, conn.idle = "head", idle
        conn.body_timed = False
        self.deadlines[conn] = deadline
        self._watch(conn, selectors.EVENT_READ, self._on_head_bytes)
        if conn.head:
            # Pipelined requests: from the event loop, not from here, so that
            # a long pipeline is a loop, not a recursion.
            self.method_queue.defer(self._head_complete, conn)

    def _on_head_bytes(self, conn, _fileobj):
        try:
            data = conn.sock.raw.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        if not data:
            self._close(conn)
            return
        if conn.idle:
            conn.idle = False
            self.deadlines[conn] = time.monotonic() + self.header_timeout
        conn.head += data
        self._head_complete(conn)

    def _head_complete(self, conn) -> bool:
        """Hand the request to the application once its head (and body) are
        here; answer it here if it is too large.  True if no longer waiting."""
        if conn.stage != "head" or conn not in self.deadlines:
            return True         # closed meanwhile
        head = conn.head
        # Empty lines before a request line are allowed (RFC 9112 2.2).
        start = len(head) - len(head.lstrip(b"\r\n"))
        end = head.find(b"\r\n\r\n", start)
        if end < 0:
            end = head.find(b"\n\n", start)     # the parser decides what to make of it
            end = end + 2 if end >= 0 else -1
        else:
            end += 4
        # The request line has gunicorn's limit (414), the header fields ours
        # (431): told as soon as they are past it, not at the end of the head.
        line_end = head.find(b"\n", start)
        line_length = (line_end if line_end >= 0 else len(head)) - start
        if line_length > self.cfg.limit_request_line + 1 > 1:
            self._say_and_close(conn, URI_TOO_LONG)
            return True
        fields_length = (end if end >= 0 else len(head)) - start - line_length
        if fields_length > self.max_head:
            self._say_and_close(conn, HEAD_TOO_LARGE)
            return True
        if end < 0:
            return False
        request_head = bytes(head[start:end])
        if _TRANSFER_ENCODING.search(request_head):
            # A chunked body could only be read by a thread, which a client
            # sending it slowly would hold: refused (RFC 9110 15.5.12).
            self._say_and_close(conn, LENGTH_REQUIRED)
            return True
        # The body, if any, is buffered here too, so that the request's thread
        # never waits on the client (conflicting lengths: the parser's 400).
        length = max((int(n) for n in _CONTENT_LENGTH.findall(request_head)), default=0)
        limit = self.max_buffered_body
        if length > limit and _WRITE_REQUEST.match(request_head) \
                and _AUTHORIZATION.search(request_head):
            limit = max(limit, self.write_body_limit)
        if length > limit:
            self._say_and_close(conn, BODY_TOO_LARGE)
            return True
        if len(head) < end + length:
            if not conn.body_timed:
                conn.body_timed = True
                self.deadlines[conn] = time.monotonic() + self.body_timeout
            return False
        self._unwatch(conn)
        self.deadlines.pop(conn, None)
        self.enqueue_req(conn)
        return True

    def _flush(self, conn, _fileobj=None):
        sock = conn.sock
        view = memoryview(sock.out)
        try:
            while sock.sent < len(sock.out):
                try:
                    sock.sent += sock.raw.send(view[sock.sent:])
                except (BlockingIOError, InterruptedError):
                    # The client has not taken it yet: wait for it here, with
                    # no thread held, at most ``send_timeout`` without progress.
                    conn.stage = "send"
                    self.deadlines[conn] = time.monotonic() + self.send_timeout
                    self._watch(conn, selectors.EVENT_WRITE, self._flush)
                    return
                except OSError:
                    self._close(conn)
                    return
        finally:
            view.release()
        sock.out.clear()
        sock.sent = 0
        if conn.keep and self.alive:
            # The client may have sent its next request already (pipelined
            # behind this one): that is the start of the next head.
            conn.head = bytearray(conn.parser.unreader.take_buffered())
            deadline = time.monotonic() + (self.header_timeout if conn.head
                                           else self.cfg.keepalive)
            self._await_head(conn, deadline, idle=not conn.head)
        else:
            self._linger(conn)

    def _linger(self, conn):
        conn.stage = "linger"
        self.deadlines[conn] = time.monotonic() + LINGER
        try:
            conn.sock.raw.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        self._watch(conn, selectors.EVENT_READ, self._on_linger_bytes)

    def _on_linger_bytes(self, conn, _fileobj):
        try:
            if conn.sock.raw.recv(65536):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._close(conn)

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        for conn, deadline in list(self.deadlines.items()):
            idle = conn.stage == "head" and conn.idle
            if deadline > now and not (idle and not self.alive):
                continue
            if conn.stage == "head" and conn.head.strip(b"\r\n"):
                self._say_and_close(conn, REQUEST_TIMEOUT)
            else:
                self._close(conn)

    # -- requests -----------------------------------------------------------

    def enqueue_req(self, conn):
        if self.cfg.threads > 1:
            super().enqueue_req(conn)
            return
        # One thread: run the request here, in the event loop, as the sync
        # worker would (no hand-over between threads).
        done = futures.Future()
        try:
            done.set_result(self.handle(conn))
        except BaseException as exc:       # noqa: BLE001 - handed on as gthread does
            done.set_exception(exc)
        self.finish_request(conn, done)

    def handle(self, conn):
        # The head is here: gunicorn's wait for a first byte is not needed,
        # and its parser reads the head from what the event loop buffered.
        conn.data_ready = True
        conn.init()
        if conn.head:
            conn.parser.unreader.unread(bytes(conn.head))
            conn.head = bytearray()
        return super().handle(conn)

    def finish_request(self, conn, fs):
        try:
            keep = bool(fs.result()) if not fs.cancelled() else False
        except Exception:   # noqa: BLE001 - the request failed: the connection closes
            keep = False
        conn.sock.raw.setblocking(False)
        conn.keep = keep and not conn.sock.read_timed_out
        if conn.sock.read_timed_out:
            self.log.warning("Closed a connection whose request body did not arrive "
                             "within %s s: %s", self.body_timeout, conn.client)
        self._flush(conn)


METRICS_PREFIX = "search-metrics-"

# gunicorn's default access log format (Apache's "combined"), then the time
# the request took, in seconds.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(L)s'


def serve(index_dir, host: str, port: int, processes: int | None = None, threads: int = 1,
          header_timeout: float = HEADER_TIMEOUT, body_timeout: float = BODY_TIMEOUT,
          send_timeout: float = SEND_TIMEOUT, access_log: str | None = None,
          collections=None, default_collection: str | None = None) -> int:
    """Bind ``host:port`` (0: any free port), print the address, and serve
    until stopped.  A port that cannot be had (in use, not allowed) raises
    ``OSError`` naming it before anything is printed.

    ``access_log``: ``"-"`` logs every request to stderr, a path appends to that
    file (``ACCESS_LOG_FORMAT``); None: no access log.
    ``collections`` (``webui.collections.Collection``s): several indexes, each
    under its prefix, ``default_collection`` also at ``/``; ``index_dir`` is
    then not read."""
    started = time.time()
    _few_malloc_arenas()
    processes = processes or int(os.environ.get("PROCESSES") or 0) or \
        min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    if access_log and access_log != "-":
        # Opened here, so that a file that cannot be written is one line now,
        # not a traceback from every worker.
        with open(access_log, "a", encoding="utf-8"):
            pass
    listener, shown = _listen(host, port)
    served = f"index: {index_dir}" if not collections else "collections: " + ", ".join(
        f"/{c.name}/ {c.index_dir}" for c in collections) + f"; default: {default_collection}"
    print(f"serving http://{shown}/ ({served}, "
          f"{processes} process{'es' if processes > 1 else ''})", flush=True)
    for preloaded in ([c.index_dir for c in collections] if collections else [index_dir]):
        _preload(preloaded)
    worker = type("HoldingWorker", (HoldingWorker,), {
        "header_timeout": header_timeout, "body_timeout": body_timeout,
        "send_timeout": send_timeout})
    with metrics_folder():
        _gunicorn((collections, default_collection) if collections else index_dir,
                  _options(listener, processes, threads, worker, access_log),
                  {"SEARCH_STARTED_AT": started}).run()
    return 0


def _listen(host: str, port: int) -> tuple[socket.socket, str]:
    """The listening socket and the ``host:port`` it is bound to.

    Bound before saying so: a port in use is an error, not a false "serving";
    --port 0 takes a free port, and the line says which."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    shown_host = f"[{host}]" if family == socket.AF_INET6 else host
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(1024)
    except OSError as exc:
        listener.close()
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            reason = (f"{shown_host}:{port} is already in use (another server?); "
                      f"choose another port: --port N, or PORT=N with make")
        elif exc.errno == errno.EACCES:
            reason = (f"not allowed to listen on {shown_host}:{port} ({reason}); ports below "
                      f"1024 need privileges: --port N, or PORT=N with make")
        else:
            reason = f"cannot listen on {shown_host}:{port} ({reason}): check --host and --port"
        raise OSError(exc.errno, reason) from None
    return listener, f"{shown_host}:{listener.getsockname()[1]}"


_METRICS_FOLDER: list[str] = []


@contextlib.contextmanager
def metrics_folder():
    """A fresh ``PROMETHEUS_MULTIPROC_DIR`` for the workers' metrics
    (``webui.operations``), removed when the server stops.

    ``prometheus_client`` chooses between its one-process and multiprocess
    modes when it is first imported, and any app made in this process (the
    collections' names are checked against one) imports it: the command
    line enters this before anything else, and ``serve`` then uses the same
    folder."""
    if _METRICS_FOLDER:
        yield _METRICS_FOLDER[-1]
        return
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before the server's metrics folder "
                           "was set: its workers' counts would not be summed")
    _remove_orphaned_metrics()
    folder = tempfile.mkdtemp(prefix=f"{METRICS_PREFIX}{os.getpid()}-")
    previous = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    arbiter = os.getpid()
    _METRICS_FOLDER.append(folder)
    try:
        yield folder
    finally:
        _METRICS_FOLDER.pop()
        # A worker leaves gunicorn's run by SystemExit too, through here: only
        # the process that made the folder removes it.
        if os.getpid() == arbiter:
            if previous is None:
                os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            else:
                os.environ["PROMETHEUS_MULTIPROC_DIR"] = previous
            shutil.rmtree(folder, ignore_errors=True)


def _remove_orphaned_metrics() -> None:
    """The metrics folders of servers that were killed (``kill -9`` leaves its
    folder): those whose process is gone."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        m = re.match(rf"{METRICS_PREFIX}(\d+)-", name)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
            continue                    # still running (or another user's)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        except OSError:
            continue


def _worker_exited(_arbiter, worker) -> None:
    # A worker's counts stay (its files are summed still); its live gauges go.
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def _options(listener, processes, threads, worker, access_log) -> dict:
    return {
        "bind": [f"fd://{listener.fileno()}"],
        "workers": processes,
        # One request at a time per process is what Python runs fastest (the
        # work is CPU-bound); more threads let requests overlap their waits.
        "worker_class": worker,
        "threads": max(1, threads),
        # With one thread, each answer closes its connection, as gunicorn's
        # sync worker does: the next connection then goes to whichever
        # process is free, where kept-alive ones would stay queued behind a
        # busy one (measured: a quarter fewer requests/s kept alive).
        "timeout": 60, "graceful_timeout": 10, "keepalive": 5 if threads > 1 else 0,
        "limit_request_line": 8190,
        # Answers are sent by the event loop from memory (see HoldingWorker).
        "sendfile": False,
        "accesslog": access_log or None, "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-", "loglevel": "warning",
        "proc_name": "search",
        "post_fork": lambda _arbiter, _worker: _die_with_parent(signal.SIGKILL),
        "child_exit": _worker_exited,
    }


def _gunicorn(index_dir, options, config=None):
    """gunicorn's arbiter and pre-forked workers, each with its own app (and
    index readers), with these settings (``config``: more of the app's);
    ``index_dir`` may be ``(collections, default)`` (``webui.collections``)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            from webui import create_app
            if isinstance(index_dir, tuple):
                from webui.collections import create_collections_app
                return create_collections_app(*index_dir, config=config)
            return create_app(index_dir=index_dir, config=config)

    return Server()


def _preload(index_dir) -> None:
    """Load what every process reads alike before forking them, so that they
    share those pages instead of each holding a copy: jieba's dictionary,
    OpenCC's and pinyin's tables, the gazetteer, and the index's saved facet
    tables, vocabulary and length norms.  Index readers are not shared (their
    files' offsets would be): each process opens its own.

    Whatever is wrong with the index (missing, damaged, unreadable) is said in
    one line on stderr and serving goes on: the pages then answer 503 with the reason,
    and a rebuilt index is served from the next request."""
    import gc

    from search.text import segment as analysis
    from search import open_index
    from search.store import vocabulary
    from search.errors import IndexNotFound
    analysis.prepare_router()
    try:
        ix = open_index(index_dir)
        gen = ix._current()
        ix.warm_up()        # segmentation, pinyin, did-you-mean, facets, norms, vocabulary
        vocabulary.load(gen.path, gen.manifest.get("vocabulary_documents", gen.doc_count))
        gen.searcher().close()
    except IndexNotFound:
        # Served once built (each process then loads its own); until then the
        # pages say how to build it.
        print(f"warning: no index at {index_dir} yet; serving anyway, pages say how to "
              f"build it: `{index_command(index_dir)}` (in the checkout: `make index`)",
              file=sys.stderr, flush=True)
    except Exception as exc:    # noqa: BLE001 - any fault of the index is the pages' 503
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print(f"warning: the index at {index_dir} cannot be read ({reason}); "
              f"serving anyway, pages answer 503 until it is rebuilt", file=sys.stderr,
              flush=True)
    gc.collect()
    # What is loaded now is never freed: keep the collector off those pages.
    gc.freeze()


def _few_malloc_arenas(arenas: int = 2) -> None:
    """Let the request threads share ``arenas`` malloc arenas (glibc gives
    each thread its own, up to eight per core): per-thread arenas each keep
    their own free memory, which cost a served process about a third more
    memory under load for no measurable speed.  ``MALLOC_ARENA_MAX`` in the
    environment wins; elsewhere than glibc this does nothing."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        import ctypes
        m_arena_max = -8
        ctypes.CDLL(None).mallopt(m_arena_max, arenas)
    except (OSError, AttributeError):
        pass


def _die_with_parent(sig: int) -> None:
    # A worker whose parent is gone (kill -9) must not keep the port.
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:
        os._exit(0)
