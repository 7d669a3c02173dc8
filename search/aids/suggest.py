"""Suggestions: "did you mean" for homophone typos, and completions as the reader types.

``did_you_mean(parsed, gen)``
    Input methods pick a character of the right sound and the wrong meaning:
    落阳 for 洛阳, 牡丹将 for 牡丹江.  In a short query (Han runs of at most
    ``MAX_RUN`` characters, ``MAX_HAN`` in all: words typed into the box, not
    a long question, whose every odd stretch would look like a typo), each
    suspicious stretch (two to ``MAX_SPAN`` characters that jieba could only
    cut into single characters, or a word the index does not have; never a
    word common in jieba's dictionary: 优点 is no typo where the index lacks
    it) found in
    at most ``1/RATIO`` as many documents as a word of the index that reads
    the same (toneless pinyin, in context; at most half its characters
    different) is replaced by that word, and the query so corrected is
    offered.  Only offered: the reader clicks it; the query that was typed is
    what was searched.  Quoted phrases are corrected too, exclusions are not.
    The candidates come from the vocabulary (``search.store.vocabulary``), one
    look-up per stretch; in a large index nothing is offered until the
    vocabulary, built in the background on first need, is ready.  A Latin
    word that spells no word of the index and is not in it as typed is read
    as pinyin with slips (``search.aids.readings``: ``luoyng``, ``louyang``,
    ``mudanjang``) and the word it reads offered (洛阳, 牡丹江); initials
    (``mdj``) are not corrected.

``complete(gen, text)``
    Completions of what is being typed, from the index's own vocabulary and
    titles (``search.store.vocabulary``): the last token of ``text`` is completed
    (``静夜`` → 静夜思, ``春`` → 春风), by pinyin (``luoy`` → 洛阳, ``mdj`` →
    牡丹江, ``牡丹j`` → 牡丹江), pinyin with a slip when it spells nothing
    (``luoyng`` → 洛阳: ``search.aids.readings``), shown in the script it was
    typed in (``電`` → 電腦, ``电`` → 电脑; the characters typed kept as
    typed: 陸游, not 陸遊).  Each completion is a dict ``{"text", "kind",
    "count"}``: ``kind`` is ``"name"`` (a stored facet value: an author, a
    city), ``"word"``, ``"fragment"`` (a run of characters that is no word
    of the dictionary), ``"title"``; a name typed in full is offered first,
    as itself.  ``count`` is approximate: the documents with the word in the
    body plus those with it in the title (and as a facet value), for a title
    the documents carrying it.  Names and words come before fragments
    (陆游 before 陆游人).  In a large index the vocabulary is built in the
    background on the first call; until it is ready, the answer is empty
    rather than slow.
"""

from __future__ import annotations

import re
from itertools import islice, product

from whoosh import query as wq

from ..query.expansion import in_index, mixed_candidates, mixed_parts
from ..query.parse import QUERY_TOKEN
from ..store.vocabulary import SMALL_INDEX, titles, vocabulary
from ..text import pinyin, variants
from ..text.chars import HAN_RUN
from ..text.script import to_simplified, to_traditional
from ..text.segment import load_jieba, segment
from ..text.stopwords import is_stop_word
from .readings import corrections, read

MAX_SPAN = 4
# Corrections are offered for short queries: a few words typed into the box,
# not a long question (whose every odd stretch would look like a typo).
MAX_RUN = 6
MAX_HAN = 12
RATIO = 20
CANDIDATES = 20
# A stretch that is a word this common in jieba's dictionary is no typo.
COMMON_WORD = 50
READINGS = 8            # readings of a stretch tried, the one in context first
SUGGEST_LIMIT = 8
MAX_SUGGEST_CHARS = 100
# Seconds a keystroke waits for a vocabulary still being built (large index).
KEYSTROKE_WAIT = 0.03



# ---------------------------------------------------------------------------
# Did you mean


def _word_frequency(reader, word: str) -> int:
    return reader.doc_frequency("body", word) + reader.doc_frequency("title", word)


