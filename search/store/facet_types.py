"""The kinds of facet an index has, registered in one place.

A facet is a field whose values narrow a search and are counted beside the
results.  Every index has the facets of ``BUILTIN_FACETS``: ``city``
(canonical city names, read with the gazetteer), and the two facets of a
document's date, ``year`` (``2014``) and ``month`` (``2014-09``).  Any other
short field of a document is a stored-field facet (``facet_<name>`` in the
schema, values in simplified script).

Each type knows what the rest of the engine asks of a facet: the index field
that holds it, how a chosen value is normalised (and refused), how its values
are ordered, its label on a page, the keyword argument of
``SearchIndex.search`` and the URL parameter that carry its values.
``FacetRegistry`` lists one index's facets; ``facet_type(name)`` is the type
of a facet by name.  No other module names a facet to decide what it is.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import QueryError
from ..ingest import cities as gazetteer
from ..text.script import to_simplified
from .schema import FACET_PREFIX

# The URL parameter of a stored-field facet is this and its name (``f.author``).
FILTER_PARAM_PREFIX = "f."

# Labels of the stored fields documents commonly bring; any other shows its own name.
FIELD_LABELS = {
    "author": "作者", "dynasty": "朝代", "tags": "标签", "tag": "标签", "category": "分类",
    "categories": "分类", "genre": "体裁", "type": "类型", "language": "语言", "lang": "语言",
    "publisher": "出版方", "site": "网站", "section": "栏目", "province": "省份",
    "url": "网址", "link": "链接", "source": "出处", "book": "书名", "chapter": "章节",
}


class FacetType:
    """One facet: where it is indexed and how its values are chosen and listed."""

    #: The facet's name in ``SearchResults.facets`` and ``filters``.
    name: str
    #: The index field holding its values.
    field: str
    #: How pages name it.
    label: str
    #: The URL parameter carrying a chosen value.
    param: str
    #: The keyword argument of ``SearchIndex.search`` carrying a chosen value
    #: (``None``: only through ``filters``).
    keyword: str | None = None
    #: Values listed greatest first (dates: the latest) rather than most frequent first.
    by_value: bool = False
    #: The facet whose values this one's nest under on a page (months under years).
    nested_in: str | None = None

    def normalise(self, values: list[str]) -> list[str]:
        """The values as the index holds them; ``QueryError`` for a value this facet cannot have."""
        return [to_simplified(v) for v in values]

    def owner(self, value: str) -> str:
        """The facet that a value chosen in this one filters (itself, but for a month chosen as a year)."""
        return self.name

    def parent_value(self, value: str) -> str | None:
        """The value of ``nested_in`` that ``value`` nests under."""
        return None

    def top(self, table, docs, limit: int, always=()):
        """``table.top`` in this facet's order (see ``FacetTable.top``)."""
        return table.top(docs, limit, by_value=self.by_value, always=always)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class CityFacet(FacetType):
    """Cities a document is about, by their canonical (gazetteer) names."""

    name = field = param = keyword = "city"
    label = "城市"

    def normalise(self, values: list[str]) -> list[str]:
        return [gazetteer.canonical_city(v) or to_simplified(v) for v in values]


class DateFacet(FacetType):
    """One precision of a document's date: its year or its month.

    Both are chosen through the ``year`` parameter and keyword: a value with a
    month (``2014-09``) chosen as a year filters months.
    """

    by_value = True
    keyword = param = "year"
    _PATTERN = re.compile(r"\d{4}(-\d{2})?")
    _MONTH_LENGTH = len("2014-09")

    def __init__(self, name: str, label: str, *, months_to: str | None = None,
                 nested_in: str | None = None):
        self.name = self.field = name
        self.label = label
        self.months_to = months_to      # the facet a month chosen here filters
        self.nested_in = nested_in

    def normalise(self, values: list[str]) -> list[str]:
        for v in values:
            if not self._PATTERN.fullmatch(v):
                raise QueryError(f"{self.name} must look like 2014 or 2014-09, not {v!r}")
        return values

    def owner(self, value: str) -> str:
        if self.months_to and len(value) == self._MONTH_LENGTH:
            return self.months_to
        return self.name

    def parent_value(self, value: str) -> str | None:
        return value[:4] if self.nested_in else None


class StoredFieldFacet(FacetType):
    """Any other short field of a document (author, dynasty): ``facet_<name>`` in the index."""

    def __init__(self, name: str):
        self.name = name
        self.field = FACET_PREFIX + name
        self.label = FIELD_LABELS.get(name, name)
        self.param = FILTER_PARAM_PREFIX + name


CITY = CityFacet()
YEAR = DateFacet("year", "年份", months_to="month")
MONTH = DateFacet("month", "月份", nested_in="year")

# The facets every index has, in the order pages show them.
BUILTIN_FACETS = (CITY, YEAR, MONTH)
_BUILTIN = {t.name: t for t in BUILTIN_FACETS}
# The keyword arguments of ``SearchIndex.search`` that carry facet values.
FACET_KEYWORDS = tuple(dict.fromkeys(t.keyword for t in BUILTIN_FACETS if t.keyword))


def facet_type(name: str) -> FacetType:
    """The type of the facet called ``name``: a built-in one, else a stored field."""
    found = _BUILTIN.get(name)
    return found if found is not None else _stored_field(name)


@lru_cache(maxsize=4096)
def _stored_field(name: str) -> StoredFieldFacet:
    return StoredFieldFacet(name)


def keyword_facet(keyword: str) -> FacetType:
    """The facet whose values the ``SearchIndex.search`` keyword ``keyword`` carries first."""
    return next(t for t in BUILTIN_FACETS if t.keyword == keyword)


def builtin_fields() -> tuple[str, ...]:
    """The index fields of the built-in facets."""
    return tuple(t.field for t in BUILTIN_FACETS)


class FacetRegistry:
    """The facets of one index: the built-in ones, then its stored fields by name."""

    def __init__(self, stored_fields):
        self.types = list(BUILTIN_FACETS) + [_stored_field(n) for n in stored_fields
                                             if n not in _BUILTIN]
        self._by_name = {t.name: t for t in self.types}

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.types]

    def __contains__(self, name) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> FacetType:
        return self._by_name[name]

    def __iter__(self):
        return iter(self.types)


@lru_cache(maxsize=64)
def _registry(stored_fields: tuple[str, ...]) -> FacetRegistry:
    return FacetRegistry(stored_fields)


def registry(stored_fields) -> FacetRegistry:
    """The registry of an index with these stored-field facets (``_Generation.facet_fields``)."""
    return _registry(tuple(stored_fields))
