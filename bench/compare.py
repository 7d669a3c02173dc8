"""Compare two index generations term by term: the parallel build against Whoosh's writer.

    python -m bench.compare INDEX_A INDEX_B

Checks, for every field: the terms, and per term the documents, weights and
decoded values (positions, frequencies); per document the stored fields and
field lengths; the segment's field length totals and document count.  Exits 1
and prints the first differences when the two indexes do not hold the same.
"""

from __future__ import annotations

import sys

from whoosh import index as whoosh_index

from search.store.layout import live_generation


def _open(path):
    gen = live_generation(path)
    if gen is None:
        raise SystemExit(f"no index at {path}")
    return whoosh_index.open_dir(str(gen))


def _decoded(fmt, value):
    if value is None or value == b"" or value == "":
        return None
    if fmt.supports("positions"):
        return ("positions", fmt.decode_positions(value))
    if fmt.supports("frequency"):
        return ("frequency", fmt.decode_frequency(value))
    return ("raw", value)


def postings_of(reader, schema, fieldname, btext):
    fmt = schema[fieldname].format
    m = reader.postings(fieldname, btext)
    out = []
    while m.is_active():
        out.append((m.id(), round(m.weight(), 6), _decoded(fmt, m.value())))
        m.next()
    return out


def differences(path_a, path_b, limit: int = 20) -> list[str]:
    """What differs between the two indexes (empty when they hold the same)."""
    ix_a, ix_b = _open(path_a), _open(path_b)
    diffs: list[str] = []
    with ix_a.reader() as ra, ix_b.reader() as rb:
        schema = ix_a.schema
        if ra.doc_count_all() != rb.doc_count_all():
            diffs.append(f"documents: {ra.doc_count_all()} != {rb.doc_count_all()}")
            return diffs
        names_a, names_b = sorted(ra.indexed_field_names()), sorted(rb.indexed_field_names())
        if names_a != names_b:
            diffs.append(f"indexed fields: {names_a} != {names_b}")
        for fieldname in names_a:
            if ra.field_length(fieldname) != rb.field_length(fieldname):
                diffs.append(f"{fieldname}: total length {ra.field_length(fieldname)} "
                             f"!= {rb.field_length(fieldname)}")
            terms_a = list(ra.lexicon(fieldname))
            terms_b = list(rb.lexicon(fieldname))
            if terms_a != terms_b:
                only_a = sorted(set(terms_a) - set(terms_b))[:5]
                only_b = sorted(set(terms_b) - set(terms_a))[:5]
                diffs.append(f"{fieldname}: {len(terms_a)} terms != {len(terms_b)}; "
                             f"only in A {only_a}, only in B {only_b}")
                continue
            for btext in terms_a:
                ia, ib = ra.term_info(fieldname, btext), rb.term_info(fieldname, btext)
                stats_a = (ia.weight(), ia.doc_frequency(), ia.min_length(), ia.max_length(),
                           ia.max_weight(), ia.min_id(), ia.max_id())
                stats_b = (ib.weight(), ib.doc_frequency(), ib.min_length(), ib.max_length(),
                           ib.max_weight(), ib.min_id(), ib.max_id())
                if stats_a != stats_b:
                    diffs.append(f"{fieldname}:{btext!r} term info {stats_a} != {stats_b}")
                pa = postings_of(ra, schema, fieldname, btext)
                pb = postings_of(rb, schema, fieldname, btext)
                if pa != pb:
                    diffs.append(f"{fieldname}:{btext!r} postings {pa[:3]} != {pb[:3]}")
                if len(diffs) >= limit:
                    return diffs
        for docnum in range(ra.doc_count_all()):
            sa, sb = ra.stored_fields(docnum), rb.stored_fields(docnum)
            if sa != sb:
                diffs.append(f"document {docnum}: stored {sa} != {sb}")
            for fieldname in names_a:
                la = ra.doc_field_length(docnum, fieldname)
                lb = rb.doc_field_length(docnum, fieldname)
                if la != lb:
                    diffs.append(f"document {docnum}: {fieldname} length {la} != {lb}")
            if len(diffs) >= limit:
                return diffs
        if ra.has_column("date_key") and ra.doc_count_all():
            ca, cb = ra.column_reader("date_key"), rb.column_reader("date_key")
            if list(ca) != list(cb):
                diffs.append("date_key column differs")
    return diffs


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    diffs = differences(args[0], args[1])
    for d in diffs:
        print(d)
    print("same" if not diffs else f"{len(diffs)} differences (first ones above)")
    return 0 if not diffs else 1


if __name__ == "__main__":
    raise SystemExit(main())
