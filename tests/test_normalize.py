"""Arabic normalisation, grounding spans, month names and coalition-month dates."""

from __future__ import annotations

import datetime as dt

import pytest

from llm_extract.normalize import (
    coalition_month_of,
    coalition_period,
    find_months,
    find_span,
    has_arabic,
    month_number,
    nearest_year,
    normalize,
    normalize_with_offsets,
    parse_day_list,
    resolve_date,
    to_ascii_digits,
)


def test_digits_arabic_indic_and_persian() -> None:
    assert to_ascii_digits("٢٤ و۱۸") == "24 و18"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("تدريبـــات", "تدريبات"),  # tatweel
        ("مُسَيَّرَة", "مسيره"),  # diacritics and ta marbuta
        ("أإآٱ", "اااا"),  # alef forms
        ("مؤتمر شاطئ", "موتمر شاطي"),  # hamza on waw and ya
        ("“قسد”", "قسد"),  # quotation marks
        ("  نحو\n\t200   شاحنة ", "نحو 200 شاحنه"),  # white space
        ("على ٧ دفعات", "علي 7 دفعات"),  # digits and alef maqsura
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_offsets_point_into_original() -> None:
    text = "دخلت  “نحو ٢٠٠ شاحنة”"
    norm, offsets = normalize_with_offsets(text)
    assert len(norm) == len(offsets)
    for ch, index in zip(norm, offsets, strict=True):
        assert normalize(text[index]) in (ch, " ") or text[index].isspace()


def test_find_span_returns_original_offsets() -> None:
    source = "شهد الشهر دخول نحو ٢٠٠ شاحنةٍ تابعة للتحالف"
    span = find_span(source, "نحو 200 شاحنة")
    assert span is not None
    start, end = span
    assert source[start:end] == "نحو ٢٠٠ شاحنة"


def test_find_span_missing_and_empty() -> None:
    assert find_span("نص التقرير", "نص آخر غير موجود") is None
    assert find_span("نص التقرير", "  ") is None


def test_find_span_keeps_broken_words() -> None:
    source = "اعتقال 3 من عناصر تنظيم “د ا ع ش” في الريف"
    span = find_span(source, 'تنظيم "د ا ع ش"')
    assert span is not None
    assert source[span[0] : span[1]] == "تنظيم “د ا ع ش"


def test_has_arabic() -> None:
    assert has_arabic("يواصل التحالف الدولي عملياته في سورية للشهر المئة")
    assert not has_arabic("This is an English text about a convoy of trucks.")
    assert not has_arabic("")


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("كانون الثاني", 1),
        ("شباط", 2),
        ("آذار", 3),
        ("اذار", 3),
        ("حزيران", 6),
        ("تموز", 7),
        ("آب", 8),
        ("تشرين الأول", 10),
        ("تشرين الاول", 10),
        ("كانون الأول", 12),
        ("يناير", 1),
        ("فبراير", 2),
        ("ابريل", 4),
        ("يونيه", 6),
        ("ديسمبر", 12),
        ("رمضان", None),
    ],
)
def test_month_number(name: str, number: int | None) -> None:
    assert month_number(name) == number


@pytest.mark.parametrize(
    ("month", "start", "end"),
    [
        (1, dt.date(2014, 9, 23), dt.date(2014, 10, 22)),
        (113, dt.date(2024, 1, 23), dt.date(2024, 2, 22)),
        (118, dt.date(2024, 6, 23), dt.date(2024, 7, 22)),
        (112, dt.date(2023, 12, 23), dt.date(2024, 1, 22)),  # spans New Year
        (4, dt.date(2014, 12, 23), dt.date(2015, 1, 22)),
    ],
)
def test_coalition_period(month: int, start: dt.date, end: dt.date) -> None:
    period = coalition_period(month)
    assert (period.start, period.end) == (start, end)
    assert coalition_month_of(start) == month
    assert coalition_month_of(end) == month


