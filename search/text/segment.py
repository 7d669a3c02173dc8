"""Segmentation: text (in simplified script) as jieba's words and as character bigrams.

Both report offsets into the text they are given, which ``script``'s
one-for-one conversion keeps valid in the original, so highlights land on
the document's own script:

* ``segment``: jieba's words.  Each word gets its own position; the shorter
  dictionary words inside a long word (jieba's search mode) share the long
  word's position, so they add recall without breaking the order of words.
* ``char_grams``: overlapping character bigrams of every Han run (a lone Han
  character stands for itself) and whole Latin/digit words, at consecutive
  positions.  A phrase query over bigrams matches exactly the contiguous text
  typed, whatever jieba would have made of it.

The Whoosh tokenizers over them are ``search.store.analyzers``.

jieba's dictionary is loaded once per process, with the project's user
dictionary (``search/data/userdict.txt``) and any file named by the
``SEARCH_USER_DICT`` environment variable.

Segmentation is jieba's own algorithm (dictionary DAG, best route by word
frequency, HMM for runs of unknown characters) run by a leaner loop of ours
(``_cut_han``): the same arithmetic in the same order, over jieba's own
dictionary and HMM model, so the words are exactly ``jieba.tokenize``'s
(``segment_reference``; checked on whole corpora by ``bench/verify_segment.py``
and on samples by ``tests/test_bench.py``), at about a third of the cost.

The route through the dictionary (the slowest part in Python) can be taken by
rjieba (jieba-rs) when it is installed (``pip install .[fast]``): it is given
jieba's own dictionary word by word, so it finds the same words with the same
frequencies, and only its route is used (no HMM: its HMM differs from jieba's
on a few runs of single characters, so those still go to jieba's, as above).
``SEARCH_SEGMENTER=jieba`` turns it off, ``=rjieba`` requires it; ``segmenter()``
says which is in use and the build records it in the index.  The words are
checked equal to ``jieba.tokenize``'s on whole corpora the same way.

Indexing uses ``word_positions`` and ``gram_positions``: the terms and positions
the analyzers produce, without building a Whoosh ``Token`` per word.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import threading
from array import array
from math import log
from pathlib import Path
from typing import Iterator

import jieba
from jieba import finalseg

from .chars import HAN
from .script import to_simplified

USER_DICT = Path(__file__).resolve().parent.parent / "data" / "userdict.txt"


# jieba reports its dictionary loading on stderr at INFO; that is noise here.
jieba.setLogLevel(logging.WARNING)


_jieba_lock = threading.Lock()


_jieba_ready = False


# A token is a run of Han characters, or of letters/digits (with inner . or -
# so "3.5" and "COVID-19" stay whole).  Everything else separates tokens.
_WORD = rf"[^\W_{HAN}]"


_RUNS = re.compile(rf"([{HAN}]+)|({_WORD}+(?:[.\-]{_WORD}+)*)")


def load_jieba() -> None:
    """Initialise jieba once, with the project's and the user's dictionaries."""
    global _jieba_ready
    if _jieba_ready:
        return
    with _jieba_lock:
        if _jieba_ready:
            return
        jieba.setLogLevel(logging.WARNING)
        extra = os.environ.get("SEARCH_USER_DICT")
        main_dict = Path(jieba.dt.dictionary or Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME))
        cache = _dictionary_cache_path([main_dict, USER_DICT]
                                       + ([Path(extra)] if extra else []))
        if not _load_dictionary_cache(cache):
            jieba.initialize()
            jieba.load_userdict(str(USER_DICT))
            if extra:
                jieba.load_userdict(extra)
            _save_dictionary_cache(cache)
        _jieba_ready = True


# jieba.initialize() rebuilds its prefix dictionary from a marshal cache and
# then our user dictionaries are added word by word: together more than a
# second, paid by every process before its first query.  The finished
# dictionary is kept in the user's cache folder, keyed by the files it was
# made from, and read back with the garbage collector paused.
_CACHE_FORMAT = 1


def _dictionary_cache_path(sources: list[Path]) -> Path | None:
    import hashlib
    digest = hashlib.sha256(f"{_CACHE_FORMAT} {jieba.__version__}".encode())
    try:
        for path in sources:
            st = path.stat()
            digest.update(f"|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    except OSError:
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "zhsearch" / f"jieba-{digest.hexdigest()[:16]}.pickle"


def _load_dictionary_cache(path: Path | None) -> bool:
    import gc
    import pickle
    if path is None or not path.is_file():
        return False
    enabled = gc.isenabled()
    gc.disable()
    try:
        with open(path, "rb") as fh:
            freq, total = pickle.load(fh)
    except Exception:   # a damaged cache is rebuilt, whatever is wrong with it
        return False
    finally:
        if enabled:
            gc.enable()
    if not isinstance(freq, dict) or not isinstance(total, int):
        return False
    dt = jieba.dt
    with dt.lock:
        dt.FREQ, dt.total, dt.initialized = freq, total, True
    return True


def _save_dictionary_cache(path: Path | None) -> None:
    import pickle
    import tempfile
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as fh:
            pickle.dump((jieba.dt.FREQ, jieba.dt.total), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(fh.name, path)
    except OSError:
        pass   # no cache folder to write to: the next process loads jieba's way


# jieba's own class of Han characters, written as jieba writes it: what
# jieba.cut treats as one block of Han text.  Narrower than ``chars.HAN``:
# other Han characters are cut one by one, as jieba does.
_JIEBA_HAN = re.compile("([\u4E00-\u9FD5]+)")


_HMM_CACHE_MAX = 200_000


# Characters a process segments before rjieba is given the dictionary.
ROUTER_AFTER_CHARS = 200_000


def _router_wanted() -> bool:
    """Whether rjieba is to route the cut (``SEARCH_SEGMENTER``), without
    importing it: a process that segments little never needs it."""
    wanted = (os.environ.get("SEARCH_SEGMENTER") or "auto").strip().lower()
    if wanted not in ("auto", "jieba", "rjieba"):
        raise ValueError(f"SEARCH_SEGMENTER must be auto, jieba or rjieba, not {wanted!r}")
    if wanted == "jieba":
        return False
    if importlib.util.find_spec("rjieba") is None:
        if wanted == "rjieba":
            raise ImportError("SEARCH_SEGMENTER=rjieba, but rjieba is not installed")
        return False
    return True


def prepare_router() -> None:
    """Have the rjieba route ready now, where it is to be used (see ``_CutState``)."""
    _cut_state().start_router(wait=True)


def segmenter() -> str:
    """``"jieba"`` or ``"rjieba+jieba-hmm"``: what segments text in this process."""
    return "rjieba+jieba-hmm" if _router_wanted() else "jieba"


class _CutState:
    """jieba's dictionary as the fast cut reads it; rebuilt if jieba's changes."""

    def __init__(self):
        dt = jieba.dt
        self.freq = dt.FREQ
        self.total = dt.total
        logtotal = log(dt.total)
        # log(freq) - logtotal per word, filled on first use (the same float
        # jieba computes on every call).
        self.logp: dict[str, float] = {}
        self.logtotal = logtotal
        self.unknown = 0.0 - logtotal        # a character that is no word: log(1) - logtotal
        self.hmm: dict[str, tuple[str, ...]] = {}
        self.router = None
        self._router_wanted = _router_wanted()
        self._router_lock = threading.Lock()
        self._router_thread: threading.Thread | None = None
        self._router_pid = 0
        self.segmented = 0          # characters cut by jieba's route in this process

    def start_router(self, wait: bool = False) -> None:
        """Give rjieba jieba's dictionary (half a second), in the background:
        until it is ready, jieba's route is taken (the same words), so a
        process's first query does not wait for it."""
        if not self._router_wanted or self.router is not None:
            return
        with self._router_lock:
            # A forked process (a build worker) does not have its parent's thread.
            if self._router_thread is None or self._router_pid != os.getpid():
                self._router_pid = os.getpid()
                self._router_thread = threading.Thread(
                    target=self._build_router, name="search-rjieba", daemon=True)
                self._router_thread.start()
        if wait:
            self._router_thread.join()

    def _build_router(self) -> None:
        # jieba's dictionary, word for word (the prefixes jieba keeps at
        # frequency 0 are not words): the same DAG and the same scores.
        import rjieba
        router = rjieba.Jieba.empty()
        add = router.add_word
        # Read in place (a copy of 350,000 items would cost tens of MB): the
        # dictionary does not change once jieba is loaded.
        for word, f in self.freq.items():
            if f:
                add(word, f, None)
        self.router = router

    def current(self) -> bool:
        dt = jieba.dt
        return dt.FREQ is self.freq and dt.total == self.total


