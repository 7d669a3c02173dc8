"""Readers of file formats: web pages, Markdown, Word and PDF files, each read into an ``Extracted``.

Owns what a format reader hands the rest of the ingest path: the article as
``Block``s (headings, paragraphs, list items, code, quotes, images as links),
each with the plain text that is indexed and the inline HTML a page shows,
and what the file says about itself (headline, date, author, site, canonical
URL, the file's own properties).  Readers find and structure; our own
cleaning (boilerplate lines, cities, dates found in the text) is the step
after, in ``search.ingest.metadata``.

A document's body is the text of its blocks, one line per block (a code
block keeps its own line breaks).  The index stores the blocks' layout
beside the body (``layout_of``), and the document page rebuilds them over
the highlighted body (``blocks_from_layout``), so a highlight lands on the
document's own characters whatever the markup.

Adding a format: a module with ``read(data: bytes, source: str) -> Extracted``
that raises ``FormatError`` for a file it cannot use, registered by suffix in
``search.ingest.sources``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape, unescape

# Kinds of block, as the document page draws them: a paragraph, headings of
# levels 1-6, a list item (``depth`` and ``ordered`` say which list), a code
# block (its text keeps its line breaks), a quotation, an image shown as a
# link (``html``; its text is the image's description, possibly empty), a
# table row (cells joined by " | ").
BLOCK_KINDS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "quote", "img", "row")


# The inline tags a block's HTML may hold and the link targets it may keep:
# what the document page draws (``search.results.rendering``), nothing else.
INLINE_TAGS = frozenset({"a", "code", "em", "strong", "b", "i", "del", "s", "sub", "sup"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# A tag, its attribute values possibly quoted (a ">" inside quotes is no end).
TAG = re.compile(r"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")


class FormatError(ValueError):
    """A file its format's reader cannot use; ``reason`` says why, for the build report."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass
class Block:
    """One block of a document.

    ``text`` is what is indexed and what the body holds for the block: plain
    text, no markup, a line break only inside a ``pre``.  ``html`` is the
    block's inline HTML for display (``<a href>``, ``<code>``, ``<em>``,
    ``<strong>`` ...), already sanitised, whose text content is exactly
    ``text``; None when the text is shown as it is.  An ``img`` block with no
    description has text "" and its link as ``html``.
    """

    kind: str
    text: str
    html: str | None = None
    depth: int = 0
    ordered: bool = False

    def __post_init__(self):
        if self.kind not in BLOCK_KINDS:
            raise ValueError(f"unknown block kind {self.kind!r}")

    @property
    def lines(self) -> int:
        """Lines of the body this block takes (none for an empty one)."""
        return self.text.count("\n") + 1 if self.text else 0

    def inline_html(self) -> str:
        return self.html if self.html is not None else escape(self.text, quote=False)


@dataclass
class Extracted:
    """What a reader found in one file.

    ``title``, ``date``, ``author``, ``site`` and ``url`` are what the document
    states for itself in its text or markup (``og:title``, ``<h1>``, a Word
    ``Title`` paragraph, a first Markdown heading; ``<meta>``/``<time>``
    dates); ``properties`` is the file's own metadata (a Word file's core
    properties, a PDF's document information: ``title``, ``author``, ``date``),
    used only where the text has none.  Dates are text (ISO ``2019-09-07`` or
    as written); ``metadata`` parses them.
    """

    blocks: list[Block]
    title: str | None = None
    date: str | None = None
    author: str | None = None
    site: str | None = None
    url: str | None = None
    properties: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return body_of(self.blocks)


def body_of(blocks: list[Block]) -> str:
    """The body a document's blocks make: one line per block, empty blocks left out."""
    return "\n".join(b.text for b in blocks if b.text)


def layout_of(blocks: list[Block]) -> list | None:
    """What the index stores of ``blocks`` beside the body: per block
    ``[kind, depth, ordered, html or None, lines of the body it takes]``;
    None when the blocks are plain paragraphs (the body alone says it all)."""
    if all(b.kind == "p" and b.html is None for b in blocks):
        return None
    return [[b.kind, b.depth, b.ordered, b.html, b.lines] for b in blocks]


def blocks_from_layout(layout: list | None, body: str) -> list[Block] | None:
    """The blocks of a stored document, from its layout and its body; None
    when there is no layout or it does not fit the body (the page then shows
    the body as paragraphs)."""
    if not layout:
        return None
    lines = body.split("\n") if body else []
    blocks, cursor = [], 0
    try:
        for kind, depth, ordered, html, taken in layout:
            taken = int(taken)
            if taken < 0 or cursor + taken > len(lines):
                return None
            blocks.append(Block(kind, "\n".join(lines[cursor:cursor + taken]),
                                html, int(depth), bool(ordered)))
            cursor += taken
    except (TypeError, ValueError):
        return None
    return blocks if cursor == len(lines) else None


def sanitise_inline(html: str) -> str:
    """``html`` with only ``INLINE_TAGS``, links with only their ``href``
    (``LINK_SCHEMES`` or relative), no comments: nh3, a maintained sanitiser."""
    import nh3

    return nh3.clean(html, tags=set(INLINE_TAGS), attributes={"*": set(), "a": {"href"}},
                     url_schemes=set(LINK_SCHEMES), link_rel=None, strip_comments=True)


def inline_html(html: str, text: str) -> str | None:
    """A block's ``html`` as it may be stored: sanitised, and only when it
    says more than ``text`` and its own text is exactly ``text`` (None: the
    block's text is shown as it is)."""
    if html == escape(text, quote=False):
        return None
    clean = sanitise_inline(html)
    if "<" not in clean or text_of(clean) != text:
        return None
    return clean


def text_of(html: str) -> str:
    """The text an HTML fragment shows."""
    return unescape(TAG.sub("", html))


def safe_href(href: str | None) -> str | None:
    """A link target a page may follow (``LINK_SCHEMES`` or relative), or None."""
    href = (href or "").strip()
    if not href:
        return None
    scheme = _SCHEME.match(href)
    if scheme and scheme.group(1).lower() not in LINK_SCHEMES:
        return None
    return href
