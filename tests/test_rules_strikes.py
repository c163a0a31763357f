"""Strike constructions of the report genre for the offline extractor: attacks told in the
negative or as a threat, per-base breakdowns as label lines or in brackets, bases referred
back to ("تلك القواعد", "الدفاعات الجوية للقاعدة"), the attacker named in the sentence
before the count, drones downed after a long subject, jets named in the dual, and the
vocabulary of rocket volleys and suicide drones. Every text here is written for these tests."""

from __future__ import annotations

import datetime as dt

import pytest

from llm_extract.backends.rules import extract
from llm_extract.normalize import normalize
from llm_extract.schemas import Actor, ReportExtraction

HEAD = "للشهر 125 على التوالي يواصل التحالف الدولي نشاطه في سورية.\n"


def run(text: str) -> ReportExtraction:
    extraction, dropped = extract(text, "t")
    assert dropped == []
    for record in extraction.strikes:
        assert record.evidence_start is not None and record.evidence_end is not None
        quoted = text[record.evidence_start : record.evidence_end]
        assert normalize(quoted) == normalize(record.evidence)
    return extraction


@pytest.mark.parametrize(
    "text",
    [
        "ولم يوثق المرصد خلال الشهر أي استهداف للقواعد الأمريكية أو غارات جوية للتحالف "
        "داخل الأراضي السورية.\n",
        "ولم تتعرض قاعدة الشدادي لهجوم هذا الشهر، كما لم تشن الطائرات الأمريكية غارات على "
        "مواقع الميليشيات.\n",
        "ونفى التحالف الدولي تعرض قاعدة حقل العمر لأي قصف صاروخي.\n",
        "وخلا الشهر من أي ضربات جوية للتحالف ومن أي هجوم على قواعده في الحسكة.\n",
        "ورفعت القوات الأمريكية جاهزية منظوماتها في قاعدة التنف تحسبا لهجمات محتملة "
        "بالطائرات المسيرة.\n",
        "وتوعدت فصائل موالية لإيران باستهداف القواعد الأمريكية في دير الزور إذا استمر "
        "القصف على غزة.\n",
        "وحذر مسؤولون في البنتاغون من هجمات مرتقبة على قاعدة حقل العمر.\n",
        "وفي 4 آذار، وصلت منظومات دفاع جوي إلى قاعدة الشدادي لحمايتها من هجمات المسيرات.\n",
        "وفي 6 آذار، قصفت المدفعية التركية قاعدة لقسد قرب بلدة تل تمر.\n",
        "وفي 8 آذار، دخلت 30 شاحنة محملة بالصواريخ والقذائف إلى قاعدة الشدادي.\n",
        "وفي 9 آذار، نصبت القوات الأمريكية منظومة صواريخ جديدة داخل حقل العمر.\n",
        "وفي 10 آذار، جابت دورية أمريكية محيط حقل كونيكو بعد الهجوم الذي طال القاعدة مطلع الشهر.\n",
        "وفي 12 آذار، زار ضباط أمريكيون قاعدة التنف واطلعوا على أبنية تضررت من القصف السابق.\n",
        "وفي 14 آذار، شنت قسد هجوما على مخبأ لداعش قرب الشحيل بمساندة مروحيات التحالف.\n",
    ],
    ids=[
        "none-recorded",
        "did-not",
        "denied",
        "month-free-of",
        "precaution",
        "threat",
        "warning",
        "purpose",
        "turkish-fire",
        "rockets-as-cargo",
        "missiles-deployed",
        "attack-as-time-anchor",
        "earlier-shelling",
        "aircraft-backing-a-ground-attack",
    ],
)
def test_attacks_told_in_the_negative_or_as_a_threat_give_nothing(text: str) -> None:
    assert run(HEAD + text).strikes == []


def test_negation_of_the_damage_keeps_the_attack() -> None:
    result = run(
        HEAD + "وفي 7 آذار، سقطت رشقة صاروخية قرب قاعدة خراب الجير دون أن تسفر عن إصابات، "
        "ولم تتبن أي جهة الهجوم.\n"
    )
    (volley,) = result.strikes
    assert (volley.kind, volley.date, volley.location, volley.count) == (
        "attack_on_base",
        dt.date(2025, 3, 7),
        "قاعدة خراب الجير",
        1,
    )


