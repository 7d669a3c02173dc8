"""Related documents: "more like this" over a document's key words.

The document's words (title and body, jieba words of the simplified text,
stop words and numbers left out) are weighted by TF-IDF against the index
(``(1 + log tf) · idf``, the same probabilistic IDF as the ranking; words of
one character count half, as they say less on their own); the top
``KEY_TERMS`` words that some other document also has become a ranked OR
query over the body and title, each word boosted by its weight, and the
best-scoring documents other than the document itself are returned.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from whoosh import query as wq

from ..store import scoring as ranking
from ..text.chars import HAN
from ..text.script import to_simplified
from ..text.segment import segment
from ..text.stopwords import is_stop_word

KEY_TERMS = 12
MAX_CHARS = 20_000          # of a long document, its beginning says what it is about
_WORDLIKE = re.compile(rf"[{HAN}]+|[a-z][a-z\-]{{2,}}")


def key_terms(searcher, text: str, count: int = KEY_TERMS) -> list[tuple[str, float]]:
    """The ``count`` most telling words of ``text`` for this index, with their weights."""
    reader = searcher.reader()
    n = max(1, reader.doc_count_all())
    tf = Counter(w.lower() for w, _s, _e, sub in segment(to_simplified(text[:MAX_CHARS]))
                 if not sub and _WORDLIKE.fullmatch(w.lower()) and not is_stop_word(w))
    weights = {}
    for word, count_in_doc in tf.items():
        df = reader.doc_frequency("body", word)
        if df < 2:          # only this document has it: it relates to nothing
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        weight = (1 + math.log(count_in_doc)) * idf * (0.5 if len(word) == 1 else 1.0)
        if weight > 0:
            weights[word] = weight
    return sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:count]


def related(gen, doc_id: str, limit: int = 5) -> list[dict] | None:
    """``[{"id", "title", "score", "shared"}]`` of documents like ``doc_id``; None if unknown."""
    searcher = gen.searcher()
    docnum = searcher.document_number(id=doc_id)
    if docnum is None:
        return None
    stored = searcher.stored_fields(docnum)
    terms = key_terms(searcher, f"{stored.get('title', '')}\n{stored.get('body', '')}")
    if not terms:
        return []
    top = terms[0][1]
    parts = []
    for word, weight in terms:
        boost = weight / top
        parts += [wq.Term("body", word, boost=boost),
                  wq.Term("title", word, boost=boost * ranking.TITLE_BOOST)]
    results = searcher.search(wq.Or(parts), limit=limit + 1)
    out = []
    reader = searcher.reader()
    for hit in results:
        if hit.docnum == docnum:
            continue
        fields = hit.fields()
        shared = [w for w, _ in terms
                  if ("body", w) in reader and _has(reader, hit.docnum, w)]
        out.append({"id": fields["id"], "title": fields.get("title", ""),
                    "score": round(hit.score, 4), "shared": shared[:6]})
        if len(out) == limit:
            break
    return out


def _has(reader, docnum: int, word: str) -> bool:
    for field in ("body", "title"):
        if (field, word) not in reader:
            continue
        postings = reader.postings(field, word)
        postings.skip_to(docnum)
        if postings.is_active() and postings.id() == docnum:
            return True
    return False
