"""Whoosh's internals are reached through one door, ``search.whoosh3``.

Read from the source with ``ast``: outside ``search/whoosh3/``, no module of
the library reads or sets a private attribute of a Whoosh object (an
attribute whose name starts with one underscore, on a name other than
``self``/``cls``), names one in ``getattr``/``hasattr``, or imports a private
name from ``whoosh``.  Whoosh's private names are the ones its own classes
define (``self._x = ...``, ``def _x``) in the modules the library meets, and
those listed below; a name the library defines itself (its own modules'
``_read``, say) is the library's.  And the installed Whoosh-Reloaded is one
``search.whoosh3`` says it was checked on.
"""

from __future__ import annotations

import ast
from importlib.metadata import version
from pathlib import Path

import pytest
import whoosh
from packaging.version import Version

from search import whoosh3

PACKAGE = Path(__file__).resolve().parent.parent / "search"
DOOR = PACKAGE / "whoosh3"
WHOOSH = Path(whoosh.__file__).resolve().parent

# Private attributes of Whoosh's readers, writers, term infos, matchers,
# columns and files the W3 format is read through.
KNOWN = {
    "_terms", "_postfile", "_perdoc", "_tindex", "_segment", "_colwriters", "_child",
    "_codec", "_storage", "_fieldmap", "_keycoder", "_cached_reader", "_count", "_dbfile",
    "_basepos", "_read_ids", "_read_weights", "_read_values", "_next_block", "_btexts",
    "_struct", "_buf", "_inlined", "_df", "_weight", "_maxweight", "_minlength",
    "_maxlength", "_minid", "_maxid", "_test_field", "_text_to_bytes", "_filter_to_comb",
    "_query_to_comb", "_lenfield", "_lengths", "_dir_entry", "_pointer", "_readers",
    "_doc_offsets", "_ix", "_reader",
}

# The Whoosh modules whose objects the library holds.
WHOOSH_MODULES = ["reading.py", "searching.py", "writing.py", "collectors.py", "columns.py",
                  "scoring.py", "fields.py", "formats.py", "index.py", "codec", "filedb",
                  "matching", "query"]


def _python_files(root: Path) -> list[Path]:
    return [root] if root.suffix == ".py" else sorted(root.rglob("*.py"))


def _defined_private_names(paths, functions=False) -> set[str]:
    """``_x`` names the classes of ``paths`` define (``self._x = ...`` and
    methods), and with ``functions`` their module-level functions too."""
    names = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if functions:
            names.update(n.name for n in tree.body if isinstance(n, ast.FunctionDef))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                    and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                names.add(node.attr)
            elif isinstance(node, ast.ClassDef):
                names.update(n.name for n in node.body
                             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return {n for n in names if _private(n)}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


LIBRARY = [p for p in sorted(PACKAGE.rglob("*.py")) if DOOR not in p.parents]
WHOOSH_PRIVATE = KNOWN | (
    _defined_private_names(p for m in WHOOSH_MODULES for p in _python_files(WHOOSH / m))
    - _defined_private_names(sorted(PACKAGE.rglob("*.py")), functions=True))


def _private_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in WHOOSH_PRIVATE \
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) >= 2 \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value in WHOOSH_PRIVATE:
            found.append(f"line {node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "whoosh":
            found += [f"line {node.lineno}: from {node.module} import {a.name}"
                      for a in node.names if _private(a.name)]
    return found


def test_the_known_names_are_whooshs():
    assert {"_terms", "_postfile", "_perdoc", "_tindex", "_colwriters"} <= WHOOSH_PRIVATE
    assert len(WHOOSH_PRIVATE) > 100        # Whoosh's own classes were read


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_whoosh_attribute_outside_the_door(path):
    uses = _private_uses(path)
    assert not uses, (f"{path.relative_to(PACKAGE.parent)} reaches into Whoosh: {uses}; "
                      f"go through search.whoosh3")


def test_the_door_is_where_the_private_names_are_used():
    # The check finds what it is meant to find.
    assert any(_private_uses(p) for p in _python_files(DOOR))


def test_installed_whoosh_is_one_the_door_was_checked_on():
    lowest, below = (Version(v) for v in whoosh3.CHECKED_ON)
    installed = Version(version("Whoosh-Reloaded"))
    assert lowest <= installed < below, (
        f"Whoosh-Reloaded {installed} is installed; search.whoosh3 was checked on "
        f">={lowest},<{below}: check its modules against this release and update CHECKED_ON")


def test_the_checked_range_is_the_one_the_project_allows():
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    lowest, below = whoosh3.CHECKED_ON
    assert f'"Whoosh-Reloaded>={lowest},<{below}"' in pyproject