def test_label_lines_after_a_hedged_total_on_bases_referred_back_to() -> None:
    result = run(
        HEAD + "وتحولت القواعد الأمريكية في شرق سورية إلى هدف لهجمات متكررة تشنها فصائل "
        "المقاومة الإسلامية في العراق.\n"
        "وأحصى المرصد ما لا يقل عن 14 هجوما بالصواريخ والمسيرات على تلك القواعد، توزعت "
        "كما يلي:\n"
        "- حقل العمر: 6 هجمات\n"
        "- حقل كونيكو: 5 هجمات\n"
        "- قاعدة التنف: 3 هجمات\n"
        "وخلفت تلك الضربات مقتل عنصرين من قسد.\n"
    )
    (attack,) = result.strikes
    assert (attack.kind, attack.count, attack.attacker, attack.date) == (
        "attack_on_base",
        14,
        Actor.ISLAMIC_RESISTANCE_IN_IRAQ,
        None,
    )
    assert [(t.name, t.count) for t in attack.targets] == [
        ("حقل العمر", 6),
        ("حقل كونيكو", 5),
        ("قاعدة التنف", 3),
    ]
    assert [(c.party, c.killed) for c in attack.casualties] == [(Actor.SDF, 2)]
    assert result.stated_totals.attacks == 14


def test_breakdown_in_brackets_after_each_base() -> None:
    result = run(
        HEAD + "وتعرضت قواعد التحالف خلال الشهر لسبعة هجمات صاروخية توزعت على حقل العمر (4) "
        "وحقل كونيكو (2) وقاعدة الشدادي (1).\n"
    )
    (attack,) = result.strikes
    assert attack.count == 7
    assert [(t.name, t.count) for t in attack.targets] == [
        ("حقل العمر", 4),
        ("حقل كونيكو", 2),
        ("قاعدة الشدادي", 1),
    ]


def test_breakdown_in_brackets_after_the_total() -> None:
    result = run(
        HEAD + "وشنت ميليشيات موالية لإيران 5 هجمات بالقذائف على القواعد الأمريكية (3 على حقل "
        "العمر و2 على قاعدة التنف).\n"
    )
    (attack,) = result.strikes
    assert (attack.count, attack.attacker) == (5, Actor.IRAN_BACKED_MILITIAS)
    assert [(t.name, t.count) for t in attack.targets] == [
        ("حقل العمر", 3),
        ("قاعدة التنف", 2),
    ]


def test_drone_downed_after_a_long_subject() -> None:
    result = run(
        HEAD + "وفي 6 آذار، أسقطت منظومات الدفاع الجوي المنصوبة في قاعدة حقل كونيكو طائرة "
        "مسيرة مجهولة المصدر.\n"
    )
    (drone,) = result.strikes
    assert (drone.kind, drone.attacker, drone.location, drone.date) == (
        "drone_shootdown",
        Actor.INTERNATIONAL_COALITION,
        "حقل كونيكو",
        dt.date(2025, 3, 6),
    )


def test_drone_downed_by_the_defences_of_the_base_just_attacked() -> None:
    result = run(
        "الحسكة – 12 نيسان 2024: تعرضت قاعدة قسرك التابعة للتحالف الدولي فجر اليوم لهجوم "
        "بمسيرتين انتحاريتين أطلقتهما فصائل المقاومة الإسلامية في العراق.\n"
        "وقالت مصادر محلية إن الدفاعات الجوية للقاعدة اعترضت إحدى المسيرات، فيما انفجرت "
        "الثانية قرب السور الخارجي.\n"
    )
    attack, drone = result.strikes
    assert (attack.kind, attack.attacker, attack.location) == (
        "attack_on_base",
        Actor.ISLAMIC_RESISTANCE_IN_IRAQ,
        "قاعدة قسرك",
    )
    assert (drone.kind, drone.attacker, drone.location, drone.date, drone.count) == (
        "drone_shootdown",
        Actor.INTERNATIONAL_COALITION,
        "قاعدة قسرك",
        dt.date(2024, 4, 12),
        1,
    )


