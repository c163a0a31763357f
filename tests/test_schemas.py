"""The data contract: strict schema, grounding, derived fields and consistency flags."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from llm_extract.schemas import (
    CATEGORIES,
    RECORD_TYPES,
    Actor,
    Convoy,
    ReportExtraction,
    StrikeKind,
)

SOURCE = (
    "يواصل التحالف الدولي عملياته للشهر 118 على التوالي. دخلت نحو ٢٠٠ شاحنة على 7 دفعات "
    "بتواريخ 24 حزيران و8 تموز. وأجرت القوات تدريباً بالذخيرة الحية في قاعدة قسرك يوم 1 تموز."
)


def _walk(node: Any, path: str = "") -> list[str]:
    problems: list[str] = []
    if isinstance(node, dict):
        if "properties" in node:
            missing = set(node["properties"]) - set(node.get("required", []))
            if missing:
                problems.append(f"{path}: not required {sorted(missing)}")
            if node.get("additionalProperties") is not False:
                problems.append(f"{path}: additionalProperties not false")
        if "default" in node:
            problems.append(f"{path}: has a default")
        if "$ref" in node and len(node) > 1:
            problems.append(f"{path}: keywords beside $ref")
        for key, value in node.items():
            problems.extend(_walk(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            problems.extend(_walk(value, f"{path}/{i}"))
    return problems


def test_schema_is_openai_strict() -> None:
    schema = ReportExtraction.model_json_schema()
    assert _walk(schema) == []


def test_schema_hides_fields_computed_in_code() -> None:
    schema = ReportExtraction.model_json_schema()
    top = schema["properties"]
    assert "report_id" not in top and "period" not in top and "flags" not in top
    convoy = schema["$defs"]["Convoy"]["properties"]
    assert "evidence" in convoy
    assert "evidence_start" not in convoy and "evidence_end" not in convoy


def test_every_field_is_described_for_the_model() -> None:
    for category in CATEGORIES:
        model = RECORD_TYPES[category]
        for name, field in model.model_fields.items():
            if name in {"evidence_start", "evidence_end"}:
                continue
            has_text = field.description or any(
                getattr(meta, "description", None) for meta in field.metadata
            )
            enum_doc = field.annotation is not None and "Enum" in str(field.annotation)
            assert has_text or enum_doc or name in {"date", "governorate"}, (category, name)


def _convoy(**kwargs: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"mode": "ground", "evidence": "نحو 200 شاحنة"}
    base.update(kwargs)
    return base


def test_grounding_sets_offsets() -> None:
    result = ReportExtraction.model_validate(
        {"coalition_month": 118, "convoys": [_convoy(vehicles=200, approximate=True)]},
        context={"source": SOURCE, "report_id": "r1"},
    )
    convoy = result.convoys[0]
    assert convoy.evidence_start is not None and convoy.evidence_end is not None
    assert SOURCE[convoy.evidence_start : convoy.evidence_end] == "نحو ٢٠٠ شاحنة"
    assert result.report_id == "r1"


def test_ungrounded_evidence_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        ReportExtraction.model_validate(
            {"convoys": [_convoy(evidence="نحو 300 طائرة")]}, context={"source": SOURCE}
        )
    error = info.value.errors()[0]
    assert error["loc"][:2] == ("convoys", 0)
    assert "does not occur in the report" in error["msg"]


def test_without_source_evidence_is_not_checked() -> None:
    result = ReportExtraction.model_validate({"convoys": [_convoy(evidence="أي نص")]})
    assert result.convoys[0].evidence_start is None


def test_a_full_date_outside_the_period_is_kept_and_flagged() -> None:
    """A model's date with a year is never moved to the period: it is kept and flagged."""
    result = ReportExtraction.model_validate(
        {
            "coalition_month": 118,
            "convoys": [_convoy(dates=["2019-06-24", "2024-07-08"])],
            "drills": [{"date": "2000-07-01", "evidence": "قاعدة قسرك"}],
        },
        context={"source": SOURCE},
    )
    assert result.period is not None
    assert (result.period.start, result.period.end) == (dt.date(2024, 6, 23), dt.date(2024, 7, 22))
    assert result.convoys[0].dates == [dt.date(2019, 6, 24), dt.date(2024, 7, 8)]
    assert result.drills[0].date == dt.date(2000, 7, 1)
    assert result.flags == [
        "convoys[0].dates.0: 2019-06-24 is outside the report's period 2024-06-23 – 2024-07-22",
        "drills[0].date: 2000-07-01 is outside the report's period 2024-06-23 – 2024-07-22",
    ]


