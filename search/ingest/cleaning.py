"""Cleaning raw documents: bytes to text, HTML remnants, site boilerplate, titles.

Owns the pattern-level decisions about messy scraped Chinese text:

* ``decode_bytes``: which encoding a file is in (UTF-8, GB18030/GBK, Big5 or
  Big5-HKSCS), detected, never assumed; ``UndecodableError`` when none fits.
* ``strip_html``: tags, comments, entities and markdown link syntax removed,
  the text they carry kept.
* ``is_boilerplate``, ``is_breadcrumb``, ``is_credit_line``: which lines are the
  site's furniture (tag lines, related-article widgets, contact lines,
  copyright notices, breadcrumbs) or credits (editors, bylines, photo credits)
  rather than the article.
* ``pick_title``, ``strip_site_suffix``: the headline a reader would want.

Lines are matched after conversion to simplified script (``to_simplified``),
so every pattern is written once and holds for 責任編輯 as for 责任编辑.
Deciding what a document's title, body and date finally are is ``metadata``'s
job.
"""

from __future__ import annotations

import html
import math
import re
from functools import lru_cache

from ..text.script import to_simplified


class UndecodableError(ValueError):
    """Bytes that no supported encoding explains; ``reason`` says why."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" if path else reason)


# ---------------------------------------------------------------------------
# Encodings.

# Tried in this order when the bytes are not UTF-8; on equal plausibility the
# first wins.  GB18030 is a superset of GBK and GB2312; Big5-HKSCS of Big5
# (and of most of cp950, which alone has a few Microsoft additions such as €).
LEGACY_ENCODINGS = ("gb18030", "big5hkscs", "cp950")
# Mean plausibility (see ``_char_plausibility``) below which a decoding is
# garbage: real Chinese text scores about 3, even a classical poem full of
# rare characters about 2.3; Big5 read as GB18030 (or the reverse) about 0.4.
MIN_PLAUSIBILITY = 1.2
# Plausibility is judged on the start of a text: enough to tell the encodings
# apart, and a 20 MB file is still decoded strictly as a whole.
PLAUSIBILITY_SAMPLE_CHARS = 20000
PLAUSIBILITY_SAMPLE_BYTES = 2 * PLAUSIBILITY_SAMPLE_CHARS
# A line is judged on its own when it has this many non-ASCII characters; a
# file mixes encodings when more than this share of such lines reads better
# by this margin in another encoding (a line of rare words scores low in
# every encoding and is no sign of mixing).
MIN_JUDGED_LINE_CHARS = 6
MAX_MIXED_LINE_SHARE = 0.1
MIXED_MARGIN = 1.0
# Common punctuation of Chinese text: plausible in any decoding.
_CJK_PUNCTUATION = set("，。、；：？！“”‘’（）《》〈〉「」『』【】〔〕—…·～－　")
# Control characters a text file has no business containing (all but tab,
# newlines, form feed and the DOS end-of-file mark ^Z); a few are tolerated.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f]")


def decode_bytes(data: bytes, path: str = "") -> str:
    """Decode a text file's bytes, detecting the encoding; newlines become ``\\n``.

    Order: a UTF-16 or UTF-8 byte-order mark; strict UTF-8; then each of
    ``LEGACY_ENCODINGS`` strictly, keeping the most plausible Chinese reading.
    Raises ``UndecodableError`` for NUL bytes, control characters or bytes
    that no encoding turns into plausible text.
    """
    text = _decode_with_bom(data)
    if text is None:
        if b"\x00" in data:
            raise UndecodableError(path, "contains NUL bytes: a binary file, not text")
        text = _decode_utf8(data)
        if text is None or _only_two_byte_letters(text):
            text = _decode_legacy(data, path, utf8_reading=text)
    _reject_controls(text, path)
    return _normalise_newlines(text)


def _decode_with_bom(data: bytes) -> str | None:
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                          (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def _decode_utf8(data: bytes) -> str | None:
    """Strict UTF-8; a file cut off inside its last character loses only that."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(data):
            return data[:exc.start].decode("utf-8")
        return None


