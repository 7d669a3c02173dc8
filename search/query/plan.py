"""The plan of a query: what a query string becomes before it meets the documents.

``plan_query(text, gen)`` parses the text, works out its expansions on the
index of ``gen`` and builds the Whoosh query and the texts to highlight; the
plan also holds the looser plan the query falls back to when no document
holds its quoted text (``quoted_as_words``) and the notices so far.  Matching
a plan against the documents, within a deadline, is the next stage's
(``search.rank.matching.match``); ``SearchIndex.search``, ``explain`` and the
ranking benchmark all start from a plan, so they run one query path::

    plan = open_index("index").plan('洛阳 "牡丹花会"')
    plan.whoosh_query       # what is matched and ranked
    plan.needles            # what the results page marks
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from whoosh import query as wq

from ..text.script import to_simplified
from .build import build_query, without_excluded
from .concepts import Concept, admits, concepts_of, full_first, needles_for
from .expansion import Expansion, expand, is_announced
from .parse import ParsedQuery, parse_query


@dataclass(frozen=True)
class QueryPlan:
    """A query as it will be matched: parsed, expanded, built."""

    parsed: ParsedQuery
    expansions: list[Expansion]
    whoosh_query: wq.Query
    # The texts to highlight in the hits; a document holding a word only in
    # parts gets those marked too (``needles_in``).
    needles: list[str]
    # What the query tells the reader before matching (pinyin read as Chinese).
    notices: list[str]
    # When no document holds the quoted text exactly: the same query with the
    # quoted text read as free words (people quote names inside questions).
    quoted_as_words: QueryPlan | None = None
    # The filters selected beside the query, by facet (``SearchIndex.plan``
    # normalises them): ``{"city": ["洛阳"], "year": ["2014"]}``.
    filters: dict[str, list[str]] = field(default_factory=dict)
    # What the query asks a document to hold (``search.query.concepts``), and
    # the query whose documents are the matches: those touching a concept,
    # with the required phrases and none of the exclusions.
    concepts: list[Concept] = field(default_factory=list)
    admit_query: wq.Query | None = None

    @property
    def matches_query(self) -> wq.Query:
        """The query whose documents are the matches (``whoosh_query`` ranks them)."""
        return self.admit_query if self.admit_query is not None else self.whoosh_query

    def needles_in(self, text: str, simplified: str | None = None) -> list[str]:
        """The texts to highlight in ``text`` (a document's title and body;
        ``simplified``: ``to_simplified(text)``, when the caller has it)."""
        if not any(c.parts or c.pieces for c in self.concepts):
            return self.needles         # every concept is held whole: nothing more to mark
        if simplified is None:
            simplified = to_simplified(text)
        extra = needles_for(simplified.lower(), self.concepts)
        return self.needles + [n for n in extra if n not in self.needles] if extra else self.needles

    @property
    def full_first(self) -> bool:
        """Whether documents holding every concept rank above the others."""
        return full_first(self.parsed, self.concepts)

    @property
    def ranks(self) -> bool:
        """Whether there is anything to rank by: free words or quoted text
        (a query of only exclusions, or none, browses)."""
        return bool(self.parsed.words or self.parsed.phrases)

    def with_filters(self, filters: dict[str, list[str]]) -> QueryPlan:
        """This plan with ``filters`` selected beside the query (its looser plan too)."""
        loose = self.quoted_as_words.with_filters(filters) if self.quoted_as_words else None
        return replace(self, filters=filters, quoted_as_words=loose)


def _planned(parsed: ParsedQuery, expansions: list[Expansion], notices: list[str]) -> QueryPlan:
    whoosh_query, needles = build_query(parsed, expansions)
    concepts = concepts_of(parsed, expansions)
    admit = admits(concepts)
    return QueryPlan(parsed, expansions, whoosh_query, needles, notices, concepts=concepts,
                     admit_query=None if admit is None else without_excluded(admit, parsed))


def plan_query(text: str, gen) -> QueryPlan:
    """The plan of the query string ``text`` on the index of ``gen`` (raises
    ``QueryError`` for a query that is not one)."""
    parsed = parse_query(text)
    expansions = expand(parsed, gen)
    notices = [e.label for e in expansions if is_announced(e)]
    plan = _planned(parsed, expansions, notices)
    if parsed.phrases:
        loose = ParsedQuery(parsed.text, parsed.words + parsed.phrases, [], parsed.excluded)
        plan = replace(plan, quoted_as_words=_planned(loose, expansions, list(notices)))
    return plan
