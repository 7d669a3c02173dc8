"""What a document must hold to match a query fully, or in part: the query's words as concepts.

The ranked query (``search.query.build``) scores documents by words, by
character pairs and by the query's exact text; it would also let in a
document that holds only a pair of characters no word of the query has
(阳市 of 貴陽市 for a search for 洛阳市).  Concepts decide what matches:

* each word of the free text (jieba's word, stop words aside) is one
  ``Concept``, and each quoted phrase is one;
* a document **holds** a concept when it has the word (one character: as a
  word of its own, not inside others), its exact text however the document's
  words were cut, the query's stretch it was cut from exactly (几年来 holds
  来), a word the query's expansions give for it
  (another region's word: 檔案 for 文件; the Chinese word a pinyin token
  spells), or every part of it (压缩 and 文件 for 压缩文件: jieba's sub-words
  of the word that cover it end to end, each in any of its forms);
* a document **touches** a concept when it holds it or one of its sub-words
  (洛阳 of 洛阳城), or, for a word that is no dictionary word (one jieba's HMM
  guessed, 史继偕著), one of its character pairs;
* a document matches the query when it touches at least one concept (and has
  the required phrases, none of the exclusions); it is a **full** match when it
  holds every concept, a partial one otherwise.

``SearchIndex.search`` counts both (``SearchResults.total_full``) and, for a
query of at most ``FULL_FIRST_CONCEPTS`` concepts that is not a question
(``is_question``), ranks the documents holding every concept first, then
those holding one fewer, and so on, each group by score (as Meilisearch's
matching strategy and Elasticsearch's ``minimum_should_match`` do).  A question is ranked by its score alone: the passage that answers it
rarely holds every word of it (relevance-dev: ranking full matches first
loses six questions a rank or more, in both scripts, and wins three).
"""

from __future__ import annotations

from dataclasses import dataclass

from whoosh import query as wq

from ..text.script import to_simplified
from ..text.chars import HAN_RUN
from ..text.segment import char_grams, known_word, segment
from ..text.stopwords import is_stop_word
from .build import exact_query, query_grams, word_runs
from .parse import ParsedQuery, has_content

# A query of at most this many concepts, not a question, ranks documents by
# how many concepts they hold; a longer text (a pasted paragraph) by score
# alone.  regional-dev (short interface strings; MRR@10 mainland → Taiwan /
# Taiwan → mainland, before the regional weights of ``expansion``): full
# matches first, up to 4 concepts, 0.531 / 0.522; by how many are held, up to
# 4, 0.535 / 0.531; up to 10, 0.563 / 0.564; up to 20, 0.567 / 0.569.
FULL_FIRST_CONCEPTS = 16
# A token of at most this many characters is also held as its exact text (a
# longer one is a question's clause: its words' own forms decide).
STRETCH_CHARS = 12


@dataclass(frozen=True)
class Concept:
    """One word (or quoted text) of the query, and the forms a document may hold it in."""

    word: str                               # simplified, lower case
    forms: tuple[str, ...]                  # the word and the words it also stands for
    # jieba's sub-words covering the word end to end, each with its forms
    # (压缩文件: (("压缩",), ("文件", "档案"))); () when they do not cover it.
    parts: tuple[tuple[str, ...], ...] = ()
    # Every sub-word of two characters or more, with its forms: one is
    # enough for a partial match.
    pieces: tuple[str, ...] = ()
    quoted: bool = False                    # a quoted phrase: only its exact text
    # The reader's stretch of text the word was cut from, when longer: a
    # document holding that text exactly holds the word too (几年来 holds 来
    # though its words are 几年来, not 来).
    stretch: str = ""
    typed: str = ""                         # the word as the reader typed it (its script)

    def to_dict(self) -> dict:
        return {"word": self.word, "forms": list(self.forms),
                "parts": [list(p) for p in self.parts], "pieces": list(self.pieces),
                "quoted": self.quoted, "stretch": self.stretch, "typed": self.typed}


