"""Dates: partial dates, front-matter values, dates found in prose, the seeds' dates."""

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from search.ingest.cleaning import is_boilerplate, pick_title, split_paragraphs, strip_html
from search.ingest.dates import LEAD_CHARS, PartialDate, find_date_in_text, parse_date_value

TODAY = date(2024, 6, 1)

SEEDS = Path(__file__).parent.parent / "seeds"
if not SEEDS.is_dir():
    SEEDS = Path("/work/shared/seeds")


def read_seed(prefix: str) -> tuple[dict, str]:
    """(front matter, body) of the seed file whose name starts with ``prefix``."""
    text = next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")
    if text.startswith("---\n"):
        front, body = text[4:].split("\n---\n", 1)
        return yaml.safe_load(front), body
    return {}, text


def as_metadata_sees_it(body: str) -> str:
    """Title and non-boilerplate paragraphs, the text ``metadata`` searches for a date."""
    paragraphs = split_paragraphs(strip_html(body))
    kept = [p for p in paragraphs if not is_boilerplate(p)]
    return "\n".join([pick_title(paragraphs) or "", *kept])


def d(text: str) -> PartialDate:
    return PartialDate.parse_iso(text)


# --- PartialDate -----------------------------------------------------------

@pytest.mark.parametrize("when, precision, iso, key", [
    (PartialDate(2019, 2, 22), "day", "2019-02-22", 20190222),
    (PartialDate(2014, 9), "month", "2014-09", 20140900),
    (PartialDate(2014), "year", "2014", 20140000),
])
def test_partial_date_keeps_its_precision(when, precision, iso, key):
    assert when.precision == precision
    assert when.iso() == iso == str(when)
    assert when.sort_key() == key
    assert PartialDate.parse_iso(iso) == when


def test_a_year_sorts_before_its_months_and_days():
    assert PartialDate(2014).sort_key() < PartialDate(2014, 1).sort_key() \
        < PartialDate(2014, 1, 1).sort_key() < PartialDate(2015).sort_key()


@pytest.mark.parametrize("args", [(2019, 2, 30), (2019, 13), (2019, None, 5), (2019, 0)])
def test_impossible_partial_dates_are_refused(args):
    with pytest.raises(ValueError):
        PartialDate(*args)


@pytest.mark.parametrize("text", ["2019-2-22", "2019/02/22", "19-02-22", "", "2019-02-30"])
def test_parse_iso_refuses_anything_but_its_own_format(text):
    with pytest.raises(ValueError):
        PartialDate.parse_iso(text)


# --- front-matter values ---------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2019-02-22- 07:37", "2019-02-22"),
    ("2019-02-22 07:37:00", "2019-02-22"),
    ("2019-02-22T07:37:00+08:00", "2019-02-22"),
    ("2019/2/22", "2019-02-22"),
    ("2019.2.22", "2019-02-22"),
    ("2019年2月22日", "2019-02-22"),
    ("2019年2月22日 星期五", "2019-02-22"),
    ("二〇一九年二月二十二日", "2019-02-22"),
    ("２０１９年２月２２日", "2019-02-22"),
    ("20190222", "2019-02-22"),
    ("2019-02", "2019-02"),
    ("2019年2月", "2019-02"),
    ("2019", "2019"),
    ("2019年", "2019"),
    (date(2019, 2, 22), "2019-02-22"),
    (datetime(2019, 2, 22, 7, 37), "2019-02-22"),
    (2019, "2019"),
])
def test_front_matter_values_in_odd_formats(value, expected):
    assert parse_date_value(value, today=TODAY) == d(expected)


@pytest.mark.parametrize("value", [
    "2019-02-30",            # no such day
    "2019-13-01", "2019-13",  # no such month
    "22/02/2019",            # day first or month first? not guessed
    "0001-01-01T00:00:00Z",  # a site generator's "unset"
    "2031-01-01", 2031,      # after today
    "十月", "yesterday", "", "2019 to 2020",
    True, 3.5, None, ["2019"],
])
def test_values_that_are_not_dates(value):
    assert parse_date_value(value, today=TODAY) is None


