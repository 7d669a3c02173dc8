"""Explain a query: what the engine made of it, and why a document matched or did not.

``explain(gen, q, doc_id=None)`` follows the one query path step by step and
returns a JSON-ready dictionary:

* ``parsed``: free words, required phrases, exclusions (``parse_query``);
* ``normalised``: the query in simplified script, lower case (what is matched);
* ``tokens``: per free word, the jieba words with offsets and index positions
  (a sub-word of a long word shares its position), and whether it is a stop
  word (left out of the ranking); ``grams``: the character pairs;
* ``pinyin``: each Latin token, whether and how it reads as pinyin, and the
  reading of the Han words;
* ``expansions``: pinyin and regional words OR'd in; ``did_you_mean``;
* ``query``: the final Whoosh query; ``highlight``: the needles marked;
* ``matches``: how many documents the query matches;
* with ``doc_id``: whether that document matches, its score and rank (among
  the first ``RANK_LIMIT``), and,
  part by part, which parts of the query it satisfies and what each adds to
  its score, the required phrases it lacks and the exclusions that remove it.
"""

from __future__ import annotations

from whoosh import query as wq

from . import pinyin

RANK_LIMIT = 1000
from .analysis import char_grams, segment
from .script import to_simplified


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
    from .expansion import _classify, _in_index
    out = []
    for word in parsed.words:
        key = pinyin.latin_key(word)
        if key is not None or (pinyin.has_han(word) and any(c.isascii() and c.isalpha() for c in word)):
            kind = _classify(word)
            out.append({"token": word, "key": key,
                        "reads_as": kind[0] if kind else None,
                        "syllables": pinyin.syllables(key) if key else None,
                        "in_index_as_typed": _in_index(reader, word),
                        "english": word.lower() in pinyin.ENGLISH})
        elif pinyin.has_han(word):
            norm = to_simplified(word)
            words = [w for w, _s, _e, sub in segment(norm) if not sub and pinyin.has_han(w)]
            out.append({"token": word,
                        "readings": {w: " ".join(pinyin.word_syllables(w)) for w in words}})
    return out


def _doc_report(gen, searcher, whoosh_q, parsed, docnum, matched) -> dict:
    from .querying import _exact
    report: dict = {"matches": docnum in matched}
    # The score the ranking gives it, and its rank among the matches.
    scores = {}
    m = whoosh_q.matcher(searcher, searcher.context())
    if m.is_active():
        m.skip_to(docnum)
        if m.is_active() and m.id() == docnum:
            scores["total"] = m.score()
    report["score"] = round(scores.get("total", 0.0), 4) if report["matches"] else None
    if report["matches"]:
        # Its place among the best RANK_LIMIT (None: further down).
        results = searcher.search(whoosh_q, limit=RANK_LIMIT)
        report["rank"] = next((i for i, hit in enumerate(results, 1) if hit.docnum == docnum), None)
    parts = []
    ranked = whoosh_q
    while isinstance(ranked, (wq.AndMaybe, wq.AndNot)):
        ranked = ranked.b if isinstance(ranked, wq.AndMaybe) else ranked.a
    subs = ranked.subqueries if isinstance(ranked, wq.Or) else [ranked]
    for sub in subs:
        sm = sub.matcher(searcher, searcher.context())
        score = None
        if sm.is_active():
            sm.skip_to(docnum)
            if sm.is_active() and sm.id() == docnum:
                score = round(sm.score(), 4)
        parts.append({"query": str(sub), "matches": score is not None, "score": score})
    report["parts"] = parts
    report["missing_phrases"] = [p for p in parsed.phrases
                                 if docnum not in set(searcher.docs_for_query(_exact(p)))]
    report["excluded_by"] = [e for e in parsed.excluded
                             if docnum in set(searcher.docs_for_query(_exact(e)))]
    return report


def explain(gen, q: str, doc_id: str | None = None) -> dict:
    """Everything the query path does with ``q`` (see the module)."""
    from .expansion import expand
    from .querying import _chunks, build_query, is_stop_word, matching_docs, parse_query
    from .suggest import did_you_mean
    parsed = parse_query(q)
    searcher = gen.searcher()
    reader = searcher.reader()
    expansions = expand(parsed, gen)
    whoosh_q, needles = build_query(parsed, expansions)
    matched = matching_docs(searcher, whoosh_q)
    out = {
        "query": parsed.text,
        "normalised": to_simplified(parsed.text).lower(),
        "parsed": {"words": parsed.words, "phrases": parsed.phrases, "excluded": parsed.excluded},
        "tokens": {w: _tokens(w, is_stop_word) for w in parsed.words},
        "runs": {w: [run[0] for run in _chunks(w)] for w in parsed.words},
        "grams": {t: [g for g, _, _ in char_grams(to_simplified(t).lower())]
                  for t in parsed.words + parsed.phrases + parsed.excluded},
        "pinyin": _pinyin_info(parsed, reader),
        "expansions": [e.to_dict() for e in expansions],
        "did_you_mean": did_you_mean(parsed, gen),
        "whoosh_query": str(whoosh_q),
        "highlight": list(dict.fromkeys(needles)),
        "matches": len(matched),
    }
    if doc_id is not None:
        docnum = searcher.document_number(id=doc_id)
        if docnum is None:
            out["document"] = {"id": doc_id, "found": False}
        else:
            out["document"] = {"id": doc_id, "found": True,
                               **_doc_report(gen, searcher, whoosh_q, parsed, docnum, matched)}
    return out
