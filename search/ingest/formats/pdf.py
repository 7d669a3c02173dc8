"""PDF files: the text layer as paragraphs and headings, read with PDFium (pypdfium2).

Owns how a PDF's text becomes blocks and what its document information says.

Why PDFium: printed from a browser (Chromium's Skia) or exported from many
editors, a CJK PDF maps some characters' glyphs to the look-alike Kangxi
radicals (``⼼`` U+2F3C for 心, ``⻓`` U+2ED3 for 长) and states the real
character beside them as ``/ActualText``.  PDFium reads that; pypdf does not,
and on 6,000 common simplified characters printed by Chromium it got 172
wrong (30 still after folding the radicals by NFKC), PDFium none.  On
reportlab's CID fonts both are exact.  PDFium is Chromium's own, constantly
fuzzed, PDF engine; it is not thread-safe, so every call into it is made
under one process-wide lock.

Paragraphs: PDFium gives the lines of a page in the content's order with
their boxes.  A line starts a new block when it stands further below the
previous one than the document's usual line pitch, is indented further than
it, is of another size, or when the previous line ended well short of the
right margin.  Lines are joined with no space between Han characters and a
space between Latin words.  A line clearly larger than the body text is a
heading, ``h1`` for the largest size in the document.

What a file cannot give is a ``FormatError``: an encrypted file whose empty
password does not open it, a scan (pages without text; it needs OCR first),
and anything PDFium cannot parse.  Only the first ``MAX_PAGES`` pages are
read, with a warning.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date
from statistics import median

from ...text.chars import UNSPACED, UNSPACED_CHAR
from . import Block, Extracted, FormatError

INSTALL_HINT = "reading PDF files needs pypdfium2: pip install 'zhsearch[formats]'"

# Pages read of one file: a 2,000-page PDF is a book, past it a file is
# more likely made to hold the build up.
MAX_PAGES = 2000
# A line this much larger than the body text is a heading, unless it is
# longer than a heading can be.
HEADING_SIZE_RATIO = 1.25
MAX_HEADING_CHARS = 80
# Lines of one paragraph differ in height by less than this share (a line
# of Latin letters and digits stands lower than one of Han characters).
SAME_SIZE_TOLERANCE = 0.25
# A gap between lines this much over the usual line pitch parts paragraphs;
# the usual pitch is measured over at least MIN_PITCHES pairs of lines, else
# taken as FALLBACK_PITCH_HEIGHTS line heights.
PARAGRAPH_GAP_RATIO = 1.3
MIN_PITCHES = 3
FALLBACK_PITCH_HEIGHTS = 1.5
# A line indented this many line heights past the previous one starts a
# paragraph (a Chinese first-line indent is two characters).
INDENT_HEIGHTS = 0.8
# A line ending this many line heights short of the right margin ends its
# paragraph (a Latin word wrapped to the next line leaves a gap too).
SHORT_LINE_HEIGHTS = 3.0

# The document information keys read, and the values generators put in
# them when the author set none.
INFO_KEYS = {"title": "Title", "author": "Author"}
PLACEHOLDER_VALUES = {"anonymous", "untitled", "unspecified", "(anonymous)", "(untitled)",
                      "(unspecified)", "unknown", "administrator", "user", "无标题", "about:blank"}
# Office's PDF export titles a file after the document's file name.
_OFFICE_TITLE = re.compile(r"^Microsoft (?:Word|PowerPoint|Excel) - (.+?)(?:\.(?:docx?|pptx?|xlsx?))?$",
                           re.IGNORECASE)
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?")

_LINE = re.compile(r"[^\r\n]+")
_SPACES = re.compile(r"\s+")
# A space PDFium inferred from a gap between two CJK characters (justified
# text) is no space of the text.
_SPACE_IN_CJK = re.compile(f"(?<=[{UNSPACED}]) (?=[{UNSPACED}])")

_pdfium_lock = threading.Lock()


@dataclass
class _Line:
    text: str
    left: float
    bottom: float
    right: float
    top: float
    page: int

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 0.1)


def read(data: bytes, source: str) -> Extracted:
    """The blocks and document information of a PDF file's bytes."""
    try:
        import pypdfium2
    except ImportError:
        raise FormatError(INSTALL_HINT) from None
    with _pdfium_lock:
        lines, pages, read_pages, images, properties, warnings = _read_document(pypdfium2, data)
    if read_pages < pages:
        warnings.append(f"only the first {read_pages} of {pages} pages read")
    if not lines:
        if images:
            raise FormatError(f"no text layer ({pages} pages): a scanned PDF; run OCR on it first")
        raise FormatError("no text in the document")
    return Extracted(blocks=_blocks(lines), properties=properties, warnings=warnings)


