"""A parsed query as a Whoosh query: the ranked part, required phrases and
exclusions, and the texts to highlight.

Owns how the reader's text meets the index's fields: its word runs
(``word_runs``), its character pairs (``query_grams``), a text that must
occur exactly (``exact_query``), the expansions' words OR'd into the ranked
part, and the cheaper reading of a query whose phrases ran out of time
(``without_order``).
"""

from __future__ import annotations

import re

from whoosh import query as wq

from ..store import scoring as ranking
from ..text.script import to_simplified
from ..text.segment import char_grams, segment
from ..text.stopwords import is_stop_word
from .parse import ParsedQuery


def word_runs(text: str) -> list[list[str]]:
    """The query's words (simplified) in runs split at stop words and punctuation.

    Each run is a stretch of the reader's own contiguous text: ``[run text,
    word, word, ...]``.
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


def query_grams(text: str) -> list[str]:
    """The character pairs (and whole Latin words) the bigram field holds of ``text``."""
    return [g for g, _, _ in char_grams(to_simplified(text).lower())]


def exact_query(text: str) -> wq.Query:
    """Documents holding exactly this text (in either script)."""
    grams = query_grams(text)
    if len(grams) == 1:
        gram = grams[0]
        # A single character is a bigram's first half or a word of its own.
        return wq.Or([wq.Term("grams", gram), wq.Term("body", gram), wq.Term("title", gram)]
                     + ([wq.Prefix("grams", gram)] if len(gram) == 1 else []))
    return wq.Phrase("grams", grams)


def translated(text: str, expansions) -> tuple[str, float] | None:
    """``text`` (simplified) in the other region's words, every word the
    ``variant`` expansions give another word for replaced by their first,
    and the smallest weight used; None when nothing is replaced."""
    out, weight = text, None
    for exp in expansions:
        if exp.kind != "variant" or not exp.words:
            continue
        source = to_simplified(exp.source).lower()
        if source and source in out:
            out = out.replace(source, exp.words[0])
            w = exp.weights[0] if exp.weights else 1.0
            weight = w if weight is None else min(weight, w)
    return (out, weight) if weight is not None and out != text else None


def _ranked_part(words: list[str], expansions=()) -> tuple[wq.Query | None, list[str]]:
    """The ranked part of a query, and the words to highlight."""
    subqueries, needles = [], []
    for text in words:
        chunks = word_runs(text)
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
            grams = query_grams(run_text)
            subqueries += [wq.Term("grams", g, boost=ranking.GRAM_BOOST) for g in dict.fromkeys(grams)]
            if len(grams) > 1:
                # An exact stretch of a longer question is a weak hint.
                subqueries.append(wq.Phrase("grams", grams, boost=ranking.PHRASE_BOOST))
                # So is the same stretch in the other region's words.
                other = translated(run_text, expansions)
                if other and len(query_grams(other[0])) > 1:
                    subqueries.append(wq.Phrase("grams", query_grams(other[0]),
                                                boost=ranking.PHRASE_BOOST * other[1]))
        # A short query typed as one stretch of text (stop words included)
        # is a string the reader expects to find literally: exact first.
        whole = query_grams(text)
        if len(words) == 1 and whole and len(text) <= ranking.SHORT_QUERY_CHARS \
                and re.fullmatch(r"\w+", to_simplified(text)):
            exact = (wq.Phrase("grams", whole, boost=ranking.EXACT_QUERY_BOOST) if len(whole) > 1
                     else wq.Term("grams", whole[0], boost=ranking.EXACT_QUERY_BOOST))
            subqueries.append(exact)
            needles.append(to_simplified(text).lower())
            other = translated(to_simplified(text).lower(), expansions)
            if other:
                # The same text in the other region's words: next to the
                # exact text, below it (a search for 資料 shows 資料 first).
                grams = query_grams(other[0])
                boost = ranking.EXACT_QUERY_BOOST * ranking.TRANSLATED_SHARE * other[1]
                subqueries.append(wq.Phrase("grams", grams, boost=boost) if len(grams) > 1
                                  else wq.Term("grams", grams[0], boost=boost))
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


def without_order(q: wq.Query) -> wq.Query | None:
    """``q`` with phrases read as their words (AND), for a cheaper match when
    phrase matching runs out of time; None when nothing would change."""
    if isinstance(q, wq.Phrase):
        return wq.And([wq.Term(q.fieldname, w, boost=q.boost) for w in q.words])
    if isinstance(q, wq.CompoundQuery):
        subs = [without_order(sub) for sub in q.subqueries]
        if all(s is None for s in subs):
            return None
        return q.__class__([new or old for new, old in zip(subs, q.subqueries)], boost=q.boost)
    if isinstance(q, (wq.AndMaybe, wq.AndNot)):
        a, b = without_order(q.a), without_order(q.b)
        if a is None and b is None:
            return None
        return q.__class__(a or q.a, b or q.b)
    return None


def _expansion_word(word: str, weight: float) -> list[wq.Query]:
    """A word of an expansion as a ranked query's parts, at ``weight``."""
    parts = [wq.Term("body", word, boost=weight),
             wq.Term("title", word, boost=weight * ranking.TITLE_BOOST),
             wq.Term("meta", word, boost=weight * ranking.META_BOOST)]
    grams = [g for g, _, _ in char_grams(word)]
    if len(grams) > 1:
        # The word as literal text, however the documents' words were cut.
        parts.append(wq.Phrase("grams", grams, boost=weight * ranking.GRAM_BOOST))
    elif grams:
        parts.append(wq.Term("grams", grams[0], boost=weight * ranking.GRAM_BOOST))
    return parts


def _with_expansions(ranked: wq.Query | None, needles: list[str],
                     expansions) -> tuple[wq.Query | None, list[str]]:
    """``ranked`` with the expansions' words OR'd in, and the needles with those words
    (so the marks land on the document's own word: 軟體 for a search for 软件)."""
    extra: list[wq.Query] = []
    words: list[str] = []
    for exp in expansions:
        for word, weight in zip(exp.words, exp.weights or [1.0] * len(exp.words)):
            extra += _expansion_word(word, weight)
            words.append(word)
    if not extra:
        return ranked, needles
    if ranked is None:
        ranked = wq.Or(extra)
    elif isinstance(ranked, wq.Or):
        ranked = wq.Or(list(ranked.subqueries) + extra)
    else:
        ranked = wq.Or([ranked] + extra)
    return ranked, list(needles) + words


def build_query(parsed: ParsedQuery, expansions=()) -> tuple[wq.Query, list[str]]:
    """The Whoosh query for a parsed query, and the texts to highlight.

    ``expansions`` (``search.query.expansion.expand``): the words the free
    words also stand for (pinyin, other regions' words), OR'd into the ranked
    part at their weights.
    """
    ranked, needles = _ranked_part(parsed.words, expansions)
    if expansions:
        ranked, needles = _with_expansions(ranked, needles, expansions)
    required = [exact_query(p) for p in parsed.phrases]
    needles += [to_simplified(p).lower() for p in parsed.phrases]
    if required:
        positive = wq.And(required + ([ranked] if ranked else []))
        if ranked:
            # The ranked words add to the score without being required.
            positive = wq.AndMaybe(wq.And(required), ranked)
    else:
        positive = ranked or wq.Every()
    return without_excluded(positive, parsed), needles


def without_excluded(q: wq.Query, parsed: ParsedQuery) -> wq.Query:
    """``q`` leaving out the documents holding one of ``parsed``'s exclusions."""
    if not parsed.excluded:
        return q
    return wq.AndNot(q, wq.Or([exact_query(e) for e in parsed.excluded]))
