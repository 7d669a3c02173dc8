"""Metadata of a document: title, cleaned body, date, cities, tags, other fields.

Owns the decisions of what a reader sees as a document's title and body and
which date and cities its facets show; the pattern-level work is done by
``cleaning`` (encodings, HTML, boilerplate, titles), ``dates`` and ``cities``.

Front matter or JSON fields win over what is found in the text.  Dates are
looked for in the prose of articles (.txt/.md) only: a JSON-lines record is a
passage of some larger collection, and a year in its prose (a Wikipedia
paragraph about 1786) is not the record's date.
"""

from __future__ import annotations

import os
import re
import sys

from . import cities as gazetteer
from .cleaning import (
    is_boilerplate,
    is_breadcrumb,
    pick_title,
    split_paragraphs,
    strip_html,
    strip_site_suffix,
)
from .dates import find_date_in_text, parse_date_value
from .formats import Block, body_of, layout_of
from .model import Document, Problem

# Names under which front matter or a JSON record may carry metadata.
_TITLE_KEYS = ("title",)
_DATE_KEYS = ("date", "published", "time")
_CITY_KEYS = ("cities", "city")
_TAG_KEYS = ("tags", "keywords")
_RESERVED = {"id", "text", *_TITLE_KEYS, *_DATE_KEYS, *_CITY_KEYS, *_TAG_KEYS}
# Longest value of a JSON field that becomes a facet (names, dynasties, not prose).
MAX_FACET_VALUE = 64


def env_count(name: str, default: int, unit: str = "") -> int:
    """A positive whole number (of ``unit``) from the environment, else
    ``default`` (said on stderr)."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
        if value <= 0:
            raise ValueError
        return value
    except ValueError:
        of = f" of {unit}" if unit else ""
        print(f"warning: {name}={raw!r} is not a positive whole number{of}; using {default:,}",
              file=sys.stderr)
        return default


# Fields (besides id, text, title, date, cities, tags) one document may bring:
# each distinct name can become a facet of the index, and an index holds at
# most 65,535 field names, so one record of 70,000 keys must not sink a build.
DEFAULT_MAX_FIELDS = 64
MAX_FIELDS = env_count("SEARCH_MAX_FIELDS", DEFAULT_MAX_FIELDS)


def _capped(fields: dict, problems: list[str]) -> dict:
    """The first ``MAX_FIELDS`` of ``fields``, in the source's order; the cut is a warning."""
    if len(fields) <= MAX_FIELDS:
        return fields
    problems.append(f"brings {len(fields):,} fields; the limit is {MAX_FIELDS:,} "
                    f"(SEARCH_MAX_FIELDS): the first {MAX_FIELDS:,} are kept, "
                    f"the other {len(fields) - MAX_FIELDS:,} dropped")
    return dict(list(fields.items())[:MAX_FIELDS])

_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")


def clean_body(text: str) -> list[str]:
    """The paragraphs a reader should see: HTML, navigation and boilerplate removed."""
    paragraphs = []
    for line in split_paragraphs(strip_html(text)):
        if is_boilerplate(line) or is_breadcrumb(line):
            continue
        paragraphs.append(_MARKDOWN_HEADING.sub("", line).rstrip())
    return [p for p in paragraphs if p]


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        parts = re.split(r"[,，、;；]", value)
    elif isinstance(value, (list, tuple)):
        parts = [str(v) for v in value if v is not None]
    else:
        parts = [str(value)]
    return [p.strip() for p in parts if p and p.strip()]


def _first(mapping: dict, keys) -> object:
    for key in keys:
        if mapping.get(key) not in (None, ""):
            return mapping[key]
    return None


def _resolve_cities(given, title: str, paragraphs: list[str]):
    """Cities from metadata when given (any script), else those the text is about."""
    forms: dict[str, list[str]] = {}
    if given:
        names = []
        for name in given:
            canonical = gazetteer.canonical_city(name) or name
            if canonical not in names:
                names.append(canonical)
            for own in _own_forms(canonical, [name]):
                forms.setdefault(canonical, []).append(own)
        return names, forms
    names = []
    for mention in gazetteer.detect_cities(title, paragraphs):
        names.append(mention.canonical)
        own = _own_forms(mention.canonical, mention.surface_forms)
        if own:
            forms[mention.canonical] = own
    return names, forms


def _own_forms(canonical: str, surface_forms) -> list[str]:
    """The document's spellings that differ from the canonical name in script.

    洛陽 and 洛陽市 are both shown as 洛陽; 洛阳市 is just the canonical name.
    """
    own = []
    for form in surface_forms:
        short = form[:-1] if form.endswith(("市", "巿")) and len(form) > 2 else form
        if short != canonical and short not in own:
            own.append(short)
    return own


def document_from_text(doc_id: str, source: str, front: dict, raw_body: str):
    """Build a document from a text file's front matter and body."""
    paragraphs = clean_body(raw_body)
    title = _first(front, _TITLE_KEYS)
    if title is not None:
        title = strip_site_suffix(str(title).strip())
    else:
        title = pick_title(split_paragraphs(strip_html(raw_body))) or ""
    if not paragraphs and not title:
        return Problem(source, "no text left after removing markup and boilerplate")
    # The title line is shown as the title; don't repeat it as the body's first line.
    if paragraphs and title and paragraphs[0].strip() == title:
        paragraphs = paragraphs[1:]

    problems = []
    date = _given_date(front, problems)
    if date is None:
        date = find_date_in_text(_without_long_runs("\n".join([title, *paragraphs])))

    city_list, forms = _resolve_cities(_as_list(_first(front, _CITY_KEYS)), title, paragraphs)
    # YAML keys can be numbers, booleans (yes:, on:) or null (~:): names are text.
    fields = {str(k): v for k, v in front.items() if k not in _RESERVED and _is_scalar(v)}
    return Document(
        id=doc_id, title=title, body="\n".join(paragraphs), source=source, date=date,
        cities=city_list, city_forms=forms, tags=_as_list(_first(front, _TAG_KEYS)),
        fields=_capped(fields, problems), warnings=problems,
    )


