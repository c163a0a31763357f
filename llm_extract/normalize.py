"""Arabic text normalisation, digits, month names and coalition-month dates.

Pure functions, no I/O. Everything that compares Arabic text (grounding, scoring, the
pattern extractor) goes through :func:`normalize` so that the same two strings are
equal everywhere.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

# --- characters -------------------------------------------------------------------------

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# Harakat, tanween, shadda, sukun, superscript alef, Quranic marks, and tatweel.
_DROP = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# Quotation marks of every kind carry no meaning for matching.
_QUOTES = re.compile("[\"'“”„‟«»‘’‚‛`´]")
_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ؤ": "و",
        "ئ": "ي",
        "ة": "ه",
        "،": ",",
        "؛": ";",
        "–": "-",
        "—": "-",
    }
)
_SPACE = re.compile(r"\s+")
_ARABIC = re.compile("[\u0621-\u064a]")


def to_ascii_digits(text: str) -> str:
    """Replace Arabic-Indic and Persian digits by ASCII digits."""
    return text.translate(_DIGITS)


@functools.cache  # the set of distinct characters is small; speeds normalisation ~3x
def _normalize_char(ch: str) -> str:
    if _DROP.fullmatch(ch) or _QUOTES.fullmatch(ch):
        return ""
    if ch.isspace():
        return " "
    return ch.translate(_DIGITS).translate(_LETTERS)


def normalize(text: str) -> str:
    """Normalise Arabic text for comparison.

    Removes diacritics, tatweel and quotation marks, unifies alef/hamza forms, ya and ta
    marbuta, turns Arabic-Indic digits into ASCII and collapses white space.
    """
    return _SPACES.sub(" ", text.translate(_TABLE)).strip(" ")


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalise ``text`` and return, for each character of the result, its index in ``text``.

    Every character becomes at most one: :func:`str.translate` maps them all at once; the
    characters removed (diacritics, tatweel, quotes, then the white space collapsed) are
    found with regular expressions, so the offsets are built from runs rather than one
    character at a time (a report of 4,000 characters takes a few dozen steps, not 4,000).
    """
    mapped = text.translate(_TABLE)
    if len(mapped) == len(text):
        positions: list[int] | range = range(len(text))
    else:
        positions = _kept(range(len(text)), [m.span() for m in _GONE.finditer(text)])
    spans = _extra_spaces(mapped)
    if not spans:
        return mapped, list(positions)
    norm = "".join(mapped[a:b] for a, b in _runs(len(mapped), spans))
    return norm, _kept(positions, spans)


def _extra_spaces(mapped: str) -> list[tuple[int, int]]:
    """The spaces the collapse removes: runs at either end whole, and all but the first
    space of each run inside."""
    length = len(mapped)
    lead = length - len(mapped.lstrip(" "))
    if lead == length:
        return [(0, length)] if length else []
    trail = length - len(mapped.rstrip(" "))
    spans = [(0, lead)] if lead else []
    if "  " in mapped[lead : length - trail]:
        inside = _SPACES.finditer(mapped, lead, length - trail)
        spans += [(m.start() + 1, m.end()) for m in inside]
    if trail:
        spans.append((length - trail, length))
    return spans