def _form_query(form: str) -> wq.Query:
    """Documents with ``form`` as a word or as exact text (title, body, tags)."""
    if len(form) == 1:
        # One character is a word of its own where the document has it so,
        # not wherever the character occurs (日 of a search for 日不 is not in
        # every 日子); the query's stretch, when it is one, finds the rest.
        return wq.Or([wq.Term(f, form) for f in ("body", "title", "meta", "grams")])
    grams = query_grams(form)
    if len(grams) == 1:
        # One pair (or one Latin word): the pairs field holds the title and
        # the body, so the word anywhere in them is that term.
        return wq.Or([wq.Term("grams", grams[0]), wq.Term("meta", form)])
    return wq.Or([wq.Term("body", form), wq.Term("title", form), wq.Term("meta", form),
                  exact_query(form)])


def holds(concept: Concept) -> wq.Query:
    """Documents holding ``concept``: one of its forms, or all of its parts."""
    if concept.quoted:
        return exact_query(concept.word)
    subs = [_form_query(f) for f in concept.forms]
    if concept.stretch:
        subs.append(exact_query(concept.stretch))
    if concept.parts:
        subs.append(wq.And([wq.Or([_form_query(f) for f in part]) if len(part) > 1
                            else _form_query(part[0]) for part in concept.parts]))
    return subs[0] if len(subs) == 1 else wq.Or(subs)


def touches(concept: Concept) -> wq.Query:
    """Documents holding ``concept`` or one of its sub-words."""
    whole = holds(concept)
    if not concept.pieces:
        return whole
    return wq.Or([whole] + [_form_query(p) for p in concept.pieces])


def admits(concepts: list[Concept]) -> wq.Query | None:
    """Documents touching at least one concept (None: no concept, as for a
    query of only exclusions)."""
    if not concepts:
        return None
    subs = [touches(c) for c in concepts if not c.quoted]
    quoted = [holds(c) for c in concepts if c.quoted]
    if quoted:
        # Quoted text is required: it is what lets a document in.
        return wq.And(quoted) if len(quoted) > 1 else quoted[0]
    return subs[0] if len(subs) == 1 else wq.Or(subs)


# What makes a text a question, read in simplified script: a question mark,
# or one of these words among its jieba words.
QUESTION_MARKS = ("?", "？")
QUESTION_WORDS = frozenset(
    "什么 哪 哪里 哪儿 哪些 哪个 哪一 哪一年 哪年 哪位 谁 如何 怎么 怎样 怎么样 为什么 为何 "
    "多少 多久 多长 多大 几 几年 几个 何时 何地 何处 何人 吗 呢 是否".split())


def is_question(text: str) -> bool:
    """Whether ``text`` is asked as a question (``QUESTION_MARKS``, ``QUESTION_WORDS``)."""
    norm = to_simplified(text).strip()
    if norm.endswith(QUESTION_MARKS):
        return True
    return any(w in QUESTION_WORDS for w, _s, _e, _sub in segment(norm.lower()))


def full_first(parsed: ParsedQuery, concepts: list[Concept]) -> bool:
    """Whether full matches rank above partial ones: a query of a few words
    (at most ``FULL_FIRST_CONCEPTS``, or one with parts), not a question."""
    if not concepts or len(concepts) > FULL_FIRST_CONCEPTS:
        return False
    if len(concepts) == 1 and not concepts[0].pieces:
        return False            # every match holds it: nothing to put first
    return not is_question(" ".join(parsed.words))


def needles_for(text: str, concepts: list[Concept]) -> list[str]:
    """What else to mark in ``text`` (simplified, lower case) beside the
    plan's needles: the parts and sub-words of each concept it does not hold
    whole, so a document holding 压缩 and 文件 apart, or only 文件, shows them
    (one holding 压缩文件 is marked there, not at every 文件)."""
    out: list[str] = []
    for c in concepts:
        if c.quoted or any(f in text for f in c.forms) or (c.stretch and c.stretch in text):
            continue
        out += [f for part in c.parts for f in part] + list(c.pieces)
    return list(dict.fromkeys(out))