def _given_date(front: dict, problems: list[str]):
    """The date front matter gives, if it is one; one that is not is a warning."""
    given = _first(front, _DATE_KEYS)
    if given is None:
        return None
    date = parse_date_value(given)
    if date is None:
        problems.append(f"front matter date {given!r} is not a date; "
                        "looked for one in the text instead")
    return date


# A run of ASCII letters, digits and ._+- this long is an id, a hash or junk,
# never a date; dates.find_date_in_text spends time quadratic in the length
# of such runs (its URL and e-mail patterns scan each run from every
# position), so they are blanked, keeping offsets, before it looks.
_LONG_ASCII_RUN = re.compile(r"[A-Za-z0-9_.+\-]{200,}")


def _without_long_runs(text: str) -> str:
    return _LONG_ASCII_RUN.sub(lambda m: " " * len(m.group(0)), text)


def _is_scalar(value) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def facet_values(value) -> list[str]:
    """The facet values of a JSON field, or [] when it is not facet-like (long prose)."""
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        if not _is_scalar(v):
            return []
        text = str(v).strip().replace(",", "，")
        if not text or len(text) > MAX_FACET_VALUE:
            return []
        out.append(text)
    return out


def document_from_record(doc_id: str, source: str, record: dict):
    """Build a document from one JSON-lines record (``text`` is known to be a string)."""
    text = record["text"]
    paragraphs = clean_body(text) or [text.strip()]
    title = _first(record, _TITLE_KEYS)
    title = str(title).strip() if title is not None else (pick_title(paragraphs) or "")
    problems = []
    date = None
    given_date = _first(record, _DATE_KEYS)
    if given_date is not None:
        date = parse_date_value(given_date)
        if date is None:
            problems.append(f"date {given_date!r} is not a date; indexed without one")
    city_list, forms = _resolve_cities(_as_list(_first(record, _CITY_KEYS)), title, paragraphs)
    fields = {k: v for k, v in record.items() if k not in _RESERVED}
    return Document(
        id=doc_id, title=title, body="\n".join(paragraphs), source=source, date=date,
        cities=city_list, city_forms=forms, tags=_as_list(_first(record, _TAG_KEYS)),
        fields=_capped(fields, problems), warnings=problems,
    )


# Fields a format reader may find in a document, kept under these names
# (front matter or a record's own field of the same name wins).
_FOUND_FIELDS = ("author", "site", "url")
# Blocks whose text is never judged as boilerplate: code is what it says.
_VERBATIM_KINDS = ("pre",)


def document_from_extracted(doc_id: str, source: str, extracted, front: dict | None = None):
    """Build a document from what a format reader found (``formats.Extracted``).

    Our cleaning is the step after the reader's: blocks of site furniture
    (boilerplate, breadcrumbs) go, the title loses a site suffix, and the
    cities and (when the document states none) the date come from the text.
    ``front`` (front matter, or the other fields of a JSON-lines record)
    wins over what the reader found; the file's own properties (a Word
    file's core properties, a PDF's information) count only where the text
    has nothing.
    """
    front = front or {}
    props = extracted.properties or {}
    blocks = [b for b in extracted.blocks
              if b.kind in _VERBATIM_KINDS or not b.text
              or not (is_boilerplate(b.text) or is_breadcrumb(b.text))]
    title = _first(front, _TITLE_KEYS)
    if title is None:
        title = extracted.title or props.get("title")
    elif extracted.title and " ".join(extracted.title.split()) != str(title).strip():
        # The front matter names the document; the heading it opened with
        # stays a heading of its text.
        blocks.insert(0, Block("h1", extracted.title))
    if title is not None:
        title = strip_site_suffix(" ".join(str(title).split()))
    else:
        title = pick_title([b.text for b in blocks[:8] if b.kind not in _VERBATIM_KINDS]) or ""
    # The headline is shown as the title; don't repeat it as the body's first block.
    texts = [i for i, b in enumerate(blocks) if b.text]
    if texts and title and " ".join(blocks[texts[0]].text.split()) == title:
        del blocks[texts[0]]
    paragraphs = [b.text for b in blocks if b.text]
    if not paragraphs and not title:
        return Problem(source, "no text left after removing markup and boilerplate")

    problems = list(extracted.warnings)
    date = _given_date(front, problems)
    if date is None and extracted.date:
        date = parse_date_value(extracted.date)
    if date is None:
        date = find_date_in_text(_without_long_runs("\n".join([title, *paragraphs[:40]])))
    if date is None and props.get("date"):
        date = parse_date_value(props["date"])

    city_list, forms = _resolve_cities(_as_list(_first(front, _CITY_KEYS)), title, paragraphs)
    fields = {str(k): v for k, v in front.items() if k not in _RESERVED and _is_scalar(v)}
    found = {"author": extracted.author or props.get("author"), "site": extracted.site,
             "url": extracted.url}
    for name in _FOUND_FIELDS:
        value = found.get(name)
        if name not in fields and isinstance(value, str) and value.strip():
            fields[name] = " ".join(value.split())
    return Document(
        id=doc_id, title=title, body=body_of(blocks), source=source, date=date,
        cities=city_list, city_forms=forms, tags=_as_list(_first(front, _TAG_KEYS)),
        fields=_capped(fields, problems), warnings=problems, layout=layout_of(blocks),
    )