def _runs(length: int, removed: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ``(start, end)`` runs of ``range(length)`` between the ``removed`` spans."""
    runs: list[tuple[int, int]] = []
    at = 0
    for start, end in removed:
        if start > at:
            runs.append((at, start))
        at = end
    if at < length:
        runs.append((at, length))
    return runs


def _kept(positions: list[int] | range, removed: list[tuple[int, int]]) -> list[int]:
    """The items of ``positions`` outside the ``removed`` spans (of indices into it)."""
    kept: list[int] = []
    for start, end in _runs(len(positions), removed):
        kept.extend(positions[start:end])
    return kept


class _CharTable(dict[int, str | None]):
    """:func:`str.translate` table of :func:`_normalize_char`, filled as characters are met
    (``None`` deletes a character)."""

    def __missing__(self, code: int) -> str | None:
        value = _normalize_char(chr(code)) or None
        self[code] = value
        return value


_TABLE = _CharTable()
# Runs of the characters _normalize_char removes; runs of two spaces or more.
_GONE = re.compile(f"(?:{_DROP.pattern}|{_QUOTES.pattern})+")
_SPACES = re.compile(" {2,}")


def has_arabic(text: str, minimum: int = 20) -> bool:
    """True when ``text`` holds at least ``minimum`` Arabic letters (it stops counting
    there: a long report is not scanned to its end)."""
    found = 0
    for _ in _ARABIC.finditer(text):
        found += 1
        if found >= minimum:
            return True
    return found >= minimum


@functools.lru_cache(maxsize=8)
def normalized_source(text: str) -> tuple[str, tuple[int, ...]]:
    """Cached :func:`normalize_with_offsets` for a report that is searched many times
    (grounding every record of one report normalises its text once, not once per record)."""
    norm, offsets = normalize_with_offsets(text)
    return norm, tuple(offsets)


def find_span(source: str, evidence: str) -> tuple[int, int] | None:
    """Locate ``evidence`` in ``source`` after normalisation.

    Returns ``(start, end)`` character offsets in the *original* ``source`` (end exclusive),
    or ``None`` when the evidence does not occur.
    """
    needle = normalize(evidence)
    if not needle:
        return None
    haystack, offsets = normalized_source(source)
    at = haystack.find(needle)
    if at < 0:
        return None
    return offsets[at], offsets[at + len(needle) - 1] + 1


def find_spans(source: str, query: str, limit: int = 1000) -> list[tuple[int, int]]:
    """Every place ``query`` occurs in ``source`` after normalisation (as :func:`find_span`),
    in text order, as ``(start, end)`` offsets in the original ``source``; at most ``limit``."""
    needle = normalize(query)
    if not needle:
        return []
    haystack, offsets = normalized_source(source)
    spans: list[tuple[int, int]] = []
    at = haystack.find(needle)
    while at >= 0 and len(spans) < limit:
        spans.append((offsets[at], offsets[at + len(needle) - 1] + 1))
        at = haystack.find(needle, at + 1)
    return spans


# --- month names --------------------------------------------------------------------------

LEVANTINE_MONTHS: dict[str, int] = {
    "كانون الثاني": 1,
    "شباط": 2,
    "آذار": 3,
    "نيسان": 4,
    "أيار": 5,
    "حزيران": 6,
    "تموز": 7,
    "آب": 8,
    "أيلول": 9,
    "تشرين الأول": 10,
    "تشرين الثاني": 11,
    "كانون الأول": 12,
}
EGYPTIAN_MONTHS: dict[str, int] = {
    "يناير": 1,
    "فبراير": 2,
    "مارس": 3,
    "أبريل": 4,
    "إبريل": 4,
    "مايو": 5,
    "يونيو": 6,
    "يونيه": 6,
    "يوليو": 7,
    "يوليه": 7,
    "أغسطس": 8,
    "سبتمبر": 9,
    "أكتوبر": 10,
    "نوفمبر": 11,
    "ديسمبر": 12,
}
_MONTHS_NORM: dict[str, int] = {
    normalize(name): number for name, number in (LEVANTINE_MONTHS | EGYPTIAN_MONTHS).items()
}
# Longest names first so that "كانون الثاني" wins over a bare "كانون".
MONTH_PATTERN = "|".join(re.escape(name) for name in sorted(_MONTHS_NORM, key=len, reverse=True))
# A month name is a whole word, possibly behind a one-letter clitic (و، ب، ل، ف).
_WORD_START = r"(?:(?<![\u0621-\u064a])|(?<=(?<![\u0621-\u064a])[وبلف]))"
_MONTH_RE = re.compile(rf"{_WORD_START}({MONTH_PATTERN})(?![\u0621-\u064a])")


def month_number(name: str) -> int | None:
    """Month number (1-12) of a Levantine or Egyptian month name, or ``None``."""
    return _MONTHS_NORM.get(normalize(name))


# --- coalition months ---------------------------------------------------------------------

CAMPAIGN_START = dt.date(2014, 9, 23)


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + (day.month - 1) + months
    return day.replace(year=total // 12, month=total % 12 + 1)


@dataclass(frozen=True)
class Period:
    """The days covered by one coalition month (both ends included)."""

    start: dt.date
    end: dt.date

    def distance(self, day: dt.date) -> int:
        """Days from ``day`` to the period (0 inside it)."""
        if day < self.start:
            return (self.start - day).days
        if day > self.end:
            return (day - self.end).days
        return 0


def coalition_period(month: int) -> Period:
    """Period of coalition month ``month``: month 1 starts on 2014-09-23.

    >>> coalition_period(118)
    Period(start=datetime.date(2024, 6, 23), end=datetime.date(2024, 7, 22))
    """
    if month < 1:
        raise ValueError(f"coalition month must be >= 1, got {month}")
    start = _add_months(CAMPAIGN_START, month - 1)
    end = _add_months(CAMPAIGN_START, month) - dt.timedelta(days=1)
    return Period(start, end)


def coalition_month_of(day: dt.date) -> int:
    """The coalition month that contains ``day``."""
    months = (day.year - CAMPAIGN_START.year) * 12 + day.month - CAMPAIGN_START.month
    if day.day < CAMPAIGN_START.day:
        months -= 1
    return months + 1


def resolve_date(month: int, day: int, period: Period) -> dt.date | None:
    """The date with this month and day whose year puts it nearest ``period``, or ``None``.

    The candidates are the years of the period and the one on either side. ``None`` when
    none of them has that day: a day no month has (31 April, 30 February), or a 29 February
    with no leap year among them (the coalition months 1-3, 41-47...). Such a date is
    impossible for the report, so the caller keeps it unresolved instead of moving it years
    away; this never raises.
    """
    best: dt.date | None = None
    for year in range(period.start.year - 1, period.end.year + 2):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:  # 29 February in a common year, 31 April...
            continue
        if best is None or period.distance(candidate) < period.distance(best):
            best = candidate
    return best


def nearest_year(day: dt.date, period: Period) -> dt.date:
    """Move ``day`` to the year that puts it nearest ``period`` (month and day kept).

    A 29 February goes to the nearest leap year among the candidates of
    :func:`resolve_date`; with none there, ``day`` is kept as it is (never moved years away,
    never an error), and stays outside the period for the checks that look at it.
    """
    moved = resolve_date(day.month, day.day, period)
    return day if moved is None else moved


# --- lists of days sharing a month name -------------------------------------------------------

_DAY_LIST_RE = re.compile(
    r"((?:(?<!\d)\d{1,2}(?!\d)[\s,]*(?:(?:و|ثم)\s*(?:في\s*)?(?:يوم\s*)?[\s,]*)?)*(?<!\d)\d{1,2})"
    r"\s*(?:من\s+)?(?:شهر\s+)?"
    rf"({MONTH_PATTERN})(?![\u0621-\u064a])"
)


def parse_day_list(text: str) -> list[tuple[int, int]]:
    """Parse ``(month, day)`` pairs from lists such as "26 و27 و30 كانون الثاني، و5 من شباط".

    The month name after a run of days applies to every day of the run. Works on raw or
    normalised text; digits may be Arabic-Indic.
    """
    norm = normalize(text)
    pairs: list[tuple[int, int]] = []
    for match in _DAY_LIST_RE.finditer(norm):
        month = _MONTHS_NORM[match.group(2)]
        for day in re.findall(r"\d{1,2}", match.group(1)):
            if 1 <= int(day) <= 31:
                pairs.append((month, int(day)))
    return pairs


def find_months(text: str) -> list[tuple[int, int, int]]:
    """``(start, end, month)`` for each month name in normalised ``text``."""
    return [(m.start(), m.end(), _MONTHS_NORM[m.group(1)]) for m in _MONTH_RE.finditer(text)]
