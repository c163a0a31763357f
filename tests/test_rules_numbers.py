"""Arabic numbers, ordinals, hedges and dates of the offline extractor."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from llm_extract.backends.rules.dates import DateContext, day_list, find_dates
from llm_extract.backends.rules.lexicon import actors_in
from llm_extract.backends.rules.numbers import (
    QUANTITY,
    parse_number,
    parse_ordinal,
    quantity,
)
from llm_extract.backends.rules.places import find_governorate
from llm_extract.normalize import coalition_period, normalize
from llm_extract.schemas import Actor, Governorate


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("118", 118),
        ("١١٨", 118),
        ("ثلاثة", 3),
        ("ثلاث", 3),
        ("بست", 6),
        ("عشرة", 10),
        ("أحد عشر", 11),
        ("اثنا عشر", 12),
        ("خمسة وعشرون", 25),
        ("عشرين", 20),
        ("مئة", 100),
        ("مائتين", 200),
        ("ثلاثمائة", 300),
        ("مئة وخمسون", 150),
        ("عشرات", None),
        ("عدد من", None),
    ],
)
def test_parse_number(text: str, value: int | None) -> None:
    assert parse_number(normalize(text)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("التاسع عشر بعد المائة", 119),
        ("السادس عشر بعد المئة", 116),
        ("العشرين بعد المائة", 120),
        ("الحادي والعشرين", 21),
        ("التاسع", 9),
        ("الأول", 1),
    ],
)
def test_parse_ordinal(text: str, value: int) -> None:
    assert parse_ordinal(normalize(text)) == value


@pytest.mark.parametrize(
    ("text", "value", "approximate", "at_least"),
    [
        ("نحو 200 شاحنة", 200, True, False),
        ("قرابة ١٢ طائرة", 12, True, False),
        ("حوالى 40 آلية", 40, True, False),
        ("أكثر من 10 طائرات", 10, False, True),
        ("3 قتلى على الأقل", 3, False, True),
        ("سبع شاحنات", 7, False, False),
    ],
)
def test_quantity_hedges(text: str, value: int, approximate: bool, at_least: bool) -> None:
    norm = normalize(text)
    match = re.search(QUANTITY, norm)
    assert match is not None
    q = quantity(match.group("pre"), match.group("num"), norm[match.end() :])
    assert q is not None
    assert (q.value, q.approximate, q.at_least) == (value, approximate, at_least)


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


def test_broken_words_and_variant_spellings() -> None:
    assert actors_in(normalize("عناصر من د ا ع ش")) == [Actor.ISIS]
    assert actors_in(normalize("تبنت الم قاو م ة الإسلامية الهجوم")) == [
        Actor.ISLAMIC_RESISTANCE_IN_IRAQ
    ]
    assert find_governorate(normalize("في حقل كونوكو")) == Governorate.DEIR_EZ_ZOR
    assert find_governorate(normalize("قاعدة الشدادية")) == Governorate.HASAKAH
    assert find_governorate(normalize("مطار خراب الجير")) == Governorate.HASAKAH
    assert find_governorate(normalize("قرب التنف")) == Governorate.HOMS
