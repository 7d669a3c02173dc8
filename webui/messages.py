"""What the web app says to the reader: every message by its code, in Chinese and in English.

``CATALOG`` maps a machine-readable code to its Chinese and English text
(``str.format`` templates) and to the request parameter it is about.  The
English is what the library and the CLI say (the API's ``"error"`` keeps it,
so clients that read it keep working); the Chinese is what a page shows.

* ``refuse(status, code, param=None, **values)`` stops a request with that
  message: the app's error handler renders it as a Chinese page, or as JSON
  ``{"error": <English>, "code", "param", "message": <Chinese>, "message_en"}``.
* ``identify(text)`` reads one of the library's English messages (a
  ``QueryError``, a notice of ``SearchResults``) back into ``(code, values)``,
  so that what the library says is shown in Chinese too;
  ``chinese(text)`` is that message in Chinese (the text itself when it is
  not one the catalog knows); ``coded(text)`` the same with its code and English.
* ``describe(exc, status)`` is a ``Described`` message for any exception the
  app answers: its code, parameter, Chinese and English.

Values keep the reader's own text: a city typed as 北京 stays 北京 inside
索引里没有城市为“北京”的文档.  Facet names are given as their labels (城市 for
``city``).  The page's script (traditional when the reader chose 繁體) is
applied afterwards, to the whole page (``webui.page_script``).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

from werkzeug.exceptions import HTTPException

__all__ = ["CATALOG", "Described", "Refused", "chinese", "describe", "identify",
           "message_of", "refuse"]


@dataclass(frozen=True)
class Message:
    en: str
    zh: str
    param: str | None = None       # a template too: "f.{name}" names the filter's parameter


CATALOG: dict[str, Message] = {
    # -- request parameters (the library's QueryError, the web layer's own) --
    "page_out_of_range": Message("page must be between 1 and {max}",
                                 "页码必须在 1 到 {max} 之间", "page"),
    "per_page_out_of_range": Message("per_page must be between 1 and {max}",
                                     "每页条数必须在 1 到 {max} 之间", "per_page"),
    "page_not_a_number": Message("page and per_page must be whole numbers",
                                 "页码和每页条数必须是整数", "page"),
    "facet_limit_out_of_range": Message(
        "facet_limit must be a whole number from 0 to {max}",
        "每个筛选项列出的值数（facet_limit）必须是 0 到 {max} 之间的整数", "facet_limit"),
    "unknown_sort": Message("unknown sort {sort}; use one of {choices}",
                            "没有“{sort}”这种排序方式，可用的有：{choices}", "sort"),
    "unknown_script": Message("unknown script {script}; use one of {choices}",
                              "没有“{script}”这种字体，可用的有：{choices}", "script"),
    "unknown_filter": Message("unknown filter {name}; this index has {names}",
                              "没有“{name}”这个筛选项，这个索引的筛选项有：{names}", "f.{name}"),
    "bad_date": Message("{name} must look like 2014 or 2014-09, not {value}",
                        "{label}要写成 2014 或 2014-09 这样，不能是“{value}”", "year"),
    "query_too_long": Message("the query is {length} characters long; the limit is {limit}",
                              "搜索词有 {length} 个字符，超过了 {limit} 个字符的上限", "q"),
    "query_not_text": Message("the query must be text", "搜索词必须是文字", "q"),
    "not_utf8": Message("the URL's parameters are not valid UTF-8 text",
                        "网址里的参数不是有效的 UTF-8 文字"),
    "too_many_filters": Message("{count} filter values; the limit is {limit}",
                                "筛选值有 {count} 个，超过了 {limit} 个的上限"),
    "suggest_limit_not_a_number": Message("limit must be a whole number",
                                          "建议条数（limit）必须是整数", "limit"),
    "suggest_limit_out_of_range": Message("limit must be between 1 and {max}",
                                          "建议条数（limit）必须在 1 到 {max} 之间", "limit"),
    # -- facets: searching within their values, pages of values ---------------
    "no_such_facet": Message("no facet named {name}", "没有名为“{name}”的筛选项", "facet"),
    "facet_turned_off": Message("the facet {name} is turned off for this collection",
                                "这个文档集关闭了“{label}”筛选项", "facet"),
    "past_last_value_page": Message("page {page} is past the last page of values ({pages})",
                                    "第 {page} 页超出了筛选值的最后一页（共 {pages} 页）", "page"),
    # -- pages and documents ---------------------------------------------------
    "no_such_document": Message("no document with this id", "没有这个编号的文档", "id"),
    "no_document_id": Message("no document id given", "没有给出文档编号", "id"),
    "not_found": Message("no such page or document", "没有这个页面或文档"),
    "method_not_allowed": Message("this address only answers {methods} requests",
                                  "这个地址只接受 {methods} 请求"),
    "bad_host": Message("the Host header is not a valid host name; "
                        "send the server's name or address, such as localhost:8000",
                        "请求头 Host 不是有效的主机名：请用服务器的名称或地址，例如 localhost:8000"),
    "internal_error": Message("an unexpected error occurred; it has been logged",
                              "服务器出了意外的错误，已经记录下来，请稍后再试"),
    "no_index": Message("no index at {path}: {how}",
                        "这里还没有索引（{path}）：先建索引，建好后刷新本页即可"),
    "index_damaged_file": Message(
        "the index at {where} is damaged: {file}: {what}; rebuild it with `{command}`",
        "索引（{where}）已损坏：{file}：{what}；请用 `{command}` 重建"),
    "index_damaged": Message("the index at {where} is damaged: {detail}",
                             "索引（{where}）已损坏：{detail}"),
    # -- the write API ----------------------------------------------------------
    "key_missing": Message("this address needs the write API's key: send Authorization: Bearer KEY",
                           "这个地址需要写入接口的密钥：请发送 Authorization: Bearer KEY"),
    "key_wrong": Message("the key is not the write API's key", "这不是写入接口的密钥"),
    "body_too_large": Message("the body is larger than the limit of {limit} bytes "
                              "(SEARCH_API_MAX_BYTES): send fewer documents at a time",
                              "请求内容超过了 {limit} 字节的上限（SEARCH_API_MAX_BYTES）："
                              "请一次少发一些文档"),
    "body_not_utf8": Message("the body is not UTF-8 (byte {byte})",
                             "请求内容不是 UTF-8 文字（第 {byte} 个字节）"),
    "body_not_json": Message("not valid JSON ({detail})", "不是有效的 JSON（{detail}）"),
    "body_too_deep": Message("not usable JSON: nested too deeply", "JSON 嵌套太深，无法使用"),
    "body_not_an_array": Message("a JSON body here is an array of documents; "
                                 "send one document with PUT /api/documents/<id>",
                                 "这里的 JSON 内容应是文档的数组；单个文档请用 "
                                 "PUT /api/documents/<id> 发送"),
    "document_id_missing": Message("give the document's id: /api/documents/<id> or "
                                   "/api/documents?id=<id>",
                                   "请给出文档编号：/api/documents/<id> 或 /api/documents?id=<id>",
                                   "id"),
    "document_not_json_object": Message(
        "send the document as a JSON object, with Content-Type: application/json",
        "请把文档作为 JSON 对象发送，并带上 Content-Type: application/json"),
    "documents_wrong_type": Message(
        "send JSON lines (Content-Type: application/x-ndjson or application/jsonl) "
        "or a JSON array (application/json)",
        "请发送 JSON lines（Content-Type: application/x-ndjson 或 application/jsonl）"
        "或 JSON 数组（application/json）"),
    "writer_busy": Message("the index is being changed by another writer: {detail}",
                           "另一个写入者正在修改索引，请稍后再试：{detail}"),
    "disk_full": Message("the index's disk is full; the change was not made",
                         "索引所在的磁盘满了，这次修改没有做"),
    "empty_body": Message("no document in the body", "请求内容里没有文档"),
    "nothing_indexed": Message("no {where} could be indexed; nothing was changed",
                               "没有一条能建索引，什么也没有改"),
    "some_rejected": Message("{rejected} could not be indexed; {kept} {verb} added or replaced",
                             "有 {rejected_count} 条没能建索引；{kept_count} 篇文档已添加或替换"),
    # -- what a status says when nothing more specific is known ---------------
    "bad_request": Message("the request cannot be answered as sent: {detail}",
                           "请求无法处理：{detail}"),
    "payload_too_large": Message("the request body is too large", "请求的内容太大了"),
    "too_many_requests": Message("too many requests; wait a moment and try again",
                                 "请求太频繁了，请稍等一会儿再试"),
    "unavailable": Message("the service is not available right now; try again shortly",
                           "服务暂时不可用，请稍后再试"),
    "http_error": Message("the request failed: {detail}", "请求没有成功：{detail}"),
    # -- notices of a search ---------------------------------------------------
    "no_such_value": Message("no document in the index has {name} {value}",
                             "索引里没有{label}为“{value}”的文档"),
    "quoted_as_words": Message("no document contains {quoted} exactly; "
                               "showing documents with its words",
                               "没有文档完整包含{quoted}，下面是含有其中各个词的文档"),
    "time_partial": Message("the query took too long; these are the best results found in time",
                            "查询用时太长：下面是时限内找到的最佳结果"),
    "time_not_ranked": Message("the query took too long to rank: these documents match it, "
                               "in index order, not by relevance",
                               "查询用时太长，来不及排序：下面的文档都匹配，但按索引顺序排列，"
                               "不是按相关度"),
    "time_not_matched": Message("the query took too long: its matches could not be found in "
                                "time, so none are shown and the count is unknown; try fewer "
                                "words, quoted phrases or exclusions",
                                "查询用时太长：没能及时找到匹配的文档，所以不显示结果，总数也未知；"
                                "试试少用几个词、引号词组或排除词"),
}

# The code a status has when the exception says nothing more specific.
STATUS_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                413: "payload_too_large", 429: "too_many_requests", 500: "internal_error",
                503: "unavailable"}

# The page title of each status.
STATUS_TITLES = {400: "参数有误", 404: "找不到页面", 405: "不支持的请求方法",
                 413: "请求内容太大", 429: "请求太频繁", 500: "服务器出错了",
                 503: "服务暂时不可用"}

# What the Chinese of a code needs besides the English values (a facet's label for its name).
_QUOTES = ("'", '"')


def _values_for_chinese(values: dict) -> dict:
    out = dict(values)
    name = values.get("name")
    if name is not None and "label" not in out:
        out["label"] = _facet_label(str(name))
    return out


def _facet_label(name: str) -> str:
    try:
        from search.store.facet_types import facet_type
        return facet_type(name).label or name
    except Exception:        # a name no facet type accepts: said as it is
        return name


class _Lenient(dict):
    """A placeholder with no value stays visible rather than failing the message."""

    def __missing__(self, key):
        return "{" + key + "}"


def _fill(template: str, values: dict) -> str:
    return string.Formatter().vformat(template, (), _Lenient(values))


def message_of(code: str, **values) -> tuple[str, str]:
    """``(Chinese, English)`` of ``code`` with its ``values`` filled in."""
    entry = CATALOG[code]
    return _fill(entry.zh, _values_for_chinese(values)), _fill(entry.en, values)


def param_of(code: str, values: dict) -> str | None:
    entry = CATALOG.get(code)
    if entry is None or entry.param is None:
        return None
    return _fill(entry.param, values)


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern]]:
    """One regular expression per English template: its literal text, its
    placeholders as named groups (a value may hold anything)."""
    out = []
    for code, entry in CATALOG.items():
        parts = []
        for literal, field, _spec, _conv in string.Formatter().parse(entry.en):
            parts.append(re.escape(literal))
            if field is not None:
                parts.append(f"(?P<{field}>.+?)")
        out.append((code, re.compile("".join(parts), re.DOTALL)))
    # The most literal text first: "limit must be between 1 and 20" is the
    # suggestions' limit, never a facet called "limit".
    out.sort(key=lambda item: -len(CATALOG[item[0]].en.split("{")[0]))
    return out


def identify(text: str) -> tuple[str, dict] | None:
    """``(code, values)`` of one of the library's English messages; None if unknown.

    >>> identify("no document in the index has city 北京")
    ('no_such_value', {'name': 'city', 'value': '北京'})
    """
    if not isinstance(text, str):
        return None
    for code, pattern in _patterns():
        match = pattern.fullmatch(text)
        if match:
            return code, {k: _unquoted(v) for k, v in match.groupdict().items()}
    return None


def _unquoted(value: str) -> str:
    # The library quotes values with repr(): 'bogus' is the value bogus.
    if len(value) >= 2 and value[0] == value[-1] and value[0] in _QUOTES:
        return value[1:-1]
    return value


def coded(text: str) -> dict:
    """One of the library's English messages as ``{"code", "message", "message_en"}``:
    its code (None when the catalog does not know it) and its Chinese (``text``
    itself if unknown)."""
    found = identify(text)
    if found is None:
        return {"code": None, "message": text, "message_en": text}
    return {"code": found[0], "message": message_of(found[0], **found[1])[0],
            "message_en": text}


def chinese(text: str) -> str:
    """One of the library's English messages in Chinese (``text`` itself if unknown)."""
    return coded(text)["message"]


