"""Per-report scores and their aggregation, each figure computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from llm_extract.evaluation.metrics import OVERALL, f1_of, score_report, summarize
from llm_extract.results import (
    DroppedRecord,
    ErrorInfo,
    ExtractionResult,
    PromptInfo,
    SourceInfo,
    Usage,
)
from llm_extract.schemas import ReportExtraction

# Written for these tests (not a real report).
SOURCE = (
    "للشهر 118 على التوالي. نفذت القوات تدريبين: الأول في 1 تموز في قاعدة الوادي بالذخيرة "
    "الحية، والثاني في 5 تموز في حقل النخيل. ودخلت قافلة من 30 شاحنة في 3 تموز."
)
DRILL_1 = {
    "date": "2024-07-01",
    "location": "قاعدة الوادي",
    "governorate": "Deir ez-Zor",
    "participants": ["International Coalition", "SDF"],
    "live_fire": True,
    "evidence": "الأول في 1 تموز في قاعدة الوادي بالذخيرة الحية",
}
DRILL_2 = {
    "date": "2024-07-05",
    "location": "حقل النخيل",
    "evidence": "والثاني في 5 تموز في حقل النخيل",
}
CONVOY = {
    "mode": "ground",
    "vehicles": 30,
    "dates": ["2024-07-03"],
    "evidence": "قافلة من 30 شاحنة",
}


def extraction(**data: Any) -> ReportExtraction:
    return ReportExtraction.model_validate(
        {"coalition_month": 118, **data}, context={"report_id": "r1"}
    )


def result(
    extraction_: ReportExtraction | None,
    *,
    usage: Usage | None = None,
    dropped: int = 0,
    model: str = "gpt-4o-mini",
    latency: float = 2.0,
) -> ExtractionResult:
    return ExtractionResult(
        report_id="r1",
        source=SourceInfo(path="r1.txt", sha256="0"),
        prompt=PromptInfo(name="guided", hash="h"),
        model=model,
        status="ok" if extraction_ is not None else "failed",
        error=None if extraction_ is not None else ErrorInfo(kind="validation", message="bad"),
        extraction=extraction_,
        dropped=[DroppedRecord(category="drills", reason="not grounded")] * dropped,
        usage=usage or Usage(),
        latency_s=latency,
    )


GOLD = extraction(stated_totals={"drills": 2}, drills=[DRILL_1, DRILL_2], convoys=[CONVOY])


def test_f1_formula() -> None:
    assert f1_of(1, 1, 2) == pytest.approx(0.4)
    assert f1_of(0, 0, 0) is None
    assert f1_of(0, 3, 0) == 0.0


def test_report_scores_by_hand() -> None:
    wrong_drill = {**DRILL_1, "live_fire": False, "weapons": ["مدافع هاون"]}
    spurious_strike = {"kind": "shelling", "evidence": "ودخلت قافلة"}
    pred = extraction(stated_totals={"drills": 3}, drills=[wrong_drill], strikes=[spurious_strike])
    usage = Usage(
        prompt_tokens=1000, completion_tokens=200, total_tokens=1200, reasks=1, reask_tokens=300
    )
    score = score_report(GOLD, result(pred, usage=usage), source=SOURCE)

    assert score.counts["drills"].model_dump() == {"tp": 1, "fp": 0, "fn": 1}
    assert score.counts["drills"].precision == 1.0
    assert score.counts["drills"].recall == 0.5
    assert score.f1("drills") == pytest.approx(2 / 3)
    assert score.f1("convoys") == 0.0  # one missed, nothing predicted
    assert score.counts["strikes"].precision == 0.0
    assert score.counts["strikes"].recall is None
    assert score.f1("arrests") is None  # nothing on either side
    assert score.f1(OVERALL) == pytest.approx(2 * 1 / (2 * 1 + 1 + 2))

    # matched drill: date, location, governorate, participants, live_fire, count are scored
    # (6); live_fire is wrong; weapons is a fabrication; weapons and scenario gold-absent (2)
    assert sum(score.fields.scored.values()) == 6
    assert score.fields.accuracy() == pytest.approx(5 / 6)
    assert score.fields.wrong == {"drills.live_fire": 1}
    assert score.fields.fabricated == {"drills.weapons": 1}
    assert sum(score.fields.absent.values()) == 2
    assert score.matches["drills"].pairs[0].wrong_fields == ["live_fire"]
    assert score.matches["convoys"].missed == [0]
    assert score.matches["strikes"].spurious == [0]

    assert (score.totals_compared, score.totals_correct) == (1, 0)
    assert score.month_correct is True
    assert score.records_returned == 2
    assert score.records_grounded == 2
    # 1000 x 0.15 + 200 x 0.60 per million (bundled price of gpt-4o-mini)
    assert score.cost_usd == pytest.approx((1000 * 0.15 + 200 * 0.60) / 1e6)

    summary = summarize([score])
    assert summary.micro[OVERALL].f1 == pytest.approx(0.4)
    assert summary.missed == 2
    assert summary.spurious == 1
    assert summary.wrong_fields == 1
    assert summary.fabricated == 1
    assert summary.fabrication_rate == pytest.approx(0.5)
    assert summary.field_accuracy["drills"] == pytest.approx(5 / 6)
    assert summary.field_accuracy["convoys"] is None
    assert summary.totals_accuracy == 0.0
    assert summary.reask_rate == 1.0
    assert summary.reask_tokens == 300
    assert summary.total_tokens == 1200


def test_perfect_prediction() -> None:
    score = score_report(GOLD, result(GOLD), source=SOURCE)
    assert score.f1() == 1.0
    assert score.fields.accuracy() == 1.0
    assert score.totals_correct == score.totals_compared == 1
    summary = summarize([score])
    assert summary.grounding_rate == 1.0
    assert summary.schema_valid_rate == 1.0
    assert summary.failure_rate == 0.0
    assert summary.fabricated == 0


def test_empty_prediction_misses_everything() -> None:
    score = score_report(GOLD, result(extraction()))
    assert score.overall().model_dump() == {"tp": 0, "fp": 0, "fn": 3}
    assert score.f1() == 0.0
    assert score.totals_compared == 1
    assert score.totals_correct == 0


def test_empty_gold() -> None:
    pred = extraction(drills=[DRILL_2])
    score = score_report(extraction(), result(pred))
    assert score.overall().model_dump() == {"tp": 0, "fp": 1, "fn": 0}
    assert score.f1() == 0.0
    # empty gold and empty prediction: nothing to score, left out of macro averages
    nothing = score_report(extraction(), result(extraction()))
    assert nothing.f1() is None
    summary = summarize([score, nothing])
    assert summary.macro_f1[OVERALL] == 0.0
    assert summary.micro["drills"].precision == 0.0


def test_duplicate_predictions_are_spurious() -> None:
    pred = extraction(drills=[DRILL_1, DRILL_1, DRILL_2], convoys=[CONVOY])
    score = score_report(GOLD, result(pred))
    assert score.counts["drills"].model_dump() == {"tp": 2, "fp": 1, "fn": 0}
    assert score.f1("drills") == pytest.approx(4 / 5)


def test_failed_and_missing_reports() -> None:
    failed = score_report(GOLD, result(None))
    missing = score_report(GOLD, None)
    assert failed.status == "failed"
    assert missing.status == "missing"
    for s in (failed, missing):
        assert s.overall().fn == 3
        assert s.f1() == 0.0
    ok = score_report(GOLD, result(GOLD, dropped=1))
    summary = summarize([failed, missing, ok])
    assert summary.failure_rate == pytest.approx(2 / 3)
    assert summary.schema_valid_rate == 0.0  # the ok report had a record dropped
    # grounding: 3 kept (no source given: counted grounded) out of 3 kept + 1 dropped
    assert summary.grounding_rate == pytest.approx(3 / 4)
    assert summary.reask_rate == 0.0  # over the two answered reports


def test_grounding_with_source() -> None:
    pred = extraction(drills=[DRILL_1, {**DRILL_2, "evidence": "نص غير موجود في التقرير"}])
    score = score_report(GOLD, result(pred), source=SOURCE)
    assert (score.records_grounded, score.records_returned) == (1, 2)


def test_micro_versus_macro() -> None:
    perfect = score_report(GOLD, result(GOLD))  # tp 3
    half = score_report(GOLD, result(extraction(drills=[DRILL_1])))  # tp 1, fn 2
    summary = summarize([perfect, half])
    assert summary.micro[OVERALL].f1 == pytest.approx(2 * 4 / (2 * 4 + 0 + 2))
    assert summary.macro_f1[OVERALL] == pytest.approx((1.0 + 2 / 4) / 2)
    assert summary.micro["drills"].recall == pytest.approx(3 / 4)
    assert summary.macro_f1["drills"] == pytest.approx((1.0 + 2 / 3) / 2)
    assert summary.latency_s == pytest.approx(4.0)
    assert summary.latency_mean_s == pytest.approx(2.0)


def test_unknown_model_has_no_cost() -> None:
    usage = Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15)
    score = score_report(GOLD, result(GOLD, usage=usage, model="some-local-model"))
    assert score.cost_usd is None
    assert summarize([score]).cost_usd is None
    free = score_report(GOLD, result(GOLD, model="rules"))
    assert free.cost_usd == 0.0
