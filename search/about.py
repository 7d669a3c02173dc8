"""What the project is called and which version this is: the one place both are written.

``pyproject.toml`` reads ``__version__`` from here (``search.__version__`` is
the same); ``zhsearch --version`` prints ``COMMAND __version__``.
"""

# The distribution (`pip install zhsearch`) and its command have one name.
DISTRIBUTION = "zhsearch"
COMMAND = "zhsearch"

__version__ = "0.1.0"
