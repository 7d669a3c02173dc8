"""Word files (.docx): paragraphs, headings, lists, tables and links, read with python-docx.

Owns how a .docx becomes blocks, in the document's order (content controls
included, tracked deletions left out):

* a ``Title`` paragraph is the document's title, not a block;
* ``Heading 1``..``Heading 9`` (or any style or paragraph with an outline
  level) are ``h1``..``h6``;
* list paragraphs (a ``List Bullet``/``List Number`` style, or numbering of
  their own) are ``li``, their depth from the numbering level, ordered unless
  the level's numbers are bullets;
* each table row is a ``row`` block, its cells joined by " | ";
* links (hyperlinks and ``HYPERLINK`` fields), bold and italic are the
  block's inline HTML, sanitised with nh3.

The core properties are ``properties`` (``title``, ``author``, ``date``: the
creation date, else the last modification), leaving out the placeholders
that templates and tools write in them.

A .docx is a zip archive, checked before python-docx opens it
(``check_archive``): what python-docx would unpack is bounded by the sizes
the archive declares (zipfile never inflates a member past its declared
size), so declared sizes and counts are enough to refuse a zip bomb.
python-docx parses the XML with entity resolution off, so entity tricks in
a part (the "billion laughs", external entities) expand to nothing.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from html import escape

from . import Block, Extracted, FormatError, inline_html

INSTALL_HINT = "reading Word files needs python-docx: pip install 'zhsearch[formats]'"

# What the archive may unpack to.  python-docx holds every part in memory
# and parses the XML ones with lxml (several times their size again), so
# the bound is on the whole archive; a real document is far below it (the
# document.xml of a 1,000-page report is some tens of MB), and at ten times
# the 20 MB cap on a file it leaves room for large embedded pictures.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
# Word's XML compresses some 10-30 times, pictures hardly at all; deflate
# cannot exceed about 1,030:1.  Past this ratio, on an archive that unpacks
# to more than MIN_RATIO_CHECKED_BYTES, the archive is made to explode.
MAX_COMPRESSION_RATIO = 200
MIN_RATIO_CHECKED_BYTES = 10 * 1024 * 1024
# A document has tens of parts, a few hundred with many pictures.
MAX_MEMBERS = 5000
DOCUMENT_PART = "word/document.xml"

# Heading levels past h6 are drawn as h6.
MAX_HEADING_LEVEL = 6
# Tags a block's inline HTML may use.

# Values that templates and tools write in the core properties, never a
# real title or author: python-docx's own template, Word's account names.
PLACEHOLDER_VALUES = {
    "python-docx", "administrator", "user", "windows user", "windows 用户", "用户",
    "microsoft office user", "microsoft 帐户", "微软用户", "untitled", "无标题",
}
# python-docx's default template says it was created at this moment.
PLACEHOLDER_DATES = {datetime(2013, 12, 23, 23, 15)}

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_HEADING_STYLE = re.compile(r"heading\s*(\d)$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"list\s*(bullet|number)(?:\s*(\d))?$", re.IGNORECASE)
_HYPERLINK_FIELD = re.compile(r'^\s*HYPERLINK\s+"([^"]+)"', re.IGNORECASE)
_SPACES = re.compile(r"\s+")
# Old binary Word files and password-protected .docx are OLE compound files.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read(data: bytes, source: str) -> Extracted:
    """The blocks, title and core properties of a .docx file's bytes."""
    check_archive(data)
    try:
        import docx
    except ImportError:
        raise FormatError(INSTALL_HINT) from None
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises what its parts' parsers raise
        raise FormatError(f"unreadable Word file: {_short(exc)}") from None
    reader = _Reader(document)
    try:
        reader.read_body()
        properties = _core_properties(document)
    except Exception as exc:
        raise FormatError(f"unreadable Word file: {_short(exc)}") from None
    if not reader.blocks and not reader.title:
        raise FormatError("no text in the document")
    return Extracted(blocks=reader.blocks, title=reader.title, properties=properties,
                     warnings=reader.warnings)


def check_archive(data: bytes) -> None:
    """Refuse bytes that are not a .docx python-docx may safely open."""
    if data.startswith(_OLE_MAGIC):
        raise FormatError("not a .docx: an old Word (.doc) file or a password-protected one")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        if data.startswith(b"PK\x03\x04"):
            raise FormatError("truncated Word file: its zip directory is missing") from None
        raise FormatError("not a Word file: not a zip archive") from None
    except Exception as exc:  # a zip directory zipfile cannot make sense of
        raise FormatError(f"damaged Word file: {_short(exc)}") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise FormatError(f"refused Word file: {len(members)} parts in its zip (at most {MAX_MEMBERS})")
        names = {m.filename for m in members}
        if DOCUMENT_PART not in names:
            raise FormatError(f"not a Word document: no {DOCUMENT_PART} in the zip")
        unzipped = sum(m.file_size for m in members)
        packed = sum(m.compress_size for m in members)
        if unzipped > MAX_UNZIPPED_BYTES:
            raise FormatError(f"refused Word file: unpacks to {unzipped // 2**20} MB "
                              f"(at most {MAX_UNZIPPED_BYTES // 2**20} MB)")
        if unzipped > MIN_RATIO_CHECKED_BYTES and unzipped > MAX_COMPRESSION_RATIO * max(packed, 1):
            raise FormatError(f"refused Word file: compressed {unzipped // max(packed, 1)}:1, a zip bomb")
        if any(m.flag_bits & 0x1 for m in members):
            raise FormatError("refused Word file: its zip is encrypted")