def test_jets_named_in_the_dual() -> None:
    result = run(
        HEAD + "وفي 11 آذار، أغارت مقاتلتان أمريكيتان على مخزن أسلحة تابع للميليشيات "
        "الإيرانية قرب البوكمال، ما أدى إلى مقتل 5 مسلحين على الأقل.\n"
    )
    (raid,) = result.strikes
    assert (raid.kind, raid.attacker, raid.location, raid.count) == (
        "airstrike",
        Actor.US_FORCES,
        "البوكمال",
        1,
    )
    (dead,) = raid.casualties
    assert (dead.party, dead.killed, dead.at_least) == (Actor.IRAN_BACKED_MILITIAS, 5, True)


def test_suicide_drone_and_rocket_volley_vocabulary() -> None:
    result = run(
        HEAD + "وفي 15 آذار، انفجرت طائرة مسيرة انتحارية داخل حقل العمر.\n"
        "وفي 21 آذار، طالت رشقة صاروخية أطلقها مسلحون مدعومون من إيران محيط مطار خراب الجير.\n"
    )
    drone, volley = result.strikes
    assert (drone.kind, drone.location, drone.date) == (
        "attack_on_base",
        "حقل العمر",
        dt.date(2025, 3, 15),
    )
    assert (volley.kind, volley.attacker, volley.location) == (
        "attack_on_base",
        Actor.IRAN_BACKED_MILITIAS,
        "مطار خراب الجير",
    )


def test_the_base_defences_down_one_of_the_drones_in_the_attack_sentence() -> None:
    result = run(
        HEAD + "وفي 27 آذار، استهدفت الفصائل العراقية قاعدة التنف بمسيرتين، وأسقطت الدفاعات "
        "الجوية إحداهما.\n"
    )
    attack, drone = result.strikes
    assert (attack.kind, attack.attacker, attack.location) == (
        "attack_on_base",
        Actor.ISLAMIC_RESISTANCE_IN_IRAQ,
        "قاعدة التنف",
    )
    assert (drone.kind, drone.attacker, drone.location, drone.date) == (
        "drone_shootdown",
        Actor.INTERNATIONAL_COALITION,
        "قاعدة التنف",
        dt.date(2025, 3, 27),
    )
    assert "إحداهما" in drone.evidence and "استهدفت" not in drone.evidence


def test_one_volley_without_a_date_is_one_attack() -> None:
    result = run(HEAD + "وقصفت ميليشيات موالية لإيران مطار خراب الجير برشقة صواريخ.\n")
    (volley,) = result.strikes
    assert (volley.count, volley.date, volley.attacker) == (
        1,
        None,
        Actor.IRAN_BACKED_MILITIAS,
    )


def test_breakdown_without_a_total_sums_its_counts() -> None:
    result = run(
        HEAD + "وتوزعت الهجمات على القواعد هذا الشهر بين حقل العمر (6 هجمات) وحقل كونيكو "
        "(3 هجمات).\n"
    )
    (attack,) = result.strikes
    assert attack.count == 9
    assert [(t.name, t.count) for t in attack.targets] == [("حقل العمر", 6), ("حقل كونيكو", 3)]


def test_a_tally_of_the_month_is_the_stated_total_not_another_record() -> None:
    result = run(
        HEAD + "وفي 3 آذار، استهدفت مسيرة قاعدة قسرك.\n"
        "وفي 9 آذار، سقطت قذائف صاروخية على حقل العمر.\n"
        "وبذلك تصل حصيلة الاستهدافات التي طالت القواعد هذا الشهر إلى 6.\n"
    )
    assert [s.location for s in result.strikes] == ["قاعدة قسرك", "حقل العمر"]
    assert result.stated_totals.attacks == 6


def test_prose_breakdown_after_a_total_on_the_bases() -> None:
    result = run(
        HEAD + "وتعرضت قواعد التحالف لخمس هجمات، ثلاثة منها على حقل العمر واثنان على حقل "
        "كونيكو.\n"
        "وفي الشهر ذاته سجلت سبع هجمات على القواعد الأمريكية بواقع 4 هجمات على قاعدة "
        "الشدادي و3 هجمات على قاعدة التنف.\n"
    )
    five, seven = result.strikes
    assert (five.count, [(t.name, t.count) for t in five.targets]) == (
        5,
        [("حقل العمر", 3), ("حقل كونيكو", 2)],
    )
    assert (seven.count, [(t.name, t.count) for t in seven.targets]) == (
        7,
        [("قاعدة الشدادي", 4), ("قاعدة التنف", 3)],
    )
