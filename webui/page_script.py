"""The page in the reader's script: the whole of an HTML answer in traditional when the reader chose 繁體.

The reader chooses a script with ``script`` (``orig``, ``simp``, ``trad``;
``webui.params.display_script``), which every link and the search form carry
on.  Documents are shown in it by the library (``search.results.display``);
this module does the same for everything else on the page, in one place, so
that a new template or message gets it without asking:

* ``<html lang>`` is ``zh-Hant`` for traditional, ``zh-Hans`` otherwise
  (``page_lang``, a template global), so that traditional text is drawn
  with traditional glyph forms; a document's title, snippet or body in the
  other script says so with its own ``lang`` (the ``lang_attribute``
  filter: a traditional document shown as written on a simplified page);
* after each HTML response, when the script is traditional, the text of the
  page (labels, headings, buttons, facet values, notices, errors) and the
  attributes a reader meets (``placeholder``, ``aria-label``, ``title``,
  ``alt``) are converted with OpenCC ``s2t``, the conversion the library
  shows documents in (``search.text.script.to_traditional``);
* what is the document's own text or the reader's own (titles, snippets,
  the document body, the query, ids and file names) sits in elements marked
  ``data-own-script`` or of one of ``OWN_CLASSES`` and is left as it is: the library already put it in
  the chosen script, and converting traditional text again can change it.
  Attribute values that are data (``value``, ``href``, ``name``) are never
  converted: a facet value's button still sends the value the index holds.

``in_page_script(text)`` converts one string the same way (the Chinese
message of a JSON error).
"""

from __future__ import annotations

import re
from flask import request, url_for
from markupsafe import Markup

from search.text.chars import HAN_CHAR
from search.text.script import to_traditional

__all__ = ["OWN_SCRIPT", "convert_page", "in_page_script", "page_lang", "page_script",
           "register_page_script"]

OWN_SCRIPT = "data-own-script"
# Characters of a text read to tell its script.
LANG_SAMPLE = 2000
# Attributes whose text a reader sees or hears; all others are data.
READ_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt", "aria-description",
                   "aria-roledescription", "aria-valuetext")
VOID_ELEMENTS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                           "meta", "source", "track", "wbr"})

# A page is comments, tags and the text between them.  Attribute values in
# the templates and in the library's fragments are escaped, so a ">" always
# ends a tag.
_TOKEN = re.compile(r"<!--.*?-->|<[^>]*>|[^<]+|<", re.DOTALL)
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)")
# Elements of these classes hold the documents' own text (or a script's own
# name) wherever a template puts them, without the marker.
OWN_CLASSES = frozenset({"hit-title", "snippet", "doc-title", "doc-body", "doc-id", "doc-source",
                         "doc-url", "related-link", "related-shared", "expansion-source",
                         "script-link", "script-current"})
_CLASS = re.compile(r'\sclass="([^"]*)"')
# The marker as an attribute of its own, not a value that happens to hold its name.
_OWN_MARK = re.compile(r"\s" + re.escape(OWN_SCRIPT) + r"(?=[\s=/>])")
_ATTRIBUTE = re.compile(r"(\s(?:" + "|".join(map(re.escape, READ_ATTRIBUTES)) +
                        r')=")([^"]*)(")')
# Joins the pieces of one page for one conversion: not a character OpenCC
# reads into a phrase, and never in a page's text.
_JOIN = "\x1f"


def _chosen() -> str | None:
    """The request's ``script``; None outside a request or when its URL is not UTF-8."""
    try:
        return request.args.get("script")
    except (RuntimeError, UnicodeError):
        return None


def page_script() -> str:
    """``trad`` when the request asks for traditional, else ``simp`` (the page's own script)."""
    return "trad" if _chosen() == "trad" else "simp"


def home_url() -> str:
    """The start page, in the script the reader chose."""
    chosen = _chosen()
    return url_for("pages.search", script=chosen) if chosen in ("simp", "trad") \
        else url_for("pages.search")


def page_lang() -> str:
    return "zh-Hant" if page_script() == "trad" else "zh-Hans"