_state: _CutState | None = None


def _cut_state() -> _CutState:
    global _state
    state = _state
    if state is None or not state.current():
        load_jieba()
        state = _state = _CutState()
    return state


# jieba's HMM (finalseg) model, unrolled for its four states B M E S.
_MIN = finalseg.MIN_FLOAT


_START = [finalseg.start_P[s] for s in "BMES"]


_EMIT = [finalseg.emit_P[s] for s in "BMES"]


_T = finalseg.trans_P


_tEB, _tSB = _T["E"].get("B", _MIN), _T["S"].get("B", _MIN)


_tMM, _tBM = _T["M"].get("M", _MIN), _T["B"].get("M", _MIN)


_tBE, _tME = _T["B"].get("E", _MIN), _T["M"].get("E", _MIN)


_tSS, _tES = _T["S"].get("S", _MIN), _T["E"].get("S", _MIN)


_EMIT_BY_CHAR: dict[str, tuple[float, float, float, float]] = {}


def _emissions(o: str) -> tuple[float, float, float, float]:
    e = _EMIT_BY_CHAR.get(o)
    if e is None:
        m = _MIN
        e = _EMIT_BY_CHAR[o] = tuple(table.get(o, m) for table in _EMIT)
    return e


def _hmm_cut(obs: str) -> tuple[str, ...]:
    """``tuple(finalseg.cut(obs))`` for a string of \u4E00-\u9FD5 characters.

    The Viterbi recursion of ``finalseg.viterbi`` with the same sums in the
    same order; a tie goes where ``max`` over ``(prob, state)`` sends it.
    """
    emit = _EMIT_BY_CHAR
    eB, eM, eE, eS = _emissions(obs[0])
    vB, vM, vE, vS = _START[0] + eB, _START[1] + eM, _START[2] + eE, _START[3] + eS
    back = []
    for k in range(1, len(obs)):
        o = obs[k]
        e = emit.get(o) or _emissions(o)
        emB, emM, emE, emS = e
        # B from E or S (S wins a tie), M from M or B (M wins), E from B or M
        # (M wins), S from S or E (S wins): max() on (prob, state) tuples.
        a, b = vE + _tEB + emB, vS + _tSB + emB
        nB, pB = (a, 2) if a > b else (b, 3)
        a, b = vM + _tMM + emM, vB + _tBM + emM
        nM, pM = (b, 0) if b > a else (a, 1)
        a, b = vB + _tBE + emE, vM + _tME + emE
        nE, pE = (a, 0) if a > b else (b, 1)
        a, b = vS + _tSS + emS, vE + _tES + emS
        nS, pS = (b, 2) if b > a else (a, 3)
        back.append((pB, pM, pE, pS))
        vB, vM, vE, vS = nB, nM, nE, nS
    state = 2 if vE > vS else 3
    states = [state]
    for pointers in reversed(back):
        state = pointers[state]
        states.append(state)
    states.reverse()
    words = []
    begin = nexti = 0
    for i, st in enumerate(states):          # 0 B, 1 M, 2 E, 3 S
        if st == 0:
            begin = i
        elif st == 2:
            words.append(obs[begin:i + 1])
            nexti = i + 1
        elif st == 3:
            words.append(obs[i])
            nexti = i + 1
    if nexti < len(obs):
        words.append(obs[nexti:])
    force = finalseg.Force_Split_Words
    if force:
        split = []
        for w in words:
            if w in force:
                split.extend(w)
            else:
                split.append(w)
        words = split
    return tuple(words)


