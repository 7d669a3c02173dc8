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

from .build import build_query
from .expansion import Expansion, expand, is_announced
from .parse import ParsedQuery, parse_query


@dataclass(frozen=True)
class QueryPlan:
    """A query as it will be matched: parsed, expanded, built."""

    parsed: ParsedQuery
    expansions: list[Expansion]
    whoosh_query: wq.Query
    needles: list[str]                  # the texts to highlight in the hits
    # What the query tells the reader before matching (pinyin read as Chinese).
    notices: list[str]
    # When no document holds the quoted text exactly: the same query with the
    # quoted text read as free words (people quote names inside questions).
    quoted_as_words: QueryPlan | None = None
    # The filters selected beside the query, by facet (``SearchIndex.plan``
    # normalises them): ``{"city": ["洛阳"], "year": ["2014"]}``.
    filters: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ranks(self) -> bool:
        """Whether there is anything to rank by: free words or quoted text
        (a query of only exclusions, or none, browses)."""
        return bool(self.parsed.words or self.parsed.phrases)

    def with_filters(self, filters: dict[str, list[str]]) -> QueryPlan:
        """This plan with ``filters`` selected beside the query (its looser plan too)."""
        loose = self.quoted_as_words.with_filters(filters) if self.quoted_as_words else None
        return replace(self, filters=filters, quoted_as_words=loose)


def plan_query(text: str, gen) -> QueryPlan:
    """The plan of the query string ``text`` on the index of ``gen`` (raises
    ``QueryError`` for a query that is not one)."""
    parsed = parse_query(text)
    expansions = expand(parsed, gen)
    notices = [e.label for e in expansions if is_announced(e)]
    quoted_as_words = None
    if parsed.phrases:
        loose = ParsedQuery(parsed.text, parsed.words + parsed.phrases, [], parsed.excluded)
        loose_query, loose_needles = build_query(loose, expansions)
        quoted_as_words = QueryPlan(loose, expansions, loose_query, loose_needles, list(notices))
    whoosh_query, needles = build_query(parsed, expansions)
    return QueryPlan(parsed, expansions, whoosh_query, needles, notices, quoted_as_words)