class _Reader:
    """Walks a document's body into blocks."""

    def __init__(self, document):
        self.document = document
        self.blocks: list[Block] = []
        self.title: str | None = None
        self.warnings: list[str] = []
        self._numbering = _Numbering(document)
        # Looking a style up scans the style sheet: once per style id.
        self._styles: dict[str | None, tuple] = {}

    def read_body(self) -> None:
        self._read_container(self.document.element.body)

    def _read_container(self, element) -> None:
        for child in element:
            if child.tag == _W + "p":
                self._read_paragraph(child)
            elif child.tag == _W + "tbl":
                self._read_table(child)
            elif child.tag == _W + "sdt":
                content = child.find(_W + "sdtContent")
                if content is not None:
                    self._read_container(content)
            elif child.tag in (_W + "customXml", _W + "ins"):
                self._read_container(child)

    def _read_paragraph(self, p) -> None:
        from docx.text.paragraph import Paragraph

        paragraph = Paragraph(p, self.document)
        text, html = _inline(p, paragraph)
        if not text:
            return
        style_id = p.style
        if style_id not in self._styles:
            style = paragraph.style
            self._styles[style_id] = (style, _style_names(style))
        style, names = self._styles[style_id]
        if any(name.lower() == "title" for name in names):
            if self.title is None:
                self.title = text
                return
            self.blocks.append(Block("h1", text, html))
            return
        level = _heading_level(p, style, names)
        if level:
            self.blocks.append(Block(f"h{min(level, MAX_HEADING_LEVEL)}", text, html))
            return
        listed = self._numbering.list_of(p, style, names)
        if listed:
            depth, ordered = listed
            self.blocks.append(Block("li", text, html, depth=depth, ordered=ordered))
            return
        self.blocks.append(Block("p", text, html))

    def _read_table(self, tbl) -> None:
        from docx.table import Table

        table = Table(tbl, self.document)
        for row in table.rows:
            cells, seen = [], set()
            for cell in row.cells:
                # A merged cell is handed back once per grid column it spans.
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                cells.append(_SPACES.sub(" ", cell.text).strip())
            if any(cells):
                self.blocks.append(Block("row", " | ".join(cells)))


def _inline(p, paragraph) -> tuple[str, str | None]:
    """A paragraph's text, and its inline HTML when it has links or emphasis."""
    from docx.text.run import Run

    rels = paragraph.part.rels
    segments: list[list] = []  # [text, href, bold, italic]
    fields: list[dict] = []  # open complex fields, innermost last
    for r in p.iter(_W + "r"):
        if _deleted(r, p):
            continue
        for char in r.iterchildren(_W + "fldChar"):
            kind = char.get(_W + "fldCharType")
            if kind == "begin":
                fields.append({"code": "", "result": False})
            elif kind == "separate" and fields:
                fields[-1]["result"] = True
            elif kind == "end" and fields:
                fields.pop()
        if fields and not fields[-1]["result"]:
            for code in r.iterchildren(_W + "instrText"):
                fields[-1]["code"] += code.text or ""
            continue
        run = Run(r, paragraph)
        text = run.text
        if not text:
            continue
        href = _hyperlink_of(r, p, rels) or _field_link(fields)
        segments.append([text, href, run.bold is True, run.italic is True])
    return _join_segments(segments)


def _deleted(r, p) -> bool:
    """Whether a run is no text of the paragraph: a tracked deletion, or the
    reading (pinyin, bopomofo) set above characters as ruby."""
    parent = r.getparent()
    while parent is not None and parent is not p:
        if parent.tag in (_W + "del", _W + "moveFrom", _W + "rt"):
            return True
        parent = parent.getparent()
    return False


def _hyperlink_of(r, p, rels) -> str | None:
    parent = r.getparent()
    while parent is not None and parent is not p:
        if parent.tag == _W + "hyperlink":
            rel = rels.get(parent.get(_R_ID) or "")
            address = rel.target_ref if rel is not None and rel.is_external else ""
            anchor = parent.get(_W + "anchor")
            return address or (f"#{anchor}" if anchor else None)
        parent = parent.getparent()
    return None


def _field_link(fields: list[dict]) -> str | None:
    for field in reversed(fields):
        if field["result"]:
            found = _HYPERLINK_FIELD.match(field["code"])
            if found:
                return found.group(1)
    return None


