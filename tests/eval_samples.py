"""A tiny gold set for the eval tests, written for the project (not from a real report).

Three short reports of "month 118" with their gold extractions, and helpers that write them
to a folder, build model answers from them and write ``extract``-style JSONL lines.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from llm_extract.evaluation.gold import GoldItem, load_gold_set
from llm_extract.report import Report
from llm_extract.results import ErrorInfo, ExtractionResult, PromptInfo, SourceInfo, Usage
from llm_extract.schemas import ReportExtraction

REPORTS: dict[str, str] = {
    "t1": (
        "تقرير الشهر 118 على التوالي. دخلت قافلة من نحو 50 شاحنة إلى قاعدة الشدادي في 2 تموز. "
        "ونفذت قوات التحالف تدريبا مشتركا مع قسد في حقل العمر يوم 5 تموز. "
        "كما جرى تدريب ثان في قاعدة خراب الجير يوم 9 تموز."
    ),
    "t2": (
        "تقرير الشهر 118 على التوالي. استهدفت طائرة مسيرة قاعدة التنف يوم 12 تموز. "
        "واعتقلت قوات التحالف شخصين في قرية الحوايج يوم 15 تموز."
    ),
    "t3": "تقرير الشهر 118 على التوالي. رصد التقرير 4 تدريبات دون تفاصيل.",
}
CONVOY: dict[str, Any] = {
    "mode": "ground",
    "vehicles": 50,
    "approximate": True,
    "dates": ["2024-07-02"],
    "destinations": ["قاعدة الشدادي"],
    "evidence": "قافلة من نحو 50 شاحنة إلى قاعدة الشدادي في 2 تموز",
}
DRILL_1: dict[str, Any] = {
    "date": "2024-07-05",
    "location": "حقل العمر",
    "participants": ["International Coalition", "SDF"],
    "evidence": "تدريبا مشتركا مع قسد في حقل العمر يوم 5 تموز",
}
DRILL_2: dict[str, Any] = {
    "date": "2024-07-09",
    "location": "قاعدة خراب الجير",
    "evidence": "تدريب ثان في قاعدة خراب الجير يوم 9 تموز",
}
GOLD: dict[str, dict[str, Any]] = {
    "t1": {"coalition_month": 118, "convoys": [CONVOY], "drills": [DRILL_1, DRILL_2]},
    "t2": {
        "coalition_month": 118,
        "strikes": [
            {
                "date": "2024-07-12",
                "kind": "attack_on_base",
                "targets": [{"name": "قاعدة التنف"}],
                "evidence": "استهدفت طائرة مسيرة قاعدة التنف يوم 12 تموز",
            }
        ],
        "arrests": [
            {
                "date": "2024-07-15",
                "location": "قرية الحوايج",
                "actors": ["International Coalition"],
                "detained": 2,
                "evidence": "اعتقلت قوات التحالف شخصين في قرية الحوايج",
            }
        ],
    },
    "t3": {
        "coalition_month": 118,
        "stated_totals": {"drills": 4},
        "drills": [{"count": 4, "evidence": "4 تدريبات"}],
    },
}


def write_gold_set(root: Path) -> tuple[Path, Path]:
    """Write the reports and gold files under ``root``; returns (gold dir, reports dir)."""
    gold_dir, reports_dir = root / "gold", root / "reports"
    gold_dir.mkdir(parents=True)
    reports_dir.mkdir(parents=True)
    for report_id, text in REPORTS.items():
        (reports_dir / f"{report_id}.txt").write_text(text, encoding="utf-8")
        (gold_dir / f"{report_id}.json").write_text(
            json.dumps(GOLD[report_id], ensure_ascii=False, indent=1), encoding="utf-8"
        )
    return gold_dir, reports_dir


def gold_items(root: Path) -> list[GoldItem]:
    gold_dir, reports_dir = write_gold_set(root)
    return load_gold_set(gold_dir, [reports_dir])


def answer(report_id: str, *, drop_second_drill: bool = False) -> dict[str, Any]:
    """A model answer (the schema's fields) equal to the gold, or with one drill left out."""
    data = copy.deepcopy(GOLD[report_id])
    if drop_second_drill and len(data.get("drills", [])) > 1:
        data["drills"] = data["drills"][:1]
    return data


def result_line(
    report_id: str,
    extraction: dict[str, Any] | None,
    *,
    model: str = "gpt-4o-mini",
    prompt: str = "guided",
    usage: Usage | None = None,
) -> str:
    """One ``extract`` JSONL line (``extraction`` None: a failed report)."""
    report = Report(report_id=report_id, text=REPORTS[report_id], path=f"{report_id}.txt")
    validated = (
        None
        if extraction is None
        else ReportExtraction.model_validate(
            extraction, context={"source": report.text, "report_id": report_id}
        )
    )
    result = ExtractionResult(
        report_id=report_id,
        source=SourceInfo(path=report.path, sha256=report.sha256),
        prompt=PromptInfo(name=prompt, hash="0" * 64),
        model=model,
        status="ok" if validated is not None else "failed",
        error=None if validated is not None else ErrorInfo(kind="validation", message="gave up"),
        extraction=validated,
        usage=usage or Usage(),
        latency_s=1.0,
    )
    return result.model_dump_json()
