"""Explain a query: what the engine made of it, and why a document matched or did not.

``explain(gen, q, doc_id=None)`` (``SearchIndex.explain``) follows the
one query path step by step and returns a JSON-ready dictionary:

* ``parsed``: free words, required phrases, exclusions (``parse_query``);
* ``normalised``: the query in simplified script, lower case (what is matched);
* ``tokens``: per free word, the jieba words with offsets and index positions
  (a sub-word of a long word shares its position), and whether it is a stop
  word (left out of the ranking); ``grams``: the character pairs;
* ``pinyin``: each Latin token, whether and how it reads as pinyin, and the
  reading of the Han words;
* ``expansions``: pinyin and regional words OR'd in; ``did_you_mean``;
* ``query``: the final Whoosh query; ``highlight``: the needles marked;
* ``matches``: how many documents the query matches (``matches_exact``: false
  when the deadline cut matching short, as ``SearchResults.total_exact``);
* with ``doc_id``: whether that document matches, its score and rank (among
  the first ``RANK_LIMIT``) as the results page gives them, and, part by
  part, which parts of the query it satisfies and what each adds to its score
  (``parts_complete``: false when the deadline stopped the breakdown), the
  required phrases it lacks and the exclusions that remove it;
* ``partial`` and ``notices``: what the time budget cut short, and why the
  query answered as it did (quoted text read as its words, ...).

It is the query path itself, not a second reading of it: the plan is
``search.query.plan.plan_query``'s, the matching set ``search.rank.matching.match``'s
(expansions, quoted text read as words when no document holds it, the
cheaper reading past the deadline), the rank and score ``rank_matches``'
(what the results page shows), and the whole explanation keeps the search
path's time budget (``budget.TIME_BUDGET``).  A document is checked on its own (its postings
skipped to, never a phrase matched over the index).
"""

from __future__ import annotations

import time

import numpy as np
from whoosh import query as wq

from ..query import budget
from ..query.budget import PARTIAL_NOTICE
from ..query.build import exact_query, query_grams, word_runs
from ..query.expansion import classify_pinyin, in_index
from ..query.plan import plan_query
from ..rank import fastrank
from ..rank.matching import match, prefix_docs, rank_matches
from ..store import docsets
from ..text import pinyin
from ..text.script import to_simplified
from ..text.segment import segment
from ..text.stopwords import is_stop_word
from .suggest import did_you_mean

RANK_LIMIT = 1000


def _tokens(word: str, is_stop_word) -> list[dict]:
    norm = to_simplified(word).lower()
    out, pos = [], -1
    for text, start, end, sub in segment(norm):
        if not sub:
            pos += 1
        out.append({"word": text, "start": start, "end": end,
                    "position": pos + 1 if sub else pos, "subword": sub,
                    "stop": is_stop_word(text)})
    return out


def _pinyin_info(parsed, reader) -> list[dict]:
    out = []
    for word in parsed.words:
        key = pinyin.latin_key(word)
        if key is not None or (pinyin.has_han(word) and any(c.isascii() and c.isalpha() for c in word)):
            kind = classify_pinyin(word)
            out.append({"token": word, "key": key,
                        "reads_as": kind[0] if kind else None,
                        "syllables": pinyin.syllables(key) if key else None,
                        "in_index_as_typed": in_index(reader, word),
                        "english": word.lower() in pinyin.ENGLISH})
        elif pinyin.has_han(word):
            norm = to_simplified(word)
            words = [w for w, _s, _e, sub in segment(norm) if not sub and pinyin.has_han(w)]
            out.append({"token": word,
                        "readings": {w: " ".join(pinyin.word_syllables(w)) for w in words}})
    return out


def _parts(q) -> list:
    """The queries whose scores add up to ``q``'s: the required phrases and
    the ranked subqueries (exclusions score nothing)."""
    if isinstance(q, wq.AndNot):
        return _parts(q.a)
    if isinstance(q, wq.AndMaybe):
        return _parts(q.a) + _parts(q.b)
    if isinstance(q, (wq.Or, wq.And)) and q.boost == 1.0:
        return list(q.subqueries)
    return [q]


