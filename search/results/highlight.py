"""Highlighting: where the query's words are in a text, and snippets around them.

Matching is done on the simplified form of the text, whose offsets equal the
original's (see ``script``), and the marks are placed on the ORIGINAL text:
a search for 洛阳 marks 洛陽 in a traditional document.  Everything is
HTML-escaped; the only live markup in the output is our own ``<mark>``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from html import escape

from ..text.script import to_simplified

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"

# The documents on results pages come back query after query, and converting
# a passage to simplified script costs more than finding the query's words in
# it: the latest conversions of longer texts are kept, up to this many
# characters in all.
KEEP_CHARS = 4_000_000
_KEEP_FROM = 64
_kept: "OrderedDict[str, str]" = OrderedDict()
_kept_chars = 0
_kept_lock = threading.Lock()


def _simplified(text: str) -> str:
    """``to_simplified(text)``, remembered for longer texts."""
    global _kept_chars
    if len(text) < _KEEP_FROM or len(text) > KEEP_CHARS // 16:
        return to_simplified(text)
    with _kept_lock:
        out = _kept.get(text)
        if out is not None:
            _kept.move_to_end(text)
            return out
    out = to_simplified(text)
    with _kept_lock:
        if text not in _kept:
            _kept[text] = out
            _kept_chars += len(text)
            while _kept_chars > KEEP_CHARS:
                gone, _ = _kept.popitem(last=False)
                _kept_chars -= len(gone)
    return out


def find_spans(text: str, needles: list[str], normalised: str | None = None) -> list[tuple[int, int]]:
    """Sorted, merged ``(start, end)`` spans where any needle occurs in ``text``.

    Needles are already simplified and lower-cased; the text is compared in
    simplified, lower-case form, so either script matches.
    """
    if not text or not needles:
        return []
    hay = (normalised if normalised is not None else _simplified(text)).lower()
    spans = []
    for needle in set(needles):
        if not needle:
            continue
        start = hay.find(needle)
        while start >= 0:
            spans.append((start, start + len(needle)))
            start = hay.find(needle, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def mark(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """``text[start:end]`` HTML-escaped, with the spans inside it wrapped in ``<mark>``."""
    end = len(text) if end is None else end
    out, cursor = [], start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[cursor:s]))
        out.append(MARK_OPEN + escape(text[s:e]) + MARK_CLOSE)
        cursor = e
    out.append(escape(text[cursor:end]))
    return "".join(out)


def highlight(text: str, needles: list[str], normalised: str | None = None) -> str:
    """The whole text, escaped, with every match marked (``normalised``: the
    text in simplified script, when the caller has it)."""
    return mark(text, find_spans(text, needles, normalised))


def simplified(text: str) -> str:
    """``to_simplified(text)``, remembered for longer texts (the documents
    on results pages come back query after query)."""
    return _simplified(text)


MAX_WINDOW_STARTS = 200


def _best_window(text: str, spans, width: int) -> tuple[int, int, int]:
    """The window of ``width`` characters holding the most distinct matched words."""
    best = (-1, 0, min(width, len(text)))
    # Spans are in order: a window needs only the spans up to its end, and the
    # first few hundred starts are enough to find a good one (a document
    # repeating its word thousands of times must not cost N squared).
    for i, (s, _e) in enumerate(spans[:MAX_WINDOW_STARTS]):
        start = max(0, s - width // 4)
        end = min(len(text), start + width)
        inside = set()
        for a, b in spans[i:]:
            if a >= end:
                break
            if a >= start and b <= end:
                inside.add(text[a:b].lower())
        if len(inside) > best[0]:
            best = (len(inside), start, end)
    return best


def snippets(text: str, needles: list[str], width: int = 120, count: int = 2,
             normalised: str | None = None) -> list[str]:
    """Up to ``count`` escaped fragments of about ``width`` characters around matches.

    Without any match, the opening of the text (a document can match on its
    title or metadata only).  ``normalised``: the text in simplified script,
    when the caller has it.
    """
    text = text or ""
    spans = find_spans(text, needles, normalised)
    if not spans:
        end = min(len(text), width)
        return [escape(text[:end]) + ("…" if end < len(text) else "")] if text else []
    fragments, remaining = [], spans
    taken: list[tuple[int, int]] = []
    while remaining and len(fragments) < count:
        _, start, end = _best_window(text, remaining, width)
        # Don't cut a fragment in the middle of a line break: start after it.
        newline = text.rfind("\n", start, remaining[0][0])
        if newline >= 0 and newline + 1 <= remaining[0][0]:
            start = newline + 1
            end = min(len(text), start + width)
        taken.append((start, end))
        fragments.append(("…" if start > 0 else "") + mark(text, spans, start, end).replace("\n", " ")
                         + ("…" if end < len(text) else ""))
        remaining = [s for s in remaining if s[0] >= end or s[1] <= start]
        remaining = [s for s in remaining if not any(a <= s[0] < b for a, b in taken)]
    return fragments