def _read_document(pdfium, data: bytes):
    pdfium_c = pdfium.raw

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise FormatError("encrypted PDF: needs a password") from None
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise FormatError("encrypted PDF: its security handler is not supported") from None
        if code == pdfium_c.FPDF_ERR_FILE:
            raise FormatError("unreadable PDF: " + _pdfium_reason(exc)) from None
        # PDFium reports a file it cannot parse as a format error, or as none at all.
        raise FormatError("not a PDF, or a damaged or truncated one") from None
    except Exception as exc:
        raise FormatError(f"not a readable PDF: {_short(exc)}") from None
    try:
        pages = len(document)
        read_pages = min(pages, MAX_PAGES)
        lines, images, unreadable = [], False, 0
        for number in range(read_pages):
            try:
                page = document[number]
            except pdfium.PdfiumError:  # one damaged page does not lose the others
                unreadable += 1
                continue
            try:
                textpage = page.get_textpage()
                try:
                    page_lines = _page_lines(textpage, number)
                finally:
                    textpage.close()
                if not page_lines and not images:
                    images = any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE],
                                                                max_depth=3))
                lines.extend(page_lines)
            finally:
                page.close()
        properties = _properties(document)
    except Exception as exc:  # whatever PDFium or its wrapper reports on a damaged file
        raise FormatError(f"damaged PDF: {_short(exc)}") from None
    finally:
        document.close()
    if unreadable == read_pages and pages:
        raise FormatError("damaged PDF: none of its pages can be read")
    warnings = [f"{unreadable} of {read_pages} pages could not be read"] if unreadable else []
    return lines, pages, read_pages, images, properties, warnings


def _page_lines(textpage, page: int) -> list[_Line]:
    """A page's lines with their boxes (PDF units, y upwards)."""
    text = textpage.get_text_range()
    if not text.strip():
        return []
    # PDFium counts characters in UTF-16 units: a character past U+FFFF is two.
    offsets, unit = [], 0
    for char in text:
        offsets.append(unit)
        unit += 2 if ord(char) > 0xFFFF else 1
    offsets.append(unit)
    lines = []
    for found in _LINE.finditer(text):
        content = _clean_line(found.group())
        if not content:
            continue
        start, end = offsets[found.start()], offsets[found.end()]
        boxes = [textpage.get_rect(i) for i in range(textpage.count_rects(start, end - start))]
        if not boxes:
            continue
        lines.append(_Line(content, min(b[0] for b in boxes), min(b[1] for b in boxes),
                           max(b[2] for b in boxes), max(b[3] for b in boxes), page))
    return lines


def _clean_line(text: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    text = _SPACE_IN_CJK.sub("", text)
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cs", "Co"))


def _blocks(lines: list[_Line]) -> list[Block]:
    body_size = _body_size(lines)
    pitch = _usual_pitch(lines)
    heading_sizes = sorted({round(line.height) for line in lines
                            if line.height >= HEADING_SIZE_RATIO * body_size}, reverse=True)
    margins = _margins(lines)
    paragraphs: list[list[_Line]] = []
    for previous, line in zip([None] + lines, lines):
        if previous is None or _starts_paragraph(previous, line, pitch, margins):
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)
    blocks = []
    for paragraph in paragraphs:
        text = _join_lines([line.text for line in paragraph])
        height = median(line.height for line in paragraph)
        kind = "p"
        if height >= HEADING_SIZE_RATIO * body_size and len(text) <= MAX_HEADING_CHARS:
            level = next((i for i, size in enumerate(heading_sizes) if round(height) >= size),
                         len(heading_sizes) - 1)
            kind = f"h{min(level + 1, 6)}"
        blocks.append(Block(kind, text))
    return blocks


