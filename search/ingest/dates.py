"""Dates of documents: partial dates, front-matter values and dates found in prose.

Owns what a document date is (``PartialDate``: a year, a month or a day, never
more precise than the source says), how a front-matter value becomes one
(``parse_date_value``) and which date, if any, an article's prose says it is
from (``find_date_in_text``).

Rules for prose (``find_date_in_text``), in order; every rule ignores dates
after ``today``, years before ``PROSE_MIN_YEAR`` and dates in a plan context
(``到2020年``, ``预计2017年底``, ``将于9月25日``: what is planned is not when the
text was written):

1. The first full date (``2012年1月12日``, ``二〇一二年一月十二日``,
   ``2012-01-12``, ``2012/1/12``, ``2012.1.12``) in the lead, the first
   ``LEAD_CHARS`` characters: news states its date up front.
2. The first month and day in the lead (``2月14日``) whose year is written
   shortly before it (within ``YEAR_CONTEXT_CHARS``) with 年 or as part of a
   date.  A year written after it, or a bare number (``2012国际峰会``), is not
   used: a year is never made up.
3. The first full date anywhere in the text.
4. The first year and month (``2012年1月``) anywhere.
5. A year in an issue marker (``2014年第11期``), which is the publication
   year.  When the text has one, rules 1-4 only accept dates of that year (a
   lead date of another year is an event, not the issue).
6. The first year written with 年 (``2014年``, ``2014年度``) anywhere; not a
   decade (``1990年代``) or a duration (``2000多年``, ``近2000年来``).

Numbers that only look like dates are never read: URLs and HTML tags are
masked first (``/a/2019_09/x.jpg``), numbers glued to other digits or
separators are not dates (phone numbers ``86+851+6870283``, ``400-1100-266``),
and amounts (``40亿元``) have no 年/月/日.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterator, NamedTuple

from ..text.script import to_simplified

# Prose is the article's text, not an archive catalogue: a year before this
# is a historical reference, not when the article was written.
PROSE_MIN_YEAR = 1900
# A front-matter value is the author's own statement, so older dates are kept;
# ``0001-01-01`` and the like are "unset" placeholders of site generators.
VALUE_MIN_YEAR = 1000
# The lead of an article: where a news item states its date.
LEAD_CHARS = 500
# How far back from ``2月14日`` a year may be written to count as its year.
YEAR_CONTEXT_CHARS = 120


@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self):
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year out of range: {self.year}")
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"no month {self.month}")
        if self.day is not None:
            date(self.year, self.month, self.day)  # raises ValueError for 2月30日

    @property
    def precision(self) -> str:
        if self.day is not None:
            return "day"
        return "month" if self.month is not None else "year"

    def iso(self) -> str:
        """``2019-02-22``, ``2014-09`` or ``2014``: only the known parts."""
        parts = [f"{self.year:04d}"]
        parts += [f"{n:02d}" for n in (self.month, self.day) if n is not None]
        return "-".join(parts)

    def sort_key(self) -> int:
        """``year*10000 + month*100 + day``, unknown parts 0 (a year sorts first)."""
        return self.year * 10000 + (self.month or 0) * 100 + (self.day or 0)

    def first_day(self) -> date:
        """The earliest day the date can mean."""
        return date(self.year, self.month or 1, self.day or 1)

    @classmethod
    def parse_iso(cls, text: str) -> "PartialDate":
        """Inverse of ``iso()``; raises ``ValueError`` for anything else."""
        m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text.strip())
        if not m:
            raise ValueError(f"not an ISO partial date: {text!r}")
        return cls(*(int(g) if g else None for g in m.groups()))

    def __str__(self) -> str:
        return self.iso()


# ---------------------------------------------------------------------------
# Numbers: Arabic or Chinese (二〇一二, 十二, 二十三, 廿一, 元月).

_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_CN_DIGITS.update({"○": 0, "零": 0})
_CN_TENS = {"十": 1, "廿": 2, "卅": 3}

_YEAR = r"\d{4}|[〇○零一二三四五六七八九]{4}"
# Month and day capture any 1-2 digit number so that 13月 or 2月30日 is read
# whole and rejected, instead of being re-read as 3月 or 2月3日.
_MONTH = r"\d{1,2}|[一二三四五六七八九十]{1,3}|元"
_DAY = r"\d{1,2}|[一二三四五六七八九十廿卅]{1,4}"


def _number(text: str) -> int | None:
    """The value of ``2012``, ``二〇一二``, ``十二``, ``二十三``; None if malformed."""
    if text.isascii() and text.isdigit():
        return int(text)
    if text == "元":  # 元月: the first month
        return 1
    if len(text) == 4 and all(c in _CN_DIGITS for c in text):  # a year, digit by digit
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    if len(text) == 1 and text in _CN_DIGITS:
        return _CN_DIGITS[text]
    tens_char, rest = text[0], text[1:]
    if tens_char in _CN_TENS:  # 十二, 廿一
        tens = _CN_TENS[tens_char]
    elif tens_char in _CN_DIGITS and rest[:1] == "十":  # 二十三
        tens, rest = _CN_DIGITS[tens_char], rest[1:]
    else:
        return None
    if not rest:
        return tens * 10
    if len(rest) == 1 and rest in _CN_DIGITS and _CN_DIGITS[rest] > 0:
        return tens * 10 + _CN_DIGITS[rest]
    return None


def _partial(year: str, month: str | None = None, day: str | None = None) -> PartialDate | None:
    """A ``PartialDate`` from the matched texts, or None when impossible."""
    values = [_number(year)]
    for part in (month, day):
        if part is not None:
            values.append(_number(part))
    if None in values:
        return None
    try:
        return PartialDate(*values)
    except ValueError:
        return None


def _plausible(when: PartialDate, today: date, min_year: int) -> bool:
    return when.year >= min_year and when.first_day() <= today


# ---------------------------------------------------------------------------
# Front-matter values.

_VALUE_DAY = re.compile(
    rf"(?P<y>{_YEAR})\s*[-/.年]\s*(?P<m>{_MONTH})\s*[-/.月]\s*(?P<d>{_DAY})\s*[日号]?(?!\d)")
_VALUE_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_VALUE_MONTH = re.compile(rf"(?P<y>{_YEAR})\s*[-/.年]\s*(?P<m>{_MONTH})\s*月?")
_VALUE_YEAR = re.compile(rf"(?P<y>{_YEAR})\s*年?")


def parse_date_value(value, today: date | None = None) -> PartialDate | None:
    """The date a front-matter or JSON value states, or None.

    Takes ``datetime``/``date`` (what YAML makes of ``2019-02-22``), an int
    year, or a string: ``2019-02-22- 07:37``, ``2019-02-22 07:37:00``,
    ``2019/2/22``, ``2019年2月22日 星期五``, ``20190222``, ``2019-02``,
    ``2019年2月``, ``2019``.  Whatever follows a full date (a time, a weekday)
    is ignored; a month or a year must be the whole value.  Day-first or
    month-first forms (``22/02/2019``) are ambiguous and give None, as do
    dates after ``today`` and years before ``VALUE_MIN_YEAR``.
    """
    today = today or date.today()
    if isinstance(value, bool):  # YAML "yes"/"no"; bool is an int subclass
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        found = PartialDate(value.year, value.month, value.day)
    elif isinstance(value, int):
        found = PartialDate(value) if VALUE_MIN_YEAR <= value <= 9999 else None
    elif isinstance(value, str):
        found = _parse_date_string(value)
    else:
        found = None
    return found if found and _plausible(found, today, VALUE_MIN_YEAR) else None


def _parse_date_string(value: str) -> PartialDate | None:
    text = to_simplified(value).strip()
    m = _VALUE_DAY.match(text)
    if m:
        return _partial(m["y"], m["m"], m["d"])
    m = (_VALUE_COMPACT.fullmatch(text) or _VALUE_MONTH.fullmatch(text)
         or _VALUE_YEAR.fullmatch(text))
    if not m:
        return None
    groups = m.groupdict()
    return _partial(groups["y"], groups.get("m"), groups.get("d"))


# ---------------------------------------------------------------------------
# Dates in prose.

# Not after a digit, a separator or a letter: 86+851+6870283, 400-1100-266,
# abc2012-01-12 and 12012年 are not dates.
_LEFT = r"(?<![A-Za-z0-9_.+\-/])"
_LEFT_CN = r"(?<![\d〇○零一二三四五六七八九十])"
_DATE_IN_PROSE = re.compile(
    rf"""
      {_LEFT}{_LEFT_CN}(?P<full_y>{_YEAR})\s*年\s*(?P<full_m>{_MONTH})\s*月
          \s*(?P<full_d>{_DAY})\s*[日号]
    | {_LEFT}(?P<num_y>\d{{4}})(?P<sep>[-/.])(?P<num_m>\d{{1,2}})(?P=sep)(?P<num_d>\d{{1,2}})
          (?!\d)(?![-/.]\d)
    | {_LEFT}{_LEFT_CN}(?P<issue_y>{_YEAR})\s*年\s*第?\s*\d{{1,3}}\s*[期卷]
    | {_LEFT}{_LEFT_CN}(?P<ym_y>{_YEAR})\s*年\s*(?P<ym_m>{_MONTH})\s*月(?!\s*(?:{_DAY})\s*[日号])
    | {_LEFT}{_LEFT_CN}(?<!年)(?P<md_m>{_MONTH})\s*月\s*(?P<md_d>{_DAY})\s*[日号]
    | {_LEFT}{_LEFT_CN}(?P<year_y>{_YEAR})\s*年(?!代|[多余]|左右|之久)
    """,
    re.VERBOSE,
)

# What comes right before a date of something planned or expected.  截至
# ("as of") is a past date, so 至 only counts without 截.
_PLAN_BEFORE = re.compile(
    r"(?:(?<!截)至|到|预计|计划|力争|争取|将|拟|有望|目标|规划|展望)\s*(?:于|在|到)?\s*$")
# What comes right before a year that is a duration (近2000年来, 长达2000年).
_DURATION_BEFORE = re.compile(r"(?:近|约|长达|历经|逾|已有|超过)\s*$")

# URLs, e-mail addresses and HTML tags: their digits are ids, not dates.
_NOT_PROSE = re.compile(
    r"<[^<>\n]*>|(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[\w\-.~:/?#\[\]@!$&'()*+,;=%]+"
    r"|www\.[\w\-.~:/?#\[\]@!$&'()*+,;=%]+|(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+",
    re.ASCII,
)


class _Found(NamedTuple):
    kind: str  # "full", "issue", "month", "monthday" or "year"
    start: int
    end: int
    when: PartialDate | None  # None for a month and day without a year
    month_day: tuple[str, str] | None = None


def _mask_non_prose(text: str) -> str:
    """``text`` with URLs, addresses and tags blanked out, keeping offsets."""
    return _NOT_PROSE.sub(lambda m: " " * len(m.group(0)), text)


def _scan(text: str) -> Iterator[_Found]:
    """Every date-like phrase of the text, in order, plans and durations left out."""
    prose = _mask_non_prose(to_simplified(text))
    for m in _DATE_IN_PROSE.finditer(prose):
        if _PLAN_BEFORE.search(prose, max(0, m.start() - 8), m.start()):
            continue
        found = _read_match(m)
        if found.kind == "year" and _DURATION_BEFORE.search(prose, max(0, m.start() - 4),
                                                             m.start()):
            continue
        if found.when is not None or found.month_day is not None:
            yield found


def _read_match(m: re.Match) -> _Found:
    g = m.groupdict()
    span = (m.start(), m.end())
    if g["full_y"]:
        return _Found("full", *span, _partial(g["full_y"], g["full_m"], g["full_d"]))
    if g["num_y"]:
        return _Found("full", *span, _partial(g["num_y"], g["num_m"], g["num_d"]))
    if g["issue_y"]:
        return _Found("issue", *span, _partial(g["issue_y"]))
    if g["ym_y"]:
        return _Found("month", *span, _partial(g["ym_y"], g["ym_m"]))
    if g["md_m"]:
        return _Found("monthday", *span, None, (g["md_m"], g["md_d"]))
    return _Found("year", *span, _partial(g["year_y"]))


def _with_year(found: _Found, context: list[_Found]) -> PartialDate | None:
    """A month and day completed with the year written shortly before it, if any."""
    before = [c for c in context
              if c.when is not None and c.end <= found.start
              and found.start - c.end <= YEAR_CONTEXT_CHARS]
    if not before:
        return None
    month, day = found.month_day
    return _partial(str(before[-1].when.year), month, day)


def find_date_in_text(text: str, today: date | None = None) -> PartialDate | None:
    """The date an article's prose says it is from, or None (rules: module docstring)."""
    today = today or date.today()
    found = list(_scan(text))
    dated = [c for c in found
             if c.when is not None and _plausible(c.when, today, PROSE_MIN_YEAR)]
    issue_year = next((c.when.year for c in dated if c.kind == "issue"), None)

    def fits(when: PartialDate | None) -> bool:
        return (when is not None and _plausible(when, today, PROSE_MIN_YEAR)
                and (issue_year is None or when.year == issue_year))

    in_lead = [c for c in dated if c.start < LEAD_CHARS]
    inferred = [_with_year(c, in_lead) for c in found
                if c.kind == "monthday" and c.start < LEAD_CHARS]
    in_order = [
        [c.when for c in in_lead if c.kind == "full"],    # 1. full date in the lead
        inferred,                                         # 2. 2月14日 after 2012年
        [c.when for c in dated if c.kind == "full"],      # 3. full date anywhere
        [c.when for c in dated if c.kind == "month"],     # 4. year and month
    ]
    for candidates in in_order:
        for when in candidates:
            if fits(when):
                return when
    if issue_year is not None:                            # 5. the issue's year
        return PartialDate(issue_year)
    years = [c.when for c in dated if c.kind == "year"]   # 6. a year
    return years[0] if years else None