def _only_two_byte_letters(text: str) -> bool:
    """True when UTF-8 gave only Greek/Cyrillic/... letters (U+0370-U+07FF).

    Short GBK text is sometimes valid UTF-8 by accident (谢谢 in GBK reads as
    Cyrillic "лл"), so such a reading has to compete with the Chinese ones.
    """
    # A search, not a list of the characters: that list cost 27 bytes of
    # memory per byte of a large file.
    return not text.isascii() and _OTHER_THAN_TWO_BYTE_LETTERS.search(text) is None


_OTHER_THAN_TWO_BYTE_LETTERS = re.compile(r"[^\x00-\x7f\u0370-\u07ff]")


def _decode_legacy(data: bytes, path: str, utf8_reading: str | None) -> str:
    readings = []
    for encoding in LEGACY_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        readings.append((plausibility(text), encoding, text))
    best = max(readings, key=lambda r: r[0], default=None)  # max keeps the first on ties
    if best is not None and best[0] >= MIN_PLAUSIBILITY:
        if _looks_mixed(data, best[1]):
            raise UndecodableError(path, f"mixed encodings: most of it reads as {best[1]}, but "
                                         "several lines only make sense in another encoding")
        return best[2]
    if utf8_reading is not None:  # genuinely Greek or Russian, say
        return utf8_reading
    if best is None:
        why = "not valid UTF-8, GB18030/GBK or Big5 (illegal byte sequences in each)"
    else:
        why = (f"not UTF-8, and as {best[1]}, the likeliest, it reads as rare characters "
               "and private-use codes: not a text file, or an unsupported encoding")
    raise UndecodableError(path, why)