def _body_size(lines: list[_Line]) -> float:
    """The height of most of the text's characters."""
    weight: dict[float, int] = {}
    for line in lines:
        size = round(line.height * 2) / 2
        weight[size] = weight.get(size, 0) + len(line.text)
    return max(weight, key=weight.get)


def _usual_pitch(lines: list[_Line]) -> float | None:
    """The distance between the tops of consecutive lines inside paragraphs.

    Most consecutive lines of a page belong to one paragraph, so the lower
    half of the pitches between lines of one size is the usual leading."""
    pitches = sorted(a.top - b.top for a, b in zip(lines, lines[1:])
                     if a.page == b.page and _same_size(a, b) and 0 < a.top - b.top < 3 * a.height)
    if len(pitches) < MIN_PITCHES:
        return None
    return median(pitches[: max(1, (len(pitches) + 1) // 2)])


def _margins(lines: list[_Line]) -> dict[int, float]:
    """Per page, the right edge of its text: where the upper quarter of its
    lines end (a line can run past the margin, with a Latin word or
    punctuation hanging out)."""
    rights: dict[int, list[float]] = {}
    for line in lines:
        rights.setdefault(line.page, []).append(line.right)
    return {page: sorted(ends)[(3 * len(ends)) // 4] for page, ends in rights.items()}


def _same_size(a: _Line, b: _Line) -> bool:
    return abs(a.height - b.height) <= SAME_SIZE_TOLERANCE * max(a.height, b.height)


def _starts_paragraph(previous: _Line, line: _Line, pitch: float | None,
                      margins: dict[int, float]) -> bool:
    if not _same_size(previous, line):
        return True
    height = max(previous.height, line.height)
    if previous.right < margins[previous.page] - SHORT_LINE_HEIGHTS * height:
        return True
    if line.left > previous.left + INDENT_HEIGHTS * height:
        return True
    if line.page != previous.page:
        # The paragraph goes on from a full last line to an unindented first one.
        return False
    gap = previous.top - line.top
    if gap <= 0:  # a new column, or text placed out of reading order
        return True
    usual = pitch if pitch is not None else FALLBACK_PITCH_HEIGHTS * height
    return gap > PARAGRAPH_GAP_RATIO * usual


def _join_lines(texts: list[str]) -> str:
    joined = texts[0]
    for text in texts[1:]:
        if UNSPACED_CHAR.match(joined[-1]) or UNSPACED_CHAR.match(text[0]) or joined.endswith("-"):
            joined += text
        else:
            joined += " " + text
    return joined


def _properties(document) -> dict:
    info = document.get_metadata_dict(skip_empty=True)
    properties = {}
    for key, name in INFO_KEYS.items():
        value = _SPACES.sub(" ", info.get(name) or "").strip()
        if key == "title":
            office = _OFFICE_TITLE.match(value)
            value = office.group(1).strip() if office else value
        if value and value.lower() not in PLACEHOLDER_VALUES:
            properties[key] = value
    for name in ("CreationDate", "ModDate"):
        when = pdf_date(info.get(name))
        if when:
            properties["date"] = when
            break
    return properties


def pdf_date(value: str | None) -> str | None:
    """A PDF date (``D:20190907143000+08'00'``) as ISO text: ``2019-09-07``, or as
    far as it goes (``2019-09``, ``2019``); None when it is no date."""
    found = _PDF_DATE.match((value or "").strip())
    if not found:
        return None
    year, month, day = found.groups()
    if int(year) < 1:
        return None
    if month is None or not 1 <= int(month) <= 12:
        return year
    try:
        return date(int(year), int(month), int(day)).isoformat() if day else f"{year}-{month}"
    except ValueError:
        return f"{year}-{month}"


def _pdfium_reason(exc: Exception) -> str:
    found = re.search(r"\(PDFium: ([^)]*)\)", str(exc))
    return (found.group(1) if found else _short(exc)).rstrip(".").lower()


def _short(exc: Exception) -> str:
    text = _SPACES.sub(" ", str(exc)).strip() or type(exc).__name__
    return text[:160]
