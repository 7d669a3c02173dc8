"""Markdown files: CommonMark (with tables and strikethrough) read into blocks.

Owns what a Markdown document's text is without its syntax: no ``#``, ``>``,
backticks, emphasis markers or link targets (a link's text stays), and
tldr-pages placeholders ``{{path/to/file}}`` as ``path/to/file``.  Each
block's inline HTML keeps links, code and emphasis for the page; raw HTML
written in the Markdown is not trusted: its tags are dropped and its text
kept.  The first heading, when it opens the document, is its title.

Front matter is the caller's (``search.ingest.sources`` splits it off first).
"""

from __future__ import annotations

import re
import unicodedata
from html import escape, unescape

import nh3

from . import Block, Extracted, FormatError, inline_html, safe_href

# Only these inline tags reach a block's HTML (what the renderer draws).
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")

_parser = None


def _markdown():
    global _parser
    if _parser is None:
        try:
            from markdown_it import MarkdownIt
        except ImportError:
            raise FormatError("reading Markdown files needs markdown-it-py: "
                              "pip install 'zhsearch[formats]'") from None
        parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
        # Every link is parsed as a link, so an unsafe one's target is dropped
        # (``_safe_href``) rather than left in the text as Markdown syntax.
        parser.validateLink = lambda url: True
        _parser = parser
    return _parser


