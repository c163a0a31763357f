"""Whether a passage tells of the report's own span or of a longer one it is background to.

A count "منذ 17 تشرين الاول" (a date before the report's span) or "منذ اشهر", "منذ مطلع
العام" is a cumulative total: background, neither a record nor a stated total of the report.
A count since the start of the report's own span ("منذ بدايه الشهر") is the report's.
"""

from __future__ import annotations

import datetime as dt
import re

from llm_extract.backends.rules.dates import DATE_RE, DateContext, month_number_of
from llm_extract.backends.rules.numbers import NA, NB
from llm_extract.normalize import MONTH_PATTERN

#: "منذ" and a span that reaches back before any one report's: months, years, the year's start.
_SINCE_LONG_RE = re.compile(
    rf"{NB}منذ\s+(?:عده\s+|بضعه\s+)?(?:اشهر|شهور|سنوات|سنين|اعوام|سنه|عام|عامين|سنتين"
    rf"|(?:مطلع|بدايه|بدء|اول)\s+(?:العام|السنه)|بدء\s+التدخل|انطلاق\s+التدخل){NA}"
)
#: Nouns and verbs of counted events: attacks, raids, operations, arrests.
#: ("عمليات" only counted: "عمليات التحالف" names the coalition's presence, not events).
_EVENTS_RE = re.compile(r"هجم|هجوم|غار|ضرب|استهداف|قصف|\d+\s+عملي|اعتقال|مداهم|حمل")
_SINCE_DATE_RE = re.compile(rf"{NB}منذ\s+(?=\S)")
#: How far before a short item's dateline a "since" date makes a cumulative total.
_ITEM_SPAN = dt.timedelta(days=31)


def before_scope(text: str, dates: DateContext, dateline: dt.date | None) -> bool:
    """Whether ``text`` counts events since before the report's span (see the module
    docstring): "منذ" in a clause (between commas) that names the events."""
    return any(
        _EVENTS_RE.search(clause) is not None and _since_before(clause, dates, dateline)
        for clause in text.split(",")
    )


def in_scope(text: str, dates: DateContext, dateline: dt.date | None) -> tuple[int, int] | None:
    """``[start, end)`` of ``text`` without its clauses (between commas) that count since
    before the report's span ("..., ليصل عدد الهجمات منذ 17 تشرين الاول الي 58"); ``None``
    when every clause does."""
    kept: list[tuple[int, int]] = []
    start = 0
    for clause in text.split(","):
        end = start + len(clause)
        if not before_scope(clause, dates, dateline):
            kept.append((start, end))
        start = end + 1
    if not kept:
        return None
    return kept[0][0], kept[-1][1]


def _since_before(text: str, dates: DateContext, dateline: dt.date | None) -> bool:
    if _SINCE_LONG_RE.search(text) is not None:
        return True
    start = dates.period.start if dates.period is not None else None
    if start is None and dateline is not None:
        start = dateline - _ITEM_SPAN
    if start is None:
        return False
    return any(day < start for day in _since_dates(text, dates))


def _since_dates(text: str, dates: DateContext) -> list[dt.date]:
    """The dates written right after "منذ" ("منذ 17 تشرين الاول 2023")."""
    out: list[dt.date] = []
    for since in _SINCE_DATE_RE.finditer(text):
        match = DATE_RE.match(text, since.end())
        if match is None or not match.group("day") or not match.group("month"):
            continue
        day = match.group("day")
        month = month_number_of(match.group("month"))
        year = int(match.group("year")) if match.group("year") else None
        if day.isdigit() and month is not None:
            found = dates.resolve(month, int(day), year)
            if found is not None:
                out.append(found)
    return out


#: A count over a span of days rather than one day: "خلال الاسبوع", "خلال الشهر", "منذ بدايه
#: الشهر", "الاسبوع الماضي", "في شهر شباط".
_SPAN_RE = re.compile(
    rf"{NB}(?:خلال|طيله|طوال|منذ بدايه|منذ مطلع|في)\s+(?:هذا\s+)?(?:ال)?(?:اسبوع|شهر|ايام|اسابيع)"
    rf"|{NB}(?:خلال|طيله|طوال)\s+(?:شهر\s+)?(?:{MONTH_PATTERN}){NA}"
    rf"|{NB}(?:ال)?(?:اسبوع|شهر)\s+(?:ال)?(?:ماضي|فايت|المنصرم|الجاري){NA}"
    rf"|{NB}(?:سجل|شهد|شهدت|سجلت)\s+(?:ال)?(?:اسبوع|شهر|ايام){NA}"
)


def over_a_span(text: str) -> bool:
    """Whether ``text`` counts over a span of days (a week, a month), not on one day."""
    return _SPAN_RE.search(text) is not None
