"""How far a build is: the events ``build_index(..., progress=callback)`` reports.

A build goes through these phases, in this order (the builder decides which):

========== ============== =====================================================
phase      unit           what the build does
========== ============== =====================================================
counting   files          lists the sources and counts their documents (the
                          lines of a JSON-lines file): the next phase's total
reading    documents      reads, cleans and segments the documents and inverts
                          them into postings (the long phase)
encoding   bytes          encodes the postings into the segment's files
                          (``parallel`` builder)
merging    steps          Whoosh's writer merges its runs (``whoosh`` builder)
tables     steps          facet tables and the vocabulary
saving     files          checksums of every file, flushed to disk
========== ============== =====================================================

The callback receives a ``BuildProgress`` each time a phase starts, after
each chunk of its work, and when it ends (``done == total``).  It is called
in the building process, between chunks: it should be quick (drawing a bar
is), and an exception it raises stops the build, which leaves the live index
as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

# The phases' names, in the order a build goes through them, with the words
# a progress bar shows for each.
PHASES = {
    "counting": "counting documents",
    "reading": "reading and segmenting",
    "encoding": "encoding postings",
    "merging": "merging segments",
    "tables": "facets and vocabulary",
    "saving": "saving",
}


@dataclass(frozen=True)
class BuildProgress:
    """One report of a build's progress: ``done`` of ``total`` ``unit`` of ``phase``.

    ``total`` is None while it is not known (during ``counting``);
    ``seconds`` is the time since the build started.  ``label`` is the
    phase in words (``PHASES``).
    """

    phase: str
    done: int
    total: int | None
    unit: str
    seconds: float

    @property
    def label(self) -> str:
        """The phase in words, as a progress bar shows it."""
        return PHASES[self.phase]

    @property
    def finished(self) -> bool:
        """True on the phase's last report."""
        return self.total is not None and self.done >= self.total


ProgressCallback = Callable[[BuildProgress], None]


class Progress:
    """A build's reporter: keeps the count of the current phase and calls the
    callback, if there is one (without one every call is a no-op)."""

    def __init__(self, callback: ProgressCallback | None, started: float | None = None):
        self.callback = callback
        self.started = time.monotonic() if started is None else started
        self.phase: str | None = None
        self.done = 0
        self.total: int | None = None
        self.unit = ""

    def start(self, phase: str, total: int | None, unit: str) -> None:
        """A new phase of ``total`` ``unit`` (None: not known yet)."""
        if phase not in PHASES:
            raise ValueError(f"unknown build phase {phase!r}")
        self.phase, self.done, self.total, self.unit = phase, 0, total, unit
        self._report()

    def advance(self, amount: int) -> None:
        """``amount`` more of the phase done; never past its total."""
        self.done += amount
        if self.total is not None:
            self.done = min(self.done, self.total)
        self._report()

    def finish(self) -> None:
        """The phase is done: its last report has ``done == total``."""
        if self.total is None or self.done < self.total:
            self.total = max(self.done, self.total or 0)
            self.done = self.total
            self._report()

    def step(self, phase: str, work: Callable[[], object]):
        """``work()`` as a phase of one step (work that reports nothing as it goes)."""
        self.start(phase, 1, "steps")
        result = work()
        self.finish()
        return result

    def _report(self) -> None:
        if self.callback is not None:
            self.callback(BuildProgress(self.phase, self.done, self.total, self.unit,
                                        time.monotonic() - self.started))
