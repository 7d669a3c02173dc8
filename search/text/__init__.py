"""Text, before any document or index: the first stage of both paths.

Owns what the engine knows about Chinese text itself: character classes
(``chars``), conversion between scripts (``script``: OpenCC, one character
for one), segmentation into jieba's words and character bigrams
(``segment``), the question and function words the ranking ignores
(``stopwords``), pinyin readings (``pinyin``) and other regions' words for the
same thing (``variants``).  Imports nothing else of the project.
"""
