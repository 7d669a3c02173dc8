"""Property-based tests (Hypothesis) of the analyzers, highlighting, reading and the query path.

For any text: analyzer offsets lie inside it and map back to the token;
highlighting changes nothing but adding ``<mark>``s and escaping.  For any
query string and any parameters: a result or a ``QueryError``, never another
exception, and on the web a 200 or a 400, never a 500.  For any bytes of a
file or a JSON line: a document or a ``Problem``.

The index is the small hand-made corpus of ``conftest`` (facets, hostile
documents), built once per session.  ``max_examples`` is kept moderate so that
the file runs in seconds.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from search import QueryError, open_index, parse_query
from search.store.analyzers import gram_analyzer, word_analyzer
from search.results.highlight import highlight, snippets
from search.text.script import to_simplified

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

# Text as a Chinese search engine meets it: simplified and traditional Han
# (with characters whose conversion is by phrase), kana, Latin, digits,
# full-width forms, punctuation, spaces of several kinds, emoji, combining marks.
CHINESE = "洛阳洛陽贵阳貴陽呼叫中心產業发展發展乾坤一目瞭然頭发髮後后著着裡里臺台灣湾的了是在和"
PIECES = st.sampled_from([
    "洛陽", "呼叫中心", "乾坤", "一目瞭然", "頭髮", "后来", "後來", "著作", "台灣", "臺灣",
    "COVID-19", "iPhone", "3.5", "ｗｉｆｉ", "１２３", "A.B", "a-b", "x_y",
    "，", "。", "「", "」", "“", "”", '"', "-", "*", ":", "^", "(", ")", "[", "]", "~", "\\",
    " ", "\u3000", "\t", "\n", "\u00a0", "\u200b", "\ufeff",
    "<mark>", "</mark>", "<script>", "&amp;", "&lt;", "&", "<", ">",
    "ア", "한", "é", "e\u0301", "😀", "𠀀", "\U0002a6a5",
])
TEXT = st.one_of(
    st.lists(st.one_of(PIECES, st.text(alphabet=CHINESE, max_size=6)), max_size=20).map("".join),
    st.text(max_size=60),
)


# ---------------------------------------------------------------------------
# Analysis


@SETTINGS
@given(TEXT)
def test_simplification_keeps_the_length(text):
    assert len(to_simplified(text)) == len(text)


@SETTINGS
@given(TEXT)
@example("全球最大呼叫中心落戶河南洛陽")
@example("乾坤一目瞭然")
def test_word_offsets_lie_in_the_text_and_map_back(text):
    norm = to_simplified(text).lower()
    last_pos = -1
    for t in word_analyzer()(text, positions=True, chars=True):
        assert 0 <= t.startchar < t.endchar <= len(text)
        # The offsets are those of the simplified text, which has the same length
        # (a phrase such as 一目瞭然 converts as a whole: 瞭 alone stays 瞭).
        assert t.text == norm[t.startchar:t.endchar]
        assert t.pos >= last_pos           # sub-words share their word's position
        last_pos = t.pos


@SETTINGS
@given(TEXT)
def test_gram_offsets_lie_in_the_text_and_positions_are_consecutive(text):
    norm = to_simplified(text).lower()
    tokens = list((t.text, t.startchar, t.endchar, t.pos)
                  for t in gram_analyzer()(text, positions=True, chars=True))
    for n, (gram, start, end, pos) in enumerate(tokens):
        assert 0 <= start < end <= len(text)
        assert gram == norm[start:end]
        assert pos == n


# ---------------------------------------------------------------------------
# Highlighting: the text, escaped, plus our marks and nothing else

_MARKS = re.compile(r"</?mark>")


def _needles(text: str, data) -> list[str]:
    norm = to_simplified(text).lower()
    needles = []
    for _ in range(data.draw(st.integers(0, 3))):
        if norm:
            start = data.draw(st.integers(0, len(norm) - 1))
            needles.append(norm[start:start + data.draw(st.integers(1, 4))])
    return needles + data.draw(st.lists(st.text(alphabet=CHINESE + "<>&\"'", max_size=3), max_size=2))


def _assert_only_balanced_marks(fragment: str):
    tags = re.findall(r"<[^>]*>", fragment)
    assert set(tags) <= {"<mark>", "</mark>"}, tags
    depth = 0
    for tag in tags:
        depth += 1 if tag == "<mark>" else -1
        assert depth in (0, 1)
    assert depth == 0


@SETTINGS
@given(TEXT, st.data())
def test_highlight_is_the_escaped_text_with_marks(text, data):
    needles = _needles(text, data)
    out = highlight(text, needles)
    _assert_only_balanced_marks(out)
    assert html.unescape(_MARKS.sub("", out)) == text


@SETTINGS
@given(TEXT, st.data())
def test_snippets_are_escaped_pieces_of_the_text(text, data):
    needles = _needles(text, data)
    flat = text.replace("\n", " ")
    for fragment in snippets(text, needles, width=data.draw(st.integers(5, 60))):
        _assert_only_balanced_marks(fragment)
        plain = html.unescape(_MARKS.sub("", fragment)).strip("…").replace("\n", " ")
        assert plain in flat


@SETTINGS
@given(TEXT, st.data())
def test_kept_conversions_mark_what_fresh_ones_do(text, data):
    # Highlighting keeps the simplified form of longer texts for the next
    # query: marks must be the same as from a fresh conversion, and the
    # memory stays within its bound.
    from search.results import highlight as hl
    text = text * (1 + hl._KEEP_FROM // max(1, len(text)))
    needles = _needles(text, data)
    fresh = hl.find_spans(text, needles, normalised=to_simplified(text))
    assert hl.find_spans(text, needles) == fresh
    assert hl.find_spans(text, needles) == fresh
    assert hl._kept_chars <= hl.KEEP_CHARS


def test_kept_conversions_stay_within_their_bound(monkeypatch):
    from search.results import highlight as hl
    monkeypatch.setattr(hl, "KEEP_CHARS", 16 * 200)
    texts = [f"第{n}篇：臺灣的資訊軟體與網路服務。" * 10 for n in range(60)]
    for text in texts:
        assert hl.find_spans(text, ["软体"]) == hl.find_spans(text, ["软体"], to_simplified(text))
        assert hl._kept_chars <= 16 * 200
    assert texts[-1] in hl._kept and texts[0] not in hl._kept


# ---------------------------------------------------------------------------
# Reading documents: a document or a Problem, never an exception


@SETTINGS
@given(st.binary(max_size=300))
@example(b"[" * 5000)
@example(b'{"text": "\\ud800"}')
@example(b'{"text": "x", "id": 1e999}')
def test_any_json_line_is_a_document_or_a_problem(raw):
    from search.ingest.sources import record_to_document
    from search.ingest.model import Document, Problem
    item = record_to_document(raw, "x.jsonl:1")
    assert isinstance(item, (Document, Problem))
    if isinstance(item, Document):
        json.dumps([item.id, item.title, item.body], ensure_ascii=False).encode("utf-8")


JSON_RECORDS = st.dictionaries(
    st.sampled_from(["id", "text", "title", "date", "city", "tags", "author", "url", "x"]),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
                 lambda children: st.lists(children, max_size=3)
                 | st.dictionaries(st.text(max_size=3), children, max_size=3),
                 max_leaves=8))


@SETTINGS
@given(JSON_RECORDS)
def test_any_json_record_is_a_document_or_a_problem(record):
    from search.ingest.sources import record_to_document
    from search.store.fields import document_fields
    from search.ingest.model import Document, Problem
    raw = json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass")
    item = record_to_document(raw, "x.jsonl:1")
    assert isinstance(item, (Document, Problem))
    if isinstance(item, Document):
        document_fields(item)           # what the index is given can be made


@SETTINGS
@given(TEXT, TEXT)
@example("---\ntitle: [\n---\n", "")
@example("---\na: &a [1]\nb: *a\n---\n", "正文")
@example("---\ndate: 2014-13-45\n---\n", "正文")
def test_any_text_file_is_a_document_or_a_problem(head, body):
    from search.ingest.sources import split_front_matter
    from search.ingest.metadata import document_from_text
    from search.ingest.model import Document, Problem
    text = head + body
    try:
        front, rest = split_front_matter(text)
    except ValueError as exc:
        assert str(exc)
        return
    assert isinstance(front, dict)
    item = document_from_text("x.md", "x.md", front, rest)
    assert isinstance(item, (Document, Problem))


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_decode_or_are_refused_with_a_reason(data):
    from search.ingest.cleaning import UndecodableError, decode_bytes
    try:
        text = decode_bytes(data)
    except UndecodableError as exc:
        assert exc.reason
    else:
        assert "\r" not in text and "\x00" not in text
        text.encode("utf-8")


# ---------------------------------------------------------------------------
# The query path: a result or a QueryError


LONG_QUERY = st.text(min_size=990, max_size=1010, alphabet="洛阳 呼叫中心\"-")
QUERIES = st.one_of(
    TEXT, TEXT,
    st.lists(st.sampled_from(['"', "“", "”", "「", "」", "-", "--", " ", "*", "?", ":",
                              "title:", "id:", "^2", "(", ")", "[", "TO", "]", "AND", "OR",
                              "NOT", "洛阳", "洛陽", "呼叫中心", "明月", "李白", "<script>",
                              "</mark>", "\x00", "的", "是", "什么", "怎么样"]),
             max_size=12).map(" ".join),
)


@pytest.fixture(scope="module")
def ix(corpus_index):
    return open_index(corpus_index)


def _check_results(res, per_page=10):
    assert res.total >= len(res.hits) >= 0
    assert len(res.hits) <= res.per_page
    assert len({h.id for h in res.hits}) == len(res.hits)
    assert res.sort in ("relevance", "newest", "oldest")
    for hit in res.hits:
        for fragment in [hit.title_html, *hit.snippets]:
            _assert_only_balanced_marks(fragment)
    json.dumps(res.to_dict(), ensure_ascii=False)


@settings(SETTINGS, max_examples=120)
@given(q=st.one_of(QUERIES, QUERIES, QUERIES, LONG_QUERY))
@example(q='"')
@example(q="-")
@example(q="\x00\x00")
@example(q="洛" * 1000)
@example(q="洛" * 1001)
def test_any_query_string_answers_or_is_a_query_error(ix, q):
    try:
        res = ix.search(q)
    except QueryError as exc:
        assert str(exc)
        assert len(q.replace("\x00", " ").strip()) > 1000
        return
    _check_results(res)
    parsed = parse_query(q)
    assert res.query == parsed.text


PARAM = st.one_of(st.none(), st.integers(-10**12, 10**12), st.text(max_size=12),
                  st.sampled_from(["1", "2", "10", "100", "101", "0", "-1", " 3 ", "1e3", "٣"]))


@settings(SETTINGS, max_examples=120)
@given(q=st.one_of(st.just(""), QUERIES), page=PARAM, per_page=PARAM,
       sort=st.one_of(st.none(), st.sampled_from(["relevance", "newest", "oldest", ""]), st.text(max_size=8)),
       city=st.one_of(st.none(), st.sampled_from(["洛阳", "洛陽", "北京", "火星", ""]), st.text(max_size=4),
                      st.lists(st.sampled_from(["洛阳", "貴陽", "x", ","]), max_size=3)),
       year=st.one_of(st.none(), st.sampled_from(["2014", "2014-09", "2014-13", "x", ""]), st.text(max_size=7)),
       filters=st.one_of(st.none(), st.dictionaries(
           st.sampled_from(["author", "dynasty", "city", "year", "month", "nosuch", ""]),
           st.lists(st.one_of(st.sampled_from(["李白", "唐", "2014"]), st.text(max_size=4)), max_size=3),
           max_size=2)))
def test_any_parameters_answer_or_are_a_query_error(ix, q, page, per_page, sort, city, year, filters):
    kwargs = {k: v for k, v in dict(page=page, per_page=per_page, sort=sort).items() if v is not None}
    try:
        res = ix.search(q, city=city, year=year, filters=filters, **kwargs)
    except QueryError as exc:
        assert str(exc)
        return
    _check_results(res)
    assert 1 <= res.page <= 10_000 and 1 <= res.per_page <= 100


@settings(SETTINGS, max_examples=100)
@given(doc_id=st.one_of(st.sampled_from(["诗/李白/静夜思", "hostile/<script>1", "odd/x/../y", "../../etc/passwd",
                                         "", "/", "\x00", "a" * 3000]), st.text(max_size=20)),
       q=st.one_of(st.just(""), QUERIES))
def test_any_document_lookup_is_a_view_none_or_a_query_error(ix, doc_id, q):
    try:
        view = ix.document(doc_id, q=q)
    except QueryError:
        assert len(q.replace("\x00", " ").strip()) > 1000
        return
    if view is not None:
        assert view.id == doc_id
        _assert_only_balanced_marks(view.title_html)
        _assert_only_balanced_marks(view.body_html)
        assert html.unescape(_MARKS.sub("", view.body_html)) == view.body


# ---------------------------------------------------------------------------
# The web: 200 or 400 (404 for unknown documents), never 500


@pytest.fixture(scope="module")
def web(corpus_index):
    from webui import create_app
    app = create_app(index_dir=corpus_index,
                     config={"TESTING": False, "PROPAGATE_EXCEPTIONS": False})
    return app.test_client()


WEB_VALUES = st.one_of(QUERIES, PARAM.map(lambda v: "" if v is None else str(v)))
WEB_NAMES = st.sampled_from(["q", "q", "page", "per_page", "sort", "city", "year", "f.author",
                             "f.dynasty", "f.nosuch", "f.", "id", "x"])


@settings(SETTINGS, max_examples=100)
@given(pairs=st.lists(st.tuples(WEB_NAMES, WEB_VALUES), max_size=5),
       path=st.sampled_from(["/", "/api/search", "/doc/诗/李白/静夜思", "/api/doc/诗/李白/静夜思",
                             "/doc", "/api/doc"]))
def test_any_request_parameters_are_200_or_400_never_500(web, pairs, path):
    from urllib.parse import urlencode
    resp = web.get(path + "?" + urlencode(pairs))
    allowed = {200, 400} | ({404} if path in ("/doc", "/api/doc") else set())
    assert resp.status_code in allowed, (path, pairs, resp.get_data(as_text=True)[:300])
    if path.startswith("/api/"):
        assert resp.mimetype == "application/json"
        data = resp.get_json()
        assert ("error" in data) == (resp.status_code != 200)


@settings(SETTINGS, max_examples=100)
@given(raw=st.binary(max_size=60), path=st.sampled_from(["/", "/api/search", "/doc/x"]))
def test_any_raw_query_string_is_200_400_or_404(web, raw, path):
    # What a WSGI server passes on for raw bytes: the query string as latin-1 text.
    resp = web.get(path, environ_overrides={"QUERY_STRING": raw.decode("latin-1")})
    assert resp.status_code in ({200, 400} | ({404} if path == "/doc/x" else set())), (raw, resp.status_code)