def _literal_count(searcher, text: str) -> int:
    """Documents holding ``text`` (simplified Han) literally."""
    reader = searcher.reader()
    grams = [text[i:i + 2] for i in range(len(text) - 1)]
    upper = min(reader.doc_frequency("grams", g) for g in grams)
    if upper == 0 or len(grams) == 1:
        return upper
    return sum(1 for _ in searcher.docs_for_query(wq.Phrase("grams", grams)))


def homophone(searcher, vocab, span: str) -> str | None:
    """The commonest index word read like ``span``, differing in at most half its
    characters (at least one shared), if it is ``RATIO`` times commoner."""
    if variants.equivalents(span):
        return None     # another region's word (网路): not a typo
    syl = pinyin.word_syllables(span)
    if len(syl) != len(span):
        return None
    best = None
    # The typed characters' reading in context first (落阳 is luo yang), then
    # their other readings: 重晴 was typed as chong qing for 重庆.
    readings = [(r,) + tuple(x for x in pinyin.char_readings(c) if x != r) for c, r in zip(span, syl)]
    for reading in islice(product(*readings), READINGS):
        for cand in vocab.by_pinyin("".join(reading), limit=CANDIDATES):
            # Commonest first; a candidate is read as a word, in context (重庆 is chong qing).
            if len(cand) != len(span) or cand == span or pinyin.word_syllables(cand) != reading:
                continue
            differ = sum(a != b for a, b in zip(cand, span))
            if differ <= max(1, len(span) // 2):
                best = cand
                break
        if best is not None:
            break
    if best is None:
        return None
    literal = _literal_count(searcher, span)
    if literal and vocab.frequency(best) < RATIO * literal:
        return None
    return best


def _dictionary() -> dict[str, int]:
    """jieba's dictionary: word → frequency in its general corpus."""
    import jieba

    load_jieba()
    return jieba.dt.FREQ


def _suspicious_spans(reader, norm: str, is_stop_word) -> list[tuple[int, int]]:
    """Stretches of a Han run that may be a mistyped word, longest first."""
    words = [(w, s, e) for w, s, e, sub in segment(norm) if not sub]
    common = _dictionary()
    spans = []
    for a in range(len(words)):
        for b in range(a, len(words)):
            start, end = words[a][1], words[b][2]
            if end - start > MAX_SPAN:
                break
            if end - start < 2:
                continue
            chunk = words[a:b + 1]
            if all(is_stop_word(w) for w, _, _ in chunk):
                continue
            if common.get(norm[start:end], 0) >= COMMON_WORD:
                continue        # a word of the language (优点, 多长), if not of this index
            broken = any(e - s == 1 for _, s, e in chunk)
            if broken or (a == b and _word_frequency(reader, chunk[0][0]) == 0):
                spans.append((start, end))
    spans.sort(key=lambda se: (se[0] - se[1], se[0]))
    return spans


def _vocabulary(gen):

    # A large index's vocabulary is built in the background, and only once a
    # query has something to correct: no suggestion until it is ready,
    # rather than a slow answer.
    return vocabulary(gen, timeout=None if gen.doc_count <= SMALL_INDEX else 0)


def did_you_mean(parsed, gen) -> str | None:
    """The query with homophone typos corrected, or None (see the module)."""
    text = parsed.text
    runs = HAN_RUN.findall(text)
    if runs and (sum(map(len, runs)) > MAX_HAN or max(map(len, runs)) > MAX_RUN):
        return None
    changes = _pinyin_slips(text, gen)
    if changes is None:
        return None
    searcher = gen.searcher()
    reader = searcher.reader()
    vocab = None
    for m in QUERY_TOKEN.finditer(text if runs else ""):
        if m.group(2):
            if m.group(1):
                continue
            offset, body = m.start(3), m.group(3)
        else:
            if m.group(4):
                continue
            offset, body = m.start(5), m.group(5)
        for run in HAN_RUN.finditer(body):
            original = run.group(0)
            norm = to_simplified(original)
            if len(norm) < 2:
                continue
            taken: list[tuple[int, int]] = []
            for start, end in _suspicious_spans(reader, norm, is_stop_word):
                if any(start < e and s < end for s, e in taken):
                    continue
                if vocab is None:
                    vocab = _vocabulary(gen)
                    if vocab is None:
                        return None
                fixed = homophone(searcher, vocab, norm[start:end])
                if fixed is None:
                    continue
                taken.append((start, end))
                typed = original[start:end]
                if to_simplified(typed) != typed:
                    fixed = to_traditional(fixed)
                at = offset + run.start() + start
                changes.append((at, at + (end - start), fixed))
    if not changes:
        return None
    out = text
    for start, end, fixed in sorted(changes, reverse=True):
        out = out[:start] + fixed + out[end:]
    return out if out != text else None


MAX_LATIN_TOKENS = 6


def _pinyin_slips(text: str, gen) -> list[tuple[int, int, str]] | None:
    """Corrections of the free Latin words of a short query read as pinyin
    with slips: ``[(start, end, word)]``; None while a large index's
    vocabulary is still being built."""
    tokens = [m for m in QUERY_TOKEN.finditer(text) if not m.group(2)]
    if len(tokens) > MAX_LATIN_TOKENS:
        return []
    keyed = [(m, pinyin.latin_key(m.group(5))) for m in tokens if not m.group(4)]
    keyed = [(m, key) for m, key in keyed if key]
    if not keyed:
        return []
    reader = gen.searcher().reader()
    keyed = [(m, key) for m, key in keyed if not in_index(reader, m.group(5))]
    if not keyed:
        return []
    vocab = _vocabulary(gen)
    if vocab is None:
        return None
    out = []
    for m, key in keyed:
        best = corrections(vocab, key)
        if best is not None:
            out.append((m.start(5), m.end(5), best.word))
    return out


# ---------------------------------------------------------------------------
# Completions


def script_of(text: str) -> str | None:
    """``"trad"``, ``"simp"`` or None (text the same in both scripts)."""
    if to_simplified(text) != text:
        return "trad"
    if to_traditional(text) != text:
        return "simp"
    return None


def _in_script(text: str, script: str | None) -> str:
    if script == "trad":
        return to_traditional(text)
    if script == "simp":
        return to_simplified(text)
    return text


def complete(gen, text: str, limit: int = SUGGEST_LIMIT) -> list[dict]:
    """Completions of ``text`` (its last token completed), best first, as
    ``{"text", "kind", "count"}`` (see the module)."""
    if not isinstance(text, str):
        return []
    text = text.replace("\x00", "").lstrip()
    if not text or len(text) > MAX_SUGGEST_CHARS or text[-1].isspace():
        return []
    limit = max(1, min(int(limit), 20))
    cut = max(text.rfind(" "), text.rfind("\u3000")) + 1
    head, tail = text[:cut], text[cut:]
    lead = re.match(r"""-?["“「『]?""", tail).group(0)
    head, tail = head + lead, tail[len(lead):]
    if not tail:
        return []
    wait = None if gen.doc_count <= SMALL_INDEX else KEYSTROKE_WAIT
    vocab = vocabulary(gen, timeout=wait)
    if vocab is None:
        return []
    found: list[str] = []
    if pinyin.latin_key(tail) is not None or re.fullmatch(r"[A-Za-z0-9.\-]+", tail):
        script = script_of(head) or "simp"
        # Pinyin typed with spaces (luo y, hujiao z): the trailing pinyin
        # tokens are read together, the longest reading that finds words first.
        tokens = list(re.finditer(r"\S+", head))
        keys = []
        for m in reversed(tokens[-3:]):
            key = pinyin.latin_key(m.group(0))
            if key is None or pinyin.syllables(key) is None:
                break
            keys.insert(0, (m.start(), key))
        tail_key = pinyin.latin_key(tail)
        for k in range(len(keys), 0, -1):
            if tail_key is None:
                break
            joined = "".join(key for _, key in keys[-k:]) + tail_key
            if pinyin.prefix_syllables(joined) or k == len(keys):
                found = _pinyin_words(vocab, joined, limit)
            if found:
                start = keys[-k][0]
                head, tail = head[:start], head[start:] + tail
                break
        if not found:
            found = _complete_latin(vocab, tail, limit)
    elif pinyin.has_han(tail) and re.search(r"[A-Za-z]", tail):
        found = _complete_mixed(vocab, tail, limit)
        script = script_of(tail) or script_of(head) or "simp"
    else:
        script = script_of(tail) or script_of(head)
        norm = to_simplified(tail).lower()
        found = _complete_han(vocab, titles(gen, timeout=wait), tail, limit)
        if vocab.kind(norm) == "name":
            # A name typed in full (陸游): offered as itself, first.
            found = [(tail, "typed", vocab.frequency(norm))] + found
        if not found and not vocab.frequency(norm):
            # 李白静夜: complete the end of a run typed without spaces.
            norm = to_simplified(tail)
            for k in range(min(4, len(norm) - 1), 0, -1):
                found = _complete_han(vocab, None, tail[-k:], limit, min_extra=1)
                if found:
                    head, tail = head + tail[:-k], tail[-k:]
                    break
    out: list[dict] = []
    seen = set()
    typed = (head + tail).lower()
    for entry in found:
        if isinstance(entry, tuple):
            word, kind, count = entry
        else:
            word, kind, count = entry, vocab.kind(entry) or "word", vocab.frequency(entry)
        if kind == "typed":
            shown, kind = head + word, "name"
        else:
            shown = head + _keep_typed(_in_script(word, script), tail)
            if shown.lower() == typed:
                continue
        if shown not in seen:
            seen.add(shown)
            out.append({"text": shown, "kind": kind, "count": int(count)})
        if len(out) == limit:
            break
    return out


def _keep_typed(shown: str, tail: str) -> str:
    """``shown`` with the Han characters the reader typed kept as typed: the
    script conversion of a whole word may write them otherwise (陆游 as 陸遊)."""
    n = len(tail)
    if pinyin.has_han(tail) and len(shown) >= n and to_simplified(shown[:n]) == to_simplified(tail):
        return tail + shown[n:]
    return shown


def _complete_latin(vocab, tail: str, limit: int) -> list[str]:
    lower = tail.lower()
    out = [w for w in vocab.with_prefix(lower, limit) if w != lower]
    key = pinyin.latin_key(tail)
    if key and len(key) >= 2:
        if pinyin.is_initials(key):
            out += vocab.by_initials(key, limit)
            out += vocab.by_initials(key, limit, prefix=True)
        else:
            out += _pinyin_words(vocab, key, limit)
    return list(dict.fromkeys(out))


def _pinyin_words(vocab, key: str, limit: int) -> list[str]:
    """Words read ``key``, and those it starts; with a slip (``search.aids.readings``)
    where it spells nothing, or where a word one slip away is far commoner than
    the word it spells (``guxian`` is 古县 exactly, but 故乡 is meant)."""
    exact, starting = [], []
    if pinyin.prefix_syllables(key):
        exact = vocab.by_pinyin(key, limit)
        starting = vocab.by_pinyin(key, limit, prefix=True)
    near = []
    if pinyin.syllables(key) is not None or not (exact or starting):
        near = [r.word for r in read(vocab, key, limit)]
    return list(dict.fromkeys(near + exact + starting))


def _complete_mixed(vocab, tail: str, limit: int) -> list[str]:
    parts = mixed_parts(tail, last_may_be_partial=True)
    if not parts:
        return []
    return mixed_candidates(vocab, parts, partial_last=True, limit=limit)


def _complete_han(vocab, titles, tail: str, limit: int, min_extra: int = 1) -> list:
    norm = to_simplified(tail).lower()
    words = [w for w in vocab.with_prefix(norm, limit + 1) if len(w) >= len(norm) + min_extra]
    shown_titles = []
    if titles is not None:
        shown_titles = [(t, "title", n) for t, n in titles.with_prefix(norm, limit)
                        if len(t) > len(norm) and to_simplified(t).lower() not in words]
    # Words first, with room kept for a few whole titles.
    room = min(len(shown_titles), max(limit // 3, limit - len(words)))
    return words[:max(0, limit - room)] + shown_titles[:room]