def test_a_year_is_chosen_only_where_the_report_wrote_none() -> None:
    """The date_text path: the report wrote "24 حزيران و8 تموز" and "1 تموز" without a year,
    so the year nearest the period is chosen in code, whatever year the model put."""
    result = ReportExtraction.model_validate(
        {
            "coalition_month": 118,
            "convoys": [_convoy(date_text="24 حزيران و8 تموز", dates=["2019-06-24", "2031-07-08"])],
            "drills": [{"date_text": "1 تموز", "date": "2000-07-01", "evidence": "قاعدة قسرك"}],
        },
        context={"source": SOURCE},
    )
    assert result.convoys[0].dates == [dt.date(2024, 6, 24), dt.date(2024, 7, 8)]
    assert result.drills[0].date == dt.date(2024, 7, 1)
    assert result.flags == []


def test_typed_dates_are_kept_with_keep_dates() -> None:
    """An analyst's date (``keep_dates``) is kept even with a yearless date_text; the
    date_text only fills a date that is empty."""
    document = {
        "coalition_month": 118,
        "drills": [
            {"date_text": "1 تموز", "date": "2019-07-01", "evidence": "قاعدة قسرك"},
            {"date_text": "1 تموز", "date": None, "evidence": "قاعدة قسرك"},
        ],
    }
    result = ReportExtraction.model_validate(
        document, context={"source": SOURCE, "keep_dates": True}
    )
    assert [d.date for d in result.drills] == [dt.date(2019, 7, 1), dt.date(2024, 7, 1)]
    assert result.flags == [
        "drills[0].date: 2019-07-01 is outside the report's period 2024-06-23 – 2024-07-22"
    ]


def test_a_29_february_the_period_cannot_hold_is_kept_not_an_error() -> None:
    # Coalition month 1 is in 2014, with no leap year in 2013-2015: validating this answer
    # raised (a ValueError inside the validator) and the model was re-asked in vain.
    result = ReportExtraction.model_validate(
        {"coalition_month": 1, "drills": [{"date": "2024-02-29", "evidence": "قاعدة قسرك"}]},
        context={"source": SOURCE},
    )
    assert result.drills[0].date == dt.date(2024, 2, 29)


def test_period_from_model_answer_is_recomputed() -> None:
    result = ReportExtraction.model_validate(
        {"coalition_month": 113, "period": {"start": "2000-01-01", "end": "2000-01-02"}}
    )
    assert result.period is not None
    assert result.period.start == dt.date(2024, 1, 23)


def test_negative_counts_and_unknown_fields_rejected() -> None:
    with pytest.raises(ValidationError):
        Convoy.model_validate(_convoy(vehicles=-1))
    with pytest.raises(ValidationError):
        Convoy.model_validate(_convoy(colour="red"))
    with pytest.raises(ValidationError):
        ReportExtraction.model_validate({"coalition_month": 0})


def test_flags_for_counts_that_disagree() -> None:
    result = ReportExtraction.model_validate(
        {
            "coalition_month": 113,
            "stated_totals": {"drills": 3},
            "convoys": [_convoy(batches=12, dates=[f"2024-02-{d:02d}" for d in range(1, 12)])],
            "strikes": [
                {
                    "kind": "attack_on_base",
                    "count": 20,
                    "targets": [{"name": "حقل العمر", "count": 12}, {"name": "التنف", "count": 1}],
                    "evidence": "x",
                }
            ],
            "drills": [{"evidence": "y"}],
        }
    )
    assert result.flags == [
        "convoys[0]: 12 batches stated but 11 dates listed",
        "strikes[0]: count 20 but per-target counts add up to 13",
        "drills: 3 stated but 1 recorded",
    ]


def test_enum_values_are_english() -> None:
    assert Actor("ISIS") is Actor.ISIS
    assert StrikeKind("attack_on_base") is StrikeKind.ATTACK_ON_BASE
    with pytest.raises(ValueError):
        Actor("داعش")


def test_round_trip_json() -> None:
    original = ReportExtraction.model_validate(
        {"coalition_month": 118, "convoys": [_convoy(vehicles=200)]},
        context={"source": SOURCE, "report_id": "r"},
    )
    again = ReportExtraction.model_validate_json(original.model_dump_json())
    assert again == original