def _required(q) -> list:
    """The subqueries every match must satisfy (the required phrases)."""
    if isinstance(q, wq.AndNot):
        return _required(q.a)
    if isinstance(q, wq.AndMaybe):
        return _required(q.a)
    if isinstance(q, wq.And):
        return list(q.subqueries)
    return []


def _leaf(searcher, docnum):
    """The segment reader holding ``docnum``, and its number there."""
    reader = searcher.reader()
    if reader.is_atomic():
        return reader, docnum
    for sub, offset in reader.leaf_readers():
        if offset <= docnum < offset + sub.doc_count_all():
            return sub, docnum - offset
    return reader, docnum


def _positions(reader, fieldname, text, docnum) -> list[int] | None:
    """The term's positions in the document, None if it does not hold it."""
    if fieldname not in reader.schema or (fieldname, text) not in reader:
        return None
    m = reader.postings(fieldname, text)
    if not m.is_active():
        return None
    m.skip_to(docnum)
    if not m.is_active() or m.id() != docnum:
        return None
    return list(m.value_as("positions")) if m.supports("positions") else []


def _holds(searcher, q, docnum: int) -> bool:
    """Whether the one document matches ``q`` (a required phrase or an
    exclusion, ``query.build.exact_query``): each posting list is skipped to the
    document, never read through (a phrase over the whole index can take
    longer than any budget)."""
    reader, local = _leaf(searcher, docnum)
    if isinstance(q, wq.Term):
        return _positions(reader, q.fieldname, q.text, local) is not None
    if isinstance(q, wq.Or):
        return any(_holds(searcher, sub, docnum) for sub in q.subqueries)
    if isinstance(q, wq.And):
        return all(_holds(searcher, sub, docnum) for sub in q.subqueries)
    if type(q) is wq.Prefix:
        docs = prefix_docs(reader, q.fieldname, q.text)
        if docs is not None:
            return bool(docsets.within(np.array([local]), docs)[0])
        return any(_positions(reader, q.fieldname, text, local) is not None
                   for text in reader.expand_prefix(q.fieldname, q.text))
    if isinstance(q, wq.Phrase):
        ends = None
        for word in q.words:
            found = _positions(reader, q.fieldname, word, local)
            if not found:
                return False
            ends = set(found) if ends is None else \
                {p for p in found if any(1 <= p - e <= q.slop for e in ends)}
            if not ends:
                return False
        return True
    # Nothing else is built by the query path; Whoosh's own matcher, skipped
    # to the document, answers for anything that is.
    m = q.matcher(searcher, searcher.context())
    if m.is_active():
        m.skip_to(docnum)
    return m.is_active() and m.id() == docnum


