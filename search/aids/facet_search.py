"""Finding a value among all of a facet's values, and telling whether a facet says anything.

A facet such as author can have hundreds of values among a question's
matches, more than a results page lists.  ``facet_page`` narrows them to
those containing what the reader typed, in either script (贺 finds 賀知章)
or as the initials of their pinyin (``lb`` finds 李白), and cuts the rest
into pages that between them reach every value.

``informativeness`` says how much a facet tells about a set of documents:
the entropy of its values' counts (normalised to 0..1 by the greatest a
facet of that many values can have) times the share of documents that have
a value at all.  A facet with one value, or one nearly every document shares,
or that few documents have, tells nothing worth the room it takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..text.pinyin import has_han, initials, word_syllables
from ..text.script import to_simplified

# Values on one page of a facet's values.
PER_PAGE = 50
MAX_PER_PAGE = 500
# Below this a facet is not worth showing (one value nearly everywhere).
MIN_INFORMATIVENESS = 0.02


@dataclass
class FacetPage:
    """One page of a facet's values (``values``: ``{"value", "count"}``, most
    documents first) among ``matching`` values that contain ``contains``."""

    values: list[dict]
    page: int
    pages: int
    per_page: int
    matching: int
    contains: str

    def to_dict(self) -> dict:
        return {"values": self.values, "page": self.page, "pages": self.pages,
                "per_page": self.per_page, "matching": self.matching,
                "contains": self.contains}


def _folded(text: str) -> str:
    return to_simplified(text).casefold()


def _initials_of(value: str) -> str:
    han = "".join(c for c in to_simplified(value) if has_han(c))
    return initials(word_syllables(han)) if han else ""


def value_matches(value: str, contains: str) -> bool:
    """Whether ``value`` holds ``contains`` in either script, or (for Latin
    letters typed) its pinyin initials start with them."""
    wanted = _folded(contains.strip())
    if not wanted:
        return True
    if wanted in _folded(value):
        return True
    if wanted.isascii() and wanted.isalpha():
        return _initials_of(value).startswith(wanted)
    return False


def facet_page(values_with_counts, contains: str | None = None, page: int = 1,
               per_page: int = PER_PAGE) -> FacetPage:
    """Page ``page`` of the values (``(value, count)`` pairs or ``{"value",
    "count"}`` dicts, in the order to list them) that match ``contains``.

    ``page`` past the last is answered with no values and ``pages`` saying
    how many there are (the caller decides whether that is an error).
    """
    items = [v if isinstance(v, dict) else {"value": v[0], "count": v[1]}
             for v in values_with_counts]
    contains = (contains or "").strip()
    if contains:
        items = [it for it in items if value_matches(it["value"], contains)]
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    pages = max(1, -(-len(items) // per_page))
    first = (page - 1) * per_page
    return FacetPage(values=items[first:first + per_page], page=page, pages=pages,
                     per_page=per_page, matching=len(items), contains=contains)


def informativeness(counts, documents: int) -> float:
    """How much a facet's values (``counts``: documents per value) tell about
    ``documents`` documents: normalised entropy × coverage, 0 to 1."""
    counts = [c for c in counts if c > 0]
    if len(counts) < 2 or documents <= 0:
        return 0.0
    total = sum(counts)
    entropy = -sum(c / total * math.log(c / total) for c in counts)
    coverage = min(1.0, total / documents)
    return entropy / math.log(len(counts)) * coverage


def tells_something(counts, documents: int) -> bool:
    """Whether a facet with these counts is worth showing for ``documents``."""
    return informativeness(counts, documents) >= MIN_INFORMATIVENESS


def rank_facets(facets: dict[str, list[dict]], documents: int) -> list[str]:
    """The facet names of ``facets`` (name → ``{"value", "count"}`` among
    ``documents`` results), most telling first: a city facet few poems have
    goes below the poems' authors.  None is dropped: a value every result
    shares still describes them, and one chosen must stay to be unchosen."""
    scored = {name: informativeness([v["count"] for v in values], documents)
              for name, values in facets.items()}
    return sorted(facets, key=lambda n: -scored[n])
