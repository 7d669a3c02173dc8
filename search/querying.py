"""Searching an index: the one query path of the web UI, the CLI and the Python API.

Owns the query language people type, how it becomes a Whoosh query, ranking,
filters and facets, sorting, paging and snippets.

The language is deliberately small, because people type words and questions:

* plain text: ranked (BM25F) on words and on character bigrams, preferring
  documents with more of the query's words and with its exact text, without
  requiring every word;
* ``"..."`` (or “…”, 「…」): this exact text must occur (either script);
* ``-word`` or ``-"..."``: documents containing it are left out.

Nothing else is syntax: ``*``, ``field:value``, ranges and boosts are plain
characters, so a query cannot reach fields or run expensive expansions.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.collectors import TimeLimit

from . import cities as gazetteer
from . import docsets, facets, fastrank, integrity, termcache
from . import ranking
from .analysis import char_grams, segment, segmenter
from .errors import IndexNotFound, QueryError
from .highlight import highlight, snippets
from .indexing import MANIFEST, live_generation
from .schema import BUILTIN_FACETS, FACET_PREFIX
from .script import to_simplified

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100
# Values listed per facet: a facet such as author can have thousands among
# a question's matches, more than anyone reads and costly to send.
FACET_LIMIT = 100
MAX_FACET_LIMIT = 10_000
MAX_QUERY_CHARS = 1000
MAX_PAGE = 10_000
DEFAULT_TIME_BUDGET = 2.0
# What a query cut short by its time budget says, by how far it got.
PARTIAL_NOTICE = "the query took too long; these are the best results found in time"
NOT_RANKED_NOTICE = ("the query took too long to rank: these documents match it, "
                     "in index order, not by relevance")
NOT_MATCHED_NOTICE = ("the query took too long: its matches could not be found in time, "
                      "so none are shown and the count is unknown; try fewer words, "
                      "quoted phrases or exclusions")


def _time_budget_setting() -> float:
    raw = os.environ.get("SEARCH_TIME_BUDGET")
    if raw is None:
        return DEFAULT_TIME_BUDGET
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (0 < value < 3600):
        logging.getLogger(__name__).warning(
            "SEARCH_TIME_BUDGET=%r is not a number of seconds (0 to 3600); using %s",
            raw, DEFAULT_TIME_BUDGET)
        return DEFAULT_TIME_BUDGET
    return value


# Seconds a query may spend before it answers with what it has found so far.
TIME_BUDGET = _time_budget_setting()

# Question and function words: dropped from the ranked part of a query (never
# from the index, never from quoted phrases) because nearly every document has
# them and a reader's question is full of them.
STOP_WORDS = frozenset("""
的 了 是 在 和 与 及 或 而 也 都 就 又 还 并 且 被 把 将 对 于 从 到 由 以 为 其 之 这 那 些
个 着 过 吗 呢 吧 啊 呀 么 什么 哪 哪里 哪儿 哪个 哪些 哪一 哪位 哪年 谁 何 何时 何处 何地
为什么 为何 怎么 怎样 怎么样 如何 多少 几 几个 几年 是否 是不是 有没有 有 没有 哪种 什么样
该 此 它 他 她 们 我 你 您 请问 一 一个 所 曾 已 已经 得 是从 当中 之中 其中 时候
""".split())
# Question words jieba keeps whole (哪一部, 哪一位, 什么样子, 多少年) start like this.
QUESTION_PREFIXES = ("哪", "什么", "多少", "为什么", "为何", "如何", "怎")


def is_stop_word(word: str) -> bool:
    return word in STOP_WORDS or word.startswith(QUESTION_PREFIXES)


_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』", "”": "”"}
_TOKEN = re.compile(r'(-?)(["“「『”])(.*?)(?:["”」』]|$)|(-?)(\S+)', re.S)


@dataclass
class ParsedQuery:
    """What a query string asks for, before it meets an index."""

    text: str
    words: list[str] = field(default_factory=list)      # free text, ranked
    phrases: list[str] = field(default_factory=list)    # must occur exactly
    excluded: list[str] = field(default_factory=list)   # must not occur

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.phrases or self.excluded)


def parse_query(text: str) -> ParsedQuery:
    """Split a query string into free text, required phrases and exclusions.

    Unbalanced quotes are forgiven: an opening quote runs to the end.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise QueryError("the query must be text")
    text = text.replace("\x00", " ").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(text):,} characters long; "
                         f"the limit is {MAX_QUERY_CHARS:,}")
    parsed = ParsedQuery(text=text)
    for m in _TOKEN.finditer(text):
        if m.group(2):
            negate, body = m.group(1), m.group(3).strip()
            target = parsed.excluded if negate else parsed.phrases
        else:
            negate, body = m.group(4), m.group(5)
            # A lone "-" or a hyphenated word is text, not an exclusion.
            target = parsed.excluded if negate and body else parsed.words
            if not negate and body.startswith("-"):
                body = body.lstrip("-")
        if body and _has_content(body):
            target.append(body)
    return parsed


