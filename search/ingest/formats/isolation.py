"""Reading a file in a child process: a reader that crashes, hangs or runs
out of memory on a crafted file costs that file, not the build.

Owns ``read_isolated(read, data, source)``: ``read`` runs in a forked child
(copy-on-write, so the parent's loaded libraries cost nothing to start)
with a time limit (``SEARCH_READ_SECONDS``, 60 s by default) and an address
space limit (``SEARCH_READ_MEMORY_MB`` beyond what the process already
maps, 2,048 MB by default); its ``Extracted`` comes back pickled through a
pipe.  A crash (a signal in C code, such as PDFium's), the time limit or
the memory limit is a ``FormatError`` naming it.  Where there is no
``fork`` the reader runs in this process.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import select
import signal
import time

from ..metadata import env_count
from . import FormatError

READ_SECONDS = env_count("SEARCH_READ_SECONDS", 60, "seconds")
READ_MEMORY_MB = env_count("SEARCH_READ_MEMORY_MB", 2048, "MB")


def read_isolated(read, data, source: str, *, seconds: float | None = None):
    """``read(data, source)`` in a child process, with its limits."""
    if not hasattr(os, "fork"):
        return read(data, source)
    seconds = READ_SECONDS if seconds is None else seconds
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:                                    # the child
        try:
            os.close(rfd)
            # A crash is reported by the parent, in one line, not as a dump.
            faulthandler.disable()
            _limit_memory()
            try:
                answer = ("ok", read(data, source))
            except FormatError as exc:
                answer = ("error", exc.reason)
            except MemoryError:
                answer = ("error", f"reading it needs more than {READ_MEMORY_MB:,} MB of "
                                   "memory (SEARCH_READ_MEMORY_MB)")
            except RecursionError:
                answer = ("error", "nested too deeply to read")
            except BaseException as exc:            # noqa: BLE001 -- reported, never raised
                answer = ("error", f"could not be read ({type(exc).__name__}: {exc})"[:300])
            payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(wfd, "wb") as out:
                out.write(payload)
        finally:
            os._exit(0)
    os.close(wfd)
    try:
        payload = _read_until(rfd, time.monotonic() + seconds)
    except TimeoutError:
        _kill(pid)
        raise FormatError(f"reading it took longer than {seconds:g} s; skipped "
                          "(SEARCH_READ_SECONDS sets the limit)") from None
    finally:
        os.close(rfd)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        raise FormatError(f"the reader crashed on it ({name}): a damaged or hostile file")
    try:
        kind, value = pickle.loads(payload)
    except Exception:                               # noqa: BLE001 -- a child cut short
        raise FormatError("the reader ended without an answer") from None
    if kind == "error":
        raise FormatError(value)
    return value


def _read_until(fd: int, deadline: float) -> bytes:
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def _limit_memory() -> None:
    """Cap the child's address space at what it maps now plus READ_MEMORY_MB."""
    try:
        import resource
        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = mapped + READ_MEMORY_MB * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):
        pass
