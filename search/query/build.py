"""A parsed query as a Whoosh query: the ranked part, required phrases and
exclusions, and the texts to highlight."""

from __future__ import annotations

import re

from whoosh import query as wq

from ..store import scoring as ranking
from ..text.script import to_simplified
from ..text.segment import char_grams, segment
from ..text.stopwords import is_stop_word
from .expansion import apply
from .parse import ParsedQuery


def _chunks(text: str) -> list[list[str]]:
    """The query's words (simplified) in runs split at stop words and punctuation.

    Each run is a stretch of the reader's own contiguous text.
    """
    norm = to_simplified(text).lower()
    runs: list[list[tuple[str, int, int]]] = [[]]
    last_end = None
    for word, start, end, is_sub in segment(norm):
        if is_sub:
            continue
        stop = is_stop_word(word)
        if stop or (last_end is not None and start != last_end):
            if runs[-1]:
                runs.append([])
            if stop:
                last_end = None
                continue
        runs[-1].append((word, start, end))
        last_end = end
    return [[norm[r[0][1]:r[-1][2]]] + [w for w, _, _ in r] for r in runs if r]


def _grams(text: str) -> list[str]:
    return [g for g, _, _ in char_grams(to_simplified(text).lower())]


def _exact(text: str) -> wq.Query:
    """Documents holding exactly this text (in either script)."""
    grams = _grams(text)
    if len(grams) == 1:
        gram = grams[0]
        # A single character is a bigram's first half or a word of its own.
        return wq.Or([wq.Term("grams", gram), wq.Term("body", gram), wq.Term("title", gram)]
                     + ([wq.Prefix("grams", gram)] if len(gram) == 1 else []))
    return wq.Phrase("grams", grams)


def _ranked(words: list[str]) -> tuple[wq.Query | None, list[str]]:
    """The ranked part of a query, and the words to highlight."""
    subqueries, needles = [], []
    for text in words:
        chunks = _chunks(text)
        if not chunks:
            # Only stop words: search them as they are rather than nothing.
            norm = to_simplified(text).lower()
            chunks = [[norm] + [w for w, _, _, sub in segment(norm) if not sub]]
        for run_text, *run_words in chunks:
            # Whole words only: the index holds the sub-words of long words
            # too, so a query word still finds a longer word containing it,
            # and one concept is not counted once per sub-word.
            for word in dict.fromkeys(run_words):
                if is_stop_word(word):
                    continue
                subqueries += [wq.Term("body", word), wq.Term("title", word, boost=ranking.TITLE_BOOST),
                               wq.Term("meta", word, boost=ranking.META_BOOST)]
            needles += [w for w in run_words if w]
            grams = _grams(run_text)
            subqueries += [wq.Term("grams", g, boost=ranking.GRAM_BOOST) for g in dict.fromkeys(grams)]
            if len(grams) > 1:
                # An exact stretch of a longer question is a weak hint.
                subqueries.append(wq.Phrase("grams", grams, boost=ranking.PHRASE_BOOST))
        # A short query typed as one stretch of text (stop words included)
        # is a string the reader expects to find literally: exact first.
        whole = _grams(text)
        if len(words) == 1 and whole and len(text) <= ranking.SHORT_QUERY_CHARS \
                and re.fullmatch(r"\w+", to_simplified(text)):
            exact = (wq.Phrase("grams", whole, boost=ranking.EXACT_QUERY_BOOST) if len(whole) > 1
                     else wq.Term("grams", whole[0], boost=ranking.EXACT_QUERY_BOOST))
            subqueries.append(exact)
            needles.append(to_simplified(text).lower())
        # Neighbouring words of the question near each other in a passage.
        content = [w for run in chunks for w in run[1:] if not is_stop_word(w)]
        for first, second in zip(content, content[1:]):
            if first != second:
                subqueries.append(wq.Phrase("body", [first, second], slop=ranking.PROXIMITY_SLOP,
                                            boost=ranking.PROXIMITY_BOOST))
    if not subqueries:
        return None, needles
    # A query repeating itself gives the same subquery many times: once is enough.
    return wq.Or(list(dict.fromkeys(subqueries))), needles


def _without_order(q: wq.Query) -> wq.Query | None:
    """``q`` with phrases read as their words (AND), for a cheaper match when
    phrase matching runs out of time; None when nothing would change."""
    if isinstance(q, wq.Phrase):
        return wq.And([wq.Term(q.fieldname, w, boost=q.boost) for w in q.words])
    if isinstance(q, wq.CompoundQuery):
        subs = [_without_order(sub) for sub in q.subqueries]
        if all(s is None for s in subs):
            return None
        return q.__class__([new or old for new, old in zip(subs, q.subqueries)], boost=q.boost)
    if isinstance(q, (wq.AndMaybe, wq.AndNot)):
        a, b = _without_order(q.a), _without_order(q.b)
        if a is None and b is None:
            return None
        return q.__class__(a or q.a, b or q.b)
    return None


def build_query(parsed: ParsedQuery, expansions=()) -> tuple[wq.Query, list[str]]:
    """The Whoosh query for a parsed query, and the texts to highlight.

    ``expansions`` (``search.query.expansion.expand``): pinyin and regional words
    the free words also stand for, OR'd into the ranked part.
    """
    ranked, needles = _ranked(parsed.words)
    if expansions:
        ranked, needles = apply(ranked, needles, expansions)
    required = [_exact(p) for p in parsed.phrases]
    needles += [to_simplified(p).lower() for p in parsed.phrases]
    if required:
        positive = wq.And(required + ([ranked] if ranked else []))
        if ranked:
            # The ranked words add to the score without being required.
            positive = wq.AndMaybe(wq.And(required), ranked)
    else:
        positive = ranked or wq.Every()
    if parsed.excluded:
        positive = wq.AndNot(positive, wq.Or([_exact(e) for e in parsed.excluded]))
    return positive, needles