def _has_content(text: str) -> bool:
    return bool(char_grams(to_simplified(text)))


def _chunks(text: str) -> list[list[str]]:
    """The query's words (simplified) in runs split at stop words and punctuation.

    Each run is a stretch of the reader's own contiguous text.
    """
    norm = to_simplified(text).lower()
    runs: list[list[tuple[str, int, int]]] = [[]]
    last_end = None
    for word, start, end, is_sub in segment(norm):
        if is_sub:
            continue
        stop = is_stop_word(word)
        if stop or (last_end is not None and start != last_end):
            if runs[-1]:
                runs.append([])
            if stop:
                last_end = None
                continue
        runs[-1].append((word, start, end))
        last_end = end
    return [[norm[r[0][1]:r[-1][2]]] + [w for w, _, _ in r] for r in runs if r]


def _grams(text: str) -> list[str]:
    return [g for g, _, _ in char_grams(to_simplified(text).lower())]


def _exact(text: str) -> wq.Query:
    """Documents holding exactly this text (in either script)."""
    grams = _grams(text)
    if len(grams) == 1:
        gram = grams[0]
        # A single character is a bigram's first half or a word of its own.
        return wq.Or([wq.Term("grams", gram), wq.Term("body", gram), wq.Term("title", gram)]
                     + ([wq.Prefix("grams", gram)] if len(gram) == 1 else []))
    return wq.Phrase("grams", grams)


def _ranked(words: list[str]) -> tuple[wq.Query | None, list[str]]:
    """The ranked part of a query, and the words to highlight."""
    subqueries, needles = [], []
    for text in words:
        chunks = _chunks(text)
        if not chunks:
            # Only stop words: search them as they are rather than nothing.
            norm = to_simplified(text).lower()
            chunks = [[norm] + [w for w, _, _, sub in segment(norm) if not sub]]
        for run_text, *run_words in chunks:
            # Whole words only: the index holds the sub-words of long words
            # too, so a query word still finds a longer word containing it,
            # and one concept is not counted once per sub-word.
            for word in dict.fromkeys(run_words):
                if is_stop_word(word):
                    continue
                subqueries += [wq.Term("body", word), wq.Term("title", word, boost=ranking.TITLE_BOOST),
                               wq.Term("meta", word, boost=ranking.META_BOOST)]
            needles += [w for w in run_words if w]
            grams = _grams(run_text)
            subqueries += [wq.Term("grams", g, boost=ranking.GRAM_BOOST) for g in dict.fromkeys(grams)]
            if len(grams) > 1:
                # An exact stretch of a longer question is a weak hint.
                subqueries.append(wq.Phrase("grams", grams, boost=ranking.PHRASE_BOOST))
        # A short query typed as one stretch of text (stop words included)
        # is a string the reader expects to find literally: exact first.
        whole = _grams(text)
        if len(words) == 1 and whole and len(text) <= ranking.SHORT_QUERY_CHARS \
                and re.fullmatch(r"\w+", to_simplified(text)):
            exact = (wq.Phrase("grams", whole, boost=ranking.EXACT_QUERY_BOOST) if len(whole) > 1
                     else wq.Term("grams", whole[0], boost=ranking.EXACT_QUERY_BOOST))
            subqueries.append(exact)
            needles.append(to_simplified(text).lower())
        # Neighbouring words of the question near each other in a passage.
        content = [w for run in chunks for w in run[1:] if not is_stop_word(w)]
        for first, second in zip(content, content[1:]):
            if first != second:
                subqueries.append(wq.Phrase("body", [first, second], slop=ranking.PROXIMITY_SLOP,
                                            boost=ranking.PROXIMITY_BOOST))
    if not subqueries:
        return None, needles
    # A query repeating itself gives the same subquery many times: once is enough.
    return wq.Or(list(dict.fromkeys(subqueries))), needles


