"""Small synthetic outputs of ``extract`` for the review, export and summary tests.

The report texts are written for these tests (in the genre of the series, not copied from
it). Records are built as the pipeline builds them: validated against the text, so the
evidence offsets are real.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_extract.report import sha256_text
from llm_extract.results import ExtractionResult, PromptInfo, SourceInfo
from llm_extract.schemas import ReportExtraction

# Coalition month 120: 2024-08-23 .. 2024-09-22.
REPORT_A = (
    "يستمر التحالف الدولي في انتشاره العسكري شرق سورية للشهر 120 على التوالي.\n"
    "خلال الشهر وصلت قرابة 150 شاحنة للتحالف قادمة من العراق على 3 دفعات في 25 و28 آب "
    "و2 أيلول، واتجهت إلى قواعده في الحسكة.\n"
    "كما حطت 5 طائرات شحن في مطار خراب الجير محملة بالذخائر.\n"
    "في 30 آب أجرت قوات التحالف مع قسد تدريبا بالذخيرة الحية في قاعدة حقل العمر.\n"
    "واستهدفت مجموعات موالية لإيران قواعد التحالف 4 مرات: 3 على حقل كونيكو و1 على قاعدة "
    "الشدادي، وقتل في الهجمات عنصران من قسد.\n"
    "وفي 5 أيلول اعتقلت قوة مشتركة شخصين من خلايا التنظيم في بلدة الطيانة.\n"
)

# Coalition month 121: 2024-09-23 .. 2024-10-22.
REPORT_B = (
    "ويدخل الوجود العسكري للتحالف الدولي في سورية شهره 121 على التوالي.\n"
    "رصد نشطاء 6 تدريبات عسكرية للتحالف مع قسد خلال هذا الشهر.\n"
    "ونفذت الطائرات الأمريكية غارتين على مواقع قرب البوكمال قتل فيهما 6 مسلحين.\n"
    "وفي 12 تشرين الأول داهمت قوة للتحالف قرية كلش واعتقلت 4 أشخاص.\n"
)

EXTRACTION_A: dict[str, Any] = {
    "coalition_month": 120,
    "convoys": [
        {
            "mode": "ground",
            "vehicles": 150,
            "approximate": True,
            "batches": 3,
            "dates": ["2024-08-25", "2024-08-28", "2024-09-02"],
            "origin": "العراق",
            "destinations": ["الحسكة"],
            "evidence": "وصلت قرابة 150 شاحنة للتحالف قادمة من العراق على 3 دفعات",
        },
        {
            "mode": "air",
            "vehicles": 5,
            "destinations": ["مطار خراب الجير"],
            "evidence": "حطت 5 طائرات شحن في مطار خراب الجير",
        },
    ],
    "drills": [
        {
            "date": "2024-08-30",
            "location": "قاعدة حقل العمر",
            "participants": ["International Coalition", "SDF"],
            "live_fire": True,
            "evidence": "في 30 آب أجرت قوات التحالف مع قسد تدريبا بالذخيرة الحية",
        }
    ],
    "strikes": [
        {
            "kind": "attack_on_base",
            "attacker": "Iran-backed militias",
            "count": 4,
            "targets": [{"name": "حقل كونيكو", "count": 3}, {"name": "قاعدة الشدادي", "count": 1}],
            "casualties": [{"party": "SDF", "killed": 2}],
            "evidence": "3 على حقل كونيكو و1 على قاعدة الشدادي",
        }
    ],
    "arrests": [
        {
            "date": "2024-09-05",
            "location": "بلدة الطيانة",
            "governorate": "Deir ez-Zor",
            "actors": ["International Coalition", "SDF"],
            "coalition_role": "joint",
            "operations": 1,
            "detained": 2,
            "affiliation": "ISIS",
            "evidence": "اعتقلت قوة مشتركة شخصين من خلايا التنظيم في بلدة الطيانة",
        }
    ],
}

EXTRACTION_B: dict[str, Any] = {
    "coalition_month": 121,
    "stated_totals": {"drills": 6},
    "drills": [{"count": 6, "evidence": "رصد نشطاء 6 تدريبات عسكرية للتحالف مع قسد"}],
    "strikes": [
        {
            "kind": "airstrike",
            "attacker": "US forces",
            "count": 2,
            "location": "البوكمال",
            "casualties": [{"party": "Iran-backed militias", "killed": 6}],
            "evidence": "غارتين على مواقع قرب البوكمال قتل فيهما 6 مسلحين",
        }
    ],
    "arrests": [
        {
            "date": "2024-10-12",
            "location": "قرية كلش",
            "actors": ["International Coalition"],
            "coalition_role": "carried_out",
            "detained": 4,
            "evidence": "داهمت قوة للتحالف قرية كلش واعتقلت 4 أشخاص",
        }
    ],
}


def make_result(
    report_id: str, text: str, data: dict[str, Any] | None, folder: Path
) -> ExtractionResult:
    """An ``extract`` result for ``text`` (written to ``folder``); ``data=None`` is a failure."""
    path = folder / f"{report_id}.txt"
    path.write_text(text, encoding="utf-8")
    extraction = (
        ReportExtraction.model_validate(data, context={"source": text, "report_id": report_id})
        if data is not None
        else None
    )
    return ExtractionResult(
        report_id=report_id,
        source=SourceInfo(path=str(path), sha256=sha256_text(text)),
        prompt=PromptInfo(name="guided", hash="0" * 12),
        model="test-model",
        status="ok" if extraction is not None else "failed",
        error=None if extraction is not None else {"kind": "provider", "message": "HTTP 500"},
        extraction=extraction,
    )


def write_run(folder: Path) -> tuple[Path, list[ExtractionResult]]:
    """A JSONL with two successful reports and one failed report; returns its path."""
    reports = folder / "reports"
    reports.mkdir(exist_ok=True)
    results = [
        make_result("r120", REPORT_A, EXTRACTION_A, reports),
        make_result("r121", REPORT_B, EXTRACTION_B, reports),
        make_result("r-failed", "نص تقرير لم يستخرج منه شيء بسبب خطأ في الخادم.\n", None, reports),
    ]
    out = folder / "out.jsonl"
    out.write_text("".join(r.model_dump_json() + "\n" for r in results), encoding="utf-8")
    return out, results
