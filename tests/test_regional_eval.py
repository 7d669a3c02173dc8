"""The regional evaluation (``bench.regional``) on a collection of its own shape."""

from __future__ import annotations

import json

from bench import regional

PAIRS = [("复制到剪贴板", "複製到剪貼簿"), ("调试信息", "除錯資訊"), ("可执行文件", "可執行檔"),
         ("默认设置", "預設設定"), ("打开数据库", "開啟資料庫")]


def _collection(folder):
    folder.mkdir()
    docs, queries = [], []
    for n, (cn, tw) in enumerate(PAIRS):
        docs += [{"id": f"zh_CN-{n:05d}", "title": "", "text": cn, "region": "zh_CN"},
                 {"id": f"zh_TW-{n:05d}", "title": "", "text": tw, "region": "zh_TW"}]
        queries += [{"qid": f"zh_TW->zh_CN:{n:05d}", "query": tw, "script": "trad",
                     "relevant": [f"zh_CN-{n:05d}"], "exclude": [f"zh_TW-{n:05d}"]},
                    {"qid": f"zh_CN->zh_TW:{n:05d}", "query": cn, "script": "simp",
                     "relevant": [f"zh_TW-{n:05d}"], "exclude": [f"zh_CN-{n:05d}"]}]
    for name, rows in (("docs.jsonl", docs), ("queries.jsonl", queries)):
        (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                   encoding="utf-8")
    return folder


def test_scores_per_direction_from_the_ranks():
    queries = [{"qid": "a->b:1", "query": "x", "relevant": ["r1"]},
               {"qid": "a->b:2", "query": "y", "relevant": ["r2"]},
               {"qid": "b->a:1", "query": "z", "relevant": ["r3"]}]
    ranks = {"x": ["r1", "o"], "y": ["o", "o", "r2"], "z": ["o"] * 10 + ["r3"]}
    result = regional.score(queries, lambda q: ranks[q["query"]])
    ab, ba = result["directions"]["a->b"], result["directions"]["b->a"]
    assert ab == {"queries": 2, "mrr@10": round((1 + 1 / 3) / 2, 4), "recall@1": 0.5,
                  "recall@10": 1.0}
    assert ba["mrr@10"] == 0.0 and ba["recall@10"] == 0.0       # rank 11 is past the top 10
    assert [m["qid"] for m in result["misses"]] == ["a->b:2", "b->a:1"]


def test_both_systems_run_on_a_small_collection(tmp_path, capsys):
    folder = _collection(tmp_path / "regional")
    code = regional.main([str(folder), "--out", str(tmp_path / "out.json")])
    assert code == 0
    results = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    for system in ("this project", "conventional"):
        directions = results[system]["directions"]
        assert set(directions) == {"zh_TW->zh_CN", "zh_CN->zh_TW"}
        assert all(d["queries"] == len(PAIRS) for d in directions.values())
    # 复制到剪贴板 / 複製到剪貼簿 share 复制 after conversion: found first by both.
    for system in ("this project", "conventional"):
        missed = {m["qid"] for m in results[system]["misses"]}
        assert "zh_TW->zh_CN:00000" not in missed, system
    assert "this project" in capsys.readouterr().out


def test_an_absent_collection_is_said_and_not_an_error(tmp_path, capsys):
    assert regional.main([str(tmp_path / "nowhere")]) == 0
    assert "regional collection not found" in capsys.readouterr().out
