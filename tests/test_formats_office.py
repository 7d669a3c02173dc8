"""Word and PDF readers on real files built by the test (tests/office_files.py):
text, blocks, titles and properties in both scripts, and every way a file
is refused (zip bombs, entity tricks, truncated or encrypted files, scans)."""

from __future__ import annotations

import os
import resource
import shutil
import time
from datetime import datetime

import pytest

import office_files as of
from search.ingest.formats import FormatError, blocks_from_layout, body_of, layout_of

pytest.importorskip("docx")
pytest.importorskip("pypdfium2")
pytest.importorskip("reportlab")

from search.ingest.formats import docx as docx_reader  # noqa: E402
from search.ingest.formats import pdf as pdf_reader  # noqa: E402


def read_docx(path):
    return docx_reader.read(path.read_bytes(), str(path))


def read_pdf(path):
    return pdf_reader.read(path.read_bytes(), str(path))


def refusal(reader, path) -> str:
    with pytest.raises(FormatError) as caught:
        reader(path)
    return caught.value.reason


def text_of_html(html: str) -> str:
    import lxml.html

    return lxml.html.fragment_fromstring(html, create_parent="div").text_content()


# ---------------------------------------------------------------------------
# Word.

@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_docx_blocks_follow_the_document(tmp_path, script):
    sample = of.SCRIPTS[script]
    extracted = read_docx(of.make_docx(tmp_path / "a.docx", script))

    assert extracted.title == sample["title"]
    kinds = [(b.kind, b.depth, b.ordered) for b in extracted.blocks]
    assert kinds == [("h1", 0, False), ("p", 0, False), ("p", 0, False), ("p", 0, False),
                     ("li", 0, False), ("li", 1, False), ("li", 0, True), ("li", 0, True),
                     ("h2", 0, False), ("row", 0, False), ("row", 0, False), ("row", 0, False)]
    texts = [b.text for b in extracted.blocks]
    link_text, _ = sample["link"]
    assert texts == ([sample["headings"][0]] + sample["paragraphs"] + [f"详见{link_text}。"]
                     + sample["bullets"] + sample["numbered"] + [sample["headings"][1]]
                     + [" | ".join(row) for row in sample["table"]])
    # The title is no block, and the body holds each block once, in order.
    assert sample["title"] not in extracted.text
    assert extracted.text == "\n".join(texts)


def test_docx_hyperlinks_are_inline_links_whose_text_is_the_blocks(tmp_path):
    path = of.make_docx(tmp_path / "a.docx", field_link=("人民网", "http://www.people.com.cn/"))
    blocks = read_docx(path).blocks
    linked = [b for b in blocks if b.html]
    assert [b.text for b in linked] == ["详见新华网报道。", "人民网"]
    assert 'href="https://www.xinhuanet.com/news/1.html"' in linked[0].html
    assert 'href="http://www.people.com.cn/"' in linked[1].html
    for block in linked:
        assert text_of_html(block.html) == block.text
    # The field's code (HYPERLINK "...") is not text.
    assert all("HYPERLINK" not in b.text for b in blocks)


def test_docx_hostile_link_is_sanitised(tmp_path):
    path = of.make_docx(tmp_path / "a.docx", link=('点我<script>', "javascript:alert(1)"))
    block = next(b for b in read_docx(path).blocks if "点我" in b.text)
    assert block.text == "详见点我<script>。"
    assert "javascript" not in (block.html or "")
    assert "<script>" not in (block.html or "")
    assert text_of_html(block.html) == block.text if block.html else True


def test_docx_layout_survives_the_index(tmp_path):
    blocks = read_docx(of.make_docx(tmp_path / "a.docx")).blocks
    rebuilt = blocks_from_layout(layout_of(blocks), body_of(blocks))
    assert rebuilt == blocks


def test_docx_core_properties(tmp_path):
    path = of.make_docx(tmp_path / "a.docx", core_title="呼叫中心报告", author="李四",
                        created=datetime(2019, 9, 7, 10, 30))
    assert read_docx(path).properties == {"title": "呼叫中心报告", "author": "李四", "date": "2019-09-07"}


def test_docx_template_placeholders_are_no_properties(tmp_path):
    # python-docx's template says author "python-docx", created 2013-12-23.
    assert read_docx(of.make_docx(tmp_path / "a.docx")).properties == {}
    path = of.make_docx(tmp_path / "b.docx", author="Windows 用户", modified=datetime(2020, 1, 2))
    assert read_docx(path).properties == {"date": "2020-01-02"}


