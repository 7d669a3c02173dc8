"""Reading aids beside the results: completions and "did you mean"
(``suggest``), related documents (``related``), and why a document matches
(``explain``).  Imports the stages before it.
"""
