"""Dates in normalised report text: "14 حزيران", "التاسع من تموز", "5 شباط 2024", "5/2/2024",
and, with a publication date, "أمس", "اليوم", "يوم الأحد الماضي", "الثامن من الشهر الجاري".

Monthly reports never write the year: it is the one nearest the coalition month's period
(:func:`llm_extract.normalize.resolve_date`). A short item whose opening words write a full
date (its dateline) takes that year, and counts its relative words from that day; otherwise
it takes the year that puts the date on or before its publication date
(:func:`llm_extract.date_expressions.on_or_before`), else the year written in it. Relative
expressions resolve against the dateline or the publication date only, and a written date
wins over a relative word in the same clause. A date whose year cannot be known is left out
rather than guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from llm_extract.backends.rules.numbers import NA, NB, ORDINAL, parse_ordinal
from llm_extract.date_expressions import (
    DateKind,
    FoundExpression,
    find_date_expressions,
    on_or_before,
)
from llm_extract.normalize import MONTH_PATTERN, Period, month_number, parse_day_list, resolve_date

# Spellings of Levantine months without the article ("كانون ثاني", "تشرين اول").
_VARIANTS: dict[str, str] = {
    "كانون ثاني": "كانون الثاني",
    "كانون اول": "كانون الاول",
    "تشرين اول": "تشرين الاول",
    "تشرين ثاني": "تشرين الثاني",
}
_VARIANT_RE = re.compile(rf"{NB}(" + "|".join(_VARIANTS) + f"){NA}")
_MONTHS = "|".join(_VARIANTS) + "|" + MONTH_PATTERN
_DAY = rf"(?P<day>\d{{1,2}}|{ORDINAL})"
DATE_RE = re.compile(
    rf"{NB}[وبف]?{_DAY}\s+(?:من\s+)?(?:شهر\s+)?(?P<month>{_MONTHS}){NA}"
    rf"(?:\s*,?\s*(?:من\s+)?(?:عام\s+|العام\s+|سنه\s+)?(?P<year>(?:19|20)\d\d)(?!\d))?"
    rf"|(?<![\d/.-])(?P<nday>\d{{1,2}})/(?P<nmonth>\d{{1,2}})(?:/(?P<nyear>20\d\d))?(?![\d/])"
)
_YEAR_RE = re.compile(r"(?<!\d)(20[0-4]\d)(?!\d)")
#: "منه", "من الشهر ذاته", "من نفس الشهر" after a day: the month named last.
_SAME_MONTH = r"(?:من\s+)?(?:منه|الشهر\s+(?:ذاته|نفسه|عينه)|نفس\s+الشهر|ذات\s+الشهر)"
_SAME_MONTH_RE = re.compile(rf"{NB}[وبف]?{_DAY}\s+{_SAME_MONTH}{NA}")
_SAME_MONTH_TAIL_RE = re.compile(rf"(?<=\d)\s+{_SAME_MONTH}{NA}")
_NEXT_DAY_RE = re.compile(
    rf"{NB}(?:في\s+|صباح\s+|مساء\s+|فجر\s+)?اليوم\s+(?:التالي|الذي تلاه|الذي يليه){NA}"
)
_SINCE_RE = re.compile(rf"{NB}(?:منذ|حتي|لغايه){NA}\s*$")


@dataclass(frozen=True)
class DateContext:
    """What fixes the year: the coalition month's period, else a short item's dateline, else
    the publication date, else a year written in the text. The dateline, else the publication
    date, anchors relative expressions."""

    period: Period | None = None
    year: int | None = None
    published: dt.date | None = None
    #: The day relative expressions count from: a short item's dateline, else ``published``.
    anchor: dt.date | None = None

    @classmethod
    def of(
        cls, norm: str, period: Period | None, published: dt.date | dt.datetime | None = None
    ) -> DateContext:
        day = published.date() if isinstance(published, dt.datetime) else published
        if period is not None:
            return cls(period=period, published=day, anchor=day)
        dateline = _dateline(norm)
        if dateline is not None:  # the item's own date: its year, and its "اليوم" and "أمس"
            return cls(year=dateline.year, anchor=dateline)
        match = _YEAR_RE.search(norm)
        return cls(year=int(match.group(1)) if match else None, published=day, anchor=day)

    def resolve(self, month: int, day: int, year: int | None = None) -> dt.date | None:
        try:
            if year is not None:
                return dt.date(year, month, day)
            if self.period is not None:
                return resolve_date(month, day, self.period)
            if self.published is not None:
                return on_or_before(month, day, self.published)
            if self.year is not None:
                return dt.date(self.year, month, day)
        except ValueError:
            return None
        return None


#: How far into its first line a short item writes its dateline ("الحسكه – 7 مارس 2024:").
_DATELINE_CHARS = 120


def _dateline(norm: str) -> dt.date | None:
    """The full date (day, month and year) a short item writes in its opening words: the day
    it was written, so the day its "اليوم", "أمس" and weekdays count from, whether it was read
    from a ``.txt`` or from a page that carries a publication date too."""
    head = norm.split("\n", 1)[0][:_DATELINE_CHARS]
    for item in find_date_expressions(head):
        if item.expression.kind is DateKind.EXPLICIT:
            return item.expression.resolve()
    return None


@dataclass(frozen=True)
class FoundDate:
    start: int
    end: int
    date: dt.date
    #: named relative to the publication date ("أمس", "يوم الأحد")
    relative: bool = False


def find_dates(text: str, ctx: DateContext, last: dt.date | None = None) -> list[FoundDate]:
    """Every single date in ``text`` (positions relative to ``text``). A day "of the same
    month" ("12 من الشهر ذاته", "31 منه") takes the month of the date before it (in ``text``,
    else ``last``)."""
    found = _named_dates(text, ctx)
    found += _relative_dates(text, ctx, found)
    found += _next_days(text, found, last)
    for match in _SAME_MONTH_RE.finditer(text):
        before = [d.date for d in found if d.end <= match.start()]
        month_of = before[-1] if before else last
        raw_day = match.group("day")
        day = int(raw_day) if raw_day.isdigit() else parse_ordinal(raw_day)
        if month_of is None or day is None:
            continue
        try:
            date = month_of.replace(day=day)
        except ValueError:
            continue
        found.append(FoundDate(match.start("day"), match.end(), date))
    return sorted(found, key=lambda d: d.start)


def _next_days(text: str, found: list[FoundDate], last: dt.date | None) -> list[FoundDate]:
    """ "في اليوم التالي", "في اليوم الذي تلاه": the day after the date told before it (in
    ``text``, else ``last``)."""
    out: list[FoundDate] = []
    for match in _NEXT_DAY_RE.finditer(text):
        before = [d.date for d in found if d.end <= match.start()]
        day = before[-1] if before else last
        if day is not None:
            out.append(FoundDate(match.start(), match.end(), day + dt.timedelta(days=1)))
    return out


def _named_dates(text: str, ctx: DateContext) -> list[FoundDate]:
    found: list[FoundDate] = []
    for match in DATE_RE.finditer(text):
        if _SINCE_RE.search(text, max(0, match.start() - 8), match.start()):
            continue  # "منذ 18 تشرين الاول": when something began, not the event's date
        if match.group("nday"):
            day, month = int(match.group("nday")), int(match.group("nmonth"))
            year: int | None = int(match.group("nyear")) if match.group("nyear") else None
        else:
            raw_day = match.group("day")
            parsed = int(raw_day) if raw_day.isdigit() else parse_ordinal(raw_day)
            if parsed is None:
                continue
            day = parsed
            name = match.group("month")
            month = month_number(_VARIANTS.get(name, name)) or 0
            year = int(match.group("year")) if match.group("year") else None
        if not (1 <= day <= 31 and 1 <= month <= 12):
            continue
        date = ctx.resolve(month, day, year)
        if date is not None:
            found.append(
                FoundDate(
                    match.start("day") if match.group("day") else match.start(), match.end(), date
                )
            )
    return found


def month_number_of(name: str) -> int | None:
    """The month a month name (or a spelling variant of it) of :data:`DATE_RE` names."""
    return month_number(_VARIANTS.get(name, name))


def _relative_dates(text: str, ctx: DateContext, named: list[FoundDate]) -> list[FoundDate]:
    """ "أمس", "اليوم", weekdays and "الجاري" days, resolved against the publication date
    (none without one). Expressions that overlap a date already found are left to it, and a
    word with no day number ("اليوم", "أمس", a weekday) in the clause of a written date
    ("1 تموز، نفذت ... اليوم، تدريبات") is no second date: the written one wins."""
    if ctx.anchor is None:
        return []
    found: list[FoundDate] = []
    for item in find_date_expressions(text):
        if item.expression.kind is DateKind.EXPLICIT:
            continue  # "14 حزيران" and the like: _named_dates reads them
        if item.expression.day is None and _same_clause(text, item, named):
            continue
        if any(d.start < item.end and item.start < d.end for d in named):
            continue
        date = item.expression.resolve(ctx.anchor, ctx.period)
        if date is not None:
            found.append(FoundDate(item.start, item.end, date, relative=True))
    return found


#: Words that open another clause, with its own date: "... يوم الأحد الماضي، بينما وصلت في 28
#: كانون الأول قافلة".
_CLAUSE_RE = re.compile(rf"{NB}(?:بينما|فيما|في حين|كما|ثم|بعد|قبل|منذ){NA}")


def _same_clause(text: str, item: FoundExpression, named: list[FoundDate]) -> bool:
    """Whether a written date of ``named`` shares the clause of ``item`` (no word that opens
    another clause between them)."""
    for found in named:
        a, b = (found.end, item.start) if found.end <= item.start else (item.end, found.start)
        if _CLAUSE_RE.search(text, a, b) is None:
            return True
    return False


def day_list(text: str, ctx: DateContext) -> list[dt.date]:
    """Dates of a list whose days share month names ("26 و27 كانون الثاني، و5 من شباط")."""
    dates: list[dt.date] = []
    text = _VARIANT_RE.sub(lambda m: _VARIANTS[m.group(1)], text)
    text = _SAME_MONTH_TAIL_RE.sub(lambda m: _month_before(text, m.start()), text)
    for month, day in parse_day_list(text):
        date = ctx.resolve(month, day)
        if date is not None:
            dates.append(date)
    return dates


def _month_before(text: str, end: int) -> str:
    """ " " and the last month name before ``end`` ("28 و31 منه" -> "28 و31 كانون الاول")."""
    names = [m.group("month") for m in DATE_RE.finditer(text, 0, end) if m.group("month")]
    return " " + names[-1] if names else ""