def test_empty_docx_is_refused(tmp_path):
    path = of.make_docx(tmp_path / "empty.docx", title="", headings=[], paragraphs=[], bullets=[],
                        numbered=[], table=[], link=())
    assert refusal(read_docx, path) == "no text in the document"


def test_docx_zip_bomb_is_refused_before_unpacking(tmp_path):
    path = of.zip_bomb_docx(tmp_path / "bomb.docx", unpacked_mb=250)
    assert path.stat().st_size < 2 * 1024 * 1024
    started = time.monotonic()
    reason = refusal(read_docx, path)
    assert "unpacks to 250 MB" in reason
    assert time.monotonic() - started < 1


def test_docx_absurd_compression_is_refused(tmp_path):
    reason = refusal(read_docx, of.zip_bomb_docx(tmp_path / "ratio.docx", unpacked_mb=50))
    assert "zip bomb" in reason


def test_docx_with_too_many_parts_is_refused(tmp_path):
    reason = refusal(read_docx, of.many_members_docx(tmp_path / "many.docx", 6000))
    assert "parts in its zip" in reason


def test_docx_billion_laughs_is_harmless(tmp_path):
    path = of.billion_laughs_docx(tmp_path / "laughs.docx")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    try:
        text = read_docx(path).text
    except FormatError:
        text = ""
    assert time.monotonic() - started < 2
    assert "lol" not in text
    # Expanded, the entity would be 3 GB; the reader's peak stays far below.
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 200 * 1024


def test_docx_external_entity_is_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-42", encoding="utf-8")
    path = of.external_entity_docx(tmp_path / "xxe.docx", secret)
    try:
        text = read_docx(path).text
    except FormatError:
        text = ""
    assert "TOPSECRET" not in text


@pytest.mark.parametrize("make, expected", [
    (lambda d: of.truncated_copy(of.make_docx(d / "a.docx"), d / "cut.docx"), "truncated Word file"),
    (lambda d: of.docx_without_document(d / "nodoc.docx"), "no word/document.xml"),
    (lambda d: _write(d / "text.docx", "这不是 Word 文件".encode()), "not a zip archive"),
    (lambda d: _write(d / "old.docx", bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600)), "old Word (.doc)"),
])
def test_broken_docx_is_refused_with_its_reason(tmp_path, make, expected):
    assert expected in refusal(read_docx, make(tmp_path))


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------
# PDF.

def squeeze(text: str) -> str:
    """Text without spaces: a space where a line wrapped between a Han
    character and a Latin word is typography, not text."""
    return "".join(text.split())


@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_pdf_paragraphs_are_blocks(tmp_path, script):
    sample = of.SCRIPTS[script]
    path = of.make_pdf(tmp_path / "a.pdf", script=script, heading=sample["title"])
    blocks = read_pdf(path).blocks
    assert [b.kind for b in blocks] == ["h1", "p", "p"]
    assert blocks[0].text == sample["title"]
    # Each paragraph wraps over several lines, joined without spaces
    # between Han characters ...
    assert [squeeze(b.text) for b in blocks[1:]] == [squeeze(p) for p in sample["paragraphs"]]
    assert blocks[1].text == sample["paragraphs"][0]
    # ... and with them where the text has them, between Latin words.
    assert "CEO" in blocks[2].text and "2019 年" in blocks[2].text


def test_pdf_paragraphs_told_apart_by_first_line_indent(tmp_path):
    paragraphs = of.SIMPLIFIED["paragraphs"] * 3
    path = of.make_pdf(tmp_path / "a.pdf", paragraphs, space_after=0, first_line_indent=24)
    assert [squeeze(b.text) for b in read_pdf(path).blocks] == [squeeze(p) for p in paragraphs]


def test_pdf_document_information(tmp_path):
    path = of.make_pdf(tmp_path / "a.pdf", title="呼叫中心报告", author="张三",
                       date="D:20190907103000+08'00'")
    assert read_pdf(path).properties == {"title": "呼叫中心报告", "author": "张三", "date": "2019-09-07"}


def test_pdf_generator_placeholders_are_no_properties(tmp_path):
    # reportlab writes "untitled" and "anonymous" when given nothing.
    properties = read_pdf(of.make_pdf(tmp_path / "a.pdf", date="D:20200102")).properties
    assert properties == {"date": "2020-01-02"}
    path = of.make_pdf(tmp_path / "b.pdf", title="Microsoft Word - 年度报告.docx")
    assert read_pdf(path).properties["title"] == "年度报告"