def test_coalition_period_rejects_zero() -> None:
    with pytest.raises(ValueError, match="coalition month"):
        coalition_period(0)


def test_consecutive_periods_touch() -> None:
    for month in range(1, 200):
        assert (
            coalition_period(month).end + dt.timedelta(days=1) == coalition_period(month + 1).start
        )


def test_resolve_date_inside_period() -> None:
    period = coalition_period(118)
    assert resolve_date(7, 8, period) == dt.date(2024, 7, 8)


def test_resolve_date_just_before_period() -> None:
    # Month 118 lists a drill on 14 June, nine days before the period starts.
    assert resolve_date(6, 14, coalition_period(118)) == dt.date(2024, 6, 14)


def test_resolve_date_across_new_year() -> None:
    period = coalition_period(112)  # 2023-12-23 .. 2024-01-22
    assert resolve_date(12, 28, period) == dt.date(2023, 12, 28)
    assert resolve_date(1, 5, period) == dt.date(2024, 1, 5)
    # A date from just before the period in December of the year before.
    assert resolve_date(12, 20, period) == dt.date(2023, 12, 20)


def test_resolve_date_leap_day() -> None:
    # Month 113 ends 2024-02-22; 29 February exists only in 2024.
    assert resolve_date(2, 29, coalition_period(114)) == dt.date(2024, 2, 29)
    assert resolve_date(2, 29, coalition_period(126)) == dt.date(2024, 2, 29)


def test_a_29_february_with_no_leap_year_near_the_period_is_impossible() -> None:
    # Month 1 (2014-09-23 .. 2014-10-22): none of 2013-2015 is a leap year. This raised
    # ValueError before, for 91 of the months 1-400.
    assert resolve_date(2, 29, coalition_period(1)) is None
    assert resolve_date(2, 29, coalition_period(41)) is None
    assert resolve_date(4, 31, coalition_period(118)) is None
    assert resolve_date(2, 30, coalition_period(114)) is None


def test_nearest_year_keeps_a_29_february_it_cannot_place() -> None:
    leap_day = dt.date(2024, 2, 29)
    assert nearest_year(leap_day, coalition_period(1)) == leap_day  # kept, not moved to 2016
    assert nearest_year(leap_day, coalition_period(3)) == leap_day
    assert nearest_year(dt.date(2012, 2, 29), coalition_period(114)) == leap_day


def test_day_list_sharing_month_names() -> None:
    text = "وصلت القوافل في 22 و25 و28 و29 كانون الثاني، ثم في 3 و4، و9، و12 و20 من شباط"
    assert parse_day_list(text) == [
        (1, 22),
        (1, 25),
        (1, 28),
        (1, 29),
        (2, 3),
        (2, 4),
        (2, 9),
        (2, 12),
        (2, 20),
    ]


def test_day_list_arabic_indic_and_egyptian() -> None:
    assert parse_day_list("في ٣ و١٢ يناير و٤ فبراير") == [(1, 3), (1, 12), (2, 4)]


def test_day_list_single_day_and_none() -> None:
    assert parse_day_list("بتاريخ 24 حزيران") == [(6, 24)]
    assert parse_day_list("لا تاريخ هنا") == []


def test_day_list_with_connectives() -> None:
    text = "يوم 3 وفي 9 ثم في 21 آذار، ثم يوم 2 من نيسان"
    assert parse_day_list(text) == [(3, 3), (3, 9), (3, 21), (4, 2)]


def test_day_list_ignores_years_and_big_numbers() -> None:
    assert parse_day_list("بين 2020 و 5 أيار") == [(5, 5)]
    assert parse_day_list("نحو 400 شاحنة في 3 آب") == [(8, 3)]


def test_find_months_prefers_long_names() -> None:
    found = find_months(normalize("بين كانون الأول وكانون الثاني"))
    assert [month for _, _, month in found] == [12, 1]