def _without_order(q: wq.Query) -> wq.Query | None:
    """``q`` with phrases read as their words (AND), for a cheaper match when
    phrase matching runs out of time; None when nothing would change."""
    if isinstance(q, wq.Phrase):
        return wq.And([wq.Term(q.fieldname, w, boost=q.boost) for w in q.words])
    if isinstance(q, wq.CompoundQuery):
        subs = [_without_order(sub) for sub in q.subqueries]
        if all(s is None for s in subs):
            return None
        return q.__class__([new or old for new, old in zip(subs, q.subqueries)], boost=q.boost)
    if isinstance(q, (wq.AndMaybe, wq.AndNot)):
        a, b = _without_order(q.a), _without_order(q.b)
        if a is None and b is None:
            return None
        return q.__class__(a or q.a, b or q.b)
    return None


def build_query(parsed: ParsedQuery, expansions=()) -> tuple[wq.Query, list[str]]:
    """The Whoosh query for a parsed query, and the texts to highlight.

    ``expansions`` (``search.expansion.expand``): pinyin and regional words
    the free words also stand for, OR'd into the ranked part.
    """
    ranked, needles = _ranked(parsed.words)
    if expansions:
        from .expansion import apply
        ranked, needles = apply(ranked, needles, expansions)
    required = [_exact(p) for p in parsed.phrases]
    needles += [to_simplified(p).lower() for p in parsed.phrases]
    if required:
        positive = wq.And(required + ([ranked] if ranked else []))
        if ranked:
            # The ranked words add to the score without being required.
            positive = wq.AndMaybe(wq.And(required), ranked)
    else:
        positive = ranked or wq.Every()
    if parsed.excluded:
        positive = wq.AndNot(positive, wq.Or([_exact(e) for e in parsed.excluded]))
    return positive, needles


# ---------------------------------------------------------------------------
# Results


@dataclass
class Hit:
    id: str
    title: str
    title_html: str
    score: float | None
    date: str | None
    cities: list[str]
    snippet: str
    snippets: list[str]
    source: str
    city_forms: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "score": self.score, "date": self.date,
                "cities": self.cities, "snippet": self.snippet, "source": self.source}


@dataclass
class SearchResults:
    query: str
    total: int
    page: int
    per_page: int
    sort: str
    hits: list[Hit]
    facets: dict[str, list[dict]]
    filters: dict[str, list[str]]
    elapsed_ms: float
    partial: bool = False
    # False when the deadline cut matching short: ``total`` then counts the
    # matches of a cheaper reading (phrases as their words), or is 0 with
    # ``NOT_MATCHED_NOTICE`` when not even that finished.
    total_exact: bool = True
    # Why a query answered as it did (a filter value not known, ...).
    notices: list[str] = field(default_factory=list)
    # What the free words were also searched as (``Expansion.to_dict()``:
    # pinyin read as Chinese words, other regions' words).
    expansions: list[dict] = field(default_factory=list)
    # A query with homophone typos corrected (落阳 → 洛阳), offered, not run.
    did_you_mean: str | None = None
    # Per facet, how many values it has among the matches beyond those listed.
    facets_more: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def in_script(self, script: str) -> "SearchResults":
        """A copy with titles and snippets in ``"orig"``, ``"simp"`` or ``"trad"`` script."""
        from .display import results_in_script
        return results_in_script(self, script)

    def to_dict(self) -> dict:
        return {
            "query": self.query, "total": self.total, "page": self.page,
            "per_page": self.per_page, "sort": self.sort, "filters": self.filters,
            "hits": [h.to_dict() for h in self.hits], "facets": self.facets,
            "facets_more": self.facets_more,
            "elapsed_ms": round(self.elapsed_ms, 2), "partial": self.partial,
            "total_exact": self.total_exact,
            "notices": self.notices, "expansions": self.expansions,
            "did_you_mean": self.did_you_mean,
        }


@dataclass
class DocumentView:
    id: str
    title: str
    title_html: str
    body: str
    body_html: str
    date: str | None
    cities: list[str]
    city_forms: dict
    source: str
    fields: dict

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "title_html": self.title_html,
                "body": self.body, "body_html": self.body_html, "date": self.date,
                "cities": self.cities, "city_forms": self.city_forms,
                "source": self.source, "fields": self.fields}

    def in_script(self, script: str) -> "DocumentView":
        """A copy with title and body in ``"orig"``, ``"simp"`` or ``"trad"`` script."""
        from .display import document_in_script
        return document_in_script(self, script)


