"""The offline extractor on whole reports written for these tests and on the two real reports
of the series (read from ../shared/seeds, never copied); denials across categories; the
backend protocol; and the pipeline of categories (its order, and what the claims change)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from paths import REPORTS_DIR, SEEDS, requires_seeds
from rules_helpers import HEAD_125, HEAD_126, assert_grounded, run

from llm_extract.backends import get_backend
from llm_extract.backends.base import ExtractionRequest, ModelSettings
from llm_extract.backends.rules import RulesBackend, extractor
from llm_extract.backends.rules.context import Claims
from llm_extract.backends.rules.segment import Span
from llm_extract.report import Report
from llm_extract.results import PromptInfo
from llm_extract.schemas import (
    CATEGORIES,
    Actor,
    CoalitionRole,
    ConvoyMode,
    Governorate,
    StatedTotals,
    StrikeKind,
)

MONTHLY = (
    "تواصل قوات التحالف الدولي وجودها في سورية للشهر ١٢٠ على "
    "التوالي.\n"
    "وخلال الشهر دخلت قرابة 90 شاحنة للتحالف من معبر الوليد على ٤ "
    "دفعات، في 25 و28 آب، و3 و9 من أيلول، محملة بذخائر ووقود، "
    "وتوجهت إلى قواعده في الحسكة.\n"
    "كما حطت أكثر من ست طائرات شحن في قاعدة خراب الجير.\n"
    "ونفذ التحالف مع قسد تدريبين عسكريين، على النحو التالي:\n"
    "26 آب، أجرت القوات تدريبات بالذخيرة الحية في قاعدة الشدادية "
    "جنوب الحسكة.\n"
    "2 أيلول، تدريب يحاكي صد هجوم بالمسيرات في حقل كونوكو.\n"
    "وفي 5 أيلول، استهدفت ميليشيات موالية لإيران قاعدة التحالف في "
    "حقل العمر بالصواريخ، ما أدى إلى إصابة جنديين أمريكيين.\n"
    "وفي 11 أيلول، نفذت قوات التحالف إنزالاً جوياً في بلدة ذيبان "
    "بريف دير الزور، واعتقلت 2 من عناصر د ا ع ش وقتلت 1 آخر.\n"
)


SHORT_ITEM = (
    "الحسكة – 7 مارس 2024: شنت طائرات التحالف الدولي غارتين على "
    "موقع لتنظيم د ا ع ش قرب قرية الهول، ما أدى إلى مقتل 4 عناصر "
    "من التنظيم.\n"
)


NOTHING = (
    "شهدت مدينة القامشلي اليوم معرضا للكتاب بمشاركة دور نشر "
    "محلية، وسط إقبال من الأهالي على الندوات الثقافية المرافقة.\n"
)


VARIANTS = (
    "يدخل التحالف شهره الـ 115 على التوالي في سورية.\n"
    "دخلت 35 آلية للتحالف بتاريخ 30 كانون ثاني و2 شباط.\n"
    "تصدت قوات التحالف لطائرة مسيرة قرب حقل العمر وأسقطتها.\n"
    "وفي 6 شباط قصفت طائرات التحالف مواقع للميليشيات في بلدة البوكمال.\n"
    "وفي 9 شباط اعتقلت قوات التحالف شخصين في بلدة الشحيل.\n"
)


def test_monthly_skeleton_in_own_words() -> None:
    result = run(MONTHLY)
    assert result.coalition_month == 120
    assert_grounded(MONTHLY, result)
    ground, air = result.convoys
    assert ground.mode == ConvoyMode.GROUND
    assert (ground.vehicles, ground.approximate, ground.batches) == (90, True, 4)
    assert ground.dates == [
        dt.date(2024, 8, 25),
        dt.date(2024, 8, 28),
        dt.date(2024, 9, 3),
        dt.date(2024, 9, 9),
    ]
    assert ground.origin == "معبر الوليد"
    assert air.mode == ConvoyMode.AIR
    assert (air.vehicles, air.at_least) == (6, True)
    assert result.stated_totals.drills == 2
    assert [d.date for d in result.drills] == [dt.date(2024, 8, 26), dt.date(2024, 9, 2)]
    assert result.drills[0].live_fire is True
    assert result.drills[0].location == "قاعدة الشدادية"
    assert result.drills[1].scenario == "صد هجوم بالمسيرات"
    assert all(
        set(d.participants) >= {Actor.INTERNATIONAL_COALITION, Actor.SDF} for d in result.drills
    )
    (attack,) = result.strikes
    assert attack.kind == "attack_on_base"
    assert attack.attacker == Actor.IRAN_BACKED_MILITIAS
    assert attack.date == dt.date(2024, 9, 5)
    assert [t.name for t in attack.targets] == ["حقل العمر"]
    (raid,) = result.arrests
    assert raid.date == dt.date(2024, 9, 11)
    assert raid.location == "ذيبان"
    assert (raid.detained, raid.killed, raid.affiliation) == (2, 1, Actor.ISIS)
    assert raid.coalition_role == CoalitionRole.CARRIED_OUT


def test_short_item_takes_its_year_from_the_dateline() -> None:
    result = run(SHORT_ITEM)
    assert result.coalition_month is None
    assert result.convoys == [] and result.drills == [] and result.arrests == []
    (strike,) = result.strikes
    assert (strike.kind, strike.attacker, strike.count) == (
        "airstrike",
        Actor.INTERNATIONAL_COALITION,
        2,
    )
    assert strike.date == dt.date(2024, 3, 7)
    assert strike.location == "الهول"
    (dead,) = strike.casualties
    assert (dead.party, dead.killed) == (Actor.ISIS, 4)
    assert result.stated_totals.airstrikes is None  # one event, not a monthly total
    assert_grounded(SHORT_ITEM, result)


def test_nothing_to_extract_gives_empty_lists() -> None:
    result = run(NOTHING)
    assert result.coalition_month is None
    assert all(result.records(c) == [] for c in CATEGORIES)
    assert result.stated_totals.model_dump() == {
        "drills": None,
        "attacks": None,
        "airstrikes": None,
        "operations": None,
    }


def test_totals_without_items_give_one_aggregate_record() -> None:
    text = (
        "يستمر التحالف في سورية للشهر 101 على التوالي.\n"
        "ورصد نشطاء خلال الشهر سبعة تدريبات للتحالف مع قسد.\n"
        "كما شارك التحالف في 4 عمليات مع قسد أسفرت عن اعتقال 6 أشخاص ومقتل 1 منهم.\n"
        "وتعرضت قواعد التحالف لنحو 15 هجوما، منها 9 على حقل العمر و6 على قاعدة قسرك.\n"
    )
    result = run(text)
    (drill,) = result.drills
    assert (drill.count, drill.date) == (7, None)
    (op,) = result.arrests
    assert (op.operations, op.detained, op.killed, op.coalition_role) == (4, 6, 1, "joint")
    (attack,) = result.strikes
    assert attack.count == 15
    assert [(t.name, t.count) for t in attack.targets] == [("حقل العمر", 9), ("قاعدة قسرك", 6)]
    assert result.stated_totals.model_dump() == {
        "drills": 7,
        "attacks": 15,
        "airstrikes": None,
        "operations": 4,
    }


def test_variant_spellings_and_verbs() -> None:
    result = run(VARIANTS)
    assert result.coalition_month == 115
    (ground,) = result.convoys
    assert ground.dates == [dt.date(2024, 1, 30), dt.date(2024, 2, 2)]
    drone, strike = result.strikes
    assert (drone.kind, drone.attacker) == ("drone_shootdown", Actor.INTERNATIONAL_COALITION)
    assert (strike.kind, strike.date, strike.location) == (
        "airstrike",
        dt.date(2024, 2, 6),
        "البوكمال",
    )
    (arrest,) = result.arrests
    assert (arrest.detained, arrest.location) == (2, "الشحيل")


@requires_seeds
def test_seed_month_118() -> None:
    text = (SEEDS / "000_2570466cde77c51c.txt").read_text(encoding="utf-8")
    result = run(text)
    assert_grounded(text, result)
    assert result.coalition_month == 118
    ground, air = result.convoys
    assert (ground.vehicles, ground.approximate, ground.batches) == (200, True, 7)
    assert len(ground.dates) == 7 and ground.dates[0] == dt.date(2024, 6, 24)
    assert (air.vehicles, air.approximate) == (9, True)
    assert result.stated_totals.drills == 10
    assert len(result.drills) == 10
    assert result.drills[0].date == dt.date(2024, 6, 14)
    (drone,) = result.strikes
    assert (drone.kind, drone.attacker) == ("drone_shootdown", Actor.INTERNATIONAL_COALITION)
    assert [a.date for a in result.arrests] == [dt.date(2024, 7, 9), dt.date(2024, 7, 16)]
    assert [a.detained for a in result.arrests] == [3, 4]
    assert result.arrests[0].coalition_role == CoalitionRole.SUPPORT
    assert result.flags == []


@requires_seeds
def test_seed_month_113() -> None:
    text = (SEEDS / "001_f9e462c09bfcd4f6.txt").read_text(encoding="utf-8")
    result = run(text)
    assert_grounded(text, result)
    assert result.coalition_month == 113
    ground, air = result.convoys
    assert (ground.vehicles, ground.batches, len(ground.dates)) == (400, 12, 11)
    assert result.flags == ["convoys[0]: 12 batches stated but 11 dates listed"]
    assert air.vehicles == 18
    attack, airstrike = result.strikes
    assert attack.attacker == Actor.ISLAMIC_RESISTANCE_IN_IRAQ
    assert attack.count == 20
    assert [t.count for t in attack.targets] == [12, 1, 6, 1]
    assert {c.party: c.killed for c in attack.casualties} == {Actor.US_FORCES: 3, Actor.SDF: 7}
    assert (airstrike.kind, airstrike.attacker, airstrike.count) == (
        "airstrike",
        Actor.US_FORCES,
        6,
    )
    assert airstrike.casualties[0].killed == 39 and airstrike.casualties[0].approximate
    (drills,) = result.drills
    assert drills.count == 10
    aggregate, campaign = result.arrests
    assert (aggregate.operations, aggregate.detained, aggregate.killed) == (3, 3, 2)
    assert campaign.date == dt.date(2024, 2, 5)
    assert campaign.coalition_role == CoalitionRole.CARRIED_OUT


# --- denials and other forces ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ولم يرصد المرصد أي تدريبات عسكرية خلال هذا الشهر، كما لم تتعرض قواعد التحالف لأي "
        "هجوم.\nولم تنفذ قوات التحالف أي عمليات إنزال أو مداهمات خلال الشهر.\n",
        "وقصفت القوات التركية بالمدفعية قرى في ريف الحسكة الشمالي في 4 آذار.\n"
        "ودخل رتل للقوات الروسية يضم 20 آلية إلى مطار القامشلي.\n"
        "واعتقلت قوات النظام 6 شبان في مدينة دير الزور.\n",
    ],
    ids=["nothing-happened", "other-forces"],
)
def test_no_record_where_a_category_is_absent(text: str) -> None:
    result = run(HEAD_125 + text)
    assert all(result.records(c) == [] for c in CATEGORIES)


def test_denied_raids_drills_and_convoys_are_no_records() -> None:
    text = HEAD_126 + (
        "ولم يشهد الشهر أي عملية مداهمة أو اعتقال بمشاركة قوات التحالف.\n"
        "كما لم تُجرِ القوات الأمريكية أي تدريبات مشتركة مع قسد هذا الشهر.\n"
        "ولم تدخل أي قوافل شاحنات للتحالف عبر المعابر الحدودية خلال الشهر.\n"
    )
    result = run(text)
    assert (result.arrests, result.drills, result.convoys) == ([], [], [])


# --- the backend ----------------------------------------------------------------------------------


def test_backend_implements_the_protocol() -> None:
    backend = get_backend(ModelSettings(model="rules"))
    assert isinstance(backend, RulesBackend)
    assert (backend.name, backend.cacheable) == ("rules", False)
    report = Report(report_id="m120", text=MONTHLY, path="m120.txt")
    request = ExtractionRequest(
        report=report,
        messages=[],
        settings=ModelSettings(model="rules"),
        prompt=PromptInfo(name="none", hash="0"),
    )
    response = asyncio.run(backend.extract(request))
    assert response.extraction.report_id == "m120"
    assert response.usage.total_tokens == 0 and response.usage.cost_usd == 0.0
    assert len(response.extraction.convoys) == 2
    asyncio.run(backend.aclose())


# --- the pipeline of categories ----------------------------------------------------------------

#: Drill items that tell what the drill simulated: an attack on a base, an air landing.
SIMULATED = HEAD_125 + (
    "ورصد المرصد تدريبين للتحالف مع قسد، جاءا كالآتي:\n"
    "- 9 آذار: صد هجوم بالصواريخ على قاعدة حقل العمر.\n"
    "- 12 آذار: محاكاة إنزال جوي في قاعدة قسرك.\n"
)


def test_pipeline_order_is_pinned() -> None:
    """Convoys, drills, strikes, arrests: drills claim their items before strikes and arrests
    read theirs (the package docstring says why)."""
    assert [category for category, _ in extractor.PIPELINE] == list(CATEGORIES)
    order = [category for category, _ in extractor.PIPELINE]
    assert order.index("drills") < order.index("strikes")
    assert order.index("drills") < order.index("arrests")


def test_drills_claims_keep_what_a_drill_simulated_out_of_strikes_and_arrests() -> None:
    result = run(SIMULATED)
    assert [d.date.day if d.date else None for d in result.drills] == [9, 12]
    assert result.strikes == []
    assert result.arrests == []


def test_run_before_the_drills_strikes_and_arrests_read_the_drills(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the order changes: drills last, nothing is claimed before strikes and arrests
    run, and the simulated attack and landing become records."""
    drills_last = tuple(sorted(extractor.PIPELINE, key=lambda step: step[0] == "drills"))
    monkeypatch.setattr(extractor, "PIPELINE", drills_last)
    data = extractor.build(SIMULATED)
    assert len(data["drills"]) == 2
    assert [s["evidence"] for s in data["strikes"]] == [
        "9 آذار: صد هجوم بالصواريخ على قاعدة حقل العمر"
    ]
    assert [a["evidence"] for a in data["arrests"]] == ["12 آذار: محاكاة إنزال جوي في قاعدة قسرك"]


