"""Display script: results and documents in their own script, in simplified or in traditional.

Matching never depends on this: it is how a page shows text the library has
already marked up.  ``script`` is ``"orig"`` (as the document is written),
``"simp"`` (``script.to_simplified``) or ``"trad"`` (OpenCC ``s2t``).

Highlights stay on the same words.  The marked-up fragments the library makes
(``title_html``, snippets, ``body_html``) are escaped text with ``<mark>``
tags, and ``article_html`` is sanitised HTML (headings, lists, links) with
them; ``convert_html`` converts the text of a whole fragment at once (OpenCC
phrases need their context), never its tags or their attributes, and, when
the conversion kept the length (always for simplified, nearly always for
traditional), puts the tags back at the same offsets; otherwise it converts
the pieces between the tags one by one.
"""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape, unescape

from ..errors import QueryError
from ..text.script import to_simplified, to_traditional

SCRIPTS = ("orig", "simp", "trad")
# A tag of the library's HTML: its text is escaped, so a "<" opens a tag, and
# an attribute value is quoted (a ">" may sit inside one).
_TAG = re.compile(r"(<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>)")


def check_script(script: str | None) -> str:
    """``script`` checked (None or "" is "orig"); ``QueryError`` for anything else."""
    if script in (None, ""):
        return "orig"
    if script not in SCRIPTS:
        raise QueryError(f"unknown script {script!r}; use one of {', '.join(SCRIPTS)}")
    return script


def convert_text(text: str, script: str) -> str:
    if not text or script == "orig":
        return text
    return to_simplified(text) if script == "simp" else to_traditional(text)


def convert_html(fragment: str, script: str) -> str:
    """A library fragment (escaped text and tags) with its text, not its tags, in ``script``."""
    if not fragment or script == "orig":
        return fragment
    parts = _TAG.split(fragment)
    texts = [unescape(p) for p in parts[0::2]]
    whole = "".join(texts)
    converted = convert_text(whole, script)
    if len(converted) == len(whole):
        out_texts, cursor = [], 0
        for t in texts:
            out_texts.append(converted[cursor:cursor + len(t)])
            cursor += len(t)
    else:
        out_texts = [convert_text(t, script) for t in texts]
    parts[0::2] = [escape(t) for t in out_texts]
    return "".join(parts)


def results_in_script(res, script: str):
    """A copy of ``SearchResults`` with the hits' titles and snippets in ``script``."""
    script = check_script(script)
    if script == "orig":
        return res
    hits = [replace(h, title=convert_text(h.title, script),
                    title_html=convert_html(h.title_html, script),
                    snippet=convert_html(h.snippet, script),
                    snippets=[convert_html(s, script) for s in h.snippets])
            for h in res.hits]
    return replace(res, hits=hits)


def document_in_script(view, script: str):
    """A copy of a ``DocumentView`` with its title, body and article in ``script``."""
    script = check_script(script)
    if script == "orig" or view is None:
        return view
    return replace(view, title=convert_text(view.title, script),
                   title_html=convert_html(view.title_html, script),
                   body=convert_text(view.body, script),
                   body_html=convert_html(view.body_html, script),
                   article_html=convert_html(view.article_html, script))