def read(data: bytes, source: str) -> Extracted:
    """A Markdown file's bytes (UTF-8) as its blocks; front matter is not split off here."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError("not UTF-8 text") from None
    return read_markdown(text, source)


def read_markdown(text: str, source: str) -> Extracted:
    """The blocks of Markdown ``text`` (already decoded, front matter removed)."""
    tokens = _markdown().parse(text)
    blocks = _Blocks().walk(tokens)
    title = None
    if blocks and blocks[0].kind.startswith("h"):
        title = blocks.pop(0).text
    return Extracted(blocks=blocks, title=title or None)


class _Blocks:
    """Turns markdown-it's block tokens into ``Block``s, keeping track of the
    lists and quotations a paragraph sits in."""

    def __init__(self):
        self.lists: list[bool] = []        # ordered?, innermost last
        self.quotes = 0
        self.row: list[tuple[str, str]] | None = None
        self.blocks: list[Block] = []

    def walk(self, tokens) -> list[Block]:
        pending = None                     # the block kind the next inline token fills
        for token in tokens:
            kind = token.type
            if kind in ("bullet_list_open", "ordered_list_open"):
                self.lists.append(kind == "ordered_list_open")
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
            elif kind == "blockquote_open":
                self.quotes += 1
            elif kind == "blockquote_close":
                self.quotes -= 1
            elif kind == "heading_open":
                pending = "quote" if self.quotes else token.tag
            elif kind == "paragraph_open":
                pending = "li" if self.lists else "quote" if self.quotes else "p"
            elif kind == "tr_open":
                self.row = []
            elif kind == "tr_close":
                self._add_row()
            elif kind == "inline":
                if self.row is not None:
                    self.row.append(_inline(token.children or []))
                elif pending:
                    self._add_inline(pending, token.children or [])
                pending = None
            elif kind in ("fence", "code_block"):
                code = token.content.rstrip("\n")
                if code.strip():
                    self.blocks.append(Block("pre", code))
            elif kind == "html_block":
                self._add_raw_html(token.content)
        return self.blocks

    def _add_inline(self, kind: str, children) -> None:
        if kind == "p" and _only_images(children):
            for image in (c for c in children if c.type == "image"):
                self.blocks.append(_image_block(image))
            return
        text, html = _inline(children)
        if not text:
            return
        depth = len(self.lists) - 1 if kind == "li" else 0
        ordered = self.lists[-1] if kind == "li" else False
        self.blocks.append(Block(kind, text, html, depth, ordered))

    def _add_row(self) -> None:
        cells, self.row = self.row or [], None
        if not any(text for text, _ in cells):
            return
        text = " | ".join(text for text, _ in cells)
        html = " | ".join(html or escape(text, quote=False) for text, html in cells)
        self.blocks.append(Block("row", text, inline_html(html, text)))

    def _add_raw_html(self, content: str) -> None:
        """A block of raw HTML: its text, one paragraph per line, its tags gone."""
        text = unescape(nh3.clean(content, tags=set()))
        for line in text.split("\n"):
            line = " ".join(line.split())
            if line:
                self.blocks.append(Block("quote" if self.quotes else "p", line))


def _only_images(children) -> bool:
    return any(c.type == "image" for c in children) and all(
        c.type in ("image", "softbreak", "hardbreak") or (c.type == "text" and not c.content.strip())
        for c in children)


def _image_block(image) -> Block:
    alt, _ = _inline(image.children or [], in_link=True)
    href = safe_href(image.attrs.get("src", ""))
    if href is None:
        return Block("img", alt)
    return Block("img", alt, f'<a href="{escape(href)}">{escape(alt, quote=False)}</a>')


def _inline(children, in_link: bool = False) -> tuple[str, str | None]:
    """The plain text of an inline token's children and their HTML (None
    when the HTML would be the escaped text)."""
    text: list[str] = []
    html: list[str] = []
    links = 0
    for i, child in enumerate(children):
        kind = child.type
        if kind in ("text", "text_special"):
            piece = _PLACEHOLDER.sub(r"\1", child.content)
            text.append(piece)
            html.append(escape(piece, quote=False))
        elif kind in ("softbreak", "hardbreak"):
            # Lines of a paragraph are one line of text: Chinese lines join
            # without a space, others with one (as a browser shows them).
            before = "".join(text)[-1:]
            after = _next_char(children, i + 1)
            joint = "" if _joins_tight(before, after) else " "
            text.append(joint)
            html.append(joint)
        elif kind == "code_inline":
            piece = _PLACEHOLDER.sub(r"\1", child.content)
            text.append(piece)
            html.append(f"<code>{escape(piece, quote=False)}</code>")
        elif kind in ("em_open", "em_close", "strong_open", "strong_close", "s_open", "s_close"):
            tag = {"em": "em", "strong": "strong", "s": "del"}[kind.rsplit("_", 1)[0]]
            html.append(f"<{'/' if kind.endswith('close') else ''}{tag}>")
        elif kind == "link_open":
            href = None if in_link or links else safe_href(child.attrs.get("href", ""))
            html.append(f'<a href="{escape(href)}">' if href is not None else "")
            links += 1 if href is not None else 0
            in_link = True
        elif kind == "link_close":
            if links:
                html.append("</a>")
                links -= 1
            in_link = False
        elif kind == "image":
            alt, _ = _inline(child.children or [], in_link=True)
            href = None if in_link else safe_href(child.attrs.get("src", ""))
            text.append(alt)
            html.append(f'<a href="{escape(href)}">{escape(alt, quote=False)}</a>'
                        if href is not None and alt else escape(alt, quote=False))
        # html_inline: raw HTML's tags are dropped; the text between them is
        # its own text token and stays.
    plain = "".join(text).strip(" ")
    return plain, inline_html("".join(html).strip(" "), plain)


def _next_char(children, start: int) -> str:
    """The first character of text in ``children[start:]``."""
    for child in children[start:]:
        if child.type in ("text", "text_special", "code_inline"):
            piece = _PLACEHOLDER.sub(r"\1", child.content)
            if piece:
                return piece[0]
        elif child.type == "image":
            return _next_char(child.children or [], 0)
        elif child.type in ("softbreak", "hardbreak"):
            return " "
    return ""


def _joins_tight(before: str, after: str) -> bool:
    """Whether two lines meeting at these characters join without a space:
    Chinese text on both sides (a wide character, and a wide one or
    punctuation such as — “ … that East Asian text shares)."""
    if not before or not after:
        return False
    widths = {unicodedata.east_asian_width(before), unicodedata.east_asian_width(after)}
    return bool(widths & {"W", "F"}) and widths <= {"W", "F", "A"}
