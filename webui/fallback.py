"""The search page's fallback: a query that finds nothing answered by its clear reading.

The page searches with ``SearchIndex.search(fallback=True)``
(``search.aids.fallback``, through ``webui.pages.search_context``) unless the
request says ``verbatim=1`` (``wants_verbatim``): the link of the notice "显示 洛阳 的结果 · 仍然搜索
luoy", which searches exactly what was typed.  ``verbatim`` is not carried
by the page's other links: the next query typed may fall back again.

``fallback_notice(res, state, script)`` and ``alternative_links(...)`` are
what the page shows of it, in the reader's display script.
"""

from __future__ import annotations

from search.results.display import convert_text


VERBATIM_PARAM = "verbatim"
_YES = ("1", "true", "yes", "on")


def wants_verbatim(args) -> bool:
    return (args.get(VERBATIM_PARAM) or "").strip().lower() in _YES


def verbatim_url(state) -> str:
    """The same search, exactly as typed."""
    url = state.with_().url()
    return url + ("&" if "?" in url else "?") + f"{VERBATIM_PARAM}=1"


def _label(text: str, script: str) -> str:
    """The page's own words, in the reader's script (the page is written in simplified)."""
    return convert_text(text, "trad") if script == "trad" else text


def fallback_notice(res, state, script: str) -> dict | None:
    """What the notice above fallen-back results says, or None when they are the query's own.

    ``{"shown", "typed", "verbatim_url", "labels", "others"}``: ``others`` are the
    other readings that find documents, as links.
    """
    if not res.fell_back:
        return None
    return {
        "shown": convert_text(res.shown_for, script) if script != "orig" else res.shown_for,
        "typed": res.searched_for,
        "verbatim_url": verbatim_url(state),
        "labels": {key: _label(text, script) for key, text in _LABELS.items()},
        "others": alternative_links(res, state, script),
    }


def alternative_links(res, state, script: str) -> list[dict]:
    """The other readings of the query as search links: ``{"text", "count", "url"}``."""
    out = []
    for alt in res.alternatives:
        text = convert_text(alt["text"], script) if script != "orig" else alt["text"]
        out.append({"text": text, "count": alt["count"], "url": state.query_url(text)})
    return out


def no_result_suggestions(res, state, script: str) -> list[dict]:
    """Links for the "试试" list of an empty page: the readings that find documents."""
    if res.fell_back or res.total:
        return []
    return [{"text": _label(f"搜索“{a['text']}”（{a['count']:,} 条结果）", script), "url": a["url"]}
            for a in alternative_links(res, state, script)]


_LABELS = {
    "showing": "显示",
    "results_of": "的结果",
    "search_typed": "仍然搜索",
    "others": "其他读法：",
    "results": "条结果",
}
