"""Dates written without a year or relative to the day of publication, resolved in code."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from llm_extract.date_expressions import (
    DAY_ORDINALS,
    DateKind,
    find_date_expressions,
    on_or_before,
    parse_date_expression,
    resolve_date_expression,
)
from llm_extract.normalize import coalition_period
from llm_extract.report import Report
from llm_extract.schemas import ReportExtraction

SATURDAY = dt.date(2024, 12, 14)  # a Saturday


def resolve(text: str, published: dt.date | dt.datetime | None = SATURDAY) -> dt.date | None:
    return resolve_date_expression(text, published=published)


def test_year_boundary_published_3_january() -> None:
    assert resolve("28 كانون الأول", dt.date(2025, 1, 3)) == dt.date(2024, 12, 28)
    assert resolve("2 كانون الثاني", dt.date(2025, 1, 3)) == dt.date(2025, 1, 2)
    assert resolve("٣ كانون الثاني", dt.date(2025, 1, 3)) == dt.date(2025, 1, 3)  # same day
    assert resolve("4 كانون الثاني", dt.date(2025, 1, 3)) == dt.date(2024, 1, 4)
    assert on_or_before(12, 31, dt.datetime(2025, 1, 1, 0, 5)) == dt.date(2024, 12, 31)


def test_29_february_goes_back_to_a_leap_year() -> None:
    assert on_or_before(2, 29, dt.date(2025, 3, 1)) == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("أمس", dt.date(2024, 12, 13)),
        ("مساء أمس", dt.date(2024, 12, 13)),
        ("البارحة", dt.date(2024, 12, 13)),
        ("أول أمس", dt.date(2024, 12, 12)),
        ("أمس الأول", dt.date(2024, 12, 12)),
        ("اليوم", SATURDAY),
        ("فجر اليوم", SATURDAY),
        ("اليوم السبت", SATURDAY),
        ("أمس الجمعة", dt.date(2024, 12, 13)),
        ("يوم الأحد", dt.date(2024, 12, 8)),
        ("يوم السبت", SATURDAY),
        ("السبت الماضي", dt.date(2024, 12, 7)),
        ("الأحد الماضي", dt.date(2024, 12, 8)),
        ("يوم الخميس", dt.date(2024, 12, 12)),
        ("مساء الإثنين", dt.date(2024, 12, 9)),
        ("الأربعاء المقبل", dt.date(2024, 12, 18)),
        ("الثامن من كانون الأول الجاري", dt.date(2024, 12, 8)),
        ("8 كانون الأول الحالي", dt.date(2024, 12, 8)),
        ("الخامس من الشهر الجاري", dt.date(2024, 12, 5)),
        ("في 5 الجاري", dt.date(2024, 12, 5)),
        ("الحادي والعشرين من الشهر الماضي", dt.date(2024, 11, 21)),
        ("20 تشرين الثاني الماضي", dt.date(2024, 11, 20)),
        ("كانون الأول الماضي 3", None),  # a month without its day names no day
        ("3 آذار من العام الماضي", dt.date(2023, 3, 3)),
        ("10 شباط من العام الجاري", dt.date(2024, 2, 10)),
        ("5 آذار 2023", dt.date(2023, 3, 5)),
        ("5/3/2023", dt.date(2023, 3, 5)),
        ("الحادي عشر من تشرين الأول", dt.date(2024, 10, 11)),
    ],
)
def test_relative_and_yearless_expressions(text: str, expected: dt.date | None) -> None:
    assert resolve(text) == expected


def test_an_expression_that_contradicts_the_publication_date_is_not_guessed() -> None:
    assert resolve("أمس الخميس") is None  # yesterday was a Friday
    assert resolve("اليوم الأحد") is None
    assert resolve("الثامن من كانون الثاني الجاري") is None  # published in December


@pytest.mark.parametrize(
    "text", ["أمس", "اليوم", "يوم الأحد", "أمس الجمعة", "الثامن من كانون الأول الجاري"]
)
def test_relative_dates_without_a_publication_date_stay_null(text: str) -> None:
    expression = parse_date_expression(text)
    assert expression is not None and expression.kind is DateKind.RELATIVE
    assert expression.resolve(None) is None


def test_yearless_dates_take_the_period_first() -> None:
    period = coalition_period(124)  # 2024-12-23 .. 2025-01-22
    expression = parse_date_expression("3 كانون الثاني")
    assert expression is not None
    assert expression.resolve(dt.date(2030, 6, 1), period) == dt.date(2025, 1, 3)
    assert expression.resolve(None, None) is None


def test_day_ordinals_cover_the_month() -> None:
    assert sorted(set(DAY_ORDINALS.values())) == list(range(1, 32))
    assert DAY_ORDINALS["الحادي والثلاثين"] == 31


def test_find_in_running_text() -> None:
    text = (
        "قالت مصادر محلية إن مسيرة استهدفت أمس الجمعة موقعا قرب الشدادي، بعد صلاة الجمعة، "
        "ولا يزال الطريق مغلقا منذ أمس حتى اليوم، وفي اليوم التالي وصلت تعزيزات. وكانت "
        "القوات قد نفذت في الثامن من كانون الأول الجاري مداهمة، ثم أخرى في 5 من الشهر ذاته."
    )
    found = find_date_expressions(text)
    assert [text[f.start : f.end] for f in found] == [
        "أمس الجمعة",
        "الثامن من كانون الأول الجاري",
    ]
    assert [f.expression.resolve(SATURDAY) for f in found] == [
        dt.date(2024, 12, 13),
        dt.date(2024, 12, 8),
    ]


def test_find_gives_positions_in_the_original_text() -> None:
    text = "نفّذت القوات يومَ الأحدِ الماضي عملية"
    (found,) = find_date_expressions(text)
    assert text[found.start : found.end] == "يومَ الأحدِ الماضي"


# --- in the data contract ---------------------------------------------------------------------

ITEM = (
    "الحسكة: نفذت قوات التحالف الدولي أمس الجمعة عملية إنزال جوي في ريف الشدادي، "
    "واعتقلت شخصين. وكانت قد أجرت تدريبا في 28 كانون الأول في قاعدة قسرك."
)


def _item(**context: object) -> ReportExtraction:
    answer = {
        "arrests": [
            {"date_text": "أمس الجمعة", "date": "2031-01-01", "evidence": "عملية إنزال جوي"}
        ],
        "drills": [{"date_text": "28 كانون الأول", "date": None, "evidence": "أجرت تدريبا"}],
    }
    return ReportExtraction.model_validate(answer, context={"source": ITEM, **context})


def test_contract_resolves_date_text_from_the_publication_date() -> None:
    result = _item(published=dt.datetime(2025, 1, 4, 8, 0, tzinfo=dt.UTC))  # a Saturday
    assert result.arrests[0].date == dt.date(2025, 1, 3)
    assert result.drills[0].date == dt.date(2024, 12, 28)


def test_contract_without_publication_date_leaves_relative_dates_null() -> None:
    result = _item()
    assert result.arrests[0].date is None  # the model's guess is not kept
    assert result.drills[0].date is None


def test_report_validation_context_carries_the_publication_date() -> None:
    report = Report("r", ITEM, "r.html", published=dt.date(2025, 1, 4))
    answer = {"arrests": [{"date_text": "أمس الجمعة", "evidence": "عملية إنزال جوي"}]}
    result = ReportExtraction.model_validate(answer, context=report.validation_context())
    assert result.arrests[0].date == dt.date(2025, 1, 3)


def test_a_stored_result_read_back_keeps_its_dates() -> None:
    result = _item(published="2025-01-04")
    again = ReportExtraction.model_validate_json(result.model_dump_json())
    assert again.arrests[0].date == dt.date(2025, 1, 3)
    assert again.arrests[0].date_text == "أمس الجمعة"


def test_date_text_must_occur_in_the_report() -> None:
    answer = {"arrests": [{"date_text": "أمس السبت", "evidence": "عملية إنزال جوي"}]}
    with pytest.raises(ValidationError, match="date_text"):
        ReportExtraction.model_validate(answer, context={"source": ITEM})


def test_convoy_dates_from_a_relative_or_yearless_date_text() -> None:
    text = "دخلت أمس قافلة للتحالف، بعد قافلتين في 30 و31 كانون الأول."
    answer = {
        "convoys": [
            {"mode": "ground", "date_text": "أمس", "evidence": "دخلت أمس قافلة"},
            {
                "mode": "ground",
                "date_text": "30 و31 كانون الأول",
                "dates": ["2025-12-30", "2025-12-31"],
                "evidence": "بعد قافلتين",
            },
        ]
    }
    result = ReportExtraction.model_validate(
        answer, context={"source": text, "published": dt.date(2025, 1, 2)}
    )
    assert result.convoys[0].dates == [dt.date(2025, 1, 1)]
    assert result.convoys[1].dates == [dt.date(2024, 12, 30), dt.date(2024, 12, 31)]


@pytest.mark.parametrize(
    "text",
    ["1 تموز، نفذت القوات اليوم تدريبات", "نفذت القوات اليوم، في 1 تموز، تدريبات", "أمس 1 تموز"],
)
def test_a_written_date_wins_over_a_relative_word(text: str) -> None:
    """Issue 18: "1 تموز ... اليوم" is 1 July, whichever of the two comes first."""
    expression = parse_date_expression(text)
    assert expression is not None and expression.kind is DateKind.YEARLESS
    assert resolve(text, dt.date(2024, 7, 20)) == dt.date(2024, 7, 1)


def test_contract_date_text_with_a_written_date_and_today() -> None:
    text = "يواصل التحالف نشاطه للشهر 118 على التوالي. في 1 تموز، نفذت القوات اليوم تدريبات."
    answer = {
        "coalition_month": 118,
        "drills": [
            {
                "date_text": "1 تموز، نفذت القوات اليوم",
                "date": "2024-07-20",
                "evidence": "نفذت القوات اليوم تدريبات",
            }
        ],
    }
    result = ReportExtraction.model_validate(
        answer, context={"source": text, "published": dt.date(2024, 7, 20)}
    )
    assert result.drills[0].date == dt.date(2024, 7, 1)


def test_a_night_between_two_weekdays_is_dated_by_the_second() -> None:
    tuesday = dt.date(2022, 8, 9)
    assert resolve("ليل الإثنين – الثلاثاء", tuesday) == tuesday
    assert resolve("ليل الإثنين", tuesday) == dt.date(2022, 8, 8)
