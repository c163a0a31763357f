"""Dates of the offline extractor (the year nearest the coalition month's period, day lists,
"of the same month") and the coalition month a report states. Every text here is written for
these tests."""

from __future__ import annotations

import datetime as dt

import pytest
from rules_helpers import HEAD_126, run

from llm_extract.backends.rules.dates import DateContext, day_list, find_dates
from llm_extract.backends.rules.extractor import coalition_month, extract
from llm_extract.normalize import coalition_period, normalize


def test_dates_resolve_to_the_year_nearest_the_period() -> None:
    ctx = DateContext(period=coalition_period(118))  # 2024-06-23 .. 2024-07-22
    found = find_dates(normalize("جرى ذلك في 14 حزيران ثم في التاسع من تموز"), ctx)
    assert [f.date for f in found] == [dt.date(2024, 6, 14), dt.date(2024, 7, 9)]


def test_egyptian_months_and_explicit_years() -> None:
    ctx = DateContext.of(normalize("الحسكة – 3 مارس 2023"), None)
    assert [f.date for f in find_dates(normalize("الحسكة – 3 مارس 2023"), ctx)] == [
        dt.date(2023, 3, 3)
    ]
    assert [f.date for f in find_dates(normalize("٢٤ يونيو"), ctx)] == [dt.date(2023, 6, 24)]


def test_a_date_without_any_year_is_left_out() -> None:
    assert find_dates(normalize("في 5 آذار"), DateContext()) == []


def test_since_is_not_an_event_date() -> None:
    ctx = DateContext(period=coalition_period(109))
    assert find_dates(normalize("منذ 18 تشرين الأول"), ctx) == []


def test_day_lists_share_month_names() -> None:
    ctx = DateContext(period=coalition_period(113))  # 2024-01-23 .. 2024-02-22
    text = normalize("بتواريخ 28 و29، و31 كانون الثاني، و3 و9 من شباط")
    assert day_list(text, ctx) == [
        dt.date(2024, 1, 28),
        dt.date(2024, 1, 29),
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 3),
        dt.date(2024, 2, 9),
    ]


def test_day_of_the_same_month_in_a_convoy_list() -> None:
    text = HEAD_126 + (
        "ودخلت نحو 90 شاحنة على 4 دفعات، أولاها في 26 شباط، ثم في 27 و28 منه، و6 آذار، "
        "إلى قاعدة قسرك.\n"
    )
    (convoy,) = run(text).convoys
    assert convoy.dates == [
        dt.date(2025, 2, 26),
        dt.date(2025, 2, 27),
        dt.date(2025, 2, 28),
        dt.date(2025, 3, 6),
    ]


# --- the coalition month --------------------------------------------------------------------------


def test_month_stated_in_a_title() -> None:
    result = run("التحالف الدولي في سورية – حصيلة الشهر الـ١٢٢:\nلا جديد يذكر.\n")
    assert result.coalition_month == 122


@pytest.mark.parametrize(
    ("opening", "month"),
    [
        ("انتهى الشهر الثالث والستون لوجود التحالف في سورية", 63),
        ("مضى الشهر الحادي والعشرون على بدء عمليات التحالف", 21),
        ("طوى التحالف شهره الرابع والثلاثين بعد المائة في سورية", 134),
    ],
)
def test_compound_ordinal_month_sets_the_dates(opening: str, month: int) -> None:
    period = coalition_period(month)
    text = (
        f"{opening}.\n"
        f"وفي 28 {_month_name(period.start.month)}، دخلت 40 شاحنة للتحالف عبر معبر الوليد "
        "إلى قاعدة الشدادي.\n"
    )
    result = run(text)
    assert result.coalition_month == month
    (convoy,) = result.convoys
    (day,) = convoy.dates
    assert period.start <= day <= period.end


def _month_name(number: int) -> str:
    names = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول"]
    names += ["تشرين الأول", "تشرين الثاني", "كانون الأول"]
    return names[number - 1]


@pytest.mark.parametrize(
    ("opening", "month"),
    [
        ("تواصل قوات التحالف الدولي وجودها في سورية للشهر ١٢٠ على التوالي", 120),
        ("يدخل التحالف شهره الـ 115 على التوالي في سورية", 115),
        ("في الشهر السابع والعشرين بعد المئة لتدخل التحالف الدولي في سورية", 127),
        ("التحالف الدولي في سورية – حصيلة الشهر الـ١٢٢:", 122),
        ("للشهر 700 على التوالي", None),
        ("شهدت مدينة القامشلي اليوم معرضا للكتاب", None),
    ],
    ids=["digits", "his-month", "ordinal-words", "title", "out-of-range", "none"],
)
def test_coalition_month_of_an_opening(opening: str, month: int | None) -> None:
    assert coalition_month(normalize(opening)) == month


# --- the publication date anchors a short item's dates ----------------------------------------

# A short item of the project's own, written without its year, as news sites publish them.
ITEM = (
    "الحسكة: شنت قوات التحالف الدولي أمس الجمعة غارة جوية على موقع قرب الشدادي.\n"
    "وكانت القوات قد نفذت يوم الأحد الماضي تدريبا مشتركا مع قسد في قاعدة قسرك.\n"
    "كما دخلت قافلة من 20 شاحنة في 28 كانون الأول عبر معبر الوليد."
)
PUBLISHED = dt.date(2025, 1, 4)  # a Saturday


def test_relative_and_yearless_dates_resolve_against_the_publication_date() -> None:
    extraction, _ = extract(ITEM, "item", PUBLISHED)
    assert [s.date for s in extraction.strikes] == [dt.date(2025, 1, 3)]  # أمس الجمعة
    assert [d.date for d in extraction.drills] == [dt.date(2024, 12, 29)]  # الأحد الماضي
    assert extraction.convoys[0].dates == [dt.date(2024, 12, 28)]  # across the new year


def test_without_a_publication_date_they_stay_unknown() -> None:
    extraction, _ = extract(ITEM, "item")
    assert [s.date for s in extraction.strikes] == [None]
    assert [d.date for d in extraction.drills] == [None]
    assert extraction.convoys[0].dates == []


def test_a_weekday_that_contradicts_the_publication_date_is_no_date() -> None:
    # "أمس الجمعة" published on a Sunday: yesterday was Saturday, so the text is wrong.
    strike_only = ITEM.splitlines()[0]
    extraction, _ = extract(strike_only, "item", dt.date(2025, 1, 5))
    assert [s.date for s in extraction.strikes] == [None]
    extraction, _ = extract(strike_only, "item", dt.date(2025, 1, 4))
    assert [s.date for s in extraction.strikes] == [dt.date(2025, 1, 3)]


def test_the_publication_date_never_moves_a_monthly_reports_dates() -> None:
    norm = normalize("للشهر 118 على التوالي. 14 حزيران")
    with_period = DateContext.of(norm, coalition_period(118), dt.date(2030, 1, 1))
    assert [d.date for d in find_dates("14 حزيران", with_period)] == [dt.date(2024, 6, 14)]
