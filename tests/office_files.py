"""Builders of real Word and PDF files for the format readers' tests.

Each writes a small file with the library a real producer would use
(python-docx for Word, reportlab for PDF with its built-in CJK fonts,
Chromium for a printed page) and returns its path.  Hostile files are built
the way an attacker would: a .docx zip bomb, entity expansion in
document.xml, a truncated copy.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

SIMPLIFIED = {
    "title": "洛阳呼叫中心开业",
    "headings": ["开业仪式", "各方反应"],
    "paragraphs": [
        "洛阳市今天举行了呼叫中心开业仪式，来自全国各地的三百名员工参加了活动。"
        "市长在讲话中指出，这个中心将为本地带来大量就业机会，并推动服务业的发展。",
        "北京、上海、广州的代表也出席了会议。他们认为，这种模式值得在全国推广，"
        "ABC 公司的 CEO 张三说：“我们对 2019 年的前景充满信心。”",
    ],
    "bullets": ["提供就业岗位", "带动相关产业"],
    "numbered": ["第一期工程", "第二期工程"],
    "table": [["城市", "员工人数"], ["洛阳", "300"], ["郑州", "120"]],
    "link": ("新华网报道", "https://www.xinhuanet.com/news/1.html"),
    "font": "STSong-Light",
}
TRADITIONAL = {
    "title": "洛陽呼叫中心開業",
    "headings": ["開業儀式", "各方反應"],
    "paragraphs": [
        "洛陽市今天舉行了呼叫中心開業儀式，來自全國各地的三百名員工參加了活動。"
        "市長在講話中指出，這個中心將為本地帶來大量就業機會，並推動服務業的發展。",
        "臺北、香港、澳門的代表也出席了會議。他們認為，這種模式值得推廣，"
        "ABC 公司的 CEO 張三說：「我們對 2019 年的前景充滿信心。」",
    ],
    "bullets": ["提供就業崗位", "帶動相關產業"],
    "numbered": ["第一期工程", "第二期工程"],
    "table": [["城市", "員工人數"], ["洛陽", "300"], ["鄭州", "120"]],
    "link": ("新華網報道", "https://www.xinhuanet.com/news/1.html"),
    "font": "MSung-Light",
}
SCRIPTS = {"simplified": SIMPLIFIED, "traditional": TRADITIONAL}


# ---------------------------------------------------------------------------
# Word.

def make_docx(path: Path, script: str = "simplified", *, title: str | None = None,
              headings: list[str] | None = None, paragraphs: list[str] | None = None,
              bullets: list[str] | None = None, numbered: list[str] | None = None,
              table: list[list[str]] | None = None, link: tuple[str, str] | None = None,
              field_link: tuple[str, str] | None = None,
              core_title: str | None = None, author: str | None = None,
              created: datetime | None = None, modified: datetime | None = None) -> Path:
    """A .docx in the given script, in this order: the ``Title`` paragraph,
    the first heading (Heading 1), the paragraphs, a paragraph with a
    hyperlink (text before it, the link, text after it), the bullets (the
    second one a level deeper), the numbered items, the second heading
    (Heading 2), the table, a paragraph with a ``HYPERLINK`` field.

    An argument left None takes the script's sample; pass ``[]`` (or "" for
    ``title``) to leave that part out."""
    import docx

    sample = SCRIPTS[script]
    title = sample["title"] if title is None else title
    headings = sample["headings"] if headings is None else headings
    paragraphs = sample["paragraphs"] if paragraphs is None else paragraphs
    bullets = sample["bullets"] if bullets is None else bullets
    numbered = sample["numbered"] if numbered is None else numbered
    table = sample["table"] if table is None else table
    link = sample["link"] if link is None else link

    document = docx.Document()
    if title:
        document.add_paragraph(title, style="Title")
    if headings:
        document.add_heading(headings[0], level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if link:
        paragraph = document.add_paragraph("详见")
        add_hyperlink(paragraph, *link)
        paragraph.add_run("。")
    for i, text in enumerate(bullets):
        document.add_paragraph(text, style="List Bullet 2" if i == 1 else "List Bullet")
    for text in numbered:
        document.add_paragraph(text, style="List Number")
    if len(headings) > 1:
        document.add_heading(headings[1], level=2)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, cells in zip(grid.rows, table):
            for cell, text in zip(row.cells, cells):
                cell.text = text
    if field_link:
        add_field_link(document.add_paragraph(), *field_link)
    core = document.core_properties
    if core_title is not None:
        core.title = core_title
    if author is not None:
        core.author = author
    if created is not None:
        core.created = created
    if modified is not None:
        core.modified = modified
    path = Path(path)
    document.save(path)
    return path


def add_hyperlink(paragraph, text: str, url: str) -> None:
    """A ``w:hyperlink`` to ``url`` at the end of ``paragraph`` (python-docx has no call for one)."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    rel_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    hyperlink = OxmlElement("w:hyperlink", attrs={qn("r:id"): rel_id})
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    hyperlink.append(run)
    paragraph._p.append(hyperlink)


