"""Date expressions as reports write them, resolved against a publication date. No I/O.

Short news items rarely write a year and often no date at all: "أمس الجمعة", "فجر اليوم",
"يوم الأحد الماضي", "الثامن من كانون الأول الجاري", "28 كانون الأول". Their day is fixed by
the day the item was published (the *anchor*), never guessed:

- an expression with a year ("5 آذار 2023") is that date;
- a day and month without a year take the coalition month's year when there is a period
  (:func:`llm_extract.normalize.resolve_date`), else the year that puts them on or before
  the anchor (published 3 January 2025, "28 كانون الأول" is 2024-12-28);
- relative expressions (today, yesterday, a weekday, "الجاري", "الماضي") count from the
  anchor, and without one resolve to ``None``.

:func:`parse_date_expression` reads one expression (such as a record's ``date_text``);
:func:`find_date_expressions` finds every one in a text with its position, for extractors
that read text themselves; :meth:`DateExpression.resolve` turns either into a date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from llm_extract.normalize import (
    MONTH_PATTERN,
    Period,
    month_number,
    normalize_with_offsets,
    resolve_date,
)

# --- vocabulary (normalised spellings: ة->ه, أ/إ/آ->ا, ى->ي) -----------------------------------

_L = "\u0621-\u064a"
_NB = rf"(?<![{_L}])"  # no Arabic letter before
_NA = rf"(?![{_L}])"  # no Arabic letter after
_CLITIC = "[وبفل]?"

#: Python weekday numbers (Monday 0) of the Arabic day names.
WEEKDAYS: dict[str, int] = {
    "الاثنين": 0,
    "الثلاثاء": 1,
    "الاربعاء": 2,
    "الخميس": 3,
    "الجمعه": 4,
    "السبت": 5,
    "الاحد": 6,
}
_UNITS = {
    "الاول": 1,
    "الحادي": 1,
    "الواحد": 1,
    "الثاني": 2,
    "الثالث": 3,
    "الرابع": 4,
    "الخامس": 5,
    "السادس": 6,
    "السابع": 7,
    "الثامن": 8,
    "التاسع": 9,
}
_TENS = {"العشرين": 20, "الثلاثين": 30}


def _day_ordinals() -> dict[str, int]:
    words = {word: n for word, n in _UNITS.items() if word not in {"الحادي", "الواحد"}}
    words["العاشر"] = 10
    for word, n in _UNITS.items():
        if word not in {"الاول", "الواحد"}:
            words[f"{word} عشر"] = 10 + n
    for tens_word, tens in _TENS.items():
        words[tens_word] = tens
        for word, n in _UNITS.items():
            if word != "الاول" and tens + n <= 31:
                words[f"{word} و{tens_word}"] = tens + n
    return words


#: Day ordinals 1..31 as reports write them ("الثامن", "الحادي عشر", "الحادي والثلاثين").
DAY_ORDINALS: dict[str, int] = _day_ordinals()
_ORDINAL = "|".join(re.escape(w) for w in sorted(DAY_ORDINALS, key=len, reverse=True))
_MONTH_VARIANTS = {
    "كانون ثاني": "كانون الثاني",
    "كانون اول": "كانون الاول",
    "تشرين اول": "تشرين الاول",
    "تشرين ثاني": "تشرين الثاني",
}
_MONTHS = "|".join([*(re.escape(v) for v in _MONTH_VARIANTS), MONTH_PATTERN])
_WEEKDAY = "|".join(WEEKDAYS)
_TIME_OF_DAY = r"(?:فجر|صباح|ظهر|عصر|مساء|ليل|ليله|منتصف\s+ليل|ساعات\s+فجر|وقت\s+متاخر\s+من\s+ليل)"
_PAST = r"(?:الماضي|المنصرم|الفايت|السابق)"
_NEXT = r"(?:المقبل|القادم)"
_CURRENT = r"(?:الجاري|الحالي)"
_YEAR_TAIL = (
    r"(?:\s*,?\s*(?:من\s+)?(?:عام\s+|العام\s+|سنه\s+)?(?P<year>(?:19|20)\d\d)(?!\d)"
    rf"|\s+(?P<yref>{_CURRENT}|{_PAST}|{_NEXT}){_NA}"
    rf"|\s+(?:من\s+)?(?:العام|السنه)\s+(?P<yref2>{_CURRENT}|{_PAST}|{_NEXT}){_NA}"
    rf"|\s+(?:من\s+)?هذا\s+العام{_NA}(?P<this_year>)"
    rf"|\s+(?:من\s+)?هذه\s+السنه{_NA}(?P<this_year2>))?"
)
# An ordinal right after "كانون"/"تشرين" is part of the month's name, not a day.
_DAY = rf"(?P<day>(?<!\d)\d{{1,2}}(?!\d)|{_NB}(?<!كانون )(?<!تشرين )(?:{_ORDINAL}){_NA})"

_DAY_MONTH_RE = re.compile(
    rf"(?:{_NB}{_CLITIC}(?:يوم\s+)?)?{_DAY}\s*(?:من\s+)?(?:شهر\s+)?"
    rf"{_NB}(?P<month>{_MONTHS}){_NA}{_YEAR_TAIL}"
)
_DAY_OF_MONTH_RE = re.compile(
    rf"{_DAY}\s+(?:من\s+)?(?:هذا\s+الشهر|الشهر\s+(?P<mref>{_CURRENT}|{_PAST})"
    rf"|(?P<mref2>{_CURRENT}|{_PAST})){_NA}"
)
_NUMERIC_RE = re.compile(
    r"(?<![\d/.-])(?P<day>\d{1,2})/(?P<month>\d{1,2})(?:/(?P<year>(?:19|20)\d\d))?(?![\d/])"
)
_WEEKDAY_RE = re.compile(
    rf"{_NB}{_CLITIC}(?:(?P<rel>امس|اليوم){_NA}\s+|(?P<tod>{_TIME_OF_DAY})\s+)?(?P<yom>يوم\s+)?"
    rf"{_NB}(?P<weekday>{_WEEKDAY}){_NA}(?:\s*[-–—]\s*(?P<until>{_WEEKDAY}){_NA})?"
    rf"(?:\s+(?P<wref>{_PAST}|{_NEXT}){_NA})?"
)
_DAY_WORD_RE = re.compile(
    rf"{_NB}{_CLITIC}(?:(?:{_TIME_OF_DAY})\s+)?(?:يوم\s+)?"
    rf"(?P<word>اول\s+(?:من\s+)?امس|امس\s+الاول|البارحه|الامس|امس|اليوم|غدا){_NA}"
    r"(?!\s+(?:التالي|الاول|الثاني|الثالث|السابق|ذاته|نفسه|عينه|الذي|التي))"
)
_SINCE_RE = re.compile(rf"{_NB}و?(?:منذ|حتي|لغايه|الي\s+غايه){_NA}\s*$")
_DAY_WORDS = {
    "اليوم": 0,
    "امس": -1,
    "الامس": -1,
    "البارحه": -1,
    "غدا": 1,
}


class DateKind(StrEnum):
    EXPLICIT = "explicit"  # day, month and year written
    YEARLESS = "yearless"  # day and month, no year
    RELATIVE = "relative"  # counted from the publication date


@dataclass(frozen=True)
class DateExpression:
    """One date expression, parsed but not yet resolved (see :meth:`resolve`)."""

    kind: DateKind
    day: int | None = None
    month: int | None = None
    year: int | None = None
    #: days from the anchor: 0 today, -1 yesterday ("اليوم", "أمس")
    offset: int | None = None
    #: a weekday (Monday 0) the day must be, or is looked for
    weekday: int | None = None
    #: "past" strictly before the anchor, "next" strictly after, "recent" on or before it;
    #: for a month: "current" the anchor's, "previous" the one before it
    direction: str | None = None
    year_offset: int | None = None  # "من العام الماضي": -1, "الجاري": 0

    def resolve(
        self, anchor: dt.date | dt.datetime | None = None, period: Period | None = None
    ) -> dt.date | None:
        """The date this expression names, or ``None`` when it cannot be known.

        ``anchor`` is the publication date (a datetime counts by its own calendar day);
        ``period`` the coalition month's period, which fixes the year of a yearless date.
        Relative expressions need the anchor; an expression that contradicts it ("أمس
        الجمعة" published on a Friday) is ``None``.
        """
        day = _as_date(anchor)
        try:
            if self.kind is DateKind.EXPLICIT:
                assert self.year is not None and self.month is not None and self.day is not None
                return dt.date(self.year, self.month, self.day)
            if self.kind is DateKind.YEARLESS:
                assert self.month is not None and self.day is not None
                if period is not None:
                    return resolve_date(self.month, self.day, period)
                return None if day is None else on_or_before(self.month, self.day, day)
            return None if day is None else self._relative(day)
        except ValueError:  # 31 April, 30 February...
            return None

    def _relative(self, anchor: dt.date) -> dt.date | None:
        if self.offset is not None:
            found = anchor + dt.timedelta(days=self.offset)
            return found if self.weekday is None or found.weekday() == self.weekday else None
        if self.weekday is not None:
            back = (anchor.weekday() - self.weekday) % 7
            if self.direction == "next":
                return anchor + dt.timedelta(days=(self.weekday - anchor.weekday()) % 7 or 7)
            if self.direction == "past" and back == 0:
                back = 7
            return anchor - dt.timedelta(days=back)
        assert self.day is not None
        if self.year_offset is not None:
            assert self.month is not None
            return dt.date(anchor.year + self.year_offset, self.month, self.day)
        if self.direction == "current":
            if self.month is not None and self.month != anchor.month:
                return None  # "8 كانون الأول الجاري" published in January
            return anchor.replace(day=self.day)
        if self.direction == "previous" and self.month is None:  # "5 من الشهر الماضي"
            first = anchor.replace(day=1) - dt.timedelta(days=1)
            return first.replace(day=self.day)
        assert self.month is not None
        if self.direction == "previous":  # "5 كانون الأول الماضي": the last December before
            year = anchor.year if self.month < anchor.month else anchor.year - 1
        else:  # "next": the coming one
            year = anchor.year if self.month > anchor.month else anchor.year + 1
        return dt.date(year, self.month, self.day)


@dataclass(frozen=True)
class FoundExpression:
    """A date expression found in a text: ``text[start:end]``."""

    start: int
    end: int
    expression: DateExpression


def on_or_before(month: int, day: int, anchor: dt.date | dt.datetime) -> dt.date:
    """The date with this month and day that falls on or before ``anchor``, nearest it.

    >>> on_or_before(12, 28, dt.date(2025, 1, 3))
    datetime.date(2024, 12, 28)
    """
    limit = _as_date(anchor)
    assert limit is not None
    for year in range(limit.year, limit.year - 9, -1):  # 29 February: back to a leap year
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate <= limit:
            return candidate
    raise ValueError(f"no valid date for day {day} of month {month}")


def parse_date_expression(text: str) -> DateExpression | None:
    """The date expression ``text`` holds (e.g. a record's verbatim ``date_text``), or None.

    When ``text`` holds several, a written date (one with a day number) wins over a word relative
    to the day of publication ("1 تموز ... اليوم" is 1 July, whichever comes first); among
    the same sort, the first (longest at the same place) counts.
    """
    found = find_date_expressions(text, strict=False)
    written = [item for item in found if item.expression.day is not None]
    chosen = written or found
    return chosen[0].expression if chosen else None


def resolve_date_expression(
    text: str,
    *,
    published: dt.date | dt.datetime | None = None,
    period: Period | None = None,
) -> dt.date | None:
    """:func:`parse_date_expression` then :meth:`DateExpression.resolve`; None if unknown."""
    expression = parse_date_expression(text)
    return None if expression is None else expression.resolve(published, period)


def find_date_expressions(text: str, *, strict: bool = True) -> list[FoundExpression]:
    """Every date expression of ``text``, in order, positions in ``text`` (raw or normalised).

    ``strict`` (the default, for running text) leaves out what only a short quote can mean:
    a bare weekday name ("الجمعة" is also Friday prayers) needs "يوم", a time of day, "أمس"
    or "اليوم" before it, or "الماضي"/"المقبل" after it; "حتى اليوم" and "منذ أمس" are
    spans of time, not dates.
    """
    norm, offsets = normalize_with_offsets(text)
    candidates: list[tuple[int, int, DateExpression]] = []
    for regex, build in _PARSERS:
        for match in regex.finditer(norm):
            expression = build(match, strict)
            if expression is None:
                continue
            if strict and _SINCE_RE.search(norm, max(0, match.start() - 12), match.start()):
                continue
            candidates.append((match.start(), match.end(), expression))
    candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    found: list[FoundExpression] = []
    end = -1
    for start, stop, expression in candidates:
        if start < end:
            continue  # overlaps a longer or earlier one
        found.append(FoundExpression(offsets[start], offsets[stop - 1] + 1, expression))
        end = stop
    return found


# --- builders ------------------------------------------------------------------------------


def _as_date(value: dt.date | dt.datetime | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _day(raw: str) -> int | None:
    value = int(raw) if raw.isdigit() else DAY_ORDINALS.get(" ".join(raw.split()))
    return value if value is not None and 1 <= value <= 31 else None


def _month(raw: str) -> int | None:
    name = " ".join(raw.split())
    return month_number(_MONTH_VARIANTS.get(name, name))


def _ref(raw: str | None) -> str | None:
    """ "current", "previous" or "next" for a qualifier word."""
    if raw is None:
        return None
    if re.fullmatch(_CURRENT, raw):
        return "current"
    return "previous" if re.fullmatch(_PAST, raw) else "next"


def _from_day_month(match: re.Match[str], strict: bool) -> DateExpression | None:
    day, month = _day(match.group("day")), _month(match.group("month"))
    if day is None or month is None:
        return None
    if match.group("year"):
        return DateExpression(DateKind.EXPLICIT, day=day, month=month, year=int(match["year"]))
    if match.group("yref2") or match.group("this_year") is not None:
        shift = {"current": 0, "previous": -1, "next": 1}[_ref(match.group("yref2")) or "current"]
        return DateExpression(DateKind.RELATIVE, day=day, month=month, year_offset=shift)
    if match.group("this_year2") is not None:
        return DateExpression(DateKind.RELATIVE, day=day, month=month, year_offset=0)
    ref = _ref(match.group("yref"))
    if ref is not None:
        return DateExpression(DateKind.RELATIVE, day=day, month=month, direction=ref)
    return DateExpression(DateKind.YEARLESS, day=day, month=month)


def _from_day_of_month(match: re.Match[str], strict: bool) -> DateExpression | None:
    day = _day(match.group("day"))
    if day is None:
        return None
    ref = _ref(match.group("mref") or match.group("mref2")) or "current"
    if ref == "next":
        return None
    return DateExpression(DateKind.RELATIVE, day=day, direction=ref)


def _from_numeric(match: re.Match[str], strict: bool) -> DateExpression | None:
    day, month = int(match.group("day")), int(match.group("month"))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    if match.group("year"):
        return DateExpression(DateKind.EXPLICIT, day=day, month=month, year=int(match["year"]))
    return DateExpression(DateKind.YEARLESS, day=day, month=month)


def _from_weekday(match: re.Match[str], strict: bool) -> DateExpression | None:
    # "ليل الإثنين – الثلاثاء": a night that ends on the Tuesday is dated by the Tuesday.
    weekday = WEEKDAYS[match.group("until") or match.group("weekday")]
    rel, ref = match.group("rel"), match.group("wref")
    if rel is not None:
        return DateExpression(DateKind.RELATIVE, offset=_DAY_WORDS[rel], weekday=weekday)
    if strict and not (match.group("yom") or match.group("tod") or ref):
        return None
    direction = {None: "recent", "next": "next"}.get(_ref(ref), "past")
    return DateExpression(DateKind.RELATIVE, weekday=weekday, direction=direction)


def _from_day_word(match: re.Match[str], strict: bool) -> DateExpression | None:
    word = " ".join(match.group("word").split())
    offset = -2 if word.startswith("اول") or word == "امس الاول" else _DAY_WORDS[word]
    return DateExpression(DateKind.RELATIVE, offset=offset)


_PARSERS = (
    (_DAY_MONTH_RE, _from_day_month),
    (_DAY_OF_MONTH_RE, _from_day_of_month),
    (_NUMERIC_RE, _from_numeric),
    (_WEEKDAY_RE, _from_weekday),
    (_DAY_WORD_RE, _from_day_word),
)
