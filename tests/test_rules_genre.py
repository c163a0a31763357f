"""Constructions of the report genre the offline extractor must read whatever the wording:
layouts of drill lists, dates before or after their items, verbs and nouns of each category,
numbers in words and hedges, and texts where a category is absent or belongs to other forces.
Every text here is written for these tests."""

from __future__ import annotations

import datetime as dt

import pytest

from llm_extract.backends.rules import extract
from llm_extract.normalize import normalize
from llm_extract.schemas import CATEGORIES, Actor, CoalitionRole, ReportExtraction

HEAD = "للشهر 125 على التوالي يواصل التحالف الدولي نشاطه في سورية.\n"


def run(text: str) -> ReportExtraction:
    extraction, dropped = extract(text, "t")
    assert dropped == []
    for category in CATEGORIES:
        for record in extraction.records(category):
            assert record.evidence_start is not None and record.evidence_end is not None
            quoted = text[record.evidence_start : record.evidence_end]
            assert normalize(quoted) == normalize(record.evidence)
    return extraction


def days(result: ReportExtraction) -> list[int | None]:
    return [d.date.day if d.date else None for d in result.drills]


def test_drill_dates_that_end_their_items() -> None:
    result = run(
        HEAD + "وأجرت القوات الأمريكية وقسد تدريبا بالذخيرة الحية في قاعدة قسرك يوم 5 آذار، "
        "كما نفذت تدريبا آخر في حقل العمر بتاريخ 11 آذار.\n"
    )
    first, second = result.drills
    assert (first.date, first.location, first.live_fire) == (
        dt.date(2025, 3, 5),
        "قاعدة قسرك",
        True,
    )
    assert (second.date, second.location) == (dt.date(2025, 3, 11), "حقل العمر")
    assert set(second.participants) == {Actor.US_FORCES, Actor.SDF}  # carried over
    assert "11 آذار" in second.evidence and "قسرك" not in second.evidence


def test_dashed_table_date_place_details() -> None:
    result = run(
        HEAD + "وجاءت تدريبات الشهر على النحو الآتي:\n"
        "- 3 آذار – قاعدة الشدادي – رمايات بالأسلحة الثقيلة.\n"
        "- 9 آذار – حقل كونوكو – تمرين على صد هجوم بري.\n"
        "- 20 آذار – تل بيدر – مناورة بمشاركة مروحيات أباتشي.\n"
    )
    assert days(result) == [3, 9, 20]
    assert [d.location for d in result.drills] == ["قاعدة الشدادي", "حقل كونوكو", "تل بيدر"]
    assert result.drills[0].weapons == ["الأسلحة الثقيلة"]
    assert result.drills[1].scenario == "صد هجوم بري"
    assert result.drills[2].weapons == ["مروحيات أباتشي"]
    assert result.strikes == []  # the simulated attack is no attack


def test_place_before_date_in_brackets_with_a_colon() -> None:
    result = run(
        HEAD + "وأحصى المرصد 4 تدريبات للقوات الأمريكية مع قسد، وثق منها:\n"
        "- رميلان (4 آذار): تدريب على حماية القوافل.\n"
        "- المالكية (12 آذار): رمايات بالذخيرة الحية.\n"
    )
    assert result.stated_totals.drills == 4
    assert days(result) == [4, 12]
    assert [d.location for d in result.drills] == ["رميلان", "المالكية"]
    assert result.drills[0].scenario == "حماية القوافل"
    assert result.drills[1].live_fire is True
    assert all(set(d.participants) == {Actor.US_FORCES, Actor.SDF} for d in result.drills)


def test_numbered_items_without_the_word_drill() -> None:
    result = run(
        HEAD + "ورصد المرصد 3 تدريبات مشتركة بين التحالف وقسد:\n"
        "1. في قاعدة خراب الجير، بالذخيرة الحية، يوم 2 نيسان.\n"
        "2. في حقل العمر، يوم 8 نيسان.\n"
        "3. في قاعدة قسرك يوم 15 نيسان.\n"
        "وفي 20 نيسان، دهمت قوة من التحالف منزلا في بلدة الشحيل واقتادت شابين.\n"
    )
    assert days(result) == [2, 8, 15]
    assert result.drills[0].location == "قاعدة خراب الجير"
    (raid,) = result.arrests
    assert (raid.detained, raid.location, raid.date) == (2, "الشحيل", dt.date(2025, 4, 20))


