"""The size report adds up: every byte of the term table is in one part, and
its term counts are Whoosh's own."""

from __future__ import annotations

from collections import Counter

from whoosh import index as whoosh_index

from bench import index_size
from search.store.layout import live_generation
from search.whoosh3.sizes import term_table_bytes


def test_term_table_parts_add_up_to_the_files(seed_index):
    generation = live_generation(seed_index)
    ix = whoosh_index.open_dir(str(generation))
    with ix.reader() as reader:
        fields = term_table_bytes(reader)
        whoosh_terms = Counter(field for field, _text in reader.all_terms())
        singles = Counter(field for field, text in reader.all_terms()
                          if reader.doc_frequency(field, text) == 1)
    tables = fields.pop("(tables)")
    trm = sum(p.stat().st_size for ext in ("*.trm", "*.trb") for p in generation.glob(ext))
    entries = sum(v for parts in fields.values() for k, v in parts.items()
                  if k not in ("terms", "single", "postings"))
    assert entries + sum(tables.values()) == trm
    assert {name: parts["terms"] for name, parts in fields.items()} == dict(whoosh_terms)
    assert {name: parts["single"] for name, parts in fields.items() if parts["single"]} == \
        dict(singles)
    pst = sum(p.stat().st_size for p in generation.glob("*.pst"))
    assert sum(parts["postings"] for parts in fields.values()) == pst


def test_the_report_names_the_files_and_fields(seed_index, capsys):
    assert index_size.main([str(seed_index)]) == 0
    out = capsys.readouterr().out
    table = ("compact term table (.trb)" if list(live_generation(seed_index).glob("*.trb"))
             else "term table (.trm)")
    assert table in out and "| body |" in out and "| grams |" in out
    result = index_size.measure(str(seed_index))
    assert result["bytes"] == sum(result["files"].values())
    assert result["fields"]["body"]["bytes_per_term"] > 0
