"""Where a hit comes from, as its meta line says it: collection, site or file type, region or script.

Two documents with the same title (the mainland and Taiwan versions of one
page, say) look alike in a list of results; what tells them apart is where
each was read from.  ``hit_origin`` reads that from what a hit carries: its
``source`` (the file, or JSON-lines file and line, it was indexed from), its
fields (``site``, ``url``, ``region``/``locale``/``lang``) and its text.

A source given as an absolute path says where the server keeps its files:
only its last folder is shown.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import re
from functools import lru_cache
from urllib.parse import urlsplit

from search.text.script import _DICT_DIR, to_simplified, to_traditional

FILE_TYPES = {
    ".txt": "文本", ".md": "Markdown", ".markdown": "Markdown", ".html": "网页", ".htm": "网页",
    ".xhtml": "网页", ".pdf": "PDF", ".docx": "Word", ".jsonl": "JSON Lines",
}
# zh_TW, zh-Hant, zh-hk ... as a path segment, a field value or a locale.
_REGION = re.compile(r"(?:^|[^a-z])zh[-_](tw|hk|mo|cn|sg|hant|hans)(?![a-z])", re.IGNORECASE)
REGION_LABELS = {"tw": "台湾", "hk": "香港", "mo": "澳门", "cn": "大陆", "sg": "新加坡",
                 "hant": "繁体", "hans": "简体"}
_REGION_FIELDS = ("region", "locale", "lang", "language")
_LINE = re.compile(r":\d+$")


def _source_parts(source: str) -> tuple[str | None, str]:
    """The collection (folder or JSON-lines file) and the file name of ``source``."""
    path = _LINE.sub("", source.replace("\\", "/"))
    is_jsonl = path != source.replace("\\", "/") or path.endswith(".jsonl")
    absolute = os.path.isabs(source) or ntpath.isabs(source) or source.startswith("~")
    if is_jsonl:
        return posixpath.basename(path) or None, path
    folder = posixpath.dirname(path)
    if absolute:
        folder = posixpath.basename(folder)
    return folder or None, path


def _site(fields: dict) -> str | None:
    site = fields.get("site")
    if isinstance(site, str) and site.strip():
        return site.strip()
    url = fields.get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        host = urlsplit(url).hostname
        return host.removeprefix("www.") if host else None
    return None


def _region(fields: dict, path: str) -> str | None:
    for name in _REGION_FIELDS:
        value = fields.get(name)
        if isinstance(value, str):
            m = _REGION.search(value) or re.fullmatch(r"(tw|hk|mo|cn|sg)", value.strip(),
                                                      re.IGNORECASE)
            if m:
                return REGION_LABELS[m.group(1).lower()]
    m = _REGION.search(path)
    return REGION_LABELS[m.group(1).lower()] if m else None


def text_script(text: str) -> str | None:
    """``"繁体"`` or ``"简体"`` as most of ``text``'s characters that differ
    between the scripts are written, or None when none do.

    The same answer as ``text_script_reference``, whose conversion to
    traditional (OpenCC's ``s2t``, in Python) cost more than the rest of a
    results page: the characters ``s2t`` can change bound how many it does
    change, and the conversion runs only when the bounds leave the answer open."""
    traditional = _changed_by_simplifying(text)
    may_change, must_change, length_risk = _s2t_bounds()
    if not length_risk.isdisjoint(text):
        return text_script_reference(text)
    upper = sum(map(may_change.__contains__, text))
    if traditional > upper:
        return "繁体"
    if upper == 0:
        return None             # neither conversion changes anything
    if traditional < sum(map(must_change.__contains__, text)):
        return "简体"
    return text_script_reference(text)


def text_script_reference(text: str) -> str | None:
    """``text_script`` by converting ``text`` both ways and counting what changed."""
    simp = to_simplified(text)
    trad = to_traditional(text)
    traditional = sum(a != b for a, b in zip(text, simp)) if len(simp) == len(text) else 0
    simplified = sum(a != b for a, b in zip(text, trad)) if len(trad) == len(text) else 0
    if traditional == simplified:
        return None
    return "繁体" if traditional > simplified else "简体"


def _changed_by_simplifying(text: str) -> int:
    simp = to_simplified(text)
    return sum(map(str.__ne__, text, simp)) if len(simp) == len(text) else 0


@lru_cache(maxsize=1)
def _s2t_bounds() -> tuple[frozenset, frozenset, frozenset]:
    """What OpenCC's ``s2t`` dictionaries say about single characters:
    those some entry changes, those every entry holding them changes (and
    that the character table holds, so that they are always matched), and
    those of an entry that changes the text's length (where counting by
    position stops meaning anything)."""
    def entries(name):
        with open(_DICT_DIR / name, encoding="utf-8") as fh:
            for line in fh:
                key, _, values = line.rstrip("\n").partition("\t")
                if key and values:
                    yield key, values.split(" ")[0]
    chars = dict(entries("STCharacters.txt"))
    phrases = dict(entries("STPhrases.txt"))
    length_risk = frozenset(c for table in (chars, phrases) for key, value in table.items()
                            if len(key) != len(value) for c in key)
    changes, stays = set(), set()
    for table in (chars, phrases):
        for key, value in table.items():
            if len(key) == len(value):
                for c, v in zip(key, value):
                    (stays if c == v else changes).add(c)
    may_change = frozenset(changes)
    # A character no entry keeps as it is changes wherever it is matched, and
    # every character of the character table is matched by one entry or another.
    must_change = frozenset(c for c in changes - stays if c in chars)
    return may_change, must_change, length_risk


def hit_origin(hit) -> list[dict]:
    """The parts of a hit's origin, each ``{"kind", "text"}``: ``collection``
    (folder or JSON-lines file), ``site`` or ``type`` (file type), and
    ``region`` (台湾, 香港 ...) or else ``script`` (繁体 / 简体)."""
    fields = hit.fields or {}
    out = []
    collection, path = _source_parts(hit.source or "")
    if collection:
        out.append({"kind": "collection", "text": collection})
    site = _site(fields)
    if site:
        out.append({"kind": "site", "text": site})
    else:
        kind = FILE_TYPES.get(posixpath.splitext(path)[1].lower())
        if kind:
            out.append({"kind": "type", "text": kind})
    region = _region(fields, path)
    script = text_script(f"{hit.title}\n{' '.join(getattr(hit, 'snippets', []) or [])}")
    if region:
        out.append({"kind": "region", "text": region})
    elif script:
        out.append({"kind": "script", "text": script})
    return out
