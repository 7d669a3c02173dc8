"""Document sets as sorted arrays (``search.store.docsets``) agree with Python's sets."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from search.store import docsets

SIZE = 500
doc_sets = st.sets(st.integers(0, SIZE - 1), max_size=300)


def _set(docs: np.ndarray) -> set[int]:
    values = docs.tolist()
    assert values == sorted(set(values)), "not ascending and distinct"
    return set(values)


@settings(max_examples=200, deadline=None)
@given(st.lists(doc_sets, max_size=6))
def test_union_and_intersection_are_sets(parts):
    arrays = [docsets.of(p) for p in parts]
    assert _set(docsets.union(arrays, SIZE)) == set().union(*parts)
    if parts:
        assert _set(docsets.intersection(arrays)) == set.intersection(*parts)
    else:
        assert len(docsets.intersection(arrays)) == 0


@settings(max_examples=200, deadline=None)
@given(doc_sets, doc_sets)
def test_minus_and_within(a, b):
    assert _set(docsets.minus(docsets.of(a), docsets.of(b))) == a - b
    ids = np.array(sorted(a), np.int64)
    assert docsets.within(ids, docsets.of(b)).tolist() == [d in b for d in sorted(a)]


def test_of_takes_any_collection():
    assert docsets.of([5, 1, 5, 3]).tolist() == [1, 3, 5]
    assert docsets.of({9, 2}).tolist() == [2, 9]
    assert docsets.of(iter([4, 4])).tolist() == [4]
    assert docsets.of(np.array([1, 2])).tolist() == [1, 2]


def test_a_large_union_is_marked_not_sorted():
    # Parts adding up past 1/64 of the index take the marking path.
    parts = [np.arange(0, SIZE, 2), np.arange(0, SIZE, 3)]
    assert _set(docsets.union(parts, SIZE)) == set(range(0, SIZE, 2)) | set(range(0, SIZE, 3))