def _doc_report(searcher, parsed, matches, docnum, deadline, notices) -> dict:
    """Why the document matches or not, its rank and score, part by part;
    what the deadline cut short is added to ``notices``."""
    one = np.array([docnum], np.int64)
    report: dict = {"matches": bool(docsets.within(one, matches.docs)[0])}
    lacking = matches.lacking([docnum]) if report["matches"] else None
    if lacking is not None:
        # The query's words it holds in some form, and those it lacks.
        report["holds"] = [c.typed or c.word for c in matches.plan_used.concepts
                           if c not in lacking[0]]
        report["lacks"] = [c.typed or c.word for c in lacking[0]]
        report["match"] = "partial" if report["lacks"] else "full"
    # Why it is left out: the required phrases it lacks (of the query run:
    # quoted text read as words requires nothing) and the exclusions it holds.
    # Each is a few look-ups in this document, so they get a short grace
    # past the deadline, as a cut-short search gets to rank.
    reasons_by = deadline + 0.2 * budget.TIME_BUDGET
    required = _required(matches.plan_used.whoosh_query)
    missing, excluded, checked = [], [], True
    for texts, found, lacking in ((parsed.phrases, missing, True), (parsed.excluded, excluded, False)):
        for text in texts:
            if time.monotonic() > reasons_by:
                checked = False
                break
            query = exact_query(text)
            if lacking and query not in required:
                continue
            if _holds(searcher, query, docnum) != lacking:
                found.append(text)
    report["missing_phrases"], report["excluded_by"] = missing, excluded
    if not checked:
        notices.append("out of time before every required phrase and exclusion was "
                       "checked in this document")
    report["score"] = report["rank"] = None
    if report["matches"]:
        # Its score and place as the results page ranks the matches (one
        # ranking, ``rank_matches``); further down than RANK_LIMIT, its
        # score alone.
        ranked, cut = rank_matches(searcher, matches, None, RANK_LIMIT, deadline)
        place = next((i for i, (d, _s) in enumerate(ranked, 1) if d == docnum), None)
        if place is not None:
            report["rank"], report["score"] = place, ranked[place - 1][1]
            if cut:
                notices.append("out of time while ranking: the rank is among the "
                               "documents ranked in time")
        elif cut:
            notices.append("out of time before this document's rank was found")
        else:
            alone, cut = rank_matches(searcher, matches, one, 1, deadline)
            if alone:
                report["score"] = alone[0][1]
    # What each part adds to its score, as far as time allows.
    parts, wanted = [], _parts(matches.ranked_query)
    for sub in wanted:
        if time.monotonic() > deadline:
            break
        got, cut = fastrank.rank(searcher, sub, one, 1, deadline)
        if cut:
            break
        score = got[0][1] if got else None
        parts.append({"query": str(sub), "matches": score is not None, "score": score})
    report["parts"] = parts
    if len(parts) < len(wanted):
        report["parts_complete"] = False
        notices.append(f"out of time: the score is broken down for {len(parts)} of the "
                       f"query's {len(wanted)} parts")
    else:
        report["parts_complete"] = True
    return report


def explain(gen, q: str, doc_id: str | None = None) -> dict:
    """Everything the query path does with ``q`` on ``gen``'s index (see the
    module): planned, matched and ranked as ``SearchIndex.search`` does,
    within the same time budget."""
    plan = plan_query(q, gen)
    parsed = plan.parsed
    searcher = gen.searcher()
    reader = searcher.reader()
    deadline = time.monotonic() + budget.TIME_BUDGET
    matches = match(plan, searcher, deadline)
    partial, notices = matches.partial, list(matches.notices)
    out = {
        "query": parsed.text,
        "normalised": to_simplified(parsed.text).lower(),
        "parsed": {"words": parsed.words, "phrases": parsed.phrases, "excluded": parsed.excluded},
        "tokens": {w: _tokens(w, is_stop_word) for w in parsed.words},
        "runs": {w: [run[0] for run in word_runs(w)] for w in parsed.words},
        "grams": {t: query_grams(t) for t in parsed.words + parsed.phrases + parsed.excluded},
        "pinyin": _pinyin_info(parsed, reader),
        "expansions": [e.to_dict() for e in plan.expansions],
        "did_you_mean": did_you_mean(parsed, gen),
        "whoosh_query": str(matches.plan_used.whoosh_query),
        "highlight": list(dict.fromkeys(matches.plan_used.needles)),
        "matches": len(matches.docs),
        # As ``SearchResults.total_exact``: False when matching was cut short.
        "matches_exact": matches.exact,
        # What a document must hold to match fully (``search.query.concepts``),
        # how many do, and whether they rank above the partial matches.
        "concepts": [c.to_dict() for c in matches.plan_used.concepts],
        "full_matches": len(matches.full) if matches.plan_used.concepts else None,
        "full_first": matches.plan_used.full_first,
    }
    if doc_id is not None:
        docnum = searcher.document_number(id=doc_id) if isinstance(doc_id, str) and doc_id \
            and len(doc_id) <= 2000 else None
        if docnum is None:
            out["document"] = {"id": doc_id, "found": False}
        else:
            out["document"] = {"id": doc_id, "found": True,
                               **_doc_report(searcher, parsed, matches, docnum, deadline,
                                             notices)}
    if partial and budget.NOT_MATCHED_NOTICE not in notices:
        notices.insert(0, PARTIAL_NOTICE)
    out["partial"] = partial or any(n.startswith("out of time") for n in notices)
    out["notices"] = notices
    return out