def add_field_link(paragraph, text: str, url: str) -> None:
    """A link as Word writes one pasted from a web page: a ``HYPERLINK`` complex field."""
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    def run_with(tag: str, **attrs):
        run = OxmlElement("w:r")
        child = OxmlElement(tag, attrs={qn(k): v for k, v in attrs.items()})
        run.append(child)
        paragraph._p.append(run)
        return child

    run_with("w:fldChar", **{"w:fldCharType": "begin"})
    run_with("w:instrText").text = f' HYPERLINK "{url}" '
    run_with("w:fldChar", **{"w:fldCharType": "separate"})
    run_with("w:t").text = text
    run_with("w:fldChar", **{"w:fldCharType": "end"})


def rewrite_docx_part(source: Path, target: Path, name: str, content: bytes) -> Path:
    """A copy of a .docx with one part replaced."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item, content if item.filename == name else old.read(item.filename))
    return target


def billion_laughs_docx(path: Path) -> Path:
    """A .docx whose document.xml defines the "billion laughs" entity (10^9 "lol")."""
    base = make_docx(Path(path).with_suffix(".base.docx"))
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           f'<!DOCTYPE w:document [{entities}]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           '<w:body><w:p><w:r><w:t>开始&lol9;结束</w:t></w:r></w:p></w:body></w:document>')
    return rewrite_docx_part(base, Path(path), "word/document.xml", xml.encode())


def external_entity_docx(path: Path, secret_file: Path) -> Path:
    """A .docx whose document.xml pulls a local file in through an external entity."""
    base = make_docx(Path(path).with_suffix(".base.docx"))
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
           f'<!DOCTYPE w:document [<!ENTITY secret SYSTEM "file://{secret_file}">]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           '<w:body><w:p><w:r><w:t>开始&secret;结束</w:t></w:r></w:p></w:body></w:document>')
    return rewrite_docx_part(base, Path(path), "word/document.xml", xml.encode())


def zip_bomb_docx(path: Path, unpacked_mb: int = 300) -> Path:
    """A valid .docx plus a member of ``unpacked_mb`` MB of zeros (about 1,000:1)."""
    base = make_docx(Path(path).with_suffix(".base.docx"))
    with zipfile.ZipFile(base) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item, old.read(item.filename))
        zeros = bytes(1 << 20)
        with new.open("word/media/image1.png", "w", force_zip64=True) as member:
            for _ in range(unpacked_mb):
                member.write(zeros)
    return Path(path)


def many_members_docx(path: Path, members: int) -> Path:
    """A valid .docx plus ``members`` tiny extra parts."""
    base = make_docx(Path(path).with_suffix(".base.docx"))
    with zipfile.ZipFile(base) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item, old.read(item.filename))
        for i in range(members):
            new.writestr(f"customXml/extra{i}.xml", "<a/>")
    return Path(path)


def docx_without_document(path: Path) -> Path:
    """A zip holding Word's other parts but no word/document.xml."""
    base = make_docx(Path(path).with_suffix(".base.docx"))
    with zipfile.ZipFile(base) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            if item.filename != "word/document.xml":
                new.writestr(item, old.read(item.filename))
    return Path(path)


