"""The query language people type, split into what it asks for.

The language is deliberately small, because people type words and questions:

* plain text: ranked (BM25F) on words and on character bigrams, preferring
  documents with more of the query's words and with its exact text, without
  requiring every word;
* ``"..."`` (or “…”, 「…」): this exact text must occur (either script);
* ``-word`` or ``-"..."``: documents containing it are left out.

Nothing else is syntax: ``*``, ``field:value``, ranges and boosts are plain
characters, so a query cannot reach fields or run expensive expansions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import QueryError
from ..text.script import to_simplified
from ..text.segment import char_grams

MAX_QUERY_CHARS = 1000


# One token of a query: a quoted text (group 3, "-" before it in group 1) or a
# run of other characters (group 5, "-" before it in group 4).  A quote mark
# ends a run: in 群组“ ”的请求 the quotes hold a blank, not the rest of the text.
QUERY_TOKEN = re.compile(r'(-?)(["“「『”])(.*?)(?:["”」』]|$)|(-?)([^\s"“”「」『』]+)', re.S)


@dataclass
class ParsedQuery:
    """What a query string asks for, before it meets an index."""

    text: str
    words: list[str] = field(default_factory=list)      # free text, ranked
    phrases: list[str] = field(default_factory=list)    # must occur exactly
    excluded: list[str] = field(default_factory=list)   # must not occur

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.phrases or self.excluded)


def parse_query(text: str) -> ParsedQuery:
    """Split a query string into free text, required phrases and exclusions.

    Unbalanced quotes are forgiven: an opening quote runs to the end.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise QueryError("the query must be text")
    text = text.replace("\x00", " ").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(text):,} characters long; "
                         f"the limit is {MAX_QUERY_CHARS:,}")
    parsed = ParsedQuery(text=text)
    for m in QUERY_TOKEN.finditer(text):
        if m.group(2):
            negate, body = m.group(1), m.group(3).strip()
            target = parsed.excluded if negate else parsed.phrases
        else:
            negate, body = m.group(4), m.group(5)
            # A lone "-" or a hyphenated word is text, not an exclusion.
            target = parsed.excluded if negate and body else parsed.words
            if not negate and body.startswith("-"):
                body = body.lstrip("-")
        if body and has_content(body):
            target.append(body)
    return parsed


def has_content(text: str) -> bool:
    """Whether ``text`` holds something to search (a letter, digit or Han
    character), not only punctuation or symbols."""
    return bool(char_grams(to_simplified(text)))