def lang_attribute(text: str) -> Markup:
    """`` lang="zh-Hant"`` for a document's text in the other script than the page's
    (a traditional document on a simplified page), so that it is drawn in its
    own glyph forms; nothing when the page's ``lang`` already fits it."""
    from search.text.variants import region_of
    region = region_of((text or "")[:LANG_SAMPLE])
    lang = {"tw": "zh-Hant", "cn": "zh-Hans"}.get(region or "")
    if lang is None or lang == page_lang():
        return Markup("")
    return Markup(f' lang="{lang}"')


def in_page_script(text: str) -> str:
    """``text`` in the script of the page being answered."""
    if not text or page_script() != "trad":
        return text
    return _converted([text])[0]


# Labels, headings and facet values repeat from page to page: their conversions are kept.
_KEPT: dict[str, str] = {}
MAX_KEPT = 20_000
SHORT = 40


def _converted(pieces: list[str]) -> list[str]:
    """Each piece in traditional: those seen before from ``_KEPT``, the rest in
    one conversion (OpenCC's cost is mostly per call)."""
    out = [_KEPT.get(p) for p in pieces]
    missing = [i for i, text in enumerate(out) if text is None]
    if missing:
        joined = to_traditional(_JOIN.join(pieces[i] for i in missing)).split(_JOIN)
        if len(joined) != len(missing):     # a piece held the separator: one by one then
            joined = [to_traditional(pieces[i]) for i in missing]
        if len(_KEPT) > MAX_KEPT:
            _KEPT.clear()
        for i, text in zip(missing, joined):
            out[i] = text
            if len(pieces[i]) <= SHORT:
                _KEPT[pieces[i]] = text
    return out


def _is_own(tag: str) -> bool:
    if _OWN_MARK.search(tag):
        return True
    classes = _CLASS.search(tag)
    return classes is not None and not OWN_CLASSES.isdisjoint(classes.group(1).split())


def convert_page(html: str) -> str:
    """The page's text in traditional, but for elements marked ``data-own-script``."""
    tokens = _TOKEN.findall(html)
    wanted: list[tuple[int, int, int]] = []     # (token, start, end) of text to convert
    pieces: list[str] = []
    own_tag, own_depth = None, 0
    for i, token in enumerate(tokens):
        if token.startswith("<!--"):
            continue
        if token.startswith("<") and len(token) > 1:
            name_match = _TAG_NAME.match(token)
            if name_match is None:
                continue
            name = name_match.group(1).lower()
            closing = token.startswith("</")
            if own_tag is not None:
                if name == own_tag and not token.endswith("/>"):
                    own_depth += -1 if closing else 1
                    if own_depth == 0:
                        own_tag = None
                continue
            own = not closing and _is_own(token)
            if own and name not in VOID_ELEMENTS:
                own_tag, own_depth = name, 1
            if not closing and not own:
                for m in _ATTRIBUTE.finditer(token):
                    if HAN_CHAR.search(m.group(2)):
                        wanted.append((i, m.start(2), m.end(2)))
                        pieces.append(m.group(2))
            continue
        if own_tag is None and HAN_CHAR.search(token):
            wanted.append((i, 0, len(token)))
            pieces.append(token)
    if not pieces:
        return html
    converted = _converted(pieces)
    # Replace from the end of each token, so earlier offsets stay right.
    for (i, start, end), text in sorted(zip(wanted, converted), key=lambda w: (-w[0][0], -w[0][1])):
        token = tokens[i]
        tokens[i] = token[:start] + text + token[end:]
    return "".join(tokens)


def register_page_script(app) -> None:
    """``page_lang`` for the templates, and the conversion of every HTML answer."""
    app.jinja_env.globals.update(page_lang=page_lang, page_script=page_script,
                                 home_url=home_url, OWN_SCRIPT=OWN_SCRIPT)
    app.jinja_env.filters["lang_attribute"] = lang_attribute

    @app.after_request
    def pages_in_their_script(response):
        if (response.mimetype == "text/html" and not response.direct_passthrough
                and not response.is_streamed and page_script() == "trad"):
            response.set_data(convert_page(response.get_data(as_text=True)))
        return response
