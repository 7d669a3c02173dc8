"""A stored document drawn as HTML in its own form, with the query's matches marked.

Owns ``article_html``: the document's blocks (``search.ingest.formats``:
headings, paragraphs, lists, code, quotations, images as links, table rows)
as HTML, carrying the same ``<mark>``s as the highlighted body.  The marks
are found once, on the body (``highlight``); here they are laid, line by
line, over each block's own inline HTML, text node by text node, so a mark
lands on the document's own characters and runs on through a link or an
emphasis.  A document without a layout (plain text, JSON records), or whose
layout does not fit its body, is drawn as a paragraph per line.

The inline HTML comes from the index, so it is sanitised again here, and the
whole article once more at the end: only the tags this module draws survive,
links only to http(s), mailto or relative addresses, each with
``rel="noopener noreferrer nofollow"``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from html import escape, unescape

import nh3

from ..ingest.formats import (INLINE_TAGS, LINK_SCHEMES, TAG, Block, blocks_from_layout,
                              sanitise_inline)

# Inline tags a block's HTML may keep (what the readers write).
ARTICLE_TAGS = INLINE_TAGS | {"h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "pre",
                              "blockquote", "table", "tbody", "tr", "td", "mark"}
LINK_REL = "noopener noreferrer nofollow"
# An image with no description is shown as a link with this label.
IMAGE_LABEL = "［图片］"
IMAGE_CLASS = "doc-image"
# Table cells in a row's text (``search.ingest.formats``: cells joined by " | ").
CELL_SEPARATOR = " | "

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
_MARK_TAG = re.compile(r"(<mark(?:\s[^>]*)?>|</mark>)")
# A tag of sanitised HTML (attribute values quoted; a ">" may sit inside one).
_TAG = re.compile(f"({TAG.pattern})")
_TAG_NAME = re.compile(r"</?([a-zA-Z0-9]+)")


def article_html(body_html: str, layout: list | None) -> str:
    """The document as sanitised HTML blocks, with ``body_html``'s marks.

    ``body_html`` is the highlighted body (escaped text and ``<mark>``s, as
    ``highlight.highlight`` makes it); ``layout`` the stored layout
    (``formats.layout_of``) or None.
    """
    if layout:
        body, spans = _marked_text(body_html or "")
        blocks = blocks_from_layout(layout, body)
        if blocks is not None:
            return _sanitise_article(_draw(blocks, spans))
    # Paragraphs of the highlighter's own escaped text and marks: nothing in
    # them comes from the index as markup, so there is nothing to sanitise
    # (and a body of megabytes is drawn in milliseconds).
    return "\n".join(f"<p>{p}</p>" for p in paragraphs(body_html or ""))


def paragraphs(body_html: str) -> list[str]:
    """The library's escaped, marked-up body as paragraphs (one per line).

    A ``<mark>`` running over a line break is closed at the end of the line and
    reopened on the next, so every paragraph is well-formed.  The only tags in
    ``body_html`` are the library's own ``<mark>``s: the text is escaped.
    """
    out, open_mark = [], False
    for line in body_html.split("\n"):
        if open_mark:
            line = MARK_OPEN + line
        opens, closes = line.count(MARK_OPEN), line.count(MARK_CLOSE)
        open_mark = opens > closes
        if open_mark:
            line += MARK_CLOSE
        if line.strip() and line != MARK_OPEN + MARK_CLOSE:
            out.append(line)
    return out


# ---------------------------------------------------------------------------
# Marks: where they are in the body, and laid over a block's HTML


def _marked_text(body_html: str) -> tuple[str, list[tuple[int, int]]]:
    """The plain body ``body_html`` shows, and its marked ``(start, end)`` spans."""
    text, spans, start, cursor = [], [], None, 0
    for i, part in enumerate(_MARK_TAG.split(body_html)):
        if i % 2 == 0:
            piece = unescape(part)
            text.append(piece)
            cursor += len(piece)
        elif part.startswith("</"):
            if start is not None and cursor > start:
                spans.append((start, cursor))
            start = None
        elif start is None:
            start = cursor
    if start is not None and cursor > start:
        spans.append((start, cursor))
    return "".join(text), spans


def _local_spans(spans, ends: list[int], start: int, end: int) -> list[tuple[int, int]]:
    """The spans inside ``[start, end)``, clipped, as offsets from ``start``
    (``spans`` are in order and apart, so their ``ends`` are in order too)."""
    out = []
    for i in range(bisect_right(ends, start), len(spans)):
        s, e = spans[i]
        if s >= end:
            break
        out.append((max(s, start) - start, min(e, end) - start))
    return out


def _inline_parts(block: Block) -> list[str]:
    """The block's inline HTML, sanitised, as tags and (escaped) text parts;
    its escaped text when that HTML is missing or its text is not the block's."""
    plain = [escape(block.text, quote=False)] if block.text else []
    if not block.html:
        return plain
    clean = sanitise_inline(block.html)
    parts = [p for p in _TAG.split(clean) if p]
    if "".join(unescape(p) for p in parts if not p.startswith("<")) != block.text:
        return plain
    return parts