def missing_words(lacking: list[Concept], text: str, simplified: str | None = None) -> list[str]:
    """The query's words, as the reader typed them, that a document whose
    title and body are ``text`` lacks, of the concepts it does not hold: a
    word it holds some parts of is named by the parts it lacks (压缩 of
    压缩文件, for a document with 文件); ``simplified``: ``to_simplified(text)``,
    when the caller has it."""
    norm = (to_simplified(text) if simplified is None else simplified).lower()
    out: list[str] = []
    for c in lacking:
        typed = c.typed or c.word
        gone = [p for p in c.parts if not any(f in norm for f in p)]
        if not gone or len(gone) == len(c.parts) or len(typed) != len(c.word):
            out.append(typed)
            continue
        for part in gone:
            at = c.word.find(part[0])
            out.append(typed[at:at + len(part[0])] if at >= 0 else part[0])
    return list(dict.fromkeys(out))


def _expanded(expansions) -> list[tuple[str, list[str]]]:
    return [(to_simplified(e.source).lower(), list(e.words)) for e in expansions]


def _forms_of(text: str, token: str, expansions: list[tuple[str, list[str]]]) -> tuple[str, ...]:
    """``text`` (a word of the query's ``token``) and the words the
    expansions give for a source covering it: a source of this token holding
    it, or a source of several tokens (``luo yang``) one of which it is."""
    forms = [text]
    for source, words in expansions:
        if text in source.split() or (text in source and source in token):
            forms += words
    return tuple(dict.fromkeys(forms))


def _cover(word: str, subs: list[tuple[str, int, int]]) -> list[str] | None:
    """Sub-words covering ``word`` end to end, longest first at each step."""
    by_start: dict[int, list[tuple[int, str]]] = {}
    for text, start, end in subs:
        by_start.setdefault(start, []).append((end, text))
    path, pos = [], 0
    while pos < len(word):
        options = sorted(by_start.get(pos, []), reverse=True)
        if not options:
            return None
        end, text = options[0]
        path.append(text)
        pos = end
    return path if len(path) > 1 else None


def _word_concept(word: str, token: str, expansions, stretch: str, typed: str) -> Concept:
    pieces = segment(word)
    subs = [(w, s, e) for w, s, e, is_sub in pieces if is_sub and len(w) > 1 and w != word]
    if len(word) > 2 and not subs and not known_word(word) and HAN_RUN.fullmatch(word):
        # A word the HMM guessed: its character pairs are as good as its words.
        subs = char_grams(word)
    cover = _cover(word, subs) if len(word) > 2 else None
    parts = tuple(_forms_of(p, token, expansions) for p in cover) if cover else ()
    piece_forms = tuple(dict.fromkeys(f for w, _s, _e in subs
                                      for f in _forms_of(w, token, expansions)))
    return Concept(word, _forms_of(word, token, expansions), parts, piece_forms,
                   stretch=stretch if stretch != word else "", typed=typed)


def concepts_of(parsed: ParsedQuery, expansions=()) -> list[Concept]:
    """The concepts of a parsed query, in query order (see the module)."""
    expanded = _expanded(expansions)
    out: list[Concept] = []
    seen: set[str] = set()
    for text in parsed.words:
        norm = to_simplified(text).lower()
        runs = word_runs(text)
        if runs:
            words = [w for run in runs for w in run[1:] if not is_stop_word(w)]
        else:
            # Only stop words: they are what is searched, so they are the concepts.
            words = [w for w, _s, _e, sub in segment(norm) if not sub]
        # The token as typed, when it is one stretch of text (no punctuation
        # or spaces inside): its exact text is one way to hold its words.
        stretch = norm if len(norm) <= STRETCH_CHARS and has_content(norm) and norm.isalnum() else ""
        for word in words:
            if word and word not in seen:
                seen.add(word)
                # Simplifying keeps offsets: the reader's own form is the same slice.
                at = norm.find(word)
                typed = text[at:at + len(word)] if at >= 0 else word
                out.append(_word_concept(word, norm, expanded, stretch, typed))
    for phrase in parsed.phrases:
        norm = to_simplified(phrase).lower()
        if norm not in seen:
            seen.add(norm)
            out.append(Concept(norm, (norm,), quoted=True, typed=phrase))
    return out
