"""Whoosh analyzers over the project's segmentation: the words and the
character bigrams of the schema's text fields, with the offsets of the
original text (conversion to simplified script keeps one character for one)."""

from __future__ import annotations

import sys

from whoosh.analysis import CompositeAnalyzer, LowercaseFilter, Token, Tokenizer

from ..text.script import to_simplified
from ..text.segment import (
    gram_positions_compact,
    iter_char_grams,
    iter_segment,
    word_positions_compact,
)


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
        return iter_segment(normalised)

    def __eq__(self, other):
        return type(self) is type(other)


class GramTokenizer(_OffsetTokenizer):
    """Character bigrams of the simplified text, offsets into the original."""

    def _pieces(self, normalised):
        return ((t, s, e, False) for t, s, e in iter_char_grams(normalised))

    def __eq__(self, other):
        return type(self) is type(other)


# Whoosh pickles the schema, and these tokenizers with it by module path, into
# every index's table of contents.  Every index ever built names them
# ``search.analysis``, the module they were first defined in; that name stays
# theirs (an alias of this module), so that moving code never makes an index
# unreadable.
PICKLED_AS = "search.analysis"
sys.modules.setdefault(PICKLED_AS, sys.modules[__name__])
for _tokenizer in (_OffsetTokenizer, WordTokenizer, GramTokenizer):
    _tokenizer.__module__ = PICKLED_AS


def word_analyzer():
    return WordTokenizer() | LowercaseFilter()


def gram_analyzer():
    return GramTokenizer() | LowercaseFilter()


def fast_positions(analyzer):
    """``word_positions`` or ``gram_positions`` (compact: see there) when
    ``analyzer`` is one of ours, else None."""
    if not isinstance(analyzer, CompositeAnalyzer) or len(analyzer.items) != 2:
        return None
    tokenizer, lower = analyzer.items
    if type(lower) is not LowercaseFilter:
        return None
    if type(tokenizer) is WordTokenizer:
        return word_positions_compact
    if type(tokenizer) is GramTokenizer:
        return gram_positions_compact
    return None