def _overlay(parts: list[str], spans, cuts: list[int] = ()) -> list[str]:
    """``parts`` (tags and escaped text) with ``spans`` of their text marked,
    text node by text node; at each offset in ``cuts`` the open inline tags
    are closed and a new piece begins (the cells of a table row), the
    separator's characters left out.  Returns the pieces' HTML."""
    pieces: list[list] = []
    out: list = []
    open_tags: list[tuple[str, str]] = []      # (name, opening tag), innermost last
    cuts = sorted(cuts, reverse=True)
    starts = [s for s, _ in spans]
    cursor, skip_to = 0, -1
    for part in parts:
        if part.startswith("<"):
            out.append(part)
            name = _TAG_NAME.match(part)
            if not name:
                continue
            tag = name.group(1).lower()
            if not part.startswith("</"):
                open_tags.append((tag, part))
            else:
                for i in range(len(open_tags) - 1, -1, -1):
                    if open_tags[i][0] == tag:
                        del open_tags[i]
                        break
            continue
        text = unescape(part)
        end = cursor + len(text)
        edges = {cursor, end}
        edges.update(x for s, e in spans for x in (s, e) if cursor < x < end)
        edges.update(x for c in cuts for x in (c, c + len(CELL_SEPARATOR)) if cursor < x < end)
        edges = sorted(edges)
        for a, b in zip(edges, edges[1:]):
            if cuts and a == cuts[-1]:
                cuts.pop()
                out.extend(f"</{t}>" for t, _ in reversed(open_tags))
                pieces.append(out)
                out = [opening for _, opening in open_tags]
                skip_to = a + len(CELL_SEPARATOR)
            if a >= skip_to:
                out.append((text[a - cursor:b - cursor], _inside(starts, spans, a)))
        cursor = end
    pieces.append(out)
    return [_joined(piece) for piece in pieces]


def _inside(starts: list[int], spans, pos: int) -> bool:
    i = bisect_right(starts, pos) - 1
    return i >= 0 and pos < spans[i][1]


def _joined(items) -> str:
    """Tags and ``(text, marked)`` pairs as HTML, a mark per run of marked characters."""
    html, run, run_marked = [], [], False

    def flush():
        if run:
            text = escape("".join(run), quote=False)
            html.append(MARK_OPEN + text + MARK_CLOSE if run_marked else text)
            run.clear()

    for item in items:
        if isinstance(item, str):
            flush()
            html.append(item)
        else:
            ch, marked = item
            if marked != run_marked:
                flush()
                run_marked = marked
            run.append(ch)
    flush()
    return "".join(html)


# ---------------------------------------------------------------------------
# Blocks to HTML