def _cut_han(sentence: str, state: _CutState) -> list[str]:
    """``list(jieba.cut(sentence, HMM=True))`` for a run of \u4E00-\u9FD5 characters.

    jieba's ``get_DAG`` + ``calc`` + ``__cut_DAG`` in one pass: for each
    start, the dictionary words starting there (a prefix not in the
    dictionary ends the scan, as in jieba), the best route from the end
    backwards (ties to the longer word, as ``max`` on ``(score, end)`` does),
    then the route's words with runs of single characters handed to the HMM.
    """
    if state.router is not None:
        return _cut_routed(sentence, state)
    if state._router_pid != os.getpid():
        # Giving rjieba the dictionary holds the interpreter for half a
        # second: worth it for a build, not for a process's first queries.
        state.segmented += len(sentence)
        if state.segmented > ROUTER_AFTER_CHARS:
            state.start_router()
    n = len(sentence)
    freq_get = state.freq.get
    logp = state.logp
    logtotal = state.logtotal
    unknown = state.unknown
    score = [0.0] * (n + 1)
    route = list(range(n))
    for idx in range(n - 1, -1, -1):
        i = idx + 1
        frag = sentence[idx]
        f = freq_get(frag)
        best = None
        while f is not None:
            if f:
                lp = logp.get(frag)
                if lp is None:
                    lp = logp[frag] = log(f) - logtotal
                s = lp + score[i]
                if best is None or s >= best:
                    best = s
                    route[idx] = i - 1
            if i >= n:
                break
            i += 1
            frag = sentence[idx:i]
            f = freq_get(frag)
        score[idx] = unknown + score[idx + 1] if best is None else best
    out: list[str] = []
    x = 0
    buf = ""
    while x < n:
        y = route[x] + 1
        if y - x == 1:
            buf += sentence[x]
        else:
            if buf:
                _flush(buf, out, state)
                buf = ""
            out.append(sentence[x:y])
        x = y
    if buf:
        _flush(buf, out, state)
    return out


