"""A live index answers as a full build of the same documents would.

After any sequence of adds, replaces and deletes, in changes of a few
documents each, the same documents match with the same facet counts and
snippets as in a fresh full build of the final set; merged into one
segment, the same scores and order, bit for bit (the full build reading the
documents in the merged index's order, since ties are ordered by document).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from search import DocumentRejected, IndexWriter, WriterBusy, build_index, open_index
from search.store import layout, merging
from tests.synthetic import records

QUERIES = ["洛阳", "牡丹", "上海 北京", "城市", "发展", "經濟", "文化 -上海", "\"人民\"", "luoyang",
           "中国", "广州", "洛陽 牡丹", "会议", "学生", "", "的"]
FILTERS = [{}, {"city": "洛阳"}, {"year": "2015"}]


def _final_records(n_start=120, steps=14, seed=3):
    """A start set, and a sequence of changes (lists of ("add"|"replace"|"delete", record|id))."""
    rng = random.Random(seed)
    start = records(n_start, seed=11, tag="s")
    pool = records(200, seed=12, tag="n")
    current = {r["id"]: r for r in start}
    changes = []
    fresh = iter(pool)
    for step in range(steps):
        ops = []
        for _ in range(rng.randint(1, 12)):
            kind = rng.choice(["add", "add", "replace", "delete"])
            if kind == "add":
                rec = next(fresh)
                current[rec["id"]] = rec
                ops.append(("add", rec))
            elif kind == "replace" and current:
                doc_id = rng.choice(sorted(current))
                donor = rng.choice(pool)
                rec = dict(donor, id=doc_id, title=donor["title"] + "（修订）")
                current[doc_id] = rec
                ops.append(("replace", rec))
            elif current:
                doc_id = rng.choice(sorted(current))
                del current[doc_id]
                ops.append(("delete", doc_id))
        changes.append(ops)
    return start, changes, current


def _page(ix, q, filters, per_page=50):
    res = ix.search(q, per_page=per_page, snippet_count=2, **filters)
    return {
        "total": res.total,
        "hits": [(h.id, h.title, h.snippet, tuple(h.snippets), h.date, tuple(h.cities))
                 for h in res.hits],
        "scores": [h.score for h in res.hits],
        "facets": res.facets,
    }


def _as_set(page):
    return {"total": page["total"], "ids": sorted(h[0] for h in page["hits"]),
            "snippets": sorted((h[0], h[2], h[3]) for h in page["hits"]), "facets": page["facets"]}


def _write_jsonl(path: Path, recs) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs),
                    encoding="utf-8")
    return path


def _in_index_order(ix) -> list[str]:
    searcher = ix._current().searcher()
    reader = searcher.reader()
    return [reader.stored_fields(d)["id"] for d in reader.all_doc_ids()]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live")
    start, changes, final = _final_records()
    build_index([_write_jsonl(tmp / "start.jsonl", start)], tmp / "live")
    for ops in changes:
        with IndexWriter(tmp / "live", merge=False) as w:
            for kind, what in ops:
                if kind == "add":
                    w.add(what)
                elif kind == "replace":
                    w.replace(what)
                else:
                    w.delete(what)
    return tmp, final


def test_changes_make_segments_and_deletions(live):
    tmp, final = live
    stats = open_index(tmp / "live").stats()
    assert stats["documents"] == len(final)
    assert stats["segments"] > 5 and stats["deleted"] > 0


def test_before_a_merge_the_same_documents_match_as_in_a_full_build(live):
    tmp, final = live
    full = tmp / "full-any-order"
    build_index([_write_jsonl(tmp / "final.jsonl", sorted(final.values(),
                                                          key=lambda r: r["id"]))], full)
    a, b = open_index(tmp / "live"), open_index(full)
    for q in QUERIES:
        for f in FILTERS:
            got = _page(a, q, f, per_page=100)
            want = _page(b, q, f, per_page=100)
            assert got["total"] == want["total"], (q, f)
            assert got["facets"] == want["facets"], (q, f)
            if got["total"] <= 100:
                assert _as_set(got) == _as_set(want), (q, f)
    for doc_id in list(final)[:20]:
        assert a.document(doc_id).body == b.document(doc_id).body


def test_deleted_and_replaced_documents_are_gone(live):
    tmp, final = live
    ix = open_index(tmp / "live")
    start, changes, _ = _final_records()
    deleted = {what for ops in changes for kind, what in ops if kind == "delete"} - set(final)
    assert deleted
    for doc_id in deleted:
        assert ix.document(doc_id) is None
    for doc_id in list(final)[:30]:
        assert ix.document(doc_id).title == final[doc_id]["title"]
    everything = ix.search("", per_page=100, page=1)
    assert everything.total == len(final)


def test_after_a_merge_scores_and_order_are_those_of_a_full_build(live, tmp_path):
    tmp, final = live
    merged = tmp_path / "merged"
    import shutil
    shutil.copytree(tmp / "live", merged, symlinks=True)
    report = merging.merge(merged, everything=True)
    assert report.segments_after == 1
    ix = open_index(merged)
    assert ix.stats()["deleted"] == 0 and ix.stats()["segments"] == 1
    order = _in_index_order(ix)
    assert sorted(order) == sorted(final)
    full = tmp_path / "full"
    build_index([_write_jsonl(tmp_path / "ordered.jsonl", [final[i] for i in order])], full)
    fx = open_index(full)
    compared = 0
    for q in QUERIES:
        for f in FILTERS:
            got, want = _page(ix, q, f), _page(fx, q, f)
            assert got == want, (q, f)
            compared += bool(got["hits"])
    assert compared > 20
    # The vocabulary was written again for the merged segment: pinyin and suggestions agree.
    assert ix.suggest("luo") == fx.suggest("luo")


def test_a_running_index_sees_each_change_at_its_next_call(tmp_path):
    root = tmp_path / "ix"
    build_index([_write_jsonl(tmp_path / "a.jsonl", records(20, seed=5, tag="a"))], root)
    ix = open_index(root)
    before = ix.search("").total
    with ix.writer() as w:
        w.add({"id": "x1", "title": "獨一無二的標題", "text": "一篇全新的文章，講的是獨一無二的事情。",
               "city": "洛陽", "date": "2026-12-01", "author": "新作者"})
    res = ix.search("独一无二")
    assert [h.id for h in res.hits] == ["x1"]
    # One author in the whole index: not listed beside the results, but reachable.
    assert "author" not in res.facets
    assert ix.facet_values("author", "独一无二").values == [{"value": "新作者", "count": 1}]
    assert ix.search("").total == before + 1
    assert ix.search("", sort="newest").hits[0].id == "x1"
    with ix.writer() as w:
        assert w.delete("x1") is True
        assert w.delete("no-such-id") is False
    assert ix.search("独一无二").total == 0
    assert w.report.deleted == ["x1"] and w.report.not_found == ["no-such-id"]


def test_add_refuses_an_id_in_the_index_and_replace_takes_it(tmp_path):
    root = tmp_path / "ix"
    build_index([_write_jsonl(tmp_path / "a.jsonl", records(5, seed=5, tag="a"))], root)
    ix = open_index(root)
    with ix.writer() as w:
        with pytest.raises(DocumentRejected, match="replace"):
            w.add({"id": "a/000000", "text": "重複"})
        with pytest.raises(DocumentRejected, match="text"):
            w.add({"id": "z", "title": "no text"})
        with pytest.raises(DocumentRejected, match="id"):
            w.add({"text": "無編號"})
        w.replace({"id": "a/000000", "text": "替換後的內容，關於一隻斑馬。"})
        w.add({"id": "z", "text": "新的"})
        w.delete("z")           # added by this writer only: nothing is written of it
    assert w.report.replaced == ["a/000000"] and w.report.added == [] and w.report.deleted == []
    assert [h.id for h in ix.search("斑马").hits] == ["a/000000"]
    assert ix.stats()["documents"] == 5


def test_an_exception_in_the_block_leaves_the_index_as_it_was(tmp_path):
    root = tmp_path / "ix"
    build_index([_write_jsonl(tmp_path / "a.jsonl", records(5, seed=5, tag="a"))], root)
    ix = open_index(root)
    generation = ix.stats()["generation"]
    with pytest.raises(RuntimeError):
        with ix.writer() as w:
            w.delete("a/000001")
            raise RuntimeError("changed my mind")
    assert ix.stats()["generation"] == generation and ix.document("a/000001") is not None
    assert not [p for p in root.iterdir() if p.name.startswith(".build-")]


def test_one_writer_at_a_time(tmp_path):
    root = tmp_path / "ix"
    build_index([_write_jsonl(tmp_path / "a.jsonl", records(5, seed=5, tag="a"))], root)
    with IndexWriter(root):
        with pytest.raises(WriterBusy, match="running"):
            IndexWriter(root, wait=0.2)
        with pytest.raises(Exception, match="running"):
            build_index([tmp_path / "a.jsonl"], root, wait=0.2)
    with layout.write_lock(root):
        with pytest.raises(WriterBusy):
            IndexWriter(root, wait=0)
    with IndexWriter(root, wait=0) as w:
        w.delete("a/000002")
    assert open_index(root).stats()["documents"] == 4


def test_a_writer_can_start_an_index(tmp_path):
    root = tmp_path / "new"
    with IndexWriter(root) as w:
        w.add({"id": "only", "text": "第一篇文章在洛阳。"})
    ix = open_index(root)
    assert [h.id for h in ix.search("洛阳").hits] == ["only"]
    assert ix.stats()["documents"] == 1


def test_the_merge_policy_keeps_the_segments_few(tmp_path):
    root = tmp_path / "ix"
    build_index([_write_jsonl(tmp_path / "a.jsonl", records(30, seed=5, tag="a"))], root)
    most = 0
    for n in range(40):
        with IndexWriter(root) as w:
            w.add({"id": f"one-{n}", "text": f"第{n}篇短文，关于一匹斑马。"})
        merging.wait_for_merges(root)
        most = max(most, open_index(root).stats()["segments"])
    stats = open_index(root).stats()
    assert stats["documents"] == 70
    # At most MERGE_FACTOR - 1 segments per tier (and the one just added).
    assert most <= (merging.MERGE_FACTOR - 1) * (merging.tier(70) + 1) + 1
    assert stats["segments"] <= 2 * (merging.MERGE_FACTOR - 1)
    assert open_index(root).search("斑马").total == 40
    manifest = json.loads((root / "current" / "build.json").read_text())
    assert manifest["writes"]["documents_added"] == 40
    assert manifest["writes"]["documents_written"] > 40


def test_merge_expunges_a_mostly_deleted_segment(tmp_path):
    root = tmp_path / "ix"
    build_index([_write_jsonl(tmp_path / "a.jsonl", records(40, seed=5, tag="a"))], root)
    with IndexWriter(root, merge=False) as w:
        for n in range(25):
            w.delete(f"a/{n:06d}")
    assert open_index(root).stats()["deleted"] == 25
    report = merging.merge(root)
    assert report.merged == [15]
    stats = open_index(root).stats()
    assert stats["deleted"] == 0 and stats["documents"] == 15


def test_changes_go_on_while_a_merge_writes(tmp_path, monkeypatch):
    import threading
    root = tmp_path / "ix"
    build_index([_write_jsonl(tmp_path / "a.jsonl", records(10, seed=5, tag="a"))], root)
    for n in range(4):
        with IndexWriter(root, merge=False) as w:
            w.add({"id": f"early-{n}", "text": f"第{n}篇，关于一匹斑马。"})
    written, release = threading.Event(), threading.Event()
    write_merged = merging._write_merged

    def slow_write(scratch):
        merged = write_merged(scratch)
        written.set()
        assert release.wait(30)
        return merged
    monkeypatch.setattr(merging, "_write_merged", slow_write)
    result = {}
    merger = threading.Thread(target=lambda: result.update(
        report=merging.merge(root, everything=True)))
    merger.start()
    assert written.wait(60)
    # The merge has written its segment and holds no lock: a change goes in now.
    with IndexWriter(root, wait=1, merge=False) as w:
        w.delete("early-1")
        w.delete("a/000003")
        w.add({"id": "during", "text": "合并时加入的一匹斑马。"})
    release.set()
    merger.join(60)
    assert result["report"].merged
    ix = open_index(root)
    found = {h.id for h in ix.search("斑马", per_page=50).hits}
    assert found == {"early-0", "early-2", "early-3", "during"}
    assert ix.document("a/000003") is None and ix.stats()["documents"] == 10 + 4 - 2 + 1
    # The merged segment and the one added meanwhile.
    assert ix.stats()["segments"] == 2
    assert not [p for p in root.iterdir() if p.name.startswith((".merge-", ".build-"))
                and p.name != ".merge-lock"]
