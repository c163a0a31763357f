"""Short reports of the genre written for these tests (not from the seeds), and model
answers grounded in them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Coalition month 120 runs from 2024-08-23 to 2024-09-22.
SAMPLES: dict[str, str] = {
    "r120": (
        "واصلت قوات التحالف الدولي نشاطها العسكري في سورية للشهر 120 على التوالي.\n"
        "وفي 3 أيلول، أجرت قوات التحالف مع قسد تدريبات بالذخيرة الحية في قاعدة قسرك بريف الحسكة.\n"
    ),
    "r121": (
        "تابعت قوات التحالف الدولي عملياتها في شمال شرق سورية للشهر 121 على التوالي.\n"
        "ودخلت قرابة 80 شاحنة على 3 دفعات في 25 و28 أيلول و2 تشرين الأول متجهة إلى قاعدة الشدادي.\n"
    ),
    "r122": (
        "استمر حضور قوات التحالف الدولي في الأراضي السورية للشهر 122 على التوالي.\n"
        "وفي 30 تشرين الأول، اعتقلت قوات التحالف وقسد ثلاثة أشخاص في بلدة الصور بريف دير الزور.\n"
    ),
}

EVIDENCE: dict[str, str] = {
    "r120": "أجرت قوات التحالف مع قسد تدريبات بالذخيرة الحية في قاعدة قسرك",
    "r121": "ودخلت قرابة 80 شاحنة على 3 دفعات في 25 و28 أيلول و2 تشرين الأول",
    "r122": "اعتقلت قوات التحالف وقسد ثلاثة أشخاص في بلدة الصور",
}


def answer(report_id: str) -> dict[str, Any]:
    """A valid, grounded answer for one sample report."""
    if report_id == "r120":
        return {
            "coalition_month": 120,
            "drills": [
                {
                    "date": "2024-09-03",
                    "location": "قاعدة قسرك",
                    "governorate": "Hasakah",
                    "participants": ["International Coalition", "SDF"],
                    "live_fire": True,
                    "evidence": EVIDENCE["r120"],
                }
            ],
        }
    if report_id == "r121":
        return {
            "coalition_month": 121,
            "convoys": [
                {
                    "mode": "ground",
                    "vehicles": 80,
                    "approximate": True,
                    "batches": 3,
                    "dates": ["2024-09-25", "2024-09-28", "2024-10-02"],
                    "destinations": ["قاعدة الشدادي"],
                    "evidence": EVIDENCE["r121"],
                }
            ],
        }
    if report_id == "r122":
        return {
            "coalition_month": 122,
            "arrests": [
                {
                    "date": "2024-10-30",
                    "location": "الصور",
                    "governorate": "Deir ez-Zor",
                    "actors": ["International Coalition", "SDF"],
                    "coalition_role": "joint",
                    "detained": 3,
                    "evidence": EVIDENCE["r122"],
                }
            ],
        }
    raise KeyError(report_id)


def answers_by_month() -> dict[str, dict[str, Any]]:
    """For ``OpenAIServer.answer_by_text``: a phrase unique to each sample -> its answer."""
    return {f"للشهر {rid[1:]}": answer(rid) for rid in SAMPLES}


def write_samples(folder: Path) -> Path:
    """The sample reports as ``<folder>/<id>.txt`` (the folder is made); the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for report_id, text in SAMPLES.items():
        (folder / f"{report_id}.txt").write_text(text, encoding="utf-8")
    return folder
