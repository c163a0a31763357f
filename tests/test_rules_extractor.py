"""The offline extractor, construction by construction, on texts written for these tests,
and on the two real reports of the series (read from ../shared/seeds, never copied)."""

from __future__ import annotations

import asyncio
import datetime as dt

from paths import SEEDS, requires_seeds

from llm_extract.backends import get_backend
from llm_extract.backends.base import ExtractionRequest, ModelSettings
from llm_extract.backends.rules import RulesBackend, extract
from llm_extract.normalize import normalize
from llm_extract.report import Report
from llm_extract.results import PromptInfo
from llm_extract.schemas import CATEGORIES, Actor, CoalitionRole, ConvoyMode, ReportExtraction

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


def run(text: str) -> ReportExtraction:
    extraction, dropped = extract(text, "t")
    assert dropped == []
    return extraction


def assert_grounded(text: str, extraction: ReportExtraction) -> None:
    for category in CATEGORIES:
        for record in extraction.records(category):
            assert record.evidence_start is not None and record.evidence_end is not None
            quoted = text[record.evidence_start : record.evidence_end]
            assert normalize(quoted) == normalize(record.evidence)


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


def test_casualties_by_party_with_vague_counts() -> None:
    text = (
        "للشهر 112 على التوالي، شنت فصائل المقاومة الإسلامية 8 هجمات على قواعد التحالف، "
        "خلفت 2 قتلى على الأقل من القوات الأمريكية وعشرات الجرحى منهم، "
        "بالإضافة لمقتل 3 من قوات سوريا الديمقراطية."
    )
    (attack,) = run(text).strikes
    us, sdf = attack.casualties
    assert (us.party, us.killed, us.at_least, us.note) == (Actor.US_FORCES, 2, True, "عشرات الجرحى")
    assert (sdf.party, sdf.killed) == (Actor.SDF, 3)


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


VARIANTS = (
    "يدخل التحالف شهره الـ 115 على التوالي في سورية.\n"
    "دخلت 35 آلية للتحالف بتاريخ 30 كانون ثاني و2 شباط.\n"
    "تصدت قوات التحالف لطائرة مسيرة قرب حقل العمر وأسقطتها.\n"
    "وفي 6 شباط قصفت طائرات التحالف مواقع للميليشيات في بلدة البوكمال.\n"
    "وفي 9 شباط اعتقلت قوات التحالف شخصين في بلدة الشحيل.\n"
)


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


def test_listed_items_need_not_repeat_the_word_drill() -> None:
    text = (
        "للشهر 121 على التوالي.\n"
        "ورصد الشهر 3 تدريبات للتحالف مع قسد، جاءت كالآتي:\n"
        "4 تشرين الأول، في قاعدة الشدادي بالذخيرة الحية.\n"
        "9 تشرين الأول، في حقل العمر مع تحليق للمروحيات.\n"
        "15 تشرين الأول، في قاعدة قسرك.\n"
        "وفي 20 تشرين الأول اعتقلت قوات التحالف 3 أشخاص في الشحيل.\n"
    )
    result = run(text)
    assert result.stated_totals.drills == 3
    assert [(d.date.day if d.date else None, d.location) for d in result.drills] == [
        (4, "قاعدة الشدادي"),
        (9, "حقل العمر"),
        (15, "قاعدة قسرك"),
    ]
    assert [a.detained for a in result.arrests] == [3]