def truncated_copy(source: Path, target: Path, keep: float = 0.5) -> Path:
    """The first ``keep`` share of a file's bytes, as a download cut short leaves it."""
    data = Path(source).read_bytes()
    Path(target).write_bytes(data[: int(len(data) * keep)])
    return Path(target)


# ---------------------------------------------------------------------------
# PDF.

def make_pdf(path: Path, paragraphs: list[str] | None = None, script: str = "simplified", *,
             heading: str | None = None, title: str | None = None, author: str | None = None,
             date: str | None = None, encrypted: str | None = None,
             owner_password: str = "owner", font_size: float = 12, leading: float = 18,
             space_after: float = 12, first_line_indent: float = 0) -> Path:
    """A PDF of ``paragraphs`` (wrapped over several lines each) in reportlab's
    CID font for the script (STSong-Light, MSung-Light), with an optional
    heading at twice the size, document information (``date`` as a PDF date,
    ``D:20190907...``) and encryption: ``encrypted`` is the user password
    ("" makes a file any reader opens, but encrypted all the same)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    sample = SCRIPTS[script]
    paragraphs = sample["paragraphs"] if paragraphs is None else paragraphs
    font = sample["font"]
    pdfmetrics.registerFont(UnicodeCIDFont(font))
    body = ParagraphStyle("body", fontName=font, fontSize=font_size, leading=leading,
                          wordWrap="CJK", spaceAfter=space_after, firstLineIndent=first_line_indent)
    big = ParagraphStyle("heading", parent=body, fontSize=2 * font_size, leading=2 * leading,
                         firstLineIndent=0)
    options = {"pagesize": A4}
    if title is not None:
        options["title"] = title
    if author is not None:
        options["author"] = author
    if encrypted is not None:
        options["encrypt"] = StandardEncryption(encrypted, owner_password)
    document = SimpleDocTemplate(str(path), **options)

    def stamp_date(canvas, _document):
        if date is not None:
            canvas._doc.setDateFormatter(lambda *_: date)

    story = ([Paragraph(heading, big)] if heading else []) + [Paragraph(p, body) for p in paragraphs]
    document.build(story, onFirstPage=stamp_date, onLaterPages=stamp_date)
    return Path(path)


def make_scanned_pdf(path: Path, pages: int = 2) -> Path:
    """A PDF of pictures of text only, as a scanner makes it: no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (600, 800), 255)
    draw = ImageDraw.Draw(image)
    for y in range(40, 760, 24):
        draw.rectangle((40, y, 560, y + 10), fill=0)  # lines of "text" as ink
    picture = io.BytesIO()
    image.save(picture, format="PNG")
    sheet = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(pages):
        picture.seek(0)
        sheet.drawImage(ImageReader(picture), 0, 0, width=A4[0], height=A4[1])
        sheet.showPage()
    sheet.save()
    return Path(path)


def make_blank_pdf(path: Path, pages: int = 1) -> Path:
    """A PDF of empty pages."""
    from reportlab.pdfgen import canvas

    sheet = canvas.Canvas(str(path))
    for _ in range(pages):
        sheet.showPage()
    sheet.save()
    return Path(path)


def print_pdf_with_chromium(path: Path, html: str, chromium: str) -> Path:
    """A page printed to PDF by Chromium (Skia embeds the Noto CJK fonts it drew with)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.set_content(html)
            page.pdf(path=str(path), format="A4")
        finally:
            browser.close()
    return Path(path)