# ---------------------------------------------------------------------------
# The index


class _Generation:
    """One opened index generation with the per-generation caches."""

    def __init__(self, path: Path):
        self.path = path
        # Before Whoosh reads a byte: a missing or truncated file, or a small
        # one (manifest, table of contents, saved tables) that fails its
        # checksum, is named here rather than failing somewhere inside Whoosh.
        self.checksums = integrity.verify_on_open(path)
        self.lock = threading.Lock()
        self.local = threading.local()
        self._facets: dict[str, facets.FacetTable] = {}
        self._tables: dict | None = None
        self._term_memos: dict = {}
        self._date_keys = None
        manifest = path / MANIFEST
        self.manifest = {}
        if manifest.exists():
            import json
            try:
                self.manifest = json.loads(manifest.read_text())
            except (OSError, ValueError) as exc:
                raise integrity.damaged(path, MANIFEST, f"is not valid JSON ({exc})") from None
            if not isinstance(self.manifest, dict):
                raise integrity.damaged(path, MANIFEST, "is not the manifest the build wrote")
        built_by = self.manifest.get("segmenter")
        if built_by and built_by != segmenter():
            # The words are the same either way (both are checked equal to
            # jieba.tokenize); this says that a check on this index is due.
            logging.getLogger(__name__).warning(
                "the index at %s was segmented by %s, queries here by %s (SEARCH_SEGMENTER)",
                path, built_by, segmenter())
        try:
            self.ix = whoosh_index.open_dir(str(path))
        except whoosh_index.EmptyIndexError:
            raise integrity.damaged(path, "_MAIN_*.toc", "is missing: the folder holds no "
                                    "table of contents of a Whoosh index") from None
        except Exception as exc:    # Whoosh unpickles its table of contents: anything goes
            raise integrity.damaged(path, integrity.toc_name(path), "Whoosh cannot read the "
                                    f"table of contents ({integrity.reason(exc)})") from None
        with integrity.opening(path), self.ix.searcher() as s:
            self.doc_count = s.doc_count_all()
            self.facet_fields = sorted(
                n[len(FACET_PREFIX):] for n in s.reader().indexed_field_names()
                if n.startswith(FACET_PREFIX))

    def searcher(self):
        # Whoosh searchers are not meant to be shared between threads: one each.
        s = getattr(self.local, "searcher", None)
        if s is None:
            s = self.local.searcher = self.ix.searcher(weighting=ranking.weighting())
            termcache.share(s, self._term_memos)
        return s

    def _saved(self) -> dict | None:
        if self._tables is None:
            with self.lock:
                if self._tables is None:
                    self._tables = facets.load(self.path, self.doc_count) or {}
        return self._tables or None

    def facet_table(self, fieldname: str) -> facets.FacetTable:
        """The facet table of a field: saved with the index, or read from it."""
        table = self._facets.get(fieldname)
        if table is None:
            saved = self._saved()
            table = saved["tables"].get(fieldname) if saved else None
            if table is None:
                with self.lock:
                    table = self._facets.get(fieldname)
                    if table is None:
                        table = facets.FacetTable.from_postings(self.searcher().reader(), fieldname)
            self._facets[fieldname] = table
        return table

    def date_keys(self):
        if self._date_keys is None:
            saved = self._saved()
            if saved:
                self._date_keys = saved["date_keys"]
            else:
                with self.lock:
                    if self._date_keys is None:
                        self._date_keys = facets.build(self.searcher().reader(), [])["date_keys"]
        return self._date_keys


def _every_document(reader) -> np.ndarray:
    """Every live document (browsing without a query starts from them)."""
    if reader.has_deletions():
        return docsets.of(reader.all_doc_ids())
    return np.arange(reader.doc_count_all(), dtype=np.int64)


def _prefix_docs(reader, fieldname: str, prefix: str) -> np.ndarray | None:
    """Documents with a term starting with ``prefix``, segment by segment;
    None where a segment is not one ``fastrank.prefix_doc_ids`` reads."""
    if reader.is_atomic():
        return fastrank.prefix_doc_ids(reader, fieldname, prefix)
    parts = []
    for sub, offset in reader.leaf_readers():
        docs = fastrank.prefix_doc_ids(sub, fieldname, prefix)
        if docs is None:
            return None
        parts.append(docs + offset)
    return docsets.union(parts, reader.doc_count_all())


