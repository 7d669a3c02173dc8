"""Character classes: which characters are Han, said once for every stage.

``HAN`` is the body of a regular-expression character class (to compose
patterns such as ``[{HAN}]{2,8}``): the CJK Unified Ideographs, extension A,
the compatibility ideographs and the supplementary ideographic planes
(extensions B and later).  ``HAN_CHAR`` matches one such character,
``HAN_RUN`` a run of them.

``UNSPACED`` adds what is written among Han characters without spaces
between words (CJK radicals, symbols and punctuation, kana, the fullwidth
forms): where two lines of a PDF join, no space goes between such
characters.

jieba has its own, narrower class (``segment._JIEBA_HAN``): it is
jieba's, kept as jieba writes it so that blocks are cut exactly as jieba
cuts them.
"""

from __future__ import annotations

import re

HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
HAN_CHAR = re.compile(f"[{HAN}]")
HAN_RUN = re.compile(f"[{HAN}]+")

# The basic block of CJK Unified Ideographs alone.  The relevance evaluation
# cuts its literal test strings from runs of these: the sample drawn with a
# fixed seed stays the one its recorded figures were measured on.
BASIC_HAN = r"\u4e00-\u9fff"
BASIC_HAN_RUN = re.compile(f"[{BASIC_HAN}]+")

UNSPACED = HAN + r"\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\uff00-\uffef"
UNSPACED_CHAR = re.compile(f"[{UNSPACED}]")
