"""Saved web pages: the article of the page, not the page.

Owns how an HTML file becomes an ``Extracted``: which encoding the bytes are
in (a byte-order mark, then what the page declares, then detection), where
the article is (trafilatura, which leaves out navigation, share bars,
comments, related lists and footers), the article's structure as ``Block``s,
and what the page says about itself: the headline among its candidates
(``og:title``, ``<h1>``, ``<title>`` without the site's name), the original
publication date (htmldate), author, site and canonical URL.

trafilatura and its companions are imported when a page is read, so that
importing the formats package stays fast.
"""

from __future__ import annotations

import codecs
import re
from datetime import date
from html import escape

from ..cleaning import (
    MIN_PLAUSIBILITY,
    UndecodableError,
    decode_bytes,
    is_boilerplate,
    plausibility,
    strip_site_suffix,
)
from ..dates import find_date_in_text
from . import Block, Extracted, FormatError, inline_html, safe_href

NEEDS_LIBRARY = "reading HTML files needs {}: pip install 'zhsearch[formats]'"
NO_ARTICLE = "no article text found in the page"

# ---------------------------------------------------------------------------
# Encodings.

# The page's own declaration is looked for in its head; a page with a long
# head of scripts still declares its charset well before this.
DECLARATION_WINDOW = 16384
_META_CHARSET = re.compile(rb"<meta\s[^>]*?\bcharset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)
_HTTP_EQUIV = re.compile(
    rb"<meta\s[^>]*?http-equiv\s*=\s*[\"']?content-type[\"']?[^>]*?>", re.I)
_CONTENT_CHARSET = re.compile(rb"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)
# Labels as browsers read them (WHATWG Encoding): GB2312 and GBK pages are
# written in GBK's superset, Big5 pages in Big5 with the HKSCS additions.
_LABEL_CODECS = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "chinese": "gb18030", "csgb2312": "gb18030", "iso-ir-58": "gb18030", "gb18030": "gb18030",
    "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "cn-big5": "big5hkscs",
    "x-x-big5": "big5hkscs", "csbig5": "big5hkscs",
    "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
}
# Declared by Western templates on pages full of Chinese: the bytes decide.
_WESTERN = {"iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "windows-1252", "cp1252"}
# Undecodable bytes a page in its declared encoding may hold (a truncated
# character, a stray byte from a template) before it is refused.
MAX_BAD_BYTE_SHARE = 0.001


def decode_html(data: bytes) -> tuple[str, list[str]]:
    """The text of an HTML file's bytes and warnings about its encoding.

    Order: a byte-order mark; ``<meta charset>``; ``<meta http-equiv=
    "Content-Type" content="...; charset=...">``; detection
    (``cleaning.decode_bytes``: UTF-8, GB18030, Big5).  A declared charset the
    bytes do not decode in falls back to detection, and so does a declared
    legacy charset on bytes that are valid UTF-8 (a page saved again in UTF-8
    keeps its old declaration).  Raises ``FormatError`` when nothing fits.
    """
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                       (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, "replace"), []
    declared = declared_charset(data[:DECLARATION_WINDOW])
    codec = _codec(declared) if declared else None
    if codec and codec != "utf-8" and codec not in _WESTERN and _is_utf8(data):
        codec = None
    if codec and codec not in _WESTERN:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            text = None
        # Big5 bytes mostly decode as GBK too, into rare characters: a
        # declaration the text does not bear out is a wrong one.
        if text is not None and (codec == "utf-8" or plausibility(text) >= MIN_PLAUSIBILITY):
            return text, []
    try:
        return decode_bytes(data), []
    except UndecodableError as exc:
        detection_failed = exc.reason
    if codec:
        text = data.decode(codec, "replace")
        bad = text.count("\ufffd")
        if bad <= max(1, len(data) * MAX_BAD_BYTE_SHARE):
            return text, [f"{bad} byte(s) not valid in the declared charset {declared}; replaced"]
    raise FormatError(f"cannot decode the page: {detection_failed}")


def declared_charset(head: bytes) -> str | None:
    """The charset a page declares in ``<meta charset>``, else in ``<meta http-equiv>``."""
    for m in _META_CHARSET.finditer(head):
        if b"http-equiv" not in m.group(0).lower():
            return m.group(1).decode("ascii").lower()
    m = _HTTP_EQUIV.search(head)
    if m:
        c = _CONTENT_CHARSET.search(m.group(0))
        if c:
            return c.group(1).decode("ascii").lower()
    return None


def _codec(label: str) -> str | None:


    label = _LABEL_CODECS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "utf-8" if name == "utf-8" else label


def _is_utf8(data: bytes) -> bool:
    try:
        return not data.decode("utf-8").isascii()
    except UnicodeDecodeError:
        return False


# ---------------------------------------------------------------------------
# Reading.

# Comments are asked for so that trafilatura takes them out of the article;
# what is hidden from the reader (pop-ups, templates) is not looked at.
EXTRACTION = dict(
    include_comments=True, include_formatting=True, include_links=True, include_images=True,
    include_tables=True,
    prune_xpath="//*[contains(translate(@style, ' ', ''), 'display:none')"
                " or contains(translate(@style, ' ', ''), 'visibility:hidden')"
                " or @hidden or @aria-hidden='true']")

# trafilatura falls back to a flat "baseline" text when the article it finds
# is shorter than this many characters (250 by default, made for Latin
# script): a Chinese news brief of 150 characters is a whole article.
MIN_ARTICLE_CHARS = 100
_trafilatura_config = None


def _config():
    global _trafilatura_config
    if _trafilatura_config is None:
        from trafilatura.settings import use_config
        config = use_config()
        config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(MIN_ARTICLE_CHARS))
        _trafilatura_config = config
    return _trafilatura_config


# lxml's HTML parser stops descending at this depth; what is nested deeper is
# not read (it would be text no browser shows sensibly either).
PARSER_MAX_DEPTH = 255


def read(data: bytes | str, source: str) -> Extracted:
    """The article of a saved web page.  Raises ``FormatError`` for a file
    that is not a page, a page without article text, or a library missing."""
    try:
        import lxml.html
        import trafilatura
        from lxml import etree
    except ImportError as exc:
        raise FormatError(NEEDS_LIBRARY.format(exc.name or "trafilatura")) from None

    if isinstance(data, bytes):
        text, warnings = decode_html(data)
    else:
        text, warnings = data, []
    if "\x00" in text:
        raise FormatError("not a web page: contains NUL characters")
    text = _XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        raise FormatError("empty file")
    try:
        tree = lxml.html.document_fromstring(text)
        too_deep = _depth_reached(tree, etree)
        if too_deep:
            warnings.append(f"markup nested deeper than {PARSER_MAX_DEPTH} levels: "
                            "what lies deeper was not read")
        page = _page_metadata(tree)
        found = trafilatura.bare_extraction(
            tree, **EXTRACTION, with_metadata=True, config=_config(),
            date_extraction_params={"original_date": True, "extensive_search": True,
                                    "max_date": date.today().isoformat()})
    except RecursionError:
        raise FormatError("the page's markup is nested too deeply to read") from None
    except (etree.LxmlError, ValueError, TypeError, AttributeError) as exc:
        raise FormatError(f"not a readable web page ({type(exc).__name__})") from None
    if found is None or found.body is None:
        raise FormatError(NO_ARTICLE + (f" (markup nested deeper than {PARSER_MAX_DEPTH} "
                                        "levels is not read)" if too_deep else ""))
    try:
        found_blocks, link_shares = _blocks_with_link_shares(found.body)
        blocks = _trim(found_blocks, link_shares)
    except RecursionError:
        raise FormatError("the page's markup is nested too deeply to read") from None
    if not any(b.text for b in blocks):
        raise FormatError(NO_ARTICLE)

    title, blocks = _headline(page, found.title, blocks)
    return Extracted(
        blocks=blocks, title=title,
        date=_stated_date(found.date, text) or _dateline(found_blocks, tree, found.date),
        author=_author(page, found.author), site=_site(page, found.sitename),
        url=page.get("canonical") or page.get("og:url") or None, warnings=warnings)


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _depth_reached(tree, etree) -> bool:
    depth = 0
    for event, _ in etree.iterwalk(tree, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth >= PARSER_MAX_DEPTH:
            return True
    return False


def _page_metadata(tree) -> dict:
    """What the page's head and headings say: ``og:title``, ``title``,
    ``h1``/``h2`` (lists), ``canonical``, ``og:url``, ``author``, ``site``."""
    page: dict = {"h1": [], "h2": []}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        value = _normalise(meta.get("content") or "")
        if key and value and key not in page:
            page[key] = value
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href") and "canonical" not in page:
            page["canonical"] = link.get("href").strip()
    titles = [t for t in tree.iter("title")]
    if titles:
        page["title"] = _normalise(titles[0].text_content())
    for level in ("h1", "h2"):
        for heading in tree.iter(level):
            text = _normalise(heading.text_content())
            if text:
                page[level].append(text)
    return page


def _normalise(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------
# trafilatura's XML to blocks.

# Inline markup kept for display; everything else gives only its text.
_HI_TAGS = {"#b": "strong", "#i": "em", "#u": None, "#t": "code", "#sub": "sub", "#sup": "sup"}
_HEAD_LEVELS = {f"h{n}" for n in range(1, 7)}
_CONTAINERS = {"body", "div", "main", "doc", "article", "section"}


class _Inline:
    """One block's text and inline HTML, built side by side with whitespace
    collapsed once, so that the HTML's text is exactly the text."""

    def __init__(self):
        self.text: list[str] = []
        self.html: list[str] = []
        self.pending_space = False
        self.marked = False
        self.link_chars = 0
        self.chars = 0
        self._in_link = 0

    def add(self, text: str | None) -> None:
        if not text:
            return
        for piece in _SPACES.split(text):
            if not piece:
                continue
            if not piece.strip(_INVISIBLE):
                self.pending_space = bool(self.text)
                continue
            if self.pending_space:
                self.text.append(" ")
                self.html.append(" ")
                self.pending_space = False
            self.text.append(piece)
            self.html.append(escape(piece, quote=False))
            self.chars += len(piece)
            if self._in_link:
                self.link_chars += len(piece)

    def open(self, tag: str, href: str | None = None) -> None:
        self.marked = True
        self.html.append(f'<a href="{escape(href)}">' if href is not None else f"<{tag}>")
        self._in_link += tag == "a"

    def close(self, tag: str) -> None:
        self.html.append(f"</{tag}>")
        self._in_link -= tag == "a"

    @property
    def empty(self) -> bool:
        return not self.text


_INVISIBLE = " \t\n\r\f\v\u00a0\u3000\u200b\ufeff"
_SPACES = re.compile(r"([\s\u200b\ufeff]+)")


class _Builder:
    """Walks trafilatura's output tree and emits blocks."""

    def __init__(self):
        self.blocks: list[Block] = []
        self.link_share: list[float] = []

    def emit(self, kind: str, inline: _Inline, depth: int = 0, ordered: bool = False) -> None:
        if inline.empty:
            return
        text = "".join(inline.text)
        html = inline_html("".join(inline.html), text) if inline.marked else None
        self.blocks.append(Block(kind, text, html, depth, ordered))
        self.link_share.append(inline.link_chars / max(1, inline.chars))

    def image(self, element) -> None:
        src = safe_href(element.get("src") or element.get("data-src"))
        alt = _normalise(element.get("alt") or element.get("title") or "")
        if src is None:
            if alt:
                self.blocks.append(Block("img", alt))
                self.link_share.append(0.0)
            return
        label = escape(alt or "图片", quote=False)
        html = inline_html(f'<a href="{escape(src)}">{label}</a>', alt or "图片")
        self.blocks.append(Block("img", alt, html))
        self.link_share.append(0.0)

    # Block level -----------------------------------------------------------

    def container(self, element, depth: int = 0, ordered: bool = False) -> None:
        """Children of a container element: blocks, and loose inline content
        between them as paragraphs."""
        loose = _Inline()
        loose.add(element.text)
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _BLOCK_TAGS or tag == "graphic":
                self.emit("p", loose)
                loose = _Inline()
                self.block(child, depth, ordered)
            else:
                self.inline(child, loose)
            loose.add(child.tail)
        self.emit("p", loose)

    def block(self, element, depth: int = 0, ordered: bool = False) -> None:
        tag = element.tag
        if tag == "graphic":
            self.image(element)
        elif tag == "head":
            kind = element.get("rend") if element.get("rend") in _HEAD_LEVELS else "h2"
            self.flow(element, kind)
        elif tag == "p":
            self.flow(element, "p")
        elif tag == "quote":
            if any(isinstance(c.tag, str) and c.tag in _BLOCK_TAGS for c in element):
                start = len(self.blocks)
                self.container(element)
                for i in range(start, len(self.blocks)):
                    if self.blocks[i].kind == "p":
                        self.blocks[i].kind = "quote"
            else:
                self.flow(element, "quote")
        elif tag == "code":
            self.code(element)
        elif tag == "list":
            nested = element.get("rend") == "ol"
            for item in element:
                if item.tag == "item":
                    self.item(item, depth, nested)
                elif isinstance(item.tag, str):
                    self.block(item, depth, ordered)
        elif tag == "table":
            for row in element.iter("row"):
                self.row(row)
        elif tag == "item":
            self.item(element, depth, ordered)
        else:
            self.container(element, depth, ordered)

    def flow(self, element, kind: str) -> None:
        """A paragraph-like element: inline content, split at line breaks
        and around images."""
        inline = _Inline()
        inline.add(element.text)
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "lb":
                self.emit(kind, inline)
                inline = _Inline()
            elif tag == "graphic" or (tag in _BLOCK_TAGS and not _inline_code(child)):
                self.emit(kind, inline)
                inline = _Inline()
                self.block(child)
            else:
                self.inline(child, inline)
            inline.add(child.tail)
        self.emit(kind, inline)

    def item(self, element, depth: int, ordered: bool) -> None:
        """A list item: its own text is an ``li``; a list inside is one level deeper;
        other blocks inside (layout lists hold whole articles) are blocks."""
        inline = _Inline()
        inline.add(element.text)
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "list":
                self.emit("li", inline, depth, ordered)
                inline = _Inline()
                self.block(child, depth + 1)
            elif tag == "graphic" or tag in _BLOCK_TAGS:
                self.emit("li", inline, depth, ordered)
                inline = _Inline()
                self.block(child, depth, ordered)
            elif tag == "lb":
                inline.add(" ")
            else:
                self.inline(child, inline)
            inline.add(child.tail)
        self.emit("li", inline, depth, ordered)

    def code(self, element) -> None:
        text = element.xpath("string()").strip("\n")
        if text.strip():
            self.blocks.append(Block("pre", "\n".join(line.rstrip() for line in text.split("\n"))))
            self.link_share.append(0.0)

    def row(self, row) -> None:
        cells = []
        for cell in row:
            if cell.tag == "cell":
                inline = _Inline()
                self.inline_children(cell, inline)
                cells.append(inline)
        merged = _Inline()
        for inline in cells:
            if inline.empty:
                continue
            if not merged.empty:
                merged.add(" | ")
                merged.pending_space = True
            merged.text.extend(inline.text)
            merged.html.extend(inline.html)
            merged.marked |= inline.marked
            merged.chars += inline.chars
            merged.link_chars += inline.link_chars
        self.emit("row", merged)

    # Inline level ----------------------------------------------------------

    def inline_children(self, element, inline: _Inline) -> None:
        inline.add(element.text)
        for child in element:
            if isinstance(child.tag, str) and child.tag == "lb":
                inline.add(" ")
            elif isinstance(child.tag, str) and child.tag == "graphic":
                pass
            else:
                self.inline(child, inline)
            inline.add(child.tail)

    def inline(self, element, inline: _Inline) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        wrap, href = None, None
        if tag == "ref":
            href = safe_href(element.get("target"))
            wrap = "a" if href is not None else None
        elif tag == "hi":
            wrap = _HI_TAGS.get(element.get("rend") or "", None)
        elif tag == "code":
            wrap = "code"
        if wrap:
            inline.open(wrap, href)
        if tag in ("lb",):
            inline.add(" ")
        elif tag == "graphic":
            pass
        else:
            self.inline_children(element, inline)
        if wrap:
            inline.close(wrap)


_BLOCK_TAGS = {"p", "head", "list", "item", "quote", "table", "code", "div"}


def _inline_code(element) -> bool:
    """trafilatura writes ``<code>`` for code in a sentence and for code blocks alike."""
    return element.tag == "code" and "\n" not in element.xpath("string()").strip()


def blocks_of(body) -> list[Block]:
    """The blocks of trafilatura's output ``body`` element."""
    return _blocks_with_link_shares(body)[0]


def _blocks_with_link_shares(body) -> tuple[list[Block], list[float]]:
    """The blocks, and for each the share of its text that is link text."""
    builder = _Builder()
    builder.container(body)
    return builder.blocks, builder.link_share


# ---------------------------------------------------------------------------
# The end of the article.

# A block whose text is mostly link text is a list of other articles.
MAX_ARTICLE_LINK_SHARE = 0.4
FURNITURE_WINDOW = 4
MIN_FURNITURE = 2
# A line this short without punctuation is a label, a button or a credit:
# furniture next to other furniture, a part of the article next to it.
MAX_LABEL_CHARS = 20
_PUNCTUATION = re.compile(r"[。！？!?，,；;、…]")


def _is_furniture(block: Block, link_share: float) -> bool:
    return link_share > MAX_ARTICLE_LINK_SHARE or is_boilerplate(block.text)


def _is_label(block: Block) -> bool:
    return (block.kind == "img" or not block.text
            or (len(block.text) <= MAX_LABEL_CHARS and not _PUNCTUATION.search(block.text)))


def _trim(blocks: list[Block], link_shares: list[float]) -> list[Block]:
    """``blocks`` without the page's furniture before and after the article.

    The article ends where a run of furniture begins (``FURNITURE_WINDOW``
    blocks of link lists, boilerplate lines, headings and labels, at least
    ``MIN_FURNITURE`` of them link lists or boilerplate: a related-articles
    box, a footer), together with the labels and images just before it; what
    remains at the end that is furniture or labels next to furniture goes
    too.  Labels next to the article with no furniture beyond them (a
    trailing credit, a photo) stay.  Before the article, furniture and the
    labels after it go (a share bar, an app promotion).
    """
    furniture = [_is_furniture(b, share) for b, share in zip(blocks, link_shares)]
    minor = [f or _is_label(b) or b.kind.startswith("h") for b, f in zip(blocks, furniture)]
    end = len(blocks)
    started = False
    for i in range(len(blocks)):
        if not started:
            started = not minor[i]
            continue
        window = range(i, min(len(blocks), i + FURNITURE_WINDOW))
        if all(minor[j] for j in window) and sum(furniture[j] for j in window) >= MIN_FURNITURE:
            end = i
            while end > 0 and minor[end - 1] and not furniture[end - 1]:
                end -= 1
            break
    seen = False
    for i in range(end - 1, -1, -1):
        if furniture[i] or blocks[i].kind.startswith("h"):
            end, seen = i, True
        elif minor[i]:
            if seen:
                end = i
        else:
            break
    start, seen = 0, False
    for i in range(end):
        if furniture[i]:
            start, seen = i + 1, True
        elif minor[i]:
            if seen and not blocks[i].kind.startswith("h"):
                start = i + 1
        else:
            break
    return blocks[start:end]


# ---------------------------------------------------------------------------
# Metadata.

_TITLE_SEPARATOR = re.compile(r"^\s*(?:[_＿|｜\-－—–:：·•]|\s)")


def _headline(page: dict, found_title: str | None, blocks: list[Block]):
    """The article's headline, and the blocks without it when the article
    repeats it at the top.

    The ``<title>`` of a news page is the headline followed by the site's
    name; ``og:title`` and ``<h1>`` are often the headline alone, but some
    sites cut ``og:title`` at a quotation mark and put their logo in an
    ``<h1>``.  So the longest candidate the ``<title>`` starts with (before a
    separator) wins; else ``og:title``; else the ``<title>`` without a site
    suffix; else the first ``<h1>``.
    """
    tag_title = page.get("title") or ""
    first_texts = [b.text for b in blocks[:3] if b.text and b.kind != "img"]
    candidates = [page.get("og:title"), found_title, *page["h1"], *page["h2"][:3],
                  *first_texts]
    candidates = [_normalise(c) for c in candidates if c and _normalise(c)]
    title = None
    if tag_title:
        prefixes = [c for c in candidates
                    if c == tag_title or (tag_title.startswith(c) and len(c) >= 4
                                          and _TITLE_SEPARATOR.match(tag_title[len(c):]))]
        if prefixes:
            title = max(prefixes, key=len)
    if title is None:
        title = (page.get("og:title") or (strip_site_suffix(tag_title) if tag_title else None)
                 or (page["h1"][0] if page["h1"] else None) or found_title)
    if not title:
        return None, blocks
    title = strip_site_suffix(_normalise(title))
    for i, block in enumerate(blocks[:3]):
        if block.kind == "img" or not block.text:
            continue
        if _normalise(block.text) == title:
            return title, blocks[:i] + blocks[i + 1:]
        break
    return title, blocks


def _dateline(blocks: list[Block], tree, year_date: str | None) -> str | None:
    """The day of a dateline (发布时间：2019年09月07日) when htmldate saw
    only its year: among the article's first and last blocks (before the
    trimming takes such lines away), else the first full date of that year
    in the page's text (the extraction drops a dateline element)."""
    near = blocks[:DATELINE_BLOCKS] + blocks[DATELINE_BLOCKS:][-DATELINE_BLOCKS:]
    lines = [b.text for b in near if b.text and len(b.text) <= 80]
    if year_date:
        lines += [t.strip() for t in tree.xpath(
            "//body//text()[not(ancestor::script) and not(ancestor::style)]")[:DATELINE_TEXTS]
            if t.strip() and len(t.strip()) <= 80]
    for line in lines:
        when = find_date_in_text(line)
        if when and when.day and (not year_date or when.iso().startswith(year_date[:4])):
            return when.iso()
    return None


# Pieces of a page's text where a dateline is looked for.
DATELINE_TEXTS = 400
# Blocks at each end of an article where its dateline is looked for.
DATELINE_BLOCKS = 6


def _stated_date(found: str | None, page: str) -> str | None:
    """htmldate's date, unless it is the 1 January it puts on a year alone
    (``2019年09月07日`` reads to it as 2019) and the page never states it."""
    if not found or not found.endswith("-01-01"):
        return found or None
    year = found[:4]
    stated = (found, f"{year}/01/01", f"{year}0101", f"{year}年1月1日", f"{year}年01月01日",
              f"{year}.01.01")
    return found if any(form in page for form in stated) else None


# Author fields that hold a template's placeholder, a comment's user name or
# a whole byline line rather than a name.
_NOT_A_NAME = re.compile(r"版权|复制链接|网友|email|@|;|http|责任编辑|\bip\b|来源", re.I)
_NAME_LABEL = re.compile(r"^(?:作者|文|撰文|记者|编辑)\s*[:：/／]\s*")
MAX_NAME_CHARS = 40


def _author(page: dict, found: str | None) -> str | None:
    for value in (page.get("author"), page.get("article:author"), found):
        if not value:
            continue
        value = _NAME_LABEL.sub("", _normalise(value))
        if value and len(value) <= MAX_NAME_CHARS and not _NOT_A_NAME.search(value):
            return value
    return None


_COPYRIGHT = re.compile(r"\s*(?:版权所有|©|copyright).*$|^(?:版权所有|©|copyright)\s*", re.I)


def _site(page: dict, found: str | None) -> str | None:
    for value in (page.get("og:site_name"), page.get("application-name"),
                  page.get("publisher"), page.get("source"), found):
        if not value:
            continue
        value = _normalise(value)
        if _NOT_A_NAME.search(value) and not re.search(r"版权", value):
            continue
        value = _COPYRIGHT.sub("", value).strip()
        if value and len(value) <= MAX_NAME_CHARS and not _NOT_A_NAME.search(value):
            return value
    return None