def matching_docs(searcher, q: wq.Query, deadline: float | None = None) -> np.ndarray:
    """Every document ``q`` matches, without scoring, as a document set
    (``search.docsets``: ascending document numbers).

    Whoosh's ``docs_for_query`` merges all postings of a large OR through its
    matchers; reading each term's postings a block at a time (or as the
    ranking keeps them) is many times faster, and an OR of terms is what
    ranked queries are.  A phrase inside an OR adds nothing when its words
    are OR'd beside it.

    Reading postings costs at most one pass over the index; matching phrases
    document by document has no such bound, so past ``deadline`` (a
    ``time.monotonic()`` value) that part raises ``TimeLimit``.
    """
    reader = searcher.reader()
    if isinstance(q, wq.Every):
        return _every_document(reader)
    if isinstance(q, wq.Term):
        docs = fastrank.doc_ids(reader, q.fieldname, q.text)
        if docs is not None:
            return docs
        if (q.fieldname, q.text) not in reader:
            return docsets.NONE
        return docsets.of(reader.postings(q.fieldname, q.text).all_ids())
    if type(q) is wq.Prefix:
        docs = _prefix_docs(reader, q.fieldname, q.text)
        if docs is not None:
            return docs
    if isinstance(q, wq.Or):
        siblings = {(t.fieldname, t.text) for t in q.subqueries if isinstance(t, wq.Term)}
        return docsets.union([
            matching_docs(searcher, sub, deadline) for sub in q.subqueries
            if not (isinstance(sub, wq.Phrase)
                    and all((sub.fieldname, w) in siblings for w in sub.words))],
            reader.doc_count_all())
    if isinstance(q, wq.AndMaybe):
        return matching_docs(searcher, q.a, deadline)
    if isinstance(q, wq.AndNot):
        return docsets.minus(matching_docs(searcher, q.a, deadline),
                             matching_docs(searcher, q.b, deadline))
    if isinstance(q, wq.And):
        return docsets.intersection([matching_docs(searcher, sub, deadline)
                                     for sub in q.subqueries])
    if deadline is None:
        return docsets.of(searcher.docs_for_query(q))
    # Phrases and spans match document by document: watch the clock as they go.
    docs = []
    for n, docnum in enumerate(searcher.docs_for_query(q)):
        docs.append(docnum)
        if n % 64 == 0 and time.monotonic() > deadline:
            raise TimeLimit
    return docsets.of(docs)


def _by_date(keys, docs: np.ndarray, first: int, count: int, newest: bool) -> list[int]:
    """Documents ``first`` to ``first + count`` of ``docs`` newest (or oldest)
    first by their date keys, documents without a date last either way, ties
    by document number: only the ones up to the page are put in order."""
    if not len(docs):
        return []
    keys = np.frombuffer(keys, dtype=np.int64) if isinstance(keys, array) else np.asarray(keys)
    numbers = docs
    if len(keys) <= numbers.max():      # an index without dates
        keys = np.concatenate([keys, np.zeros(numbers.max() + 1 - len(keys), dtype=keys.dtype)])
    dated = keys[numbers]
    order = np.where(dated == 0, np.iinfo(np.int64).max, -dated if newest else dated)
    wanted = min(first + count, len(numbers))
    if wanted <= 0:
        return []
    if wanted < len(numbers):
        cut = np.partition(order, wanted - 1)[wanted - 1]
        near = order <= cut
        numbers, order = numbers[near], order[near]
    ranked = numbers[np.lexsort((numbers, order))]
    return ranked[first:first + count].tolist()


def _as_values(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set)):
        out = []
        for v in value:
            out.extend(_as_values(v))
        return out
    return [v.strip() for v in str(value).split(",") if v.strip()]


