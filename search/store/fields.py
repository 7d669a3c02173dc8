"""A document as the fields of the index's schema, and the cap on the facets
an index may hold (the same for both builders)."""

from __future__ import annotations

import os
from typing import Iterable

from ..ingest.metadata import env_count, facet_values
from ..ingest.model import Document, Problem
from ..text.script import to_simplified
from .schema import FACET_PREFIX

# Facet fields an index may hold (SEARCH_MAX_FACETS): each is a Whoosh field,
# a table loaded by every search and a list on the start page.
DEFAULT_MAX_FACETS = 100


MAX_FACETS = env_count("SEARCH_MAX_FACETS", DEFAULT_MAX_FACETS)


# Fields that are stored and shown, never facets: each value is its own.
NOT_FACETS = ("url",)


def shown_source(source: str) -> str:
    """Where a document came from as the index keeps it: the path as the
    operator named it, but never the server's absolute path (the file's name
    alone, with its line for a JSON-lines record)."""
    if os.path.isabs(source):
        return os.path.basename(source)
    return source


def document_fields(doc: Document) -> dict:
    """The Whoosh fields of one document."""
    facets = {}
    meta_words = list(doc.tags)
    extra = {}
    for name, value in doc.fields.items():
        extra[name] = value
        # Facet values are kept in simplified script, like cities, so one
        # author written in both scripts is one value.
        values = [to_simplified(v) for v in facet_values(value)] if name not in NOT_FACETS else []
        if values and name.isidentifier():
            facets[FACET_PREFIX + name] = ",".join(values)
            meta_words.extend(values)
    date = doc.date
    fields = {
        "id": doc.id,
        "title": doc.title,
        "body": doc.body,
        "grams": f"{doc.title}\n{doc.body}",
        "meta": " ".join(meta_words),
        "source": shown_source(doc.source),
        # Documents without a date sort last both ways (search.rank.dateorder).
        "date_key": date.sort_key() if date else 0,
        **facets,
    }
    # Empty values are left out rather than stored empty (readers use .get):
    # most poems have no city, and 333k empty entries cost megabytes.
    if doc.cities:
        fields["city"] = ",".join(doc.cities)
    if doc.city_forms:
        fields["city_forms"] = doc.city_forms
    if extra:
        fields["extra"] = extra
    if doc.layout:
        fields["layout"] = doc.layout
    if date:
        fields["date"] = date.iso()
        fields["year"] = f"{date.year:04d}"
        if date.month:
            fields["month"] = f"{date.year:04d}-{date.month:02d}"
    return fields


class _FacetCap:
    """Which facet fields the index holds: the first ``MAX_FACETS`` names in
    document order (so both builders keep the same ones).  A field past the
    cap stays stored and shown with its document; it is reported once."""

    def __init__(self, warnings: list[Problem]):
        self.limit = MAX_FACETS
        self.warnings = warnings
        self.kept: set[str] = set()
        self.refused: set[str] = set()

    def refused_of(self, names: Iterable[str], source: str) -> set[str]:
        """Those of one document's facet field ``names`` (in its order) that are no facets."""
        out = set()
        for name in names:
            if name in self.kept:
                continue
            if name not in self.refused:
                if len(self.kept) < self.limit:
                    self.kept.add(name)
                    continue
                self.refused.add(name)
                self.warnings.append(Problem(
                    source, f"field {name[len(FACET_PREFIX):]!r} is not made a facet: the "
                            f"index holds {self.limit:,} already (SEARCH_MAX_FACETS); it is "
                            "stored and shown with its documents", skipped=False))
            out.add(name)
        return out