@pytest.mark.parametrize("value, expected", [
    ("D:20190907143000+08'00'", "2019-09-07"), ("D:201909", "2019-09"), ("2019", "2019"),
    ("D:20190231", "2019-02"), ("D:2019-09-07", "2019"), ("yesterday", None), ("", None), (None, None),
])
def test_pdf_dates(value, expected):
    assert pdf_reader.pdf_date(value) == expected


def test_pdf_encrypted_with_the_empty_password_is_read(tmp_path):
    path = of.make_pdf(tmp_path / "a.pdf", encrypted="")
    assert b"/Encrypt" in path.read_bytes()
    assert squeeze(read_pdf(path).text) == squeeze("".join(of.SIMPLIFIED["paragraphs"]))


def test_pdf_with_a_password_is_refused(tmp_path):
    path = of.make_pdf(tmp_path / "a.pdf", encrypted="secret")
    assert refusal(read_pdf, path) == "encrypted PDF: needs a password"


def test_scanned_pdf_is_refused_as_needing_ocr(tmp_path):
    reason = refusal(read_pdf, of.make_scanned_pdf(tmp_path / "scan.pdf", pages=3))
    assert reason == "no text layer (3 pages): a scanned PDF; run OCR on it first"


def test_blank_pdf_is_refused(tmp_path):
    assert refusal(read_pdf, of.make_blank_pdf(tmp_path / "blank.pdf")) == "no text in the document"


@pytest.mark.parametrize("make", [
    lambda d: of.truncated_copy(of.make_pdf(d / "a.pdf"), d / "cut.pdf", 0.5),
    lambda d: of.truncated_copy(of.make_pdf(d / "a.pdf"), d / "cut.pdf", 0.9),
    lambda d: _write(d / "text.pdf", "这不是 PDF 文件".encode()),
    lambda d: _write(d / "empty.pdf", b""),
    lambda d: _write(d / "header.pdf", b"%PDF-1.7\n" + os.urandom(4000)),
])
def test_broken_pdf_is_refused(tmp_path, make):
    assert refusal(read_pdf, make(tmp_path))


def test_pdf_page_limit_reads_the_first_pages_with_a_warning(tmp_path, monkeypatch):
    paragraphs = of.SIMPLIFIED["paragraphs"] * 40
    path = of.make_pdf(tmp_path / "long.pdf", paragraphs)
    monkeypatch.setattr(pdf_reader, "MAX_PAGES", 1)
    extracted = read_pdf(path)
    assert len(extracted.warnings) == 1
    assert extracted.warnings[0].startswith("only the first 1 of ")
    assert 0 < len(extracted.blocks) < len(paragraphs)


@pytest.mark.slow
def test_pdf_printed_by_chromium_reads_real_characters(tmp_path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(chromium, os.X_OK):
        pytest.skip("no Chromium (apt-get install chromium) to print a PDF with")
    pytest.importorskip("playwright.sync_api")
    simplified = "市长在讲话中指出，这个中心将为本地带来大量就业机会，门口的马车与飞鸟，黄色的风。"
    traditional = "市長在講話中指出，這個中心將為本地帶來大量就業機會，門口的馬車與飛鳥，黃色的風。"
    html = ("<html><head><meta charset='utf-8'><title>呼叫中心</title></head>"
            "<body style=\"font-family:'Noto Sans CJK SC';font-size:16px;width:300px\">"
            "<h1>洛阳呼叫中心开业</h1>"
            f"<p>{simplified}</p><p lang='zh-TW' style=\"font-family:'Noto Serif CJK TC'\">{traditional}</p>"
            "<p>吉野家的𠮷字</p></body></html>")
    extracted = read_pdf(of.print_pdf_with_chromium(tmp_path / "printed.pdf", html, chromium))
    # Skia maps glyphs shared with Kangxi radicals (⼼ ⻓ ⻔ ⻢) to them, and
    # says the real character in /ActualText.
    assert [b.text for b in extracted.blocks] == ["洛阳呼叫中心开业", simplified, traditional, "吉野家的𠮷字"]
    assert [b.kind for b in extracted.blocks] == ["h1", "p", "p", "p"]
    assert extracted.properties.get("title") == "呼叫中心"