def test_ordinal_items_after_a_header_on_the_same_line() -> None:
    result = run(
        HEAD + "ونفذت القوات الأمريكية وقسد 3 مناورات: الأولى في 2 آذار بقاعدة تل بيدر، "
        "والثانية في 6 آذار قرب حقل العمر استخدمت فيها صواريخ مضادة للدروع، "
        "والثالثة في 14 آذار في الشدادي وحاكت استعادة السيطرة على سجن.\n"
    )
    assert days(result) == [2, 6, 14]
    assert result.drills[1].weapons == ["صواريخ مضادة للدروع"]
    assert result.drills[2].scenario == "استعادة السيطرة على سجن"
    assert not result.drills[0].evidence.endswith("في")
    assert result.strikes == []


def test_prose_items_after_a_total_and_other_drill_verbs() -> None:
    result = run(
        HEAD + "وسجل المرصد 3 تدريبات للتحالف مع قسد. ففي 2 آذار أجريت رمايات بالذخيرة الحية "
        "في قاعدة الشدادي، وفي 7 آذار في حقل العمر، أما في 15 آذار فكان التمرين في قاعدة قسرك.\n"
        "وشهدت قاعدة رميلان في 20 آذار مناورات عسكرية بمشاركة قوات التحالف.\n"
        "وفي يوم الثاني والعشرين من آذار جرت تمارين عسكرية في قاعدة التنف.\n"
    )
    assert days(result) == [2, 7, 15, 20, 22]
    assert [d.location for d in result.drills][3:] == ["قاعدة رميلان", "قاعدة التنف"]


def test_single_drill_of_a_news_item() -> None:
    result = run(
        "الحسكة – 4 آب 2023: نظمت القوات الأمريكية وقسد مناورة بالذخيرة الحية قرب قاعدة "
        "الشدادي، حاكت صد هجوم على سجن، واستخدمت خلالها عربات برادلي ومروحيات أباتشي.\n"
    )
    (drill,) = result.drills
    assert (drill.date, drill.location, drill.live_fire) == (
        dt.date(2023, 8, 4),
        "قاعدة الشدادي",
        True,
    )
    assert drill.weapons == ["عربات برادلي", "مروحيات أباتشي"]
    assert drill.scenario == "صد هجوم على سجن"
    assert result.strikes == []


def test_totals_in_words_and_arrests_in_the_drills_sentence() -> None:
    result = run(
        "في الشهر السابع والعشرين بعد المئة لتدخل التحالف الدولي في سورية.\n"
        "دخلت مئتا شاحنة للتحالف على ثماني دفعات.\n"
        "وأحصى المرصد سبعة تدريبات مشتركة، وخمس عمليات أمنية مشتركة مع قسد أسفرت عن "
        "اعتقال أحد عشر شخصا.\n"
    )
    assert result.coalition_month == 127
    (ground,) = result.convoys
    assert (ground.vehicles, ground.batches) == (200, 8)
    (drill,) = result.drills
    assert drill.count == 7 and "عمليات" not in drill.evidence
    (ops,) = result.arrests
    assert (ops.operations, ops.detained, ops.coalition_role) == (5, 11, CoalitionRole.JOINT)


def test_raid_verbs_and_campaigns() -> None:
    result = run(
        HEAD + "وفي 4 آذار، شنت قسد بدعم من التحالف حملة دهم في بلدة الكسرة، اعتقلت خلالها 5 "
        "أشخاص يشتبه بانتمائهم لخلايا التنظيم.\n"
        "ونفذت قوة أمريكية عملية إنزال جوي في قرية الطيانة فجر 17 آذار، أسفرت عن مقتل "
        "قيادي في التنظيم واعتقال اثنين آخرين.\n"
        "كما شنت قوى الأمن الداخلي حملة تمشيط في مخيم الهول يوم 21 آذار، بإسناد من طيران "
        "التحالف المسير، واعتقلت عشرات المشتبه بهم.\n"
    )
    campaign, landing, sweep = result.arrests
    assert (campaign.detained, campaign.affiliation, campaign.coalition_role) == (
        5,
        Actor.ISIS,
        CoalitionRole.SUPPORT,
    )
    assert set(campaign.actors) == {Actor.SDF, Actor.INTERNATIONAL_COALITION}
    assert (landing.detained, landing.killed, landing.actors) == (2, 1, [Actor.US_FORCES])
    assert (sweep.location, sweep.detained, sweep.coalition_role) == (
        "مخيم الهول",
        None,
        CoalitionRole.SUPPORT,
    )
    assert Actor.ASAYISH in sweep.actors
    assert result.strikes == []  # aircraft backing a sweep is no airstrike