def _reject_controls(text: str, path: str) -> None:
    controls = len(_CONTROLS.findall(text))
    if "\x00" in text or controls > max(2, len(text) // 1000):
        raise UndecodableError(path, "contains control characters: a binary file, not text")


def _normalise_newlines(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


@lru_cache(maxsize=1)
def _char_frequencies() -> dict[str, float]:
    """log10(1 + occurrences per million) of each (simplified) character.

    Derived from jieba's dictionary, whose word counts come from a large
    corpus; loaded only when a file is not UTF-8.
    """
    import jieba

    counts: dict[str, int] = {}
    with jieba.get_dict_file() as handle:
        for raw in handle:
            word, count = raw.decode("utf-8").split(" ")[:2]
            for ch in word:
                counts[ch] = counts.get(ch, 0) + int(count)
    total = sum(counts.values()) or 1
    return {ch: math.log10(1 + n * 1e6 / total) for ch, n in counts.items()}


def _char_plausibility(ch: str, frequencies: dict[str, float]) -> float:
    """How likely a character is in Chinese text: ~4 for 的, 0 for kana or PUA."""
    if ch in _CJK_PUNCTUATION or 0xFF01 <= ord(ch) <= 0xFF5E:
        return 2.0
    return min(4.0, frequencies.get(to_simplified(ch), 0.0))


def _looks_mixed(data: bytes, chosen: str) -> bool:
    """True when several lines read far better in another encoding than ``chosen``.

    A file glued together from a Big5 part and a GBK part has a fair mean in
    either reading, but each part is garbage in the other's.  Lines are cut
    at the newline byte, which is never inside a GB18030 or Big5 character.
    """
    judged = mixed = 0
    for raw in data[:PLAUSIBILITY_SAMPLE_BYTES].split(b"\n"):
        if sum(b > 0x7F for b in raw) < 2 * MIN_JUDGED_LINE_CHARS:
            continue
        scores = {enc: _byte_plausibility(raw, enc) for enc in ("utf-8", *LEGACY_ENCODINGS)}
        own = scores.pop(chosen)
        if own is None:
            continue  # the last line, cut by the sample
        judged += 1
        other = max((s for s in scores.values() if s is not None), default=0.0)
        mixed += other >= MIN_PLAUSIBILITY and other >= own + MIXED_MARGIN
    return mixed >= 2 and mixed > judged * MAX_MIXED_LINE_SHARE


def _byte_plausibility(raw: bytes, encoding: str) -> float | None:
    try:
        return plausibility(raw.decode(encoding))
    except UnicodeDecodeError:
        return None


def plausibility(text: str) -> float:
    """Mean plausibility of the non-ASCII characters of ``text`` (4.0 if none).

    The wrong one of GB18030 and Big5 still decodes most bytes, but into rare
    characters, kana and private-use codes; the right one gives common ones.
    Frequencies rather than a yes/no list, because even a two-character Big5
    title like 學習 decodes in GB18030 to two real characters (厩策).
    """
    wide = [c for c in text[:PLAUSIBILITY_SAMPLE_CHARS] if ord(c) > 0x7F and not c.isspace()]
    if not wide:
        return 4.0
    frequencies = _char_frequencies()
    return sum(_char_plausibility(c, frequencies) for c in wide) / len(wide)


# ---------------------------------------------------------------------------
# HTML and markdown remnants.

_HTML_TAGS = (
    "a|abbr|article|aside|b|big|blockquote|body|br|button|caption|center|cite|code|col|"
    "colgroup|dd|del|details|div|dl|dt|em|embed|figcaption|figure|font|footer|form|"
    "h[1-6]|head|header|hr|html|i|iframe|img|input|ins|label|li|link|main|meta|nav|"
    "noscript|object|ol|option|p|param|pre|s|section|select|small|source|span|strike|"
    "strong|sub|summary|sup|table|tbody|td|textarea|tfoot|th|thead|title|tr|tt|u|ul|"
    "video|wbr"
)
# Comments and <script>/<style> elements are cut by ``_remove_comments`` and
# ``_remove_elements``, in time linear in the text: the regular expressions
# ``<!--.*?-->`` and ``<script>.*?</script>`` rescan to the end of the text from
# every opening that is never closed.
_SCRIPT_OR_STYLE_OPEN = re.compile(r"<(script|style)\b[^<>]*>", re.I)
_SCRIPT_OR_STYLE_CLOSE = {"script": re.compile(r"</script\s*>", re.I),
                          "style": re.compile(r"</style\s*>", re.I)}
# Tags that end a line of text in a browser.
_BREAK_TAG = re.compile(
    r"</?(?:br|p|div|li|tr|h[1-6]|hr|blockquote|ul|ol|table|section|article)\b[^<>]*>",
    re.I)
# Only real tag names, straight after "<" (a tag has no space there), so
# "a < b 且 b > c" and "x<y" in prose stay; namespaced tags are Word's <o:p>.
_TAG = re.compile(rf"</?(?:{_HTML_TAGS})\b[^<>]*>|</?[A-Za-z]+:[A-Za-z]+\b[^<>]*>", re.I)
_AUTOLINK = re.compile(r"<(?:mailto:)?((?:https?|ftp)://[^\s<>]+|[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+)>")
# The text of a link holds no "[" (as in Markdown, "[a [b](u)" is "[a " and a
# link "b"), so a line of unclosed "[" is scanned once, not once per "[".
_MD_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\([^()\s]*(?:\s+\"[^\"\n]*\")?\)")
_MD_LINK = re.compile(r"\[([^\[\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\n]*\")?\)")
# Entities need their semicolon: "a=1&para=2" in a URL is not "a=1¶=2".
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_INVISIBLE = str.maketrans({"\u00a0": " ", "\u200b": None, "\ufeff": None})


def strip_html(text: str) -> str:
    """``text`` without HTML tags, comments and entities or markdown link syntax.

    ``<br>`` and block tags become line breaks, ``[x](mailto:y)`` and
    ``![x](img.png)`` become ``x``, ``<http://a.b>`` becomes ``http://a.b``,
    ``&nbsp;`` a space.  Entities are decoded last, so an escaped ``&lt;b&gt;``
    stays as the literal text ``<b>``.
    """
    if "<" in text:
        text = _remove_comments(text)
        text = _remove_elements(text)
        text = _BREAK_TAG.sub("\n", text)
        text = _AUTOLINK.sub(r"\1", text)
        text = _TAG.sub("", text)
    if "](" in text:
        text = _MD_IMAGE.sub(r"\1", text)
        text = _MD_LINK.sub(r"\1", text)
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    return text.translate(_INVISIBLE)


def _remove_comments(text: str) -> str:
    """``text`` without ``<!-- ... -->`` comments (an unclosed one stays as text)."""
    out, pos = [], 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[pos:start])
        pos = end + 3
    out.append(text[pos:])
    return "".join(out)


def _remove_elements(text: str) -> str:
    """``text`` without ``<script>`` and ``<style>`` elements (an unclosed one stays)."""
    out, pos, scan, unclosed = [], 0, 0, set()
    while True:
        m = _SCRIPT_OR_STYLE_OPEN.search(text, scan)
        if not m:
            break
        name = m.group(1).lower()
        close = None if name in unclosed else _SCRIPT_OR_STYLE_CLOSE[name].search(text, m.end())
        if close is None:
            unclosed.add(name)      # and so is every later one: no closing tag follows
            scan = m.end()
            continue
        out.append(text[pos:m.start()])
        pos = scan = close.end()
    out.append(text[pos:])
    return "".join(out)


def split_paragraphs(body: str) -> list[str]:
    """The non-empty lines of ``body``, stripped (also of ideographic spaces)."""
    return [line.strip() for line in body.split("\n") if line.strip()]


# ---------------------------------------------------------------------------
# Lines that are not the article.

# Bullets, list markers and decorations around a line's text.
_DECORATION = "•·●○■□◆◇▪▫►▶★☆※-*+–—=_~#|> \t\u3000"
_SENTENCE_PUNCTUATION = re.compile(r"[。！？!?；;，,]")
_HAS_TEXT = re.compile(r"[^\W_]")


def _simplified_line(line: str) -> str:
    """The line in simplified script, link syntax removed, decorations stripped."""
    text = to_simplified(line.strip())
    if "<" in text or "](" in text:
        text = _AUTOLINK.sub(r"\1", _MD_LINK.sub(r"\1", text))
    return text.strip(_DECORATION)


_TAG_LINE = re.compile(r"^(?:热门|相关)?(?:标签|关键词|关键字|tags?)\s*[:：]", re.I)
_WIDGET = re.compile(
    r"^(?:相关(?:文章|阅读|新闻|推荐|链接)|推荐阅读|延伸阅读|热门(?:文章|推荐)|最新文章|猜你喜欢"
    r"|收缩|展开(?:全文)?|微信(?:客服|二维码|公众号)|在线(?:客服|咨询)|(?:微信)?扫一扫"
    r"|关注(?:该|本)?公众号|电话咨询"
    r"|返回(?:顶部|首页|列表)|打印本页|关闭窗口|分享到|上一篇|下一篇)\s*(?:[:：].*)?$")
# Prompts of a page to follow, scan, install or vote: lines of the site's
# own, never an article's (a sentence that mentions 二维码 is not one).
_PROMPT = re.compile(
    r"^(?:微信)?扫一扫\s*关注"
    r"|^(?:\S{0,8}[！!][)）]?)?(?:欢迎|请)?(?:扫描|扫码|长按)\S{0,8}二维码(?:关注|下载|识别)[^。！？]{0,40}$"
    r"|^(?:安装|下载)\S{0,10}客户端"
    r"|^【(?:点击|下载|投票)[^】]{0,8}】|^点击进入专题\s*[:：]|^关注(?:公众号|我们)查看全文"
    r"|【(?:点击投票|下载地址|点击下载)】")
# A short line that ends by asking to follow an account (每日推送……扫描下方
# 二维码关注某某官方微信): a promotion, however it begins.
_FOLLOW_PROMPT = re.compile(r"(?:扫描|扫码|长按)\S{0,6}二维码关注\S{0,20}(?:官方微信|公众号|微博)"
                            r"(?:[(（][^)）]{0,40}[)）])?[。！!]?$")
MAX_PROMPT_LINE = 100
# A label with only a date or time after it (最后更新: 2019-09-07 15:14:21).
_DATED_LABEL = re.compile(
    r"^(?:最后更新|更新时间|发布时间|发表时间|发布日期)\s*[:：]?\s*"
    r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
# A contact label alone or before a colon (not 客服电话400… in a sentence).
_CONTACT_LABEL = re.compile(r"^(?:投稿|新闻|爆料|客服|服务|咨询)(?:邮箱|信箱|热线|电话)\s*(?:[:：]|$)")
# "<label>: <only a URL, e-mail address or phone number>".
_CONTACT_WORDS = re.compile(r"电话|热线|手机|传真|邮箱|信箱|mail|频道|网址|网站|官网|qq|微信|投稿",
                            re.I)
_LABELLED_VALUE = re.compile(r"^(?P<label>[^:：]{1,12})[:：]\s*(?P<value>.+)$")
_URL = r"(?:https?://|www\.)[^\s<>]+"
_EMAIL = r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"
_PHONE = r"\+?[\d()（）][\d\s\-+()（）]{5,}\d"
# A contact value is URLs, e-mail addresses and phone numbers, with separators.
# It is read token by token (``_is_contact_value``): as one regular expression,
# digits and spaces that are not a phone number take exponential time, because
# a phone number may hold spaces and so may the separators.
_CONTACT_TOKEN = re.compile(
    rf"(?P<link>{_URL}|{_EMAIL})|(?P<phone>[\d\-+()（）]+)|(?P<space>\s+)|(?P<sep>[,，、/]+)",
    re.I)
_PHONE_NUMBER = re.compile(_PHONE)
_URL_ONLY = re.compile(rf"^{_URL}$", re.I)
_PHONE_ONLY = re.compile(r"^[+＋]?[\d\s\-()（）+]+$")
_DATE_ONLY = re.compile(r"^\d{4}([-/.])\d{1,2}\1\d{1,2}$")
# Statements of the site about itself; a paragraph that merely discusses
# copyright (版权保护 ...) matches none of them.
_NOTICE = re.compile(
    r"^(?:版权所有|版权声明|免责声明|copyright\b|©|\(c\)\s*\d{4})"
    r"|^\S{0,20}声明\s*[:：]\s*本(?:文|站|网)"
    r"|如(?:发现|有)本文(?:内容)?.{0,10}(?:版权|侵权)问题"
    r"|(?:言论|版权)[、和及与]?(?:版权)?与本(?:站|网)无关"
    r"|本(?:站|网)(?:内容|文章|资料|部分内容)?均?(?:系统)?(?:采集|转载|来源)(?:于|自)(?:网络|互联网)"
    r"|(?:转载|引用)(?:本文)?请注明(?:出处|来源)"
    r"|版权归原?作者所有|未经本(?:站|网|报)(?:书面)?(?:许可|授权)"
    r"|all rights reserved"
    # A footer: the copyright line with the site's address or licence.
    r"|版权所有.{0,60}(?:地址|电话|邮编|备案|icp)",
    re.I)
# A line made only of markdown links and separators: a navigation bar.
# Written so that each character can be read in one way only: with the
# separators as "\s*[|...]*" on both sides of an item (the obvious pattern),
# a line of links and spaces that does not match takes exponential time.
_LINK_ITEM = r"(?:!?\[[^\]\n]*\]\([^)\n]*\)|<[^<>\s]+>)"
_LINKS_ONLY = re.compile(
    rf"^\s*{_LINK_ITEM}(?:\s*(?:[|｜·/、,，]+\s*)?{_LINK_ITEM})*\s*[|｜·/、,，]*$")
_MENU_SEPARATOR = re.compile(r"[|｜]")


def is_boilerplate(line: str) -> bool:
    """True for a line of site furniture rather than the article's text.

    Tag lines, related-article and contact widgets, a line that is only a
    phone number or a URL, "<channel/hotline/e-mail>: <address>" lines,
    copyright and disclaimer notices, navigation bars, breadcrumbs and
    bullets without text.  Conservative: prose that mentions 版权 stays.
    """
    raw = line.strip()
    if not raw:
        return False
    text = _simplified_line(raw)
    if not text:
        return True  # "•", "■", "---": decoration only ("……" is punctuation, kept)
    return (is_breadcrumb(raw)
            or bool(_LINKS_ONLY.match(raw))
            or bool(_TAG_LINE.match(text) or _WIDGET.match(text))
            or bool(_PROMPT.search(text) or _DATED_LABEL.match(text))
            or (len(text) <= MAX_PROMPT_LINE and bool(_FOLLOW_PROMPT.search(text)))
            or _is_contact_line(text)
            or bool(_NOTICE.search(text))
            or _is_menu(text))


def _is_contact_line(text: str) -> bool:
    if _CONTACT_LABEL.match(text) or _URL_ONLY.match(text):
        return True
    if (_PHONE_ONLY.match(text) and sum(c.isdigit() for c in text) >= 7
            and not _DATE_ONLY.match(text)):
        return True  # 400-1100-266, but not a dateline 2014-09-18
    m = _LABELLED_VALUE.match(text)
    return bool(m and _CONTACT_WORDS.search(m["label"]) and _is_contact_value(m["value"]))


def _is_contact_value(value: str) -> bool:
    """True when ``value`` is only URLs, e-mail addresses and phone numbers.

    Pieces of digits joined by spaces are one phone number if together they
    read as one (``0851 8888 6666``); numbers separated by spaces alone are
    then one long "number", which is as much a contact value.
    """
    pos, phone_start, phone_end = 0, None, None

    def phone_ok() -> bool:
        return phone_start is None or bool(_PHONE_NUMBER.fullmatch(value, phone_start, phone_end))

    while pos < len(value):
        m = _CONTACT_TOKEN.match(value, pos)
        if not m or (pos == 0 and not (m["link"] or m["phone"])):
            return False
        if m["phone"]:
            if phone_start is None:
                phone_start = m.start()
            phone_end = m.end()
        elif not m["space"]:
            if not phone_ok():
                return False
            phone_start = None
        pos = m.end()
    return pos > 0 and phone_ok()


def _is_menu(text: str) -> bool:
    """``首页 | 新闻 | 关于我们``: three or more short items between bars."""
    items = [item.strip() for item in _MENU_SEPARATOR.split(text)]
    return len(items) >= 3 and all(0 < len(item) <= 8 for item in items)


# Not →: "申请 → 审核 → 发放" is a process the text describes.
# Split on the bare separator and strip the parts: "\s*>\s*" in re.split
# takes time quadratic in a run of spaces that no separator follows.
_CRUMB_SEPARATOR = re.compile(r">>|[>»›]")
_CRUMB_HOME = {"首页", "主页", "网站首页", "返回首页", "home"}
_LOCATION_LABEL = re.compile(r"^(?:当前|您的|你的|您现在的|你现在的|所在)?位置\s*[:：]")
_CRUMB_MAX_ITEM = 12


def is_breadcrumb(line: str) -> bool:
    """``主页 > 知识库 > 标题``, ``当前位置：首页 > 新闻``: a site's navigation trail."""
    text = to_simplified(line.strip())
    if _LOCATION_LABEL.match(text):
        return True
    parts = _crumb_parts(text)
    if len(parts) < 2 or not all(parts[:-1]):
        return False  # no separator, or "> quoted text"
    if parts[0].lower() in _CRUMB_HOME:
        return True
    # Three or more levels of short names, the last one possibly a long title.
    return len(parts) >= 3 and all(
        len(p) <= _CRUMB_MAX_ITEM and not _SENTENCE_PUNCTUATION.search(p) for p in parts[:-1])


def _crumb_parts(text: str) -> list[str]:
    return [part.strip() for part in _CRUMB_SEPARATOR.split(text)]


def _breadcrumb_last(line: str) -> str:
    return _crumb_parts(line.strip())[-1]


_CREDIT_LABEL = re.compile(
    r"^(?:责任编辑|责编|编辑|主编|美编|美术编辑|版面设计|版式设计|校对|审核|审校|监制|作者|撰文"
    r"|撰稿|文字|文|图|图片|摄影|来源|记者|通讯员|实习生|翻译|译者)\s*(?:[:：]|[/／|｜](?=\S))")
# ■ 香港文汇报记者 章萝兰 路艳宁 上海 贵阳报道
_BYLINE = re.compile(r"^\S{0,15}记者[^。！？，,]{1,40}报道$")
# (记者 张三 李四): a byline on its own line.
_REPORTERS = re.compile(r"^[(（]?记者\s*[^\s()（）]{2,4}(?:\s+[^\s()（）]{1,4})*[)）]?$")
# Photo captions ending in a credit: "…对话。 南明区委宣传部供图", "…贵阳。 路艳宁 摄".
# "…提供" needs a space or bracket before the provider: 政府为企业提供 is prose.
_PHOTO_CREDIT = re.compile(r"(?:\S供图|[\s(（]\S{1,12}提供|\s\S{1,12}\s?摄(?:影)?)[)）]?$")
_MAX_CREDIT_CHARS = 120


def is_credit_line(line: str) -> bool:
    """True for editor, byline, source and photo-credit lines.

    ``■ 責任編輯：胡可強 版面設計：萬丹丹``, ``[责任编辑：梁帅]``,
    ``来源:中国日报…编辑:于姝楠``, ``■ 香港文匯報記者 … 貴陽報道``,
    ``… 南明區委宣傳部供圖``, ``文/张三``.  A labelled line whose value reads as
    a sentence (``记者：您认为……？`` in an interview) is prose, not a credit.
    """
    text = _simplified_line(line).strip("[]【】")
    if not text or len(text) > _MAX_CREDIT_CHARS:
        return False
    if _CREDIT_LABEL.match(text):
        return not _SENTENCE_PUNCTUATION.search(text)
    return bool(_BYLINE.match(text) or _REPORTERS.match(text) or _PHOTO_CREDIT.search(text))


# ---------------------------------------------------------------------------
# Titles.

MAX_TITLE_CHARS = 80
# A sentence ending in 。 longer than this is the article's first sentence.
MAX_SENTENCE_TITLE_CHARS = 30
# A top heading this short ("# 贵阳") is a kicker over the real headline.
MAX_KICKER_CHARS = 6
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_GENERIC_CRUMBS = {"正文", "内容", "详情", "详细", "阅读", "文章"}


def pick_title(lines: list[str]) -> str | None:
    """The headline of a document without a title field, or None.

    The first line that is not blank, a breadcrumb, a credit, boilerplate or
    prose (longer than ``MAX_TITLE_CHARS``, or a sentence ending in 。 longer
    than ``MAX_SENTENCE_TITLE_CHARS``, or several sentences).  Markdown heading
    marks are removed.  A very short top heading followed by a deeper one
    (``# 貴陽`` / ``## 將建「黔中聲谷」呼叫全球``) is a kicker and its headline:
    they are joined with a space, ``貴陽 將建「黔中聲谷」呼叫全球``, which reads as
    the paper printed it and keeps a kicker that is only a section name
    (``貴州報道``) from fusing with the headline.  The last element of a
    breadcrumb is used only when nothing else qualifies.
    """
    fallback = None
    for i, line in enumerate(lines):
        line = strip_html(line).strip()  # harmless if the caller did it already
        if not line:
            continue
        if is_breadcrumb(line):
            last = _breadcrumb_last(line)
            if fallback is None and to_simplified(last) not in _GENERIC_CRUMBS:
                fallback = last
            continue
        if is_credit_line(line) or is_boilerplate(line):
            continue
        level, text = _heading(line)
        if not _is_title_like(text):
            continue
        if level and len(text) <= MAX_KICKER_CHARS:
            headline = _next_deeper_heading(lines[i + 1:], level)
            if headline:
                text = f"{text} {headline}"
        return strip_site_suffix(text)
    return strip_site_suffix(fallback) if fallback and _is_title_like(fallback) else None


def _heading(line: str) -> tuple[int, str]:
    """(markdown heading level or 0, the text without the marks)."""
    m = _HEADING.match(line)
    # Closing marks go ("## 标题 ##"); stripped, not matched by "(.*?)\s*#*$",
    # which takes time quadratic in a run of spaces or marks.
    return (len(m.group(1)), m.group(2).rstrip().rstrip("#").strip()) if m else (0, line)


def _is_title_like(text: str) -> bool:
    if not _HAS_TEXT.search(text) or len(text) > MAX_TITLE_CHARS:
        return False
    body = text.rstrip("。.")
    if body != text and len(text) > MAX_SENTENCE_TITLE_CHARS:
        return False  # the article's first sentence
    return "。" not in body  # several sentences


def _next_deeper_heading(lines: list[str], level: int) -> str | None:
    for line in lines:
        if line.strip():
            sub_level, text = _heading(line.strip())
            return text if sub_level > level and _is_title_like(text) else None
    return None


# Words a site or channel name ends with, after a title: 黑龙江频道, 新浪新闻, 某某网.
_SITE_ENDINGS = (
    "网", "网站", "频道", "新闻", "资讯", "在线", "日报", "晚报", "早报", "时报", "商报",
    "周刊", "杂志", "门户", "官网", "首页", "论坛", "社区", "博客", "头条", "客户端", "订阅",
    "电视台", "报",
)
_PORTALS = {"新浪", "搜狐", "网易", "腾讯", "凤凰", "百度", "凤凰网", "新华网", "人民网"}
_DOMAIN = re.compile(r"^[\w\-]+(?:\.[\w\-]+)+$", re.ASCII)
_SUFFIX = re.compile(r"\s*(?:_|＿|\||｜|-|－|—|–)\s*([^_＿|｜\-－—–]{1,24})$")
# Suffixes removed at most (标题_国内新闻_新浪网 has two), and how far from the
# end of a title one is looked for.
_MAX_SUFFIXES = 8
_SUFFIX_WINDOW = 64


def strip_site_suffix(title: str) -> str:
    """``标题_黑龙江频道`` → ``标题``; also ``标题-新浪新闻``, ``标题 | 某某网``.

    Only a suffix that names a site or channel goes, repeatedly
    (``标题_国内新闻_新浪网``): a subtitle such as ``--甜蜜的牵手美丽的梦`` stays.
    """
    title = title.strip()
    for _ in range(_MAX_SUFFIXES):
        # The suffix is at the end: look only there (a title from front matter
        # can be any length, and a search from every position of a run of
        # spaces takes time quadratic in its length).
        m = _SUFFIX.search(title, max(0, len(title) - _SUFFIX_WINDOW))
        if (not m or not _looks_like_site(m.group(1)) or _joins_a_word(title, m)
                or len(title[:m.start()].strip()) < 2):
            return title
        title = title[:m.start()].rstrip()
    return title


def _joins_a_word(title: str, m: re.Match) -> bool:
    """True for a hyphen inside a word: COVID-19新闻 is not "COVID" on a site."""
    before, after = title[m.start() - 1:m.start()], m.group(1)[:1]
    return (before + after).isascii() and (before + after).isalnum()


def _looks_like_site(name: str) -> bool:
    name = to_simplified(name.strip())
    return (name in _PORTALS or bool(_DOMAIN.match(name))
            or (len(name) >= 2 and name.endswith(_SITE_ENDINGS)))