def test_today_defaults_to_the_real_today():
    tomorrow = date.today() + timedelta(days=1)
    assert parse_date_value(tomorrow) is None
    assert parse_date_value(date.today()) == PartialDate(*date.today().timetuple()[:3])
    assert find_date_in_text(f"{tomorrow.year}年{tomorrow.month}月{tomorrow.day}日上午") is None


# --- dates in prose --------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2012年1月12日上午,中國移動呼叫中心舉行簽約儀式", "2012-01-12"),
    ("二〇一二年一月十二日，签约仪式举行", "2012-01-12"),
    ("二零一二年十二月二十三日", "2012-12-23"),
    ("二○一二年十一月三十日", "2012-11-30"),
    ("一九九九年元月八日", "1999-01-08"),
    ("发布时间:2012-01-12 10:30", "2012-01-12"),
    ("2012/1/12 签约", "2012-01-12"),
    ("2012.1.12 签约", "2012-01-12"),
    ("２０１２年１月１２日", "2012-01-12"),
    ("2012年1月12号", "2012-01-12"),
    ("2012年1月，项目签约", "2012-01"),
    ("2014年第11期(總第62期)", "2014"),
    ("2014年，该市开始发展呼叫中心", "2014"),
    ("2014年度中國呼叫中心白皮書", "2014"),
    ("截至2012年底，已有500个座席", "2012"),  # "as of" is not a plan
])
def test_date_forms_in_prose(text, expected):
    found = find_date_in_text(text, today=TODAY)
    assert found == d(expected)
    assert found.precision == d(expected).precision


@pytest.mark.parametrize("text", [
    "2012年2月30日签约",             # no such day
    "2012年13月5日签约",             # no such month, and not re-read as 3月5日
    "2012-02-30",
    "二〇一二年二月三十日",
    "2012年13月",
])
def test_impossible_dates_are_rejected(text):
    assert find_date_in_text(text, today=TODAY) is None


def test_future_dates_are_rejected_and_do_not_hide_real_ones():
    assert find_date_in_text("2031年1月1日，大楼落成", today=TODAY) is None
    assert find_date_in_text("2031年", today=TODAY) is None
    text = "2031年1月1日将是新的开始。2012年1月12日上午签约。"
    assert find_date_in_text(text, today=TODAY) == PartialDate(2012, 1, 12)


@pytest.mark.parametrize("text", [
    "新聞熱線: 86+851+6870283",
    "电话咨询 400-1100-266",
    "该项目总投资约40億元，2万座席预计将带来6万个就业岗位",
    '<img src="http://p3.ifengimg.com/a/2019_09/f7c142afdcde0a0_size54_w550_h309.jpg" />',
    "http://p2.ifengimg.com/a/2016/0810/204c433878d5cf9size1_w16_h16.png",
    "详见 http://example.com/2019/09/12/a.html 原文",
    "写在2012国际呼叫中心峰会即将在淮召开之际",  # a bare number is not a year
    "到2020年建成「黔中聲谷」",                     # a plan, not the article's year
    "預計2017年底，全市坐席達到20萬",
    "1990年代的呼叫中心",                           # a decade
    "这座城市有2000多年的历史", "近2000年来",        # durations
    "公元1127年，金兵南下",                          # history, not when it was written
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
])
def test_numbers_that_only_look_like_dates(text):
    assert find_date_in_text(text, today=TODAY) is None


def test_a_planned_year_does_not_beat_the_articles_year():
    text = "昨日，副市長宣佈，預計2020年建成「黔中聲谷」。2014年，峰會將在貴陽召開。"
    assert find_date_in_text(text, today=TODAY) == PartialDate(2014)


def test_month_and_day_take_the_year_written_shortly_before():
    text = "2012年，对淮安人来说是甜蜜的一年。2月14日，中国移动淮安呼叫中心项目签约。"
    assert find_date_in_text(text, today=TODAY) == PartialDate(2012, 2, 14)


def test_month_and_day_take_the_nearest_year_before_them():
    text = "2011年底开始筹备。2012年，项目落地。2月14日，项目签约。"
    assert find_date_in_text(text, today=TODAY) == PartialDate(2012, 2, 14)