def test_a_claim_covers_spans_mostly_inside_it() -> None:
    claim = Claims((Span(10, 30, "x" * 20),))
    assert claim.covers(Span(12, 28, "x" * 16))
    assert claim.covers(Span(0, 25, "x" * 25))  # 15 of 25 inside
    assert not claim.covers(Span(0, 18, "x" * 18))  # 8 of 18 inside
    assert not Claims().covers(Span(12, 28, "x" * 16))
    assert (Claims() | claim) == claim
    assert (claim | claim).spans == claim.spans * 2


def _enum_or_none(value: Any, enum: type) -> bool:
    return value is None or type(value) is enum


@pytest.mark.parametrize("path", sorted(REPORTS_DIR.glob("*.txt")), ids=lambda path: path.stem)
def test_closed_sets_are_the_schemas_enums(path: Path) -> None:
    """Kinds, modes, roles, actors and governorates come out as the schema's enums (never
    strings a typo could turn into a dropped record), and the stated totals are fields of
    ``StatedTotals``."""
    data = extractor.build(path.read_text(encoding="utf-8"))
    assert set(data["stated_totals"]) <= set(StatedTotals.model_fields)
    records = [record for category in CATEGORIES for record in data[category]]
    assert all(_enum_or_none(r.get("governorate"), Governorate) for r in records)
    assert all(type(c["mode"]) is ConvoyMode for c in data["convoys"])
    assert all(type(a) is Actor for d in data["drills"] for a in d["participants"])
    for strike in data["strikes"]:
        assert type(strike["kind"]) is StrikeKind
        assert _enum_or_none(strike["attacker"], Actor)
        assert all(type(c["party"]) is Actor for c in strike["casualties"])
    for arrest in data["arrests"]:
        assert _enum_or_none(arrest.get("coalition_role"), CoalitionRole)
        assert _enum_or_none(arrest.get("affiliation"), Actor)
        assert all(type(a) is Actor for a in arrest["actors"])


def test_a_weekly_summary_sentence_lists_every_category() -> None:
    """One sentence, four categories: each reads its own comma-separated piece, numbers
    after the conjunction ("و2", Hindi digits) included."""
    text = (
        "دير الزور – ١٥ آذار ٢٠٢٥ (ملخص أسبوعي): سجل الأسبوع ٤ هجمات على قواعد التحالف، "
        "و٢ عملية أمنية مشتركة اعتقل خلالها ٧ أشخاص، و٣ تدريبات في حقل العمر وقاعدة الشدادي "
        "وقاعدة قسرك، فيما دخلت ١٢٠ شاحنة من معبر الوليد.\n"
    )
    result = run(text)
    assert [(s.kind, s.count, s.date) for s in result.strikes] == [("attack_on_base", 4, None)]
    assert [(a.operations, a.detained) for a in result.arrests] == [(2, 7)]
    assert [d.location for d in result.drills] == ["حقل العمر", "قاعدة الشدادي", "قاعدة قسرك"]
    assert [c.vehicles for c in result.convoys] == [120]
    totals = result.stated_totals
    assert (totals.attacks, totals.operations, totals.drills) == (4, 2, 3)
