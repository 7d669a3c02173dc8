"""Term look-ups shared by the searchers of one index generation."""

import threading

from search import build_index, open_index
from search.whoosh3.termcache import CachedTermIndex, term_table
from tests.helpers import SEEDS


def test_searchers_of_a_generation_share_term_lookups_and_answer_the_same(tmp_path):
    build_index([SEEDS], tmp_path / "index", term_table="w3")   # the W3 table's memo
    plain = open_index(tmp_path / "index")
    gen = plain._current()
    queries = ["洛陽", "呼叫中心 牡丹江", "贵阳 黔中声谷", '"呼叫中心"', "洛阳 -呼叫中心", "不存在的词语"]
    first = [[(h.id, h.score) for h in plain.search(q).hits] for q in queries]
    memo = next(iter(gen._term_memos.values()))
    assert memo, "look-ups were remembered"
    assert any(isinstance(term_table(r), CachedTermIndex)
               for r, _ in gen.searcher().reader().leaf_readers())
    seen = len(memo)
    other = []
    worker = threading.Thread(target=lambda: other.extend(
        [[(h.id, h.score) for h in plain.search(q).hits] for q in queries]))
    worker.start()
    worker.join()
    assert other == first                      # another thread, its own searcher, same answers
    assert len(memo) == seen                   # and nothing new to look up
    # A missing term is remembered as missing, not as an error.
    table = term_table(gen.searcher().reader())
    assert b"\x00\x00no-such-term" not in table
    assert table.get(b"\x00\x00no-such-term") is None
