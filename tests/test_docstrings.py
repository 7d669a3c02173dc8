"""The library's public API is documented: every name of ``search.__all__``,
the result classes of ``search.results.model``, and each public method and
property of those classes (inherited ones from the library included) has a
docstring of its own -- a dataclass's generated signature does not count."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import search
import search.results.model as model


def _documented(obj) -> bool:
    doc = obj.__doc__ or ""
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj) and doc.startswith(obj.__name__ + "("):
        return False                    # the signature dataclasses write, not a docstring
    return bool(doc.strip())


def _public_members(cls):
    """(name, function) of each public method and property the library defines on ``cls``."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        raw = inspect.getattr_static(cls, name)
        if isinstance(raw, (staticmethod, classmethod)):
            function = raw.__func__
        elif isinstance(raw, property):
            function = raw.fget
        elif inspect.isfunction(raw):
            function = raw
        else:
            continue                    # fields and constants
        if getattr(function, "__module__", "").startswith("search"):
            yield name, function


def _api() -> dict:
    names = {name: getattr(search, name) for name in search.__all__}
    for name, obj in vars(model).items():
        if inspect.isclass(obj) and obj.__module__ == model.__name__ and not name.startswith("_"):
            names.setdefault(name, obj)
    return names


API = _api()
CLASSES = {name: obj for name, obj in API.items() if inspect.isclass(obj)}


def test_the_api_is_the_documented_one():
    # What this file walks: were the lists empty, every test below would pass.
    assert {"build_index", "open_index", "SearchIndex", "BuildProgress"} <= set(API)
    assert {"Hit", "SearchResults", "DocumentView"} <= set(CLASSES)
    assert {"to_dict", "in_script", "pages"} <= {n for n, _ in _public_members(model.SearchResults)}


@pytest.mark.parametrize("name", sorted(API))
def test_every_public_name_has_a_docstring(name):
    assert _documented(API[name]), f"search.{name} has no docstring"


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_public_method_has_a_docstring(name):
    missing = [member for member, function in _public_members(CLASSES[name])
               if not (function.__doc__ or "").strip()]
    assert not missing, f"{name}: no docstring on {', '.join(missing)}"


def test_a_missing_docstring_is_caught():
    @dataclasses.dataclass
    class Undocumented:
        value: int

        def to_dict(self) -> dict:
            return {"value": self.value}
    Undocumented.__module__ = "search.example"
    Undocumented.to_dict.__module__ = "search.example"
    assert not _documented(Undocumented)
    assert [n for n, f in _public_members(Undocumented) if not f.__doc__] == ["to_dict"]
