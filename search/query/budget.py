"""The time budget of a query, and what a query cut short by it says.

One budget (``SEARCH_TIME_BUDGET`` seconds, default 2) covers a whole query:
matching, ranking, and explaining.  Readers take ``budget.TIME_BUDGET`` at
each query, so that a process (or a test) may change it.
"""

from __future__ import annotations

import logging
import os

DEFAULT_TIME_BUDGET = 2.0


def _time_budget_setting() -> float:
    raw = os.environ.get("SEARCH_TIME_BUDGET")
    if raw is None:
        return DEFAULT_TIME_BUDGET
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (0 < value < 3600):
        logging.getLogger(__name__).warning(
            "SEARCH_TIME_BUDGET=%r is not a number of seconds (0 to 3600); using %s",
            raw, DEFAULT_TIME_BUDGET)
        return DEFAULT_TIME_BUDGET
    return value


# Seconds a query may spend before it answers with what it has found so far.
TIME_BUDGET = _time_budget_setting()


# What a query cut short by its time budget says, by how far it got.
PARTIAL_NOTICE = "the query took too long; these are the best results found in time"


NOT_RANKED_NOTICE = ("the query took too long to rank: these documents match it, "
                     "in index order, not by relevance")


NOT_MATCHED_NOTICE = ("the query took too long: its matches could not be found in time, "
                      "so none are shown and the count is unknown; try fewer words, "
                      "quoted phrases or exclusions")
