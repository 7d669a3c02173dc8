"""What a document is once read, and what a problem with a source looks like."""

from __future__ import annotations

from dataclasses import dataclass, field

from .dates import PartialDate


@dataclass
class Document:
    id: str
    title: str
    body: str
    source: str
    date: PartialDate | None = None
    cities: list[str] = field(default_factory=list)
    # The document's own spelling of each canonical city, where it differs.
    city_forms: dict[str, list[str]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    # Other fields of a JSON-lines record (author, dynasty ...), as given.
    fields: dict = field(default_factory=dict)
    # Caveats found while reading (a front-matter date that is not a date ...).
    warnings: list[str] = field(default_factory=list)
    # How the body's lines are drawn (headings, lists, code, links), for a
    # document read from a structured format (``formats.layout_of``); None
    # for plain text, whose lines are paragraphs.
    layout: list | None = None


@dataclass
class Problem:
    """A file or line that was not indexed (``skipped``), was indexed with a
    caveat (neither flag), or is no document by design (``ignored``: a hidden
    file or folder, a file of a type that is not indexed)."""

    source: str
    reason: str
    skipped: bool = True
    ignored: bool = False

    def __post_init__(self):
        if self.ignored:
            self.skipped = False

    def __str__(self):
        return f"{self.source}: {self.reason}"


