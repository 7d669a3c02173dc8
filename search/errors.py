"""The exceptions the library raises on purpose, each with a message for people."""


class SearchError(Exception):
    """Base class: anything the library refuses, with a reason a user can act on."""


class BuildError(SearchError):
    """The index folder cannot be built into (not ours, locked by another build)."""


class IndexNotFound(SearchError):
    """No index at the given folder: run ``make index`` or ``python -m search index``."""


class QueryError(SearchError, ValueError):
    """A query or a search parameter that cannot be answered (bad page, unknown sort ...)."""


class IndexDamaged(SearchError):
    """The index exists but a file of it is unreadable or fails its check:
    rebuild it (``python -m search index``) or see ``python -m search check``."""