class SearchIndex:
    """A searchable index folder; picks up a rebuilt index without reopening.

    ``open_index(path)`` returns one.  Thread-safe: a web server shares one.
    """

    def __init__(self, path: str | os.PathLike = "index"):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._gen: _Generation | None = None
        self._current()

    def _current(self) -> _Generation:
        target = live_generation(self.path)
        if target is None:
            _, broken = integrity.live_target(self.path)
            if broken:          # a dangling ``current``, a generation that is a file
                raise integrity.damaged(self.path, broken.file, broken.what)
            raise IndexNotFound(f"no index at {self.path}: build one with `make index` "
                                f"or `python -m search index SOURCE --index {self.path}`")
        gen = self._gen
        if gen is None or gen.path != target:
            with self._lock:
                if self._gen is None or self._gen.path != target:
                    self._gen = _Generation(target)
                gen = self._gen
        return gen

    # -- public API ---------------------------------------------------------

    @property
    def facet_names(self) -> list[str]:
        gen = self._current()
        return list(BUILTIN_FACETS) + gen.facet_fields

    @integrity.guarded
    def stats(self) -> dict:
        gen = self._current()
        return {"documents": gen.doc_count, "facets": self.facet_names,
                "built_at": gen.manifest.get("built_at"), "generation": gen.path.name}

    @integrity.guarded
    def search(self, q: str = "", *, city=None, year=None, filters: dict | None = None,
               sort: str = "relevance", page: int = 1, per_page: int = 10,
               snippet_count: int = 2, facet_limit: int = FACET_LIMIT) -> SearchResults:
        """Search: ranked or date-sorted hits, the total, facets and snippets.

        ``city`` and ``year`` (one value or a list; ``year`` takes ``2014`` or
        ``2014-09``) and ``filters`` (``{"author": ["李白"]}``, any facet) narrow
        the results: values of one facet combine with OR, facets with AND.
        Each facet lists its ``facet_limit`` most frequent values (years and
        months: the latest) and every selected one; ``facets_more`` says how
        many values each facet has besides.
        """
        started = time.perf_counter()
        sort, page, per_page = self._check_paging(sort, page, per_page)
        try:
            facet_limit = int(facet_limit)
        except (TypeError, ValueError):
            facet_limit = -1
        if not 0 <= facet_limit <= MAX_FACET_LIMIT:
            raise QueryError(f"facet_limit must be a whole number from 0 to {MAX_FACET_LIMIT:,}")
        parsed = parse_query(q)
        gen = self._current()
        searcher = gen.searcher()
        selected = self._normalise_filters(gen, city, year, filters)

        from .expansion import expand
        expansions = expand(parsed, gen)
        deadline = time.monotonic() + TIME_BUDGET
        whoosh_q, needles, matched, partial, notices = self._match(
            searcher, parsed, expansions, deadline)
        # Cut short while matching: the count is of a cheaper reading, or unknown.
        matching_partial = partial

        # Each facet's allowed set; a facet's counts ignore its own selection
        # so its other values stay visible (multi-select facets).
        allowed = {name: self._allowed(gen, name, values) for name, values in selected.items()}
        filtered = matched
        if allowed:
            filtered = docsets.intersection([matched, *allowed.values()])
        facet_counts, facets_more, bases = {}, {}, {}
        for name in self._shown_facets(gen, selected):
            key = frozenset(o for o in allowed if o != name)
            base = bases.get(key)
            if base is None:
                base = bases[key] = docsets.intersection(
                    [matched] + [allowed[o] for o in key]) if key else matched
            facet_counts[name], more = self._count(gen, name, base, selected.get(name, []),
                                                   facet_limit)
            if more:
                facets_more[name] = more

        if sort == "relevance" and not (parsed.words or parsed.phrases):
            # Nothing to rank by (no query, or only words to leave out):
            # newest first is what a browser expects.
            sort = "newest"
        first = (page - 1) * per_page
        unranked = False
        if sort == "relevance":
            ranked, ranked_partial = self._rank_matches(
                searcher, whoosh_q, matched, filtered, first + per_page, deadline, partial)
            partial = partial or ranked_partial
            page_hits = ranked[first:first + per_page]
            if ranked_partial and not ranked and len(filtered):
                # Matching finished, ranking did not reach a single document:
                # the matches as they are beat an empty page that looks like none.
                unranked = True
                page_hits = [(d, None) for d in filtered[first:first + per_page].tolist()]
        else:
            page_hits = [(d, None) for d in _by_date(gen.date_keys(), filtered, first, per_page,
                                                     newest=sort == "newest")]
        if unranked:
            notices.append(NOT_RANKED_NOTICE)
        elif partial and NOT_MATCHED_NOTICE not in notices:
            notices.append(PARTIAL_NOTICE)
        hits = [self._hit(searcher, d, score, needles, snippet_count) for d, score in page_hits]
        for name, values in selected.items():
            totals = gen.facet_table(self._field(name)).totals
            for v in values:
                if not totals.get(v):
                    notices.append(f"no document in the index has {name} {v}")
        from .suggest import did_you_mean
        return SearchResults(
            query=parsed.text, total=len(filtered), page=page, per_page=per_page, sort=sort,
            hits=hits, facets=facet_counts, facets_more=facets_more, filters=selected,
            partial=partial, notices=notices, total_exact=not matching_partial,
            expansions=[e.to_dict() for e in expansions],
            did_you_mean=did_you_mean(parsed, gen),
            elapsed_ms=(time.perf_counter() - started) * 1000)

    @integrity.guarded
    def document(self, doc_id: str, q: str = "") -> DocumentView | None:
        """One document by id, with the query's matches marked, or None."""
        if not isinstance(doc_id, str) or not doc_id or len(doc_id) > 2000:
            return None
        parsed = parse_query(q)
        gen = self._current()
        from .expansion import expand
        _, needles = build_query(parsed, expand(parsed, gen))
        searcher = gen.searcher()
        stored = searcher.document(id=doc_id)
        if stored is None:
            return None
        return DocumentView(
            id=stored["id"], title=stored.get("title", ""),
            title_html=highlight(stored.get("title", ""), needles),
            body=stored.get("body", ""), body_html=highlight(stored.get("body", ""), needles),
            date=stored.get("date"), cities=_as_values(stored.get("city")),
            city_forms=stored.get("city_forms") or {}, source=stored.get("source", ""),
            fields=stored.get("extra") or {})

    @integrity.guarded
    def suggest(self, q: str, limit: int = 8) -> list[str]:
        """Completions of ``q`` as it is typed (``search.suggest.complete``)."""
        from .suggest import complete
        return complete(self._current(), q, limit=limit)

    @integrity.guarded
    def related(self, doc_id: str, limit: int = 5) -> list[dict] | None:
        """Documents like ``doc_id`` (``search.related``); None if there is no such document."""
        if not isinstance(doc_id, str) or not doc_id or len(doc_id) > 2000:
            return None
        from .related import related
        return related(self._current(), doc_id, limit=limit)

    @integrity.guarded
    def explain(self, q: str, doc_id: str | None = None) -> dict:
        """What the query path makes of ``q``, and why ``doc_id`` matches or not (``search.explain``)."""
        from .explain import explain
        return explain(self, self._current(), q, doc_id)

    # -- the pieces -----------------------------------------------------------

    @staticmethod
    def _check_paging(sort, page, per_page):
        if sort in (None, ""):
            sort = "relevance"
        if sort not in SORTS:
            raise QueryError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
        try:
            page = int(page)
            per_page = int(per_page)
        except (TypeError, ValueError):
            raise QueryError("page and per_page must be whole numbers") from None
        if not 1 <= page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE:,}")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}")
        return sort, page, per_page

    def _normalise_filters(self, gen, city, year, filters) -> dict[str, list[str]]:
        selected: dict[str, list[str]] = {}
        raw = dict(filters or {})
        if city is not None:
            raw["city"] = _as_values(raw.get("city")) + _as_values(city)
        if year is not None:
            raw["year"] = _as_values(raw.get("year")) + _as_values(year)
        known = set(BUILTIN_FACETS) | set(gen.facet_fields)
        for name, values in raw.items():
            if name not in known:
                raise QueryError(f"unknown filter {name!r}; this index has "
                                 f"{', '.join(sorted(known))}")
            values = _as_values(values)
            if name == "city":
                values = [gazetteer.canonical_city(v) or to_simplified(v) for v in values]
            elif name in ("year", "month"):
                for v in values:
                    if not re.fullmatch(r"\d{4}(-\d{2})?", v):
                        raise QueryError(f"{name} must look like 2014 or 2014-09, not {v!r}")
            else:
                values = [to_simplified(v) for v in values]
            if values:
                selected[name] = list(dict.fromkeys(values))
        # A month chosen in the year facet is a filter on months.
        if "year" in selected:
            months = [v for v in selected["year"] if len(v) == 7]
            if months:
                selected["year"] = [v for v in selected["year"] if len(v) == 4]
                selected["month"] = list(dict.fromkeys(selected.get("month", []) + months))
                if not selected["year"]:
                    del selected["year"]
        return selected

    @staticmethod
    def _field(name: str) -> str:
        return name if name in BUILTIN_FACETS else FACET_PREFIX + name

    def _allowed(self, gen, name, values) -> np.ndarray:
        return gen.facet_table(self._field(name)).docs_with(values)

    def _shown_facets(self, gen, selected):
        names = ["city", "year", "month"] + gen.facet_fields
        return names

    def _count(self, gen, name, docs: np.ndarray, selected_values,
               limit) -> tuple[list[dict], int]:
        """The facet's values among ``docs`` (at most ``limit``, and the
        selected ones), and how many values are left out."""
        top, more = gen.facet_table(self._field(name)).top(
            docs, limit, by_value=name in ("year", "month"), always=selected_values)
        return [{"value": v, "count": c} for v, c in top], more

    def _match(self, searcher, parsed, expansions, deadline):
        """The query ``search()`` ranks, its needles (to highlight), its
        matching set, whether the deadline cut that short, and the notices
        so far (pinyin read, quoted text read as words, matching unfinished:
        ``NOT_MATCHED_NOTICE``)."""
        whoosh_q, needles = build_query(parsed, expansions)
        notices: list[str] = [e.label for e in expansions if e.kind == "pinyin"]
        matched, partial, finished = self._matching_docs(searcher, whoosh_q, deadline)
        if not len(matched) and parsed.phrases and not partial:
            # People quote names inside questions; when nothing holds the
            # quoted text exactly, answer for its words and say so.
            loose = ParsedQuery(parsed.text, parsed.words + parsed.phrases, [], parsed.excluded)
            whoosh_q, needles = build_query(loose, expansions)
            matched, partial, finished = self._matching_docs(searcher, whoosh_q, deadline)
            if len(matched):
                quoted = "、".join(f"“{p}”" for p in parsed.phrases)
                notices.append(f"no document contains {quoted} exactly; "
                               "showing documents with its words")
        if not finished:
            notices.append(NOT_MATCHED_NOTICE)
        return whoosh_q, needles, matched, partial, notices

    @staticmethod
    def _matching_docs(searcher, q, deadline) -> tuple[np.ndarray, bool, bool]:
        """The documents ``q`` matches, whether the deadline cut that short
        (then: those found by a cheaper reading, its words without order),
        and whether either reading finished (if not: no documents, which
        says nothing about how many match)."""
        try:
            return matching_docs(searcher, q, deadline), False, True
        except TimeLimit:
            loose = _without_order(q)
            if loose is None:
                return docsets.NONE, True, False
            try:
                return matching_docs(searcher, loose, time.monotonic() + 0.2 * TIME_BUDGET), True, True
            except TimeLimit:
                return docsets.NONE, True, False

    def _rank_matches(self, searcher, whoosh_q, matched, filtered, limit, deadline, partial):
        """The best ``limit`` ``(docnum, score)`` of the filtered matching set,
        best first, as the results page ranks them (``explain`` reads its
        ranks here too), and whether time cut the ranking short."""
        # Past the deadline, a short grace so a cut-short answer still
        # shows its best documents.
        rank_by = max(deadline, time.monotonic() + 0.2 * TIME_BUDGET) if partial else deadline
        if partial:
            whoosh_q = _without_order(whoosh_q) or whoosh_q
        if isinstance(whoosh_q, wq.AndNot):
            # The matching set has the exclusions applied already, and a
            # document scores what the query's positive part gives it:
            # ranking that part within the set never reads the exclusions
            # again (a hundred excluded characters are tens of thousands of
            # bigrams, which planning a ranking would look up one by one).
            return self._ranked(searcher, whoosh_q.a, filtered, limit, rank_by)
        # Without filters the set is every match of the query: ranking them
        # all skips looking each one up (Whoosh's own path, for queries the
        # fast ranking does not reproduce, is still given the set).
        unfiltered = filtered is matched and not partial
        return self._ranked(searcher, whoosh_q, None if unfiltered else filtered, limit, rank_by,
                            matched if unfiltered else None)

    @staticmethod
    def _ranked(searcher, q, allowed, limit, deadline, matched=None):
        return fastrank.rank(searcher, q, allowed, limit, deadline, matched)

    def _hit(self, searcher, docnum, score, needles, snippet_count) -> Hit:
        stored = searcher.stored_fields(docnum)
        title, body = stored.get("title", ""), stored.get("body", "")
        frags = snippets(body, needles, count=snippet_count)
        return Hit(
            id=stored["id"], title=title, title_html=highlight(title, needles),
            score=score, date=stored.get("date"), cities=_as_values(stored.get("city")),
            snippet=" ".join(frags[:1]), snippets=frags, source=stored.get("source", ""),
            city_forms=stored.get("city_forms") or {}, fields=stored.get("extra") or {})


def open_index(path: str | os.PathLike = "index") -> SearchIndex:
    """Open the index folder built by ``build_index`` (raises ``IndexNotFound``)."""
    return SearchIndex(path)
