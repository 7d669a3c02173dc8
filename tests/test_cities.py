"""Tests for search/ingest/cities.py and the generated gazetteer search/data/cities.tsv."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from search.ingest import cities
from search.ingest.cities import canonical_city, detect_cities

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


def names(mentions):
    return [m.canonical for m in mentions]


# -- the gazetteer ------------------------------------------------------------------


def test_gazetteer_has_every_level_and_known_rows():
    by_level = {}
    for city in cities.all_cities():
        by_level.setdefault(city.level, set()).add(city.canonical)
    assert set(by_level) == set(cities.LEVELS)
    assert by_level["municipality"] == {"北京", "天津", "上海", "重庆"}
    assert by_level["sar"] == {"香港", "澳门"}
    assert {"台北", "新北", "台中", "台南", "高雄", "桃园", "基隆", "新竹", "嘉义"} <= by_level["taiwan"]
    assert {"洛阳", "贵阳", "淮安", "牡丹江", "普洱", "儋州"} <= by_level["prefecture"]
    assert {"穆棱", "清镇", "东方", "龙井", "开平"} <= by_level["county-level"]
    # Hundreds of rows, not a hand-typed sample.
    assert len(by_level["prefecture"]) > 290
    assert len(by_level["county-level"]) > 380


def test_muling_is_a_county_level_city_of_heilongjiang():
    city = cities.get_city("穆棱")
    assert city is not None
    assert city.province == "黑龙江省"
    assert city.level == "county-level"
    assert city.full_name == "穆棱市"


def test_one_character_short_names_keep_the_full_name():
    # Stripping 市 from 芒市 would leave 芒.
    assert canonical_city("芒市") == "芒市"
    assert canonical_city("芒") is None


def test_every_spelling_in_the_file_maps_back_to_its_row():
    for city in cities.all_cities():
        assert canonical_city(city.canonical) == city.canonical
        assert canonical_city(city.full_name) == city.canonical
        for form in city.traditional:
            assert canonical_city(form) == city.canonical, (form, city)


def test_word_like_names_are_all_real_rows():
    missing = sorted(n for n in cities.WORD_LIKE if cities.get_city(n) is None)
    assert not missing


# -- canonical_city -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("貴陽", "贵阳"),
        ("贵阳", "贵阳"),
        ("贵阳市", "贵阳"),
        ("貴陽市", "贵阳"),
        ("洛陽", "洛阳"),
        ("洛阳市", "洛阳"),
        ("洛陽市", "洛阳"),
        (" 洛陽市 ", "洛阳"),
        ("穆棱", "穆棱"),
        ("穆稜", "穆棱"),
        ("台北", "台北"),
        ("臺北", "台北"),
        ("臺北市", "台北"),
        ("香港", "香港"),
        ("香港特別行政區", "香港"),
        ("澳門", "澳门"),
        ("延边朝鲜族自治州", "延边"),
        ("中衛", "中卫"),
    ],
)
def test_canonical_city_accepts_both_scripts(spelling, expected):
    assert canonical_city(spelling) == expected


@pytest.mark.parametrize("spelling", ["", "   ", "河南", "河南省", "龙江", "黑龙江", "长安", "abc"])
def test_canonical_city_rejects_non_cities(spelling):
    assert canonical_city(spelling) is None


# -- common words are not cities ----------------------------------------------------


def test_puer_tea_is_not_the_city():
    assert "普洱" not in names(
        detect_cities("普洱茶的冲泡方法", ["普洱茶是一种后发酵茶，普洱茶越陈越香。", "冲泡普洱茶要用沸水。"])
    )


def test_longjing_tea_is_not_the_city():
    assert "龙井" not in names(
        detect_cities("龙井茶", ["西湖龙井茶是绿茶，龙井茶以色绿、香郁著称。", "龙井茶在清明前采摘。"])
    )


def test_dongfang_as_a_word_is_not_the_city():
    doc = detect_cities("东方红", ["东方红，太阳升，东方的天空亮了。", "东方文化和西方文化交流，东方市场很大。"])
    assert "东方" not in names(doc)


def test_dongfang_city_in_hainan_is_tagged():
    doc = detect_cities(
        "海南东方市推进旅游业",
        ["海南东方市近日召开会议，东方市委书记介绍了情况。", "东方的旅游业发展很快。"],
    )
    assert names(doc)[:1] == ["东方"]


def test_ordinary_words_that_are_or_contain_city_names():
    text = "祝您安康。长治久安，大理石地面，朝阳产业，来宾们请入座，双方合作愉快，新兴城市，江山如画。"
    assert detect_cities("", [text, text]) == []


def test_a_name_straddling_two_words_is_not_found():
    # 上海安全 holds 海安 (a city in Jiangsu) across 上海|安全.
    assert names(detect_cities("上海安全", ["上海安全工作会议召开。"])) == ["上海"]


def test_a_district_sharing_a_city_name_is_not_that_city():
    doc = detect_cities("牡丹江市西安区召开会议", ["牡丹江市西安区今天召开会议，西安区区长讲话。"])
    assert names(doc) == ["牡丹江"]


def test_an_enumeration_of_places_gives_a_word_like_name_context():
    doc = detect_cities("云南茶区", ["临沧、普洱、西双版纳是云南的产茶区，普洱的茶园很多。", "普洱的茶产业发展迅速。"])
    assert "普洱" in names(doc)


def test_a_classical_poem_without_places_has_no_city():
    assert detect_cities("静夜思", ["床前明月光，疑是地上霜。", "举头望明月，低头思故乡。"]) == []


# -- "about", not every mention -----------------------------------------------------


def test_title_and_lead_outweigh_a_passing_mention():
    doc = detect_cities(
        "贵阳发展大数据产业",
        [
            "贵阳市副市长昨日介绍了贵阳的规划。",
            "贵阳将建设数据中心，吸引企业落户。",
            "会上还提到了上海的经验。",
            "贵阳的气候凉爽，适合建设数据中心。",
        ],
    )
    assert names(doc)[0] == "贵阳"
    assert "上海" not in names(doc)


def test_traditional_text_reports_its_own_spelling():
    doc = detect_cities("貴陽發展大數據產業", ["貴陽市副市長昨日介紹了貴陽的規劃。", "會上還提到了上海的經驗。"])
    assert names(doc) == ["贵阳"]
    assert "貴陽" in doc[0].surface_forms
    assert doc[0].score > 0


def test_two_cities_both_covered_are_both_reported_best_first():
    doc = detect_cities(
        "牡丹江穆棱两地合作建设呼叫中心",
        ["穆棱市与牡丹江市签约。", "穆棱的员工多来自本地，穆棱市长介绍情况。", "牡丹江也将建设园区。"],
    )
    assert set(names(doc)) == {"牡丹江", "穆棱"}
    assert names(doc)[0] == "穆棱"


def test_a_tag_line_of_cities_is_not_counted():
    body = ["淮安市今天签约呼叫中心项目。", "淮安人很高兴，淮安的发展更快了。"]
    tag_line = "标签:宿州 儋州 云南 漯河 宁夏 延安 普洱 南昌"
    assert names(detect_cities("淮安建设呼叫中心", body + [tag_line])) == ["淮安"]
    assert detect_cities("", [tag_line]) == []
    # Robust even when the line lost its "标签" prefix.
    assert names(detect_cities("淮安建设呼叫中心", body + ["宿州 儋州 漯河 延安 普洱 南昌"])) == ["淮安"]
    assert detect_cities("", ["標籤：宿州 儋州 漯河 延安 南昌 洛陽"]) == []


def test_a_short_tag_line_does_not_lift_a_passing_mention():
    body = ["淮安市今天签约呼叫中心项目。", "淮安人很高兴。", "此前，宿州也曾参与竞争。"]
    assert names(detect_cities("淮安建设呼叫中心", body + ["标签：宿州、南昌"])) == ["淮安"]
    # The same line without its label is a second mention of 宿州.
    assert "宿州" in names(detect_cities("淮安建设呼叫中心", body + ["宿州、南昌"]))


def test_is_fast_enough_for_short_documents():
    poem = ["洛阳城里见秋风，欲作家书意万重。", "复恐匆匆说不尽，行人临发又开封。"]
    detect_cities("秋思", poem)  # loads the gazetteer and jieba
    started = time.perf_counter()
    for i in range(300):
        detect_cities(f"秋思{i}", [line + str(i) for line in poem])
    per_doc = (time.perf_counter() - started) / 300
    assert per_doc < 0.005


# -- the user's documents -----------------------------------------------------------

_TAG_LINE = re.compile(r"^(?:热门|熱門)?(?:标签|標籤)")


def read_seed(path: Path) -> tuple[str, list[str]]:
    """Title = front-matter title or the first non-empty line; paragraphs = the
    other non-empty lines, minus tag lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    title = None
    if lines and lines[0].strip() == "---":
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        for line in lines[1:end]:
            if line.startswith("title:"):
                title = line[len("title:") :].strip()
        lines = lines[end + 1 :]
    body = [line.strip() for line in lines if line.strip()]
    if title is None:
        title, body = body[0], body[1:]
    return title, [line for line in body if not _TAG_LINE.match(line)]


