"""The library's packages follow the data path: each imports only from the
stages before it, and no module imports itself back through others.

Read from the source with ``ast`` (imports inside functions count too), so
an arrow pointing back up the path fails here, not in a review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "search"

# The stages, in data-path order; a module may import from its own stage and
# those before it.  ``about`` (name, version) and ``errors`` are the
# vocabulary of every stage.
STAGES = ["about", "errors", "text", "ingest", "whoosh3", "store", "query", "rank", "results", "aids",
          "searcher", "eval", "cli"]
TOP = {"__init__", "__main__"}      # the package's front door may import everything


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """The project modules ``path`` imports (``search.x.y``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not (target == "search" or target.startswith("search.")):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if _exists(sub) else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("search."))
    found.discard(name)
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").exists() or (PACKAGE / rel / "__init__.py").exists()


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


MODULES = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_belongs_to_a_stage():
    strays = [m for m in MODULES if _stage(m) not in STAGES and _stage(m) not in TOP]
    assert not strays, f"modules outside the stages {STAGES}: {strays}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_point_down_the_data_path(module):
    here = _stage(module)
    if here in TOP:
        return
    backward = sorted(m for m in MODULES[module]
                      if _stage(m) not in TOP and STAGES.index(_stage(m)) > STAGES.index(here))
    backward += sorted(m for m in MODULES[module] if _stage(m) in TOP)
    assert not backward, f"{module} imports from later stages: {backward}"


def test_no_module_imports_itself_back():
    graph = {m: {t for t in deps if t in MODULES and _stage(t) not in TOP}
             for m, deps in MODULES.items() if _stage(m) not in TOP}
    cycles, state, path = [], {}, []

    def visit(m):
        state[m] = "open"
        path.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == "open":
                cycles.append(path[path.index(t):] + [t])
            elif t not in state:
                visit(t)
        path.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_the_checker_sees_a_backward_arrow(tmp_path):
    """The reading of imports is itself checked: a module of ``text`` that
    imports ``search.store`` is seen as importing a later stage."""
    fake = PACKAGE / "text" / "segment.py"
    deps = _imports(fake)
    assert "search.text.script" in deps                      # a real, same-stage import
    probe = tmp_path / "probe.py"
    probe.write_text("from search.store import facets\nfrom search.query.parse import parse_query\n")
    tree = ast.parse(probe.read_text())
    targets = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {_stage(t) for t in targets} == {"store", "query"}
    assert all(STAGES.index(_stage(t)) > STAGES.index("text") for t in targets)


# -- tests and bench use what the library offers ---------------------------------

ROOT = PACKAGE.parent
# White-box tests that look inside a cache or a memo, by name and why; every
# other name a test or the benchmark imports from the library is public (no
# leading underscore).
MAY_LOOK_INSIDE = {
    "tests/test_analysis.py": {"search.text.segment._state", "search.text.segment._cut_state"},
    "tests/test_fastrank.py": {"search.rank.fastrank._Ranker", "search.rank.fastrank._TERMS",
                               "search.rank.fastrank._DECODED", "search.rank.fastrank._terms_held",
                               "search.rank.fastrank._pays"},
    # Holds a merge between writing its segment and putting it in place.
    "tests/test_live_index.py": {"search.store.merging._write_merged"},
    "tests/test_properties.py": {"search.results.highlight._KEEP_FROM",
                                 "search.results.highlight._kept",
                                 "search.results.highlight._kept_chars"},
}


def _private_uses(path: Path) -> set[str]:
    """Non-public library names ``path`` imports, reads off an imported module,
    or monkeypatches on one (``setattr(module, "_name", ...)``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules, used = {}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("search"):
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if a.name.startswith("_"):
                    used.add(full)
                modules[a.asname or a.name] = full
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in modules and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            used.add(f"{modules[node.value.id]}.{node.attr}")
        if isinstance(node, ast.Call) and len(node.args) >= 2 \
                and isinstance(node.args[0], ast.Name) and node.args[0].id in modules \
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str) \
                and node.args[1].value.startswith("_") and not node.args[1].value.startswith("__"):
            used.add(f"{modules[node.args[0].id]}.{node.args[1].value}")
    return used


@pytest.mark.parametrize("path", sorted(
    str(p.relative_to(ROOT)) for p in [*ROOT.glob("tests/*.py"), *ROOT.glob("bench/*.py")]))
def test_tests_and_bench_use_public_names(path):
    private = _private_uses(ROOT / path) - MAY_LOOK_INSIDE.get(path, set())
    assert not private, f"{path} uses non-public names: {sorted(private)}"


def test_the_list_of_white_box_names_is_still_needed():
    for path, names in MAY_LOOK_INSIDE.items():
        assert names <= _private_uses(ROOT / path), f"{path} no longer needs {names}"
