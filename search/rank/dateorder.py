"""Documents in date order, newest or oldest first, put in order only up to the page."""

from __future__ import annotations

from array import array

import numpy as np


def by_date(keys, docs: np.ndarray, first: int, count: int, newest: bool) -> list[int]:
    """Documents ``first`` to ``first + count`` of ``docs`` newest (or oldest)
    first by their date keys, documents without a date last either way, ties
    by document number: only the ones up to the page are put in order."""
    if not len(docs):
        return []
    keys = np.frombuffer(keys, dtype=np.int64) if isinstance(keys, array) else np.asarray(keys)
    numbers = docs
    if len(keys) <= numbers.max():      # an index without dates
        keys = np.concatenate([keys, np.zeros(numbers.max() + 1 - len(keys), dtype=keys.dtype)])
    dated = keys[numbers]
    order = np.where(dated == 0, np.iinfo(np.int64).max, -dated if newest else dated)
    wanted = min(first + count, len(numbers))
    if wanted <= 0:
        return []
    if wanted < len(numbers):
        cut = np.partition(order, wanted - 1)[wanted - 1]
        near = order <= cut
        numbers, order = numbers[near], order[near]
    ranked = numbers[np.lexsort((numbers, order))]
    return ranked[first:first + count].tolist()