def _cut_routed(sentence: str, state: _CutState) -> list[str]:
    """``_cut_han`` with the route taken by rjieba (``cut`` without HMM gives
    the route's words) and runs of single characters handed to jieba's HMM."""
    out: list[str] = []
    buf = ""
    for word in state.router.cut(sentence, hmm=False):
        if len(word) == 1:
            buf += word
        else:
            if buf:
                _flush(buf, out, state)
                buf = ""
            out.append(word)
    if buf:
        _flush(buf, out, state)
    return out


def _flush(buf: str, out: list[str], state: _CutState) -> None:
    if len(buf) == 1:
        out.append(buf)
    elif not state.freq.get(buf):
        words = state.hmm.get(buf)
        if words is None:
            if len(state.hmm) >= _HMM_CACHE_MAX:
                state.hmm.clear()
            words = state.hmm[buf] = _hmm_cut(buf)
        out.extend(words)
    else:
        out.extend(buf)


def release_caches() -> None:
    """Forget the segmentation caches (a build's workers, once segmenting is over)."""
    global _state
    _state = None
    _EMIT_BY_CHAR.clear()


# The longest stretch of Han characters cut in one piece.  Cutting holds a
# few dozen bytes per character of the stretch; prose has punctuation every
# few dozen characters, but a file of 19 MB of unpunctuated Han text would be
# one stretch of gigabytes.  Longer stretches are cut piece by piece (their
# words may differ from jieba's only where two pieces meet).
MAX_CUT_CHARS = 10_000


def _iter_word_lists(run: str, state: _CutState) -> Iterator[list[str]]:
    """The words of ``jieba.cut(run, HMM=True)``, a list per stretch of at most
    ``MAX_CUT_CHARS`` characters (see there)."""
    parts = (run,) if _JIEBA_HAN.fullmatch(run) else _JIEBA_HAN.split(run)
    for part in parts:
        if not part:
            continue
        if not _JIEBA_HAN.match(part):
            yield list(part)     # jieba yields other characters one by one
        elif len(part) <= MAX_CUT_CHARS:
            yield _cut_han(part, state)
        else:
            for start in range(0, len(part), MAX_CUT_CHARS):
                yield _cut_han(part[start:start + MAX_CUT_CHARS], state)


def jieba_words(run: str) -> list[str]:
    """The words of ``jieba.cut(run, HMM=True)`` for a run of Han characters
    (cut by stretches of at most ``MAX_CUT_CHARS`` characters: see there)."""
    state = _cut_state()
    if len(run) <= MAX_CUT_CHARS and _JIEBA_HAN.fullmatch(run):
        return _cut_han(run, state)
    out: list[str] = []
    for words in _iter_word_lists(run, state):
        out.extend(words)
    return out


def _subwords_and_word(word, ws, we, freq, out):
    if len(word) > 2:
        for n in (2, 3):
            if len(word) <= n:
                continue
            for i in range(len(word) - n + 1):
                gram = word[i:i + n]
                if freq.get(gram):
                    out.append((gram, ws + i, ws + i + n, True))
    out.append((word, ws, we, False))


def segment(normalised: str) -> list[tuple[str, int, int, bool]]:
    """Segment simplified text into ``(word, start, end, is_subword)``.

    Sub-words are the dictionary words of two and three characters inside a
    longer word, exactly as jieba's search mode finds them.  Non-word runs
    (spaces, punctuation) are dropped.
    """
    if len(normalised) > KEEP_TEXT_CHARS:
        return list(iter_segment(normalised))
    state = _cut_state()
    kept = _kept.get(state)
    if kept is None:
        kept = {}
        _kept.clear()           # a dictionary replaced: its words are gone
        _kept[state] = kept
    return _kept_result(kept, normalised, iter_segment)


def _kept_result(kept: dict, text: str, compute) -> list:
    """``compute(text)`` as a list, from ``kept`` when it is there (kept up to
    ``KEEP_TEXTS`` texts, then started afresh)."""
    got = kept.get(text)
    if got is None:
        if len(kept) >= KEEP_TEXTS:
            kept.clear()
        got = kept[text] = tuple(compute(text))
    return list(got)


