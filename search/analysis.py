"""Text analysis: the Whoosh analyzers shared by indexing, querying and highlighting.

Two composable tokenizers, both reading the ORIGINAL text and reporting offsets
into it, so highlights land on the document's own script:

* ``WordTokenizer``: OpenCC ``t2s`` normalisation, then jieba segmentation.  Each
  word gets its own position; the shorter dictionary words inside a long word
  (jieba's search mode) share the long word's position, so they add recall
  without breaking the order of words.
* ``GramTokenizer``: overlapping character bigrams of every Han run (a lone Han
  character stands for itself) and whole Latin/digit words, at consecutive
  positions.  A phrase query over bigrams matches exactly the contiguous text
  typed, whatever jieba would have made of it.

jieba's dictionary is loaded once per process, with the project's user
dictionary (``search/data/userdict.txt``) and any file named by the
``SEARCH_USER_DICT`` environment variable.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

import jieba
from whoosh.analysis import LowercaseFilter, Token, Tokenizer

from .script import to_simplified

USER_DICT = Path(__file__).with_name("data") / "userdict.txt"

# jieba reports its dictionary loading on stderr at INFO; that is noise here.
jieba.setLogLevel(logging.WARNING)
_jieba_lock = threading.Lock()
_jieba_ready = False

# A token is a run of Han characters, or of letters/digits (with inner . or -
# so "3.5" and "COVID-19" stay whole).  Everything else separates tokens.
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_WORD = rf"[^\W_{_HAN}]"
_RUNS = re.compile(rf"([{_HAN}]+)|({_WORD}+(?:[.\-]{_WORD}+)*)")


def load_jieba() -> None:
    """Initialise jieba once, with the project's and the user's dictionaries."""
    global _jieba_ready
    if _jieba_ready:
        return
    with _jieba_lock:
        if _jieba_ready:
            return
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        jieba.load_userdict(str(USER_DICT))
        extra = os.environ.get("SEARCH_USER_DICT")
        if extra:
            jieba.load_userdict(extra)
        _jieba_ready = True


def segment(normalised: str) -> list[tuple[str, int, int, bool]]:
    """Segment simplified text into ``(word, start, end, is_subword)``.

    Sub-words are the dictionary words of two and three characters inside a
    longer word, exactly as jieba's search mode finds them.  Non-word runs
    (spaces, punctuation) are dropped.
    """
    load_jieba()
    freq = jieba.dt.FREQ
    out = []
    for match in _RUNS.finditer(normalised):
        start = match.start()
        if match.group(2):
            out.append((match.group(0), start, match.end(), False))
            continue
        for word, ws, we in jieba.tokenize(match.group(0), HMM=True):
            ws += start
            we += start
            if len(word) > 2:
                for n in (2, 3):
                    if len(word) <= n:
                        continue
                    for i in range(len(word) - n + 1):
                        gram = word[i:i + n]
                        if freq.get(gram):
                            out.append((gram, ws + i, ws + i + n, True))
            out.append((word, ws, we, False))
    return out


def char_grams(normalised: str) -> list[tuple[str, int, int]]:
    """Overlapping Han bigrams and whole Latin/digit words, in order."""
    out = []
    for match in _RUNS.finditer(normalised):
        start, run = match.start(), match.group(0)
        if match.group(2) or len(run) == 1:
            out.append((run, start, match.end()))
        else:
            for i in range(len(run) - 1):
                out.append((run[i:i + 2], start + i, start + i + 2))
    return out


class _OffsetTokenizer(Tokenizer):
    """Shared plumbing: normalise, split, and yield Whoosh tokens."""

    def _pieces(self, normalised):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        normalised = to_simplified(value)
        pos = start_pos - 1
        for text, start, end, shares_position in self._pieces(normalised):
            if not shares_position:
                pos += 1
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                # A sub-word comes before its long word; it takes the long
                # word's position, which is the next one.
                token.pos = pos + 1 if shares_position else pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class WordTokenizer(_OffsetTokenizer):
    """jieba words of the simplified text, offsets into the original."""

    def _pieces(self, normalised):
        return segment(normalised)

    def __eq__(self, other):
        return type(self) is type(other)


class GramTokenizer(_OffsetTokenizer):
    """Character bigrams of the simplified text, offsets into the original."""

    def _pieces(self, normalised):
        return ((t, s, e, False) for t, s, e in char_grams(normalised))

    def __eq__(self, other):
        return type(self) is type(other)


def word_analyzer():
    return WordTokenizer() | LowercaseFilter()


def gram_analyzer():
    return GramTokenizer() | LowercaseFilter()
