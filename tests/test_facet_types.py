"""Facets are types registered in one place, and Han characters are one class.

The registry (``search.store.facet_types``) lists an index's facets and says
for each how a chosen value is normalised and how values are ordered; no
other module decides what a facet is by its name.  The Han character range
is written once, in ``search.text.chars`` (jieba's own narrower class aside).
"""

from __future__ import annotations

import ast
import re
from array import array
from pathlib import Path

import pytest

from search import QueryError, open_index
from search.store.facet_types import (BUILTIN_FACETS, CITY, MONTH, YEAR, FacetRegistry,
                                      facet_type, registry)
from search.store.facets import NO_VALUE, FacetTable

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(ROOT / "search").rglob("*.py"), *(ROOT / "webui").rglob("*.py")])
REGISTRY = ROOT / "search" / "store" / "facet_types.py"
BUILTIN_NAMES = {"city", "year", "month"}


def test_the_registry_lists_the_builtin_facets_then_the_stored_fields(corpus_index):
    assert [t.name for t in BUILTIN_FACETS] == ["city", "year", "month"]
    facets = registry(["author", "dynasty"])
    assert isinstance(facets, FacetRegistry)
    assert facets.names == ["city", "year", "month", "author", "dynasty"]
    assert "author" in facets and "tags" not in facets
    assert facets["author"].field == "facet_author" and facets["author"].param == "f.author"
    ix = open_index(corpus_index)
    assert ix.facet_names[:3] == ["city", "year", "month"]
    assert {"author", "dynasty"} <= set(ix.facet_names)
    assert ix.facet_names == registry(ix.facet_names[3:]).names


def test_each_type_knows_its_field_parameter_keyword_and_label():
    assert (CITY.field, CITY.param, CITY.keyword, CITY.label) == ("city", "city", "city", "城市")
    assert (YEAR.field, YEAR.param, YEAR.keyword, YEAR.label) == ("year", "year", "year", "年份")
    assert (MONTH.field, MONTH.param, MONTH.keyword, MONTH.nested_in) == \
        ("month", "year", "year", "year")
    author = facet_type("author")
    assert (author.field, author.param, author.keyword, author.label) == \
        ("facet_author", "f.author", None, "作者")
    assert facet_type("publisher_code").label == "publisher_code"
    assert facet_type("city") is CITY


def test_values_are_normalised_as_each_type_reads_them():
    assert CITY.normalise(["貴陽", "贵阳市", "不是城市"]) == ["贵阳", "贵阳", "不是城市"]
    assert facet_type("author").normalise(["李白", "陳"]) == ["李白", "陈"]
    assert YEAR.normalise(["2014", "2014-09"]) == ["2014", "2014-09"]
    with pytest.raises(QueryError, match="year must look like 2014 or 2014-09, not '14'"):
        YEAR.normalise(["14"])
    with pytest.raises(QueryError, match="month must look like"):
        MONTH.normalise(["九月"])


def test_a_month_chosen_in_the_year_facet_filters_months(corpus_index):
    assert (YEAR.owner("2014"), YEAR.owner("2014-09"), MONTH.owner("2014-09")) == \
        ("year", "month", "month")
    assert MONTH.parent_value("2014-09") == "2014" and YEAR.parent_value("2014") is None
    ix = open_index(corpus_index)
    month = ix.search("", per_page=1).facets["month"][0]["value"]
    assert ix.search("", year=month).filters == {"month": [month]}
    both = ix.search("", year=[month[:4], month]).filters
    assert both == {"year": [month[:4]], "month": [month]}


def _table():
    # 2012: documents 0-2, 2013: document 3, 2014: documents 4 and 5.
    docs = [array("i", [0, 1, 2]), array("i", [3]), array("i", [4, 5])]
    first = array("i", [0, 0, 0, 1, 2, 2, NO_VALUE])
    return FacetTable(["2012", "2013", "2014"], docs, first, {})


def test_dates_are_ordered_by_value_and_other_facets_by_count():
    table = _table()
    everything = list(range(7))
    assert YEAR.top(table, everything, 10)[0] == [("2014", 2), ("2013", 1), ("2012", 3)]
    assert MONTH.by_value and not CITY.by_value and not facet_type("author").by_value
    for other in (CITY, facet_type("author")):
        assert other.top(table, everything, 10)[0] == [("2012", 3), ("2014", 2), ("2013", 1)]
    assert CITY.top(table, everything, 1, always=["2013"]) == ([("2012", 3), ("2013", 1)], 1)


def test_facets_of_a_search_are_listed_in_each_types_order(corpus_index):
    res = open_index(corpus_index).search("", per_page=1)
    assert list(res.facets)[:3] == ["city", "year", "month"]
    years = [v["value"] for v in res.facets["year"]]
    assert years == sorted(years, reverse=True)
    counts = [v["count"] for v in res.facets["city"]]
    assert counts == sorted(counts, reverse=True)


def _names_a_facet(node) -> bool:
    return isinstance(node, ast.Constant) and node.value in BUILTIN_NAMES


def _is_literal_sequence(node) -> bool:
    return isinstance(node, (ast.Tuple, ast.List, ast.Set))


def _facet_name_tests(tree) -> list[str]:
    """Comparisons with a built-in facet's name, and hand-written lists of them."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Attribute) and o.attr == "kind" for o in operands):
                continue    # a parsed date's precision ("year", "month"), not a facet
            if any(_names_a_facet(o) or (_is_literal_sequence(o) and any(map(_names_a_facet, o.elts)))
                   for o in operands):
                found.append(f"{node.lineno}: {ast.unparse(node)}")
        elif _is_literal_sequence(node) and len(node.elts) >= 2 \
                and all(map(_names_a_facet, node.elts)):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", [p for p in SOURCES if p != REGISTRY],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_registry_names_facets(path):
    found = _facet_name_tests(ast.parse(path.read_text(encoding="utf-8")))
    assert not found, f"{path.relative_to(ROOT)} decides by a facet's name: {found}"


def test_the_name_check_sees_what_it_is_meant_to_see():
    code = 'if name == "city": pass\nx = name in ("year", "month")\nNAMES = ("city", "year")\n' \
           'if found.kind == "year": pass\n'
    assert {int(f.split(":")[0]) for f in _facet_name_tests(ast.parse(code))} == {1, 2, 3}


# Any writing of a Han range: \u3400, \u4e00 or \uf900 as an escape (either case).
_HAN_RANGE = re.compile(r"\\u(3400|4e00|f900)", re.IGNORECASE)
_JIEBA_RANGE = "\\u4E00-\\u9FD5"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_han_range_is_written_only_in_chars(path):
    rel = path.relative_to(ROOT).as_posix()
    if rel == "search/text/chars.py":
        return
    text = path.read_text(encoding="utf-8")
    if rel == "search/text/segment.py":
        text = text.replace(_JIEBA_RANGE, "")       # jieba's own class, as jieba writes it
    assert not _HAN_RANGE.search(text), f"{rel} writes a Han range: use search.text.chars"


def test_the_han_classes_cover_every_han_block():
    from search.text.chars import BASIC_HAN_RUN, HAN, HAN_CHAR, HAN_RUN
    for c in "\u3400\u4e00\u9fff\uf900\U00020000\U0002a6d6":
        assert HAN_CHAR.fullmatch(c), hex(ord(c))
    assert not HAN_CHAR.search("abc，。1")
    assert HAN_RUN.findall("北京abc上海") == ["北京", "上海"]
    assert BASIC_HAN_RUN.findall("\u3400北京") == ["北京"]
    assert re.fullmatch(f"[{HAN}]{{2}}", "北京")
