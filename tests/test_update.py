"""Updating a live index from its sources (``search.store.update``): only what
changed is read and written, nothing is lost by mistake, and the result is
what a full build of the same sources gives.  Real files in ``tmp_path``,
real Whoosh indexes on disk."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from search import BuildError, open_index
from search.store.layout import live_generation
from search.store.update import STATE_FILE, UpdateRefused, load_state, update_index

from helpers import write_folder, write_jsonl

POEMS = [
    {"id": "p1", "title": "靜夜思", "text": "床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。",
     "author": "李白", "date": "0726"},
    {"id": "p2", "title": "春曉", "text": "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。",
     "author": "孟浩然"},
    {"id": "p3", "title": "登鸛雀樓", "text": "白日依山盡，黃河入海流。欲窮千里目，更上一層樓。",
     "author": "王之渙"},
    {"id": "p4", "title": "相思", "text": "紅豆生南國，春來發幾枝。願君多采擷，此物最相思。",
     "author": "王維"},
]

ARTICLES = {
    "a.txt": "洛阳呼叫中心\n\n洛阳的呼叫中心今天开业，员工三百人。",
    "b.md": "---\ntitle: 贵阳大数据\ncity: 贵阳\ndate: 2014-10-20\n---\n贵阳发展大数据与呼叫中心产业。",
    "sub/c.txt": "北京新闻\n\n北京的地铁今天延长到机场。",
    "sub/d.txt": "上海新闻\n\n上海的呼叫中心招聘员工。",
}


@pytest.fixture
def sources(tmp_path, monkeypatch):
    """The sources, named relative to the folder they are in (as `make index`
    names them)."""
    monkeypatch.chdir(tmp_path)
    write_folder(tmp_path / "articles", ARTICLES)
    write_jsonl(tmp_path / "poems.jsonl", POEMS)
    return Path("articles"), Path("poems.jsonl")


@pytest.fixture
def built(sources):
    # Built for each test, not copied: copies of one index share its
    # segments' ids, which the ranker's caches take as naming one segment.
    report = update_index([str(s) for s in sources], "index")
    assert report.full_build and report.indexed == 8
    return Path("index")


def _update(sources, index_dir, **kw):
    return update_index([str(s) for s in sources], index_dir, **kw)


def _docnums(index_dir) -> dict[str, int]:
    ix = whoosh_index.open_dir(str(live_generation(index_dir)))
    with ix.searcher() as s:
        return {fields["id"]: n for n, fields in s.iter_docs()}


def _inode(path: Path) -> int:
    return os.stat(path).st_ino


def _segment_files(generation: Path) -> dict[str, int]:
    """The files of the segments of a generation, by name: their inodes."""
    from search.whoosh3.segments import leaf_segments
    with whoosh_index.open_dir(str(generation)).reader() as reader:
        ids = [seg.segment_id for seg in leaf_segments(reader)]
    assert ids
    return {p.name: _inode(p) for p in generation.iterdir() if p.name.startswith(tuple(ids))}


def edit(path: Path, text: str) -> None:
    """Change a file so that its size or mtime differs, as an editor does."""
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_the_first_update_is_a_full_build_that_records_its_sources(built, sources):
    state = load_state(live_generation(built))
    assert state is not None
    files = state["files"]
    assert sorted(files) == sorted([str(sources[0] / n) for n in ARTICLES] + [str(sources[1])])
    assert files[str(sources[1])]["ids"] == ["p1", "p2", "p3", "p4"]
    assert files[str(sources[1])]["lines"] == [1, 2, 3, 4]
    assert files[str(sources[0] / "sub/c.txt")]["ids"] == ["sub/c.txt"]


def test_nothing_changed_changes_nothing(built, sources):
    before = live_generation(built).name
    report = _update(sources, built)
    assert not report.full_build
    assert (report.added, report.replaced, report.deleted) == ([], [], [])
    assert report.unchanged == 8 and report.files_unchanged == 5 and report.files_read == 0
    # No change, no new generation.
    assert live_generation(built).name == before
    assert "left 8 unchanged" in report.summary()


def test_one_text_file_edited_replaces_exactly_it(built, sources):
    folder, _ = sources
    old_gen = live_generation(built)
    old_nums = _docnums(built)
    old_files = _segment_files(old_gen)
    edit(folder / "sub/c.txt", "北京新闻\n\n北京的地铁今天延长到大兴机场，乘客很多。")
    report = _update(sources, built)
    assert report.replaced == ["sub/c.txt"] and report.added == [] and report.deleted == []
    assert report.unchanged == 7 and report.files_read == 1
    new_gen = live_generation(built)
    assert new_gen != old_gen
    # The build's segment is linked, not copied; the other documents keep their numbers.
    for name, inode in old_files.items():
        assert _inode(new_gen / name) == inode
    new_nums = _docnums(built)
    assert all(new_nums[i] == n for i, n in old_nums.items() if i != "sub/c.txt")
    hits = open_index(built).search("大兴机场")
    assert [h.id for h in hits.hits] == ["sub/c.txt"]


def test_removed_and_added_files(built, sources):
    folder, _ = sources
    (folder / "a.txt").unlink()
    write_folder(folder, {"new/e.txt": "杭州新闻\n\n杭州的西湖游客很多。"})
    report = _update(sources, built)
    assert report.deleted == ["a.txt"] and report.added == ["new/e.txt"]
    assert report.replaced == [] and report.unchanged == 7
    ix = open_index(built)
    assert ix.stats()["documents"] == 8
    assert ix.search("洛阳").total == 0
    assert [h.id for h in ix.search("西湖").hits] == ["new/e.txt"]


def test_jsonl_is_compared_record_by_record(built, sources):
    _, poems = sources
    records = [dict(r) for r in POEMS]
    records[1]["text"] = "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。（改）"
    del records[2]                                   # p3 gone
    records.append({"id": "p5", "title": "江雪", "text": "千山鳥飛絕，萬徑人蹤滅。",
                    "author": "柳宗元"})
    write_jsonl(poems, records)
    old_nums = _docnums(built)
    report = _update(sources, built)
    assert report.added == ["p5"] and report.replaced == ["p2"] and report.deleted == ["p3"]
    # p4 moved up a line, unchanged: left as it was.
    assert report.unchanged == 6
    assert _docnums(built)["p4"] == old_nums["p4"]
    ix = open_index(built)
    assert [h.id for h in ix.search("江雪").hits] == ["p5"]
    assert ix.search("鸛雀樓").total == 0
    facets = {v["value"]: v["count"] for v in ix.search("").facets["author"]}
    assert "柳宗元" in facets and "王之涣" not in facets


def test_mtime_touched_without_change_replaces_nothing(built, sources):
    folder, poems = sources
    for path in (folder / "a.txt", poems):
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    report = _update(sources, built)
    assert report.changed == 0 and report.unchanged == 8 and report.files_read == 0
    # The new mtimes are recorded: the next update does not even read the files.
    again = _update(sources, built)
    assert again.files_unchanged == 5 and live_generation(built).name == report.generation


def test_empty_sources_are_refused_then_allowed(built, tmp_path):
    empty = tmp_path / "empty"
    write_folder(empty, {"notes.xlsx": b"PK\x03\x04", ".hidden.txt": "秘密"})
    before = live_generation(built).name
    with pytest.raises(UpdateRefused) as caught:
        update_index([str(empty)], built)
    message = str(caught.value)
    assert "no document" in message and "--allow-empty" in message
    assert caught.value.report.refused and len(caught.value.report.ignored) == 2
    assert live_generation(built).name == before
    assert open_index(built).stats()["documents"] == 8
    report = update_index([str(empty)], built, allow_empty=True)
    assert len(report.deleted) == 8
    assert open_index(built).stats()["documents"] == 0


def test_a_mistyped_path_is_an_error(built, tmp_path):
    with pytest.raises(BuildError, match="no such source"):
        update_index([str(tmp_path / "artcles")], built)
    assert open_index(built).stats()["documents"] == 8


def test_a_missing_source_among_others_keeps_its_documents(built, sources):
    folder, poems = sources
    moved = folder.with_name("away")
    folder.rename(moved)
    report = _update(sources, built)
    assert report.deleted == [] and not report.ok
    assert any("no such file or folder" in p.reason for p in report.skipped)
    assert open_index(built).stats()["documents"] == 8


def test_deleting_more_than_half_is_refused_unless_forced(built, sources):
    folder, poems = sources
    write_jsonl(poems, POEMS[:1])
    for name in ("a.txt", "b.md"):
        (folder / name).unlink()
    with pytest.raises(UpdateRefused, match="fewer than half"):
        _update(sources, built)
    assert open_index(built).stats()["documents"] == 8
    report = _update(sources, built, force=True)
    assert sorted(report.deleted) == ["a.txt", "b.md", "p2", "p3", "p4"]
    assert open_index(built).stats()["documents"] == 3


def test_full_rebuilds_and_records_the_state_again(built, sources):
    report = _update(sources, built, full=True)
    assert report.full_build and report.indexed == 8
    assert "full build" in report.summary()
    assert load_state(live_generation(built)) is not None
    assert not _update(sources, built).full_build


def test_an_index_built_without_state_is_built_once_in_full(tmp_path, sources):
    from search import build_index
    index_dir = tmp_path / "old"
    build_index([str(s) for s in sources], index_dir)
    assert not (live_generation(index_dir) / STATE_FILE).exists()
    assert _update(sources, index_dir).full_build
    assert not _update(sources, index_dir).full_build


def test_duplicate_ids_first_wins_and_the_next_takes_over(tmp_path):
    first = write_jsonl(tmp_path / "one.jsonl", [{"id": "x", "text": "第一个版本的文字"}])
    second = write_jsonl(tmp_path / "two.jsonl", [{"id": "x", "text": "第二个版本的文字"},
                                                  {"id": "y", "text": "别的文字"}])
    index_dir = tmp_path / "index"
    report = update_index([str(first), str(second)], index_dir)
    assert any("duplicate id 'x'" in p.reason for p in report.skipped)
    write_jsonl(first, [{"id": "z", "text": "新的文字"}])
    report = update_index([str(first), str(second)], index_dir)
    assert report.added == ["z"] and report.replaced == ["x"] and report.deleted == []
    assert not any("duplicate" in p.reason for p in report.skipped)
    doc = open_index(index_dir).document("x")
    assert "第二个版本" in doc.body


def test_bad_lines_are_reported_on_every_update(built, sources):
    _, poems = sources
    with open(poems, "a", encoding="utf-8") as fh:
        fh.write("not json\n")
    report = _update(sources, built)
    assert report.changed == 0 and [p.source for p in report.skipped] == [f"{poems}:5"]
    # A file with problems is read again (they may come from a setting), and
    # they are reported again, as a build would; its good lines are not parsed.
    again = _update(sources, built)
    assert again.files_read == 1 and again.changed == 0
    assert [p.source for p in again.skipped] == [f"{poems}:5"]


def _results(index_dir, query):
    res = open_index(index_dir).search(query, per_page=100)
    return sorted(h.id for h in res.hits), res.total, json.dumps(res.facets, sort_keys=True)


def test_an_update_gives_the_results_of_a_full_build(built, sources, tmp_path):
    folder, poems = sources
    edit(folder / "a.txt", "洛阳新闻\n\n洛阳的呼叫中心扩建，员工五百人。")
    (folder / "sub/d.txt").unlink()
    write_folder(folder, {"sub/f.md": "---\ncity: 深圳\ndate: 2016-05-01\n---\n深圳呼叫中心开业。"})
    records = POEMS[1:] + [{"id": "p6", "title": "鹿柴", "text": "空山不見人，但聞人語響。",
                            "author": "王維"}]
    write_jsonl(poems, records)
    report = _update(sources, built)
    assert not report.full_build and report.changed == 5
    fresh = tmp_path / "fresh"
    update_index([str(s) for s in sources], fresh, full=True)
    for query in ["", "呼叫中心", "王維", "明月", "洛阳", "空山"]:
        assert _results(built, query) == _results(fresh, query), query