def test_a_year_is_never_made_up_for_month_and_day():
    assert find_date_in_text("2月14日，西方情人节，一个甜蜜的日子。", today=TODAY) is None
    # A year written after it, or a bare number, is not its year.
    text = "2月14日，项目签约。2012年是淮安的大项目年。"
    assert find_date_in_text(text, today=TODAY) == PartialDate(2012)
    assert find_date_in_text("2012国际峰会：2月14日签约", today=TODAY) is None
    # Nor a year written far before it.
    far = "2012年，淮安。" + "项目推进有条不紊。" * 20 + "2月14日签约。"
    assert find_date_in_text(far, today=TODAY) == PartialDate(2012)


def test_the_first_full_date_of_the_lead_wins_over_later_ones():
    text = ("2012年1月12日上午，签约仪式举行。" + "呼叫中心建设。" * 100
            + "2011年6月3日，双方签署了战略合作协议。")
    assert find_date_in_text(text, today=TODAY) == PartialDate(2012, 1, 12)
    # First, not latest: an earlier event written first in the lead wins.
    text = "2011年6月3日签署协议之后，2012年1月12日签约。"
    assert find_date_in_text(text, today=TODAY) == PartialDate(2011, 6, 3)


def test_an_explicit_full_date_in_the_lead_beats_an_inferred_one():
    text = "2012年，情人节。2月14日，甜蜜的日子。2012年2月15日，项目签约。"
    assert find_date_in_text(text, today=TODAY) == PartialDate(2012, 2, 15)


def test_outside_the_lead_a_full_date_beats_a_month_and_a_month_beats_a_year():
    filler = "老赫的呼叫中心产业是促进高质量发展的新动能。" * 30
    assert len(filler) > LEAD_CHARS
    text = filler + "2015年10月，考察。2016年4月12日，正式投入运营。"
    assert find_date_in_text(text, today=TODAY) == PartialDate(2016, 4, 12)
    text = filler + "2015年，考察。2016年4月，正式投入运营。"
    assert find_date_in_text(text, today=TODAY) == PartialDate(2016, 4)
    # Month and day with a year are only read in the lead.
    text = filler + "2014年度评选。獲獎榜單於9月25日發佈。"
    assert find_date_in_text(text, today=TODAY) == PartialDate(2014)


def test_an_issue_marker_gives_the_publication_year():
    assert find_date_in_text("客觀 直面 理性\n2014年第11期(總第62期)\n到2020年，建成",
                             today=TODAY) == PartialDate(2014)
    # A lead date of the issue's year is more precise and wins ...
    assert find_date_in_text("2014年9月18日上午，发布会。\n2014年第11期",
                             today=TODAY) == PartialDate(2014, 9, 18)
    # ... one of another year is an event the issue reports.
    assert find_date_in_text("2012年1月12日上午，签约。\n2014年第11期",
                             today=TODAY) == PartialDate(2014)


def test_no_date_at_all():
    assert find_date_in_text("", today=TODAY) is None
    assert find_date_in_text("今年的农历正月十五，小城穆棱有了一番新面貌", today=TODAY) is None


# --- the seeds -------------------------------------------------------------

@pytest.mark.parametrize("prefix, expected", [("000", "2019-02-22"), ("001", "2019-02-25")])
def test_seed_front_matter_dates(prefix, expected):
    front, _ = read_seed(prefix)
    assert isinstance(front["date"], str)  # "2019-02-22- 07:37": YAML leaves it a string
    assert parse_date_value(front["date"]) == d(expected)


@pytest.mark.parametrize("prefix, expected", [
    ("002", "2012-01-12"),  # 2012年1月12日上午, in the first paragraph
    ("003", "2012-02-14"),  # 2012年2月14日 in the lead (after a bare 2月14日)
    ("004", "2014"),        # 2014年第11期; 2017 and 2020 are plans
])
def test_seed_dates_from_prose(prefix, expected):
    front, body = read_seed(prefix)
    assert "date" not in front
    for text in (body, as_metadata_sees_it(body)):
        found = find_date_in_text(text)
        assert found == d(expected)
        assert found.precision == d(expected).precision


def test_seed_without_a_date_in_its_prose_gets_none():
    # 001's body has only image URLs with 2019_09 and 2016/0810 in them.
    _, body = read_seed("001")
    assert "2019_09" in body
    assert find_date_in_text(body) is None
