"""The index on disk: its layout, schema, build and saved tables.

Owns the folder layout (``layout``: generations, the ``current`` link, the
lock and the atomic swap), the schema and its analyzers (``schema``,
``analyzers``, ``scoring``: how fields are weighed), a document as fields
(``fields``), the kinds of facet an index has (``facet_types``: city, year
and month, stored fields, registered in one place), the build (``build``:
serial and the entry point; ``parallel``:
the worker-process build), the tables saved beside an index (``facets``,
``vocabulary``, ``saved``), their checksums and the whole-index check
(``integrity``), document sets (``docsets``) and an opened generation with its
caches (``generation``).  Imports ``search.text``, ``search.ingest`` and
``search.whoosh3``.
"""

# Opening any index unpickles its schema, which names the project's
# tokenizers by the module path they were first defined in: registered here,
# before anything of the store can open an index (see ``analyzers``).
import importlib  # noqa: E402

importlib.import_module(".analyzers", __name__)