@dataclass(frozen=True)
class Described:
    """A message the app answers with: for a page (``zh``) and for a program (the rest)."""

    status: int
    code: str
    zh: str
    en: str
    param: str | None = None

    def to_dict(self) -> dict:
        return {"error": self.en, "code": self.code, "param": self.param,
                "message": self.zh, "message_en": self.en}


class Refused(HTTPException):
    """A request the app refuses with one of the catalog's messages."""

    def __init__(self, status: int, code: str, param: str | None = None, **values):
        self.code = status
        self.message_code = code
        self.values = values
        self.zh, self.en = message_of(code, **values)
        self.param = param if param is not None else param_of(code, values)
        super().__init__(description=self.en)


def refuse(status: int, code: str, param: str | None = None, **values):
    """Stop the request: a ``status`` answer saying ``code`` (a page in Chinese, or JSON)."""
    raise Refused(status, code, param, **values)


def describe(exc: BaseException, status: int, default_en: str | None = None) -> Described:
    """The message of ``exc`` as the app answers it with ``status``.

    A ``Refused`` (or an exception carrying ``message_code``, like the web
    layer's ``ParamError``) says its code; any other message is identified
    from its English; an English text the catalog does not know is kept,
    under the status's own code, inside the status's Chinese sentence.
    """
    code = getattr(exc, "message_code", None)
    if code in CATALOG:
        values = getattr(exc, "values", {}) or {}
        zh, en = message_of(code, **values)
        param = getattr(exc, "param", None) or param_of(code, values)
        return Described(status, code, zh, en, param)
    text = default_en if default_en is not None else _text_of(exc)
    found = identify(text)
    if found is not None:
        code, values = found
        zh, _ = message_of(code, **values)
        return Described(status, code, zh, text, param_of(code, values))
    code = STATUS_CODES.get(status, "http_error")
    zh, _ = message_of(code, detail=text)
    return Described(status, code, zh, text)


def _text_of(exc: BaseException) -> str:
    if isinstance(exc, HTTPException):
        return exc.description or ""
    return str(exc)
