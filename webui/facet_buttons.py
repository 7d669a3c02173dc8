"""The HTML of one facet value's button (``facet_button``), for ``_facets.html``.

A results page lists some sixty facet values; as a Jinja macro each cost a
call through Jinja's runtime, a quarter of what the server spent on a page
beside the search itself.  Built here as one string, the same bytes.

A value is ``{"value", "count", "selected", "param"}`` (``webui.pages._values``),
optionally ``"shown"`` (the text on the button, else the value) and
``"months"`` (values nested under it, each a button of ``month``); ``peak``
(the largest count of a histogram, or None) draws a bar in twentieths of it.
"""

from __future__ import annotations

from markupsafe import Markup, escape

__all__ = ["facet_button"]


def _bar(count, peak) -> str:
    # Jinja's round is Python's (halves to even), as the template had it.
    width = max(1, int(round(count / peak * 20, 0))) if peak and count else 0
    return (f'<span class="facet-bar" aria-hidden="true"><span class="facet-bar-fill '
            f'bar-{width}"></span></span>')


def facet_button(name: str, v: dict, peak=None) -> Markup:
    """``<li>`` with the value's toggle button of the search form (and its months)."""
    value = v["value"]
    selected = v.get("selected")
    shown = v["shown"] if "shown" in v else value
    parts = [
        '<li>\n  <button type="submit" form="search-form" id="fv-', escape(name), "-",
        escape(str(value).replace(" ", "_")), '"\n          class="facet-link',
        " is-selected" if selected else "", " facet-hist" if peak else "",
        '"\n          name="', "drop." if selected else "", escape(v["param"]), '" value="',
        escape(value), '"\n          aria-pressed="', "true" if selected else "false",
        '">\n    <span class="facet-check" aria-hidden="true"></span>\n'
        '    <span class="facet-value">', escape(shown), "</span>",
        _bar(v["count"], peak) if peak else "",
        '\n    <span class="facet-count">', escape(v["count"]),
        '<span class="visually-hidden"> 篇</span></span>',
        '<span class="visually-hidden">（已选，点击取消）</span>' if selected else "",
        "\n  </button>",
    ]
    months = v.get("months")
    if months:
        month_peak = max(m["count"] for m in months)
        parts += ['\n  \n  <ul class="facet-values facet-months" aria-label="', escape(value),
                  ' 年的月份">\n    ']
        parts += [facet_button("month", m, month_peak) for m in months]
        parts.append("\n  </ul>")
    parts.append("\n</li>")
    return Markup("".join(map(str, parts)))  # noqa: S704 - every value above is escaped
