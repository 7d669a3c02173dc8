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
GRAM_BOOST = 2.0        # character bigrams: back up words jieba split differently,
                        # and match alike whichever script the query was typed in
PHRASE_BOOST = 0.5      # the reader's contiguous text, exactly
EXACT_QUERY_BOOST = 20.0 # a short query's exact text: literal matches first
# The short query's exact text in the other region's words (資料 → 数据), at
# this share of the exact text's boost: 0.5 gave MRR@10 0.643/0.649 across
# regions, 0.8 0.654/0.659; at 1.0 a translation ties the literal text and
# the order among them falls to chance.
TRANSLATED_SHARE = 0.8
SHORT_QUERY_CHARS = 6    # "short": a query of one stretch of at most this many characters
PROXIMITY_BOOST = 0.5   # two neighbouring query words near each other in the body
                        # (the phrase scores both words again: half of that is enough)
PROXIMITY_SLOP = 8      # "near": within this many words

# BM25 saturation and length normalisation.  Passages and poems are short and
# similar in length, so length matters less than in the textbook defaults.
K1 = 0.9
B = 0.4
# Bigrams saturate sooner: a passage about the topic repeats its bigrams, and
# covering more of the query's distinct bigrams should count more than
# repeating a few of them.
FIELD_K1 = {"grams": 0.6}


class MixedScriptBM25F(scoring.BM25F):
    """Whoosh's BM25F with the usual (Lucene/Robertson) IDF and per-field K1.

    Whoosh's own IDF, ``log(N / (df + 1)) + 1``, never falls below 1, so a
    word found in every document still counts; the probabilistic IDF lets
    such words fade, which matters when people type whole questions.
    """

    def __init__(self, B=0.75, K1=1.2, **kwargs):
        super().__init__(B=B, K1=K1, **kwargs)
        # Per-field K1 (``grams_K1=0.6``), as BM25F already allows per-field B.
        self._field_K1 = {k[:-3]: v for k, v in kwargs.items() if k.endswith("_K1")}

    def scorer(self, searcher, fieldname, text, qf=1):
        if not searcher.schema[fieldname].scorable:
            return scoring.WeightScorer.for_(searcher, fieldname, text)
        B = self._field_B.get(fieldname, self.B)
        K1 = self._field_K1.get(fieldname, self.K1)
        return scoring.BM25FScorer(searcher, fieldname, text, B, K1, qf=qf)

    def cache_key(self) -> tuple:
        """Everything a term's score depends on here besides the index: terms'
        scores are kept across queries under it (``search.rank.fastrank``)."""
        return (self.B, self.K1, tuple(sorted(self._field_B.items())),
                tuple(sorted(self._field_K1.items())))

    def idf(self, searcher, fieldname, text):
        df = searcher.doc_frequency(fieldname, text)
        n = searcher.doc_count_all()
        return math.log(1 + (n - df + 0.5) / (df + 0.5))


def weighting() -> scoring.WeightingModel:
    return MixedScriptBM25F(B=B, K1=K1, **{f"{name}_K1": k1 for name, k1 in FIELD_K1.items()})
