"""The exceptions the library raises on purpose, each with a message for people,
and the command those messages tell people to run."""

import shlex

# The command line a message names: the one `pip install zhsearch` puts on the
# PATH (``search.cli``); in the project's checkout `make index` runs it.
from .about import COMMAND


def index_command(index_dir, sources: str = "SOURCE", *extra: str) -> str:
    """The command that builds the index at ``index_dir`` from ``sources``."""
    words = [COMMAND, "index", sources, "--index", shlex.quote(str(index_dir)), *extra]
    return " ".join(words)


def no_index_message(index_dir) -> str:
    """What ``IndexNotFound`` says: there is no index, and how to build one."""
    return (f"no index at {index_dir}: build one with `{index_command(index_dir)}` "
            "(in the project's checkout, `make index` builds the example documents)")


class SearchError(Exception):
    """Base class: anything the library refuses, with a reason a user can act on."""


class BuildError(SearchError):
    """The index folder cannot be built into (not ours, locked by another build)."""


class IndexNotFound(SearchError):
    """No index at the given folder: build one with ``zhsearch index SOURCE --index DIR``."""


class QueryError(SearchError, ValueError):
    """A query or a search parameter that cannot be answered (bad page, unknown sort ...)."""


class IndexDamaged(SearchError):
    """The index exists but a file of it is unreadable or fails its check:
    rebuild it (``zhsearch index``) or see ``zhsearch check``."""
