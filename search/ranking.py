"""Ranking: the BM25F weighting and the weights of the parts of a query.

The numbers here were chosen on the relevance-dev collection with
``make eval`` (see the README's relevance section for each step's effect);
they are properties of the method, not of particular questions.
"""

from __future__ import annotations

import math

from whoosh import scoring

# Weights of the parts of a ranked query, relative to a body word.
TITLE_BOOST = 1.0       # title words (the title is also in the bigram field)
META_BOOST = 0.5        # author, tags and other metadata words
GRAM_BOOST = 1.0        # character bigrams: back up words jieba split differently
PHRASE_BOOST = 0.5      # the reader's contiguous text, exactly
EXACT_QUERY_BOOST = 20.0 # a short query's exact text: literal matches first
SHORT_QUERY_CHARS = 6    # "short": a query of one stretch of at most this many characters
PROXIMITY_BOOST = 1.0   # two neighbouring query words near each other in the body
PROXIMITY_SLOP = 8      # "near": within this many words

# BM25 saturation and length normalisation.  Passages and poems are short and
# similar in length, so length matters less than in the textbook defaults.
K1 = 0.9
B = 0.4


class MixedScriptBM25F(scoring.BM25F):
    """Whoosh's BM25F with the usual (Lucene/Robertson) IDF.

    Whoosh's own IDF, ``log(N / (df + 1)) + 1``, never falls below 1, so a
    word found in every document still counts; the probabilistic IDF lets
    such words fade, which matters when people type whole questions.
    """

    def idf(self, searcher, fieldname, text):
        df = searcher.doc_frequency(fieldname, text)
        n = searcher.doc_count_all()
        return math.log(1 + (n - df + 0.5) / (df + 0.5))


def weighting() -> scoring.WeightingModel:
    return MixedScriptBM25F(B=B, K1=K1)