def seed(prefix: str) -> Path:
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    assert matches, f"seed {prefix} missing from {SEEDS}"
    return matches[0]


@pytest.mark.parametrize(
    ("prefix", "expected", "passing"),
    [
        ("000", {"牡丹江", "穆棱"}, {"上海", "重庆", "南通", "双鸭山"}),
        ("001", {"牡丹江", "穆棱"}, {"上海"}),
        ("002", {"洛阳"}, {"北京"}),
        ("003", {"淮安"}, {"南京", "宿州", "儋州", "漯河", "延安", "普洱", "南昌"}),
        ("004", {"贵阳"}, {"上海", "清镇", "香港", "北京"}),
    ],
)
def test_seed_documents(prefix, expected, passing):
    title, paragraphs = read_seed(seed(prefix))
    found = names(detect_cities(title, paragraphs))
    assert set(found) == expected
    assert not passing & set(found)


def test_seed_surface_forms_are_the_documents_own():
    title, paragraphs = read_seed(seed("002"))
    assert "洛陽" in detect_cities(title, paragraphs)[0].surface_forms
    title, paragraphs = read_seed(seed("004"))
    assert "貴陽" in detect_cities(title, paragraphs)[0].surface_forms


def test_seed_tag_line_ignored_even_if_the_caller_keeps_it():
    lines = [l.strip() for l in seed("003").read_text(encoding="utf-8").splitlines() if l.strip()]
    assert any(l.startswith("标签:宿州") for l in lines)
    assert names(detect_cities(lines[0], lines[1:])) == ["淮安"]