def _join_segments(segments: list[list]) -> tuple[str, str | None]:
    """Text and HTML of a paragraph's runs, white space collapsed across runs."""
    pieces: list[list] = []
    ends_in_space = True  # no space at the start of a paragraph
    for text, href, bold, italic in segments:
        text = _SPACES.sub(" ", text)
        if ends_in_space:
            text = text.lstrip(" ")
        if not text:
            continue
        ends_in_space = text.endswith(" ")
        if pieces and pieces[-1][1:] == [href, bold, italic]:
            pieces[-1][0] += text
        else:
            pieces.append([text, href, bold, italic])
    while pieces and pieces[-1][0].endswith(" "):
        pieces[-1][0] = pieces[-1][0].rstrip(" ")
        if not pieces[-1][0]:
            pieces.pop()
    text = "".join(piece[0] for piece in pieces)
    if not any(href or bold or italic for _, href, bold, italic in pieces):
        return text, None
    html = []
    for piece, href, bold, italic in pieces:
        part = escape(piece, quote=False)
        if italic:
            part = f"<em>{part}</em>"
        if bold:
            part = f"<strong>{part}</strong>"
        if href:
            part = f'<a href="{escape(href)}">{part}</a>'
        html.append(part)
    return text, inline_html("".join(html), text)


def _style_names(style) -> list[str]:
    """A paragraph style's name and those of the styles it is based on."""
    names, seen = [], set()
    while style is not None and style.style_id not in seen:
        seen.add(style.style_id)
        if style.name:
            names.append(style.name)
        style = style.base_style
    return names


def _heading_level(p, style, names: list[str]) -> int:
    for name in names:
        found = _HEADING_STYLE.match(name)
        if found and int(found.group(1)) > 0:
            return int(found.group(1))
    # A paragraph or style outline level (0 = level 1) makes a heading too:
    # Word's own headings carry one, and so do styles made to look like them.
    for element in (p, style.element if style is not None else None):
        if element is None:
            continue
        p_pr = element.find(_W + "pPr")
        outline = p_pr.find(_W + "outlineLvl") if p_pr is not None else None
        if outline is not None:
            try:
                level = int(outline.get(_W + "val"))
            except (TypeError, ValueError):
                continue
            # Level 9 is Word's "body text".
            return level + 1 if 0 <= level < 9 else 0
    return 0


class _Numbering:
    """Which paragraphs are list items, at what depth, numbered or bulleted."""

    def __init__(self, document):
        self._formats: dict[tuple[str, int], str] = {}
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {}
        for definition in numbering.iterchildren(_W + "abstractNum"):
            levels = {}
            for lvl in definition.iterchildren(_W + "lvl"):
                fmt = lvl.find(_W + "numFmt")
                levels[_int(lvl.get(_W + "ilvl"))] = fmt.get(_W + "val") if fmt is not None else "decimal"
            abstract[definition.get(_W + "abstractNumId")] = levels
        for num in numbering.iterchildren(_W + "num"):
            ref = num.find(_W + "abstractNumId")
            levels = abstract.get(ref.get(_W + "val") if ref is not None else None, {})
            for ilvl, fmt in levels.items():
                self._formats[(num.get(_W + "numId"), ilvl)] = fmt

    def list_of(self, p, style, names: list[str]) -> tuple[int, bool] | None:
        """(depth, ordered) of a list paragraph; None for any other."""
        num_id, ilvl = _num_pr(p)
        if num_id is None and style is not None:
            num_id, style_ilvl = _num_pr(style.element)
            ilvl = ilvl if ilvl is not None else style_ilvl
        if num_id == "0":  # numbering switched off for this paragraph
            return None
        by_name = next((m for m in map(_LIST_STYLE.match, names) if m), None)
        if num_id is None and by_name is None:
            return None
        if ilvl is None:
            ilvl = int(by_name.group(2)) - 1 if by_name is not None and by_name.group(2) else 0
        fmt = self._formats.get((num_id, ilvl)) if num_id is not None else None
        if fmt is not None:
            ordered = fmt not in ("bullet", "none")
        else:
            ordered = by_name is not None and by_name.group(1).lower() == "number"
        return max(0, min(ilvl, 8)), ordered


def _num_pr(element) -> tuple[str | None, int | None]:
    p_pr = element.find(_W + "pPr")
    num_pr = p_pr.find(_W + "numPr") if p_pr is not None else None
    if num_pr is None:
        return None, None
    num_id = num_pr.find(_W + "numId")
    ilvl = num_pr.find(_W + "ilvl")
    return (num_id.get(_W + "val") if num_id is not None else None,
            _int(ilvl.get(_W + "val")) if ilvl is not None else None)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _core_properties(document) -> dict:
    core = document.core_properties
    properties = {}
    for key, value in (("title", core.title), ("author", core.author)):
        value = _SPACES.sub(" ", value or "").strip()
        if value and value.lower() not in PLACEHOLDER_VALUES:
            properties[key] = value
    for when in (core.created, core.modified):
        if isinstance(when, datetime) and when.replace(tzinfo=None) not in PLACEHOLDER_DATES:
            properties["date"] = when.date().isoformat()
            break
    return properties


def _short(exc: Exception) -> str:
    text = _SPACES.sub(" ", str(exc)).strip() or type(exc).__name__
    return text[:160]