# A query's words are segmented several times in planning it (its words,
# concepts, expansions, the suggestions), and queries share their words:
# the words of short texts are kept, per jieba dictionary, up to this many
# texts: enough for the planning of one query many times over, and a few MB
# (20,000 texts of a server's queries held 22 MB in each worker).
KEEP_TEXT_CHARS = 32
KEEP_TEXTS = 2_000
_kept: dict = {}


def iter_segment(normalised: str) -> Iterator[tuple[str, int, int, bool]]:
    """``segment``, one run of text at a time: what indexing a long text holds
    at once is one run's words, not the whole text's."""
    state = _cut_state()
    freq = state.freq
    out: list = []
    for match in _RUNS.finditer(normalised):
        start = match.start()
        if match.group(2):
            yield (match.group(0), start, match.end(), False)
            continue
        ws = start
        for words in _iter_word_lists(match.group(0), state):
            for word in words:
                we = ws + len(word)
                _subwords_and_word(word, ws, we, freq, out)
                ws = we
            yield from out
            out.clear()


def segment_reference(normalised: str) -> list[tuple[str, int, int, bool]]:
    """``segment`` computed by ``jieba.tokenize`` itself (the reference it must equal)."""
    load_jieba()
    freq = jieba.dt.FREQ
    out = []
    for match in _RUNS.finditer(normalised):
        start = match.start()
        if match.group(2):
            out.append((match.group(0), start, match.end(), False))
            continue
        for word, ws, we in jieba.tokenize(match.group(0), HMM=True):
            _subwords_and_word(word, ws + start, we + start, freq, out)
    return out


def char_grams(normalised: str) -> list[tuple[str, int, int]]:
    """Overlapping Han bigrams and whole Latin/digit words, in order."""
    if len(normalised) > KEEP_TEXT_CHARS:
        return list(iter_char_grams(normalised))
    return _kept_result(_kept_grams, normalised, iter_char_grams)


_kept_grams: dict = {}


def iter_char_grams(normalised: str) -> Iterator[tuple[str, int, int]]:
    """``char_grams``, one at a time."""
    for match in _RUNS.finditer(normalised):
        start, run = match.start(), match.group(0)
        if match.group(2) or len(run) == 1:
            yield (run, start, match.end())
        else:
            for i in range(len(run) - 1):
                yield (run[i:i + 2], start + i, start + i + 2)


# Above this many characters a value's positions are kept as arrays of 32-bit
# numbers (4 bytes a position) rather than lists of Python ints (about 36).
COMPACT_CHARS = 50_000


def _grouped(pieces, compact: bool) -> dict:
    """``{term: positions}`` of ``(term, position)`` pairs, lists or arrays."""
    out: dict = {}
    get = out.get
    if compact:
        for text, p in pieces:
            plist = get(text)
            if plist is None:
                out[text] = array("I", (p,))
            else:
                plist.append(p)
        return out
    for text, p in pieces:
        plist = get(text)
        if plist is None:
            out[text] = [p]
        else:
            plist.append(p)
    return out


def _word_pieces(normalised: str):
    pos = -1
    for text, _start, _end, shares_position in iter_segment(normalised):
        if shares_position:
            yield text.lower(), pos + 1
        else:
            pos += 1
            yield text.lower(), pos


def _gram_pieces(normalised: str):
    for pos, (text, _s, _e) in enumerate(iter_char_grams(normalised)):
        yield text.lower(), pos


def word_positions(value: str) -> dict[str, list[int]]:
    """Each term ``word_analyzer()`` makes of ``value``, with its positions in order."""
    return _grouped(_word_pieces(to_simplified(value)), compact=False)


def gram_positions(value: str) -> dict[str, list[int]]:
    """Each term ``gram_analyzer()`` makes of ``value``, with its positions in order."""
    return _grouped(_gram_pieces(to_simplified(value)), compact=False)


def word_positions_compact(value: str) -> dict:
    """``word_positions``, as arrays for a long value: what indexing uses."""
    return _grouped(_word_pieces(to_simplified(value)), compact=len(value) > COMPACT_CHARS)


def gram_positions_compact(value: str) -> dict:
    """``gram_positions``, as arrays for a long value: what indexing uses."""
    return _grouped(_gram_pieces(to_simplified(value)), compact=len(value) > COMPACT_CHARS)


def known_word(word: str) -> bool:
    """Whether ``word`` (simplified) is in the dictionary, not a guess of the
    HMM: a guessed word (a name fused with a verb, 史继偕著) is no evidence
    that its characters belong together."""
    return bool(_cut_state().freq.get(word))