def _draw(blocks: list[Block], spans) -> str:
    out: list[str] = []
    lists: list[tuple[int, bool]] = []     # open lists: (depth, ordered), innermost last
    group: str | None = None               # an open <blockquote> or <table>
    ends = [e for _, e in spans]
    cursor = 0
    for block in blocks:
        start = cursor
        if block.text:
            cursor += len(block.text) + 1
        local = _local_spans(spans, ends, start, start + len(block.text))
        image = _image(block, local) if block.kind == "img" else None
        if not block.text and not image:    # only an image is shown without text
            continue

        if block.kind != "li":
            _close_lists(out, lists, -1)
        wanted = {"quote": "blockquote", "row": "table"}.get(block.kind)
        if group and group != wanted:
            out.append("</tbody></table>" if group == "table" else "</blockquote>")
            group = None
        if wanted and not group:
            out.append("<table><tbody>" if wanted == "table" else "<blockquote>")
            group = wanted

        if block.kind == "li":
            opening = _open_item(out, lists, max(0, block.depth), block.ordered)
            out.append(opening + _overlay(_inline_parts(block), local)[0])
        elif block.kind == "pre":
            out.append("<pre><code>" + _overlay([escape(block.text, quote=False)], local)[0]
                       + "</code></pre>")
        elif block.kind == "row":
            cuts = _cell_cuts(block.text)
            cells = _overlay(_inline_parts(block), local, cuts)
            out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        elif block.kind == "img":
            out.append(f'<p class="{IMAGE_CLASS}">{image}</p>')
        elif block.kind.startswith("h"):
            level = min(6, int(block.kind[1]) + 1)   # the page's own h1 is the title
            out.append(f"<h{level}>" + _overlay(_inline_parts(block), local)[0] + f"</h{level}>")
        else:                                       # p, and each paragraph of a quote
            out.append("<p>" + _overlay(_inline_parts(block), local)[0] + "</p>")
    _close_lists(out, lists, -1)
    if group:
        out.append("</tbody></table>" if group == "table" else "</blockquote>")
    return "\n".join(out)


def _open_item(out: list[str], lists: list, depth: int, ordered: bool) -> str:
    """The HTML that starts a list item at ``depth``: lists deeper than it
    closed, a list of the other kind at its depth closed, a new list opened
    inside the open item when it is deeper than the open ones."""
    _close_lists(out, lists, depth)
    if lists and lists[-1][0] == depth and lists[-1][1] != ordered:
        _close_lists(out, lists, depth - 1)
    if lists and lists[-1][0] == depth:
        out[-1] += "</li>"
        return "<li>"
    lists.append((depth, ordered))
    return ("<ol>" if ordered else "<ul>") + "\n<li>"


def _close_lists(out: list[str], lists: list, depth: int) -> None:
    """Close the open lists deeper than ``depth`` (all of them for -1)."""
    while lists and lists[-1][0] > depth:
        _, ordered = lists.pop()
        out[-1] += "</li>"
        out.append("</ol>" if ordered else "</ul>")


def _cell_cuts(text: str) -> list[int]:
    cuts, at = [], text.find(CELL_SEPARATOR)
    while at >= 0:
        cuts.append(at)
        at = text.find(CELL_SEPARATOR, at + len(CELL_SEPARATOR))
    return cuts


def _image(block: Block, local) -> str:
    """An image as the link to it, labelled by its description (or ``IMAGE_LABEL``)."""
    if not block.text:
        if not block.html:
            return ""
        clean = sanitise_inline(block.html)
        opening = next((p for p in _TAG.split(clean) if p.startswith("<a ")), None)
        return f"{opening}{IMAGE_LABEL}</a>" if opening else ""
    return _overlay(_inline_parts(block), local)[0]


def _sanitise_article(html: str) -> str:
    return nh3.clean(html, tags=set(ARTICLE_TAGS), attributes={"*": set(), "a": {"href"}},
                     tag_attribute_values={"mark": {"id": {"match-1"}}},
                     allowed_classes={"p": {IMAGE_CLASS}},
                     url_schemes=set(LINK_SCHEMES), link_rel=LINK_REL, strip_comments=True)
