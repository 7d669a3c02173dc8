"""What the server does faster says the same: each shortcut against the slower
way it replaces, on the poems of ``bench/sample.jsonl`` and on any text."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings, strategies as st

from search.text.script import to_simplified, to_traditional
from webui.origin import text_script, text_script_reference

SAMPLE = Path(__file__).resolve().parent.parent / "bench" / "sample.jsonl"


def _sample_texts() -> list[str]:
    texts = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        text = f"{record.get('title', '')}\n{record['text'][:200]}"
        simplified = to_simplified(text)
        # As written, in each script, and half of one and half of the other.
        texts += [text, simplified, to_traditional(simplified),
                  simplified[:len(text) // 2] + text[len(text) // 2:]]
    return texts


def test_the_script_of_a_hit_is_the_conversions_answer_on_the_sample():
    texts = _sample_texts()
    answers = [text_script(t) for t in texts]
    assert answers == [text_script_reference(t) for t in texts]
    assert {"繁体", "简体"} <= set(answers)


# Characters of both scripts, some of which only OpenCC's phrases convert.
_HAN = st.text(alphabet=st.sampled_from(
    "发髮發头頭后後里裡裏干乾幹面麵台臺颱云雲只隻松鬆系係繫历歷曆了瞭着著一二三，。 abc"),
    max_size=40)


@settings(max_examples=400, deadline=None)
@given(_HAN)
def test_the_script_of_any_text_is_the_conversions_answer(text):
    assert text_script(text) == text_script_reference(text)


# The macro ``facet_button`` replaced in ``_facets.html``, as the template had it.
_FACET_VALUE_MACRO = r"""{% macro value_id(facet, value) -%}fv-{{ facet }}-{{ value|replace(' ', '_') }}{%- endmacro %}

{% macro bar(count, peak) -%}
<span class="facet-bar" aria-hidden="true"><span class="facet-bar-fill bar-{{ [1, (count / peak * 20)|round|int]|max if peak and count else 0 }}"></span></span>
{%- endmacro %}

{% macro facet_value(name, v, peak=none) -%}
<li>
  <button type="submit" form="search-form" id="{{ value_id(name, v.value) }}"
          class="facet-link{% if v.selected %} is-selected{% endif %}{% if peak %} facet-hist{% endif %}"
          name="{% if v.selected %}drop.{% endif %}{{ v.param }}" value="{{ v.value }}"
          aria-pressed="{{ 'true' if v.selected else 'false' }}">
    <span class="facet-check" aria-hidden="true"></span>
    <span class="facet-value">{{ v.shown if v.shown is defined else v.value }}</span>
    {%- if peak %}{{ bar(v.count, peak) }}{% endif %}
    <span class="facet-count">{{ v.count }}<span class="visually-hidden"> 篇</span></span>
    {%- if v.selected %}<span class="visually-hidden">（已选，点击取消）</span>{% endif %}
  </button>
  {%- if v.months %}
  {% set month_peak = v.months|map(attribute='count')|max %}
  <ul class="facet-values facet-months" aria-label="{{ v.value }} 年的月份">
    {% for mv in v.months %}{{ facet_value('month', mv, month_peak) }}{% endfor %}
  </ul>
  {%- endif %}
</li>
{%- endmacro %}"""

_VALUE_TEXT = st.text(alphabet=st.sampled_from('洛阳 <>&"\'ab1'), min_size=1, max_size=8)
_MONTH = st.fixed_dictionaries({"value": _VALUE_TEXT, "count": st.integers(0, 500),
                                "selected": st.booleans(), "param": st.just("month")})
_VALUE = st.fixed_dictionaries(
    {"value": _VALUE_TEXT, "count": st.integers(0, 10_000), "selected": st.booleans(),
     "param": st.sampled_from(["city", "year", "f.author"])},
    optional={"shown": _VALUE_TEXT, "months": st.lists(_MONTH, max_size=3)})


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["city", "year", "author"]), _VALUE,
       st.one_of(st.none(), st.integers(1, 10_000)))
def test_a_facet_button_is_what_the_macro_made(name, value, peak):
    from jinja2 import Environment
    from webui.facet_buttons import facet_button
    macro = Environment(autoescape=True).from_string(_FACET_VALUE_MACRO)
    assert facet_button(name, value, peak) == macro.module.facet_value(name, value, peak)