def test_attack_constructions() -> None:
    result = run(
        HEAD + "وفي 8 آذار، تعرضت قاعدة التحالف في حقل كونوكو لقصف صاروخي أطلقه مسلحون "
        "موالون لإيران.\n"
        "وفي 14 آذار، استهدف هجوم بطائرة مسيرة قاعدة الشدادي دون وقوع إصابات.\n"
        "وفي 19 آذار، دمرت غارة جوية أمريكية مستودعا للميليشيات في البوكمال، وقتل فيها "
        "نحو 9 عناصر.\n"
        "وتعرضت قاعدتا التنف وخراب الجير مطلع الشهر لهجومين بالمسيرات، بواقع هجوم واحد "
        "على كل منهما.\n"
    )
    rockets, drone, airstrike, pair = result.strikes
    assert (rockets.kind, rockets.attacker, rockets.location) == (
        "attack_on_base",
        Actor.IRAN_BACKED_MILITIAS,
        "حقل كونوكو",
    )
    assert (drone.kind, drone.location) == ("attack_on_base", "قاعدة الشدادي")
    assert (airstrike.kind, airstrike.attacker, airstrike.location) == (
        "airstrike",
        Actor.US_FORCES,
        "البوكمال",
    )
    (dead,) = airstrike.casualties
    assert (dead.party, dead.killed, dead.approximate) == (Actor.IRAN_BACKED_MILITIAS, 9, True)
    assert pair.count == 2 and pair.governorate is None
    assert [(t.name, t.count) for t in pair.targets] == [
        ("قاعدة التنف", 1),
        ("قاعدة خراب الجير", 1),
    ]
    assert result.stated_totals.attacks == 2


def test_per_base_breakdown_over_list_lines() -> None:
    result = run(
        HEAD + "تعرضت قواعد التحالف خلال الشهر لستة هجمات تبنتها المقاومة الإسلامية في "
        "العراق، على النحو التالي:\n"
        "- 4 هجمات على حقل العمر.\n"
        "- هجومان على قاعدة الشدادي.\n"
    )
    (attack,) = result.strikes
    assert (attack.count, attack.attacker) == (6, Actor.ISLAMIC_RESISTANCE_IN_IRAQ)
    assert [(t.name, t.count) for t in attack.targets] == [
        ("حقل العمر", 4),
        ("قاعدة الشدادي", 2),
    ]
    assert result.stated_totals.attacks == 6


def test_convoy_constructions() -> None:
    result = run(
        HEAD + "وخلال الشهر، وصلت قافلة تضم 45 شاحنة محملة بالأسلحة إلى قاعدة قسرك قادمة من "
        "معبر الوليد في 6 آذار.\n"
        "كما عبر رتل من 25 آلية تقريبا معبر سيمالكا الحدودي يوم 12 آذار، ونقل كتلاً "
        "إسمنتية وصهاريج وقود إلى قاعدتي رميلان والشدادي.\n"
        "ودخل رتل عسكري للتحالف يضم عشرات الشاحنات عبر معبر الوليد في 20 آذار.\n"
        "وهبطت طائرتا شحن في مطار رميلان.\n"
    )
    caravan, column, vague, air = result.convoys
    assert (caravan.vehicles, caravan.origin, caravan.destinations, caravan.cargo) == (
        45,
        "معبر الوليد",
        ["قاعدة قسرك"],
        ["الأسلحة"],
    )
    assert (column.vehicles, column.approximate, column.origin) == (25, True, "معبر سيمالكا")
    assert column.cargo == ["كتل إسمنتية", "صهاريج وقود"]
    assert column.destinations == ["قاعدة رميلان", "قاعدة الشدادي"]
    assert (vague.vehicles, vague.dates) == (None, [dt.date(2025, 3, 20)])
    assert (air.mode, air.vehicles, air.destinations) == ("air", 2, ["مطار رميلان"])


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
    result = run(HEAD + text)
    assert all(result.records(c) == [] for c in CATEGORIES)


def test_month_stated_in_a_title() -> None:
    result = run("التحالف الدولي في سورية – حصيلة الشهر الـ١٢٢:\nلا جديد يذكر.\n")
    assert result.coalition_month == 122


def test_mortar_rounds_and_base_air_defences() -> None:
    result = run(
        HEAD + "وفي 3 آذار سقطت قذيفتا هاون على قاعدة خراب الجير دون أضرار.\n"
        "وفي 9 آذار تمكنت الدفاعات الجوية في قاعدة حقل العمر من إسقاط طائرة مسيرة.\n"
    )
    mortar, drone = result.strikes
    assert (mortar.kind, mortar.location) == ("attack_on_base", "قاعدة خراب الجير")
    assert (drone.kind, drone.attacker, drone.date) == (
        "drone_shootdown",
        Actor.INTERNATIONAL_COALITION,
        dt.date(2025, 3, 9),
    )
