"""The fallback of a query that finds nothing: the results of its clear completion instead.

A reader who presses Enter on ``luoy`` has typed the start of 洛阳, not a word
to be found as it is; a query that finds nothing and whose last token has a
clear completion or pinyin reading is answered with that reading's results,
saying so ("显示 洛阳 的结果 · 仍然搜索 luoy").

``candidates(gen, text)``
    The readings worth trying, best first: the completions of
    ``search.aids.suggest.complete`` (whole queries, ``李白 jingy`` →
    李白 静夜思), when the last token has at least ``MIN_LETTERS`` Latin
    letters and is not a run of pinyin initials (``mdj`` is searched as
    initials already; ``h`` or ``qqqq`` are no reading of anything), or is
    Chinese being typed (``静夜`` may be the start of 静夜思).  An excluded
    last token (``-luoy``) is never completed, and fragments (suggestions of
    kind ``"fragment"``: a stretch of text, no word) are no reading.

``plan_fallback(typed, options, count_matches)``
    What to show: ``FallbackPlan(searched_for, shown_for, alternatives)``.
    The first ``TRIED`` options are counted (``count_matches(text)``: the
    documents a search of ``text`` finds, with the reader's filters); the best
    is the first that finds any.  It is clear when every other option that
    finds documents extends it (洛阳 and 洛阳市) or finds at most
    ``1/DOMINANCE`` as many; then ``shown_for`` is the best and the others are
    its alternatives.  Otherwise nothing is shown for the reader, and every
    option that finds documents is an alternative to choose from.

``search_with_fallback(search, gen, q, options)``
    ``search(q, **options)`` (``SearchIndex.search`` without fallback), and
    when no document holds the whole query (none found, or only documents
    holding some of its words: ``李白 jingy``), the plan carried out, options
    counted by the documents holding all of them when the typed query found
    partial matches: the results of the plan's query, with ``query`` and
    ``searched_for`` still the typed text.  The did-you-mean correction of
    pinyin with a slip (``luoyng`` → 洛阳) is the first option; a homophone
    typo in Chinese (落阳) is left to did-you-mean, offered: its completions
    (落阳光) would be guesses built on the typo.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace

from ..errors import QueryError
from ..text import pinyin
from ..text.chars import HAN_CHAR
from .suggest import complete

MIN_LETTERS = 2
# Each option counted costs a search: a few are enough to tell a clear reading.
TRIED = 4
# The best option is clear over another option (not its extension) that
# finds at most this share of its documents.
DOMINANCE = 4
# The last token of a query: what follows the last space.
_LAST_TOKEN = re.compile(r"(\S+)\s*$")
_LATIN = re.compile(r"[A-Za-z]")
# The kind of suggestion that is a stretch of text, not a word or name.
FRAGMENT = "fragment"


@dataclass(frozen=True)
class FallbackPlan:
    searched_for: str
    # The query whose results are shown instead, or None (nothing clear).
    shown_for: str | None = None
    # Other readings that find documents: ``{"text", "count"}``, best first.
    alternatives: list[dict] = field(default_factory=list)


def option_text(option) -> str:
    """A suggestion's text: suggestions are strings or ``{"text", "kind", "count"}``."""
    if isinstance(option, dict):
        return str(option.get("text") or "")
    return str(option or "")


def _last_token(text: str) -> str:
    m = _LAST_TOKEN.search(text or "")
    return m.group(1).lstrip("\"“「『") if m else ""


def latin_last_token(text: str) -> bool:
    """Whether the last token of ``text`` is typed in Latin letters (at least ``MIN_LETTERS``)."""
    token = _last_token(text)
    return not token.startswith("-") and len(_LATIN.findall(token)) >= MIN_LETTERS


def may_fall_back(text: str) -> bool:
    """Whether the last token of ``text`` is one a completion may stand for (see the module)."""
    token = _last_token(text)
    if not token or token.startswith("-"):
        return False
    if latin_last_token(text):
        key = pinyin.latin_key(token)
        return not (key and pinyin.is_initials(key))
    return HAN_CHAR.search(token) is not None


def candidates(gen, text: str) -> list[str]:
    """The completions of ``text`` a fallback may show, best first (see the module)."""
    if not isinstance(text, str) or not may_fall_back(text):
        return []
    typed = text.strip().lower()
    out: list[str] = []
    for option in complete(gen, text):
        if isinstance(option, dict) and option.get("kind") == FRAGMENT:
            continue        # a piece of a longer word: no reading of what was typed
        shown = option_text(option).strip()
        if shown and shown.lower() != typed and shown not in out:
            out.append(shown)
    return out


def plan_fallback(typed: str, options, count_matches) -> FallbackPlan:
    """What to show for ``typed``, which found nothing (see the module)."""
    texts: list[str] = []
    for option in options:
        text = option_text(option).strip()
        if text and text != typed.strip() and text not in texts:
            texts.append(text)
    found = [(text, n) for text in texts[:TRIED] if (n := count_matches(text)) > 0]
    if not found:
        return FallbackPlan(typed)
    best, best_count = found[0]
    others = found[1:]
    clear = all(text.startswith(best) or best_count >= DOMINANCE * n for text, n in others)
    if not clear:
        return FallbackPlan(typed, None, [{"text": t, "count": n} for t, n in found])
    return FallbackPlan(typed, best, [{"text": t, "count": n} for t, n in others])


def finds_nothing_whole(res) -> bool:
    """Whether no document holds the whole query: none found, or only partial matches."""
    return res.total == 0 or res.total_full == 0


def search_with_fallback(search, gen, q: str, options: dict):
    """``search(q, **options)``, or when it finds nothing, the plan's results (see the module)."""
    started = time.perf_counter()
    typed = search(q, **options)
    if not typed.query.strip() or not finds_nothing_whole(typed):
        return typed
    if typed.did_you_mean and not latin_last_token(typed.query):
        # A homophone typo (落阳) is corrected by did-you-mean, offered: its
        # completions (落阳光) would be guesses built on the typo.
        return typed
    readings = candidates(gen, typed.query)
    if typed.did_you_mean and not readings:
        # Pinyin with a slip that completes to nothing (luoyng): the
        # correction is the reading.  A prefix that completes (mudanj →
        # 牡丹江) is read as typed, not as a slip of a shorter word (牡丹).
        readings = [typed.did_you_mean]
    # Partial matches only (李白 jingy: 李白's poems, none with jingy): a
    # reading counts by the documents holding all of it.
    whole = typed.total > 0

    def count_matches(text: str) -> int:
        try:
            res = search(text, **{**options, "page": 1, "per_page": 1, "snippet_count": 0,
                                  "facet_limit": 0})
        except QueryError:
            return 0
        return (res.total_full or 0) if whole and res.total_full is not None else res.total

    plan = plan_fallback(typed.query, readings, count_matches)
    if plan.shown_for is None:
        return replace(typed, alternatives=plan.alternatives)
    try:
        shown = search(plan.shown_for, **options)
    except QueryError:
        return replace(typed, alternatives=plan.alternatives)
    return replace(shown, query=typed.query, searched_for=typed.query, shown_for=plan.shown_for,
                   alternatives=plan.alternatives,
                   elapsed_ms=(time.perf_counter() - started) * 1000)
