"""Strikes read by the offline extractor: which kind and who fired (attacks on bases, coalition
airstrikes, drones downed, shelling) and the order in which the kind rules decide, attacks
told in the negative or as a threat, the place struck, strikes told after the death they
caused, replies, a strike told again without its subject, strikes outside Syria. Per-base
counts are in ``test_rules_bases.py``. Every text here is written for these tests."""

from __future__ import annotations

import datetime as dt

import pytest
from rules_helpers import HEAD_125, HEAD_126, run

from llm_extract.backends.rules.strike_kinds import KindFound, kind_of
from llm_extract.normalize import coalition_period, normalize
from llm_extract.schemas import Actor, StrikeKind

# --- which kind, who fired ------------------------------------------------------------------------


def test_attack_constructions() -> None:
    result = run(
        HEAD_125 + "وفي 8 آذار، تعرضت قاعدة التحالف في حقل كونوكو لقصف صاروخي أطلقه مسلحون "
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


def test_mortar_rounds_and_base_air_defences() -> None:
    result = run(
        HEAD_125 + "وفي 3 آذار سقطت قذيفتا هاون على قاعدة خراب الجير دون أضرار.\n"
        "وفي 9 آذار تمكنت الدفاعات الجوية في قاعدة حقل العمر من إسقاط طائرة مسيرة.\n"
    )
    mortar, drone = result.strikes
    assert (mortar.kind, mortar.location) == ("attack_on_base", "قاعدة خراب الجير")
    assert (drone.kind, drone.attacker, drone.date) == (
        "drone_shootdown",
        Actor.INTERNATIONAL_COALITION,
        dt.date(2025, 3, 9),
    )


def test_drone_downed_after_a_long_subject() -> None:
    result = run(
        HEAD_125 + "وفي 6 آذار، أسقطت منظومات الدفاع الجوي المنصوبة في قاعدة حقل كونيكو طائرة "
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


def test_the_base_defences_down_one_of_the_drones_in_the_attack_sentence() -> None:
    result = run(
        HEAD_125 + "وفي 27 آذار، استهدفت الفصائل العراقية قاعدة التنف بمسيرتين، وأسقطت الدفاعات "
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


def test_intercepted_drones_in_the_dual() -> None:
    text = HEAD_126 + (
        "وفي 9 آذار، قالت القيادة المركزية الأمريكية إن قواتها اعترضت طائرتين مسيرتين "
        "كانتا في طريقهما إلى قاعدة الشدادي.\n"
    )
    (strike,) = run(text).strikes
    assert strike.kind == "drone_shootdown"
    assert strike.attacker == Actor.US_FORCES
    assert strike.count == 2
    assert strike.location == "قاعدة الشدادي"


def test_jets_named_in_the_dual() -> None:
    result = run(
        HEAD_125 + "وفي 11 آذار، أغارت مقاتلتان أمريكيتان على مخزن أسلحة تابع للميليشيات "
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
        HEAD_125 + "وفي 15 آذار، انفجرت طائرة مسيرة انتحارية داخل حقل العمر.\n"
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


def test_one_volley_without_a_date_is_one_attack() -> None:
    result = run(HEAD_125 + "وقصفت ميليشيات موالية لإيران مطار خراب الجير برشقة صواريخ.\n")
    (volley,) = result.strikes
    assert (volley.count, volley.date, volley.attacker) == (
        1,
        None,
        Actor.IRAN_BACKED_MILITIAS,
    )


def test_artillery_shelling_told_verb_first() -> None:
    text = HEAD_126 + (
        "وفي 6 آذار، قصفت مدفعية التحالف المتمركزة في حقل العمر قرية الصبحة بعدة قذائف.\n"
    )
    (strike,) = run(text).strikes
    assert (strike.kind, strike.attacker) == ("shelling", Actor.INTERNATIONAL_COALITION)
    period = coalition_period(126)
    assert strike.date is not None and strike.date.day == 6
    assert period.start <= strike.date <= period.end
    assert strike.location == "الصبحة"


def test_artillery_against_drone_teams_and_the_toll_after() -> None:
    text = (
        "دير الزور – الأحد 3 أيلول 2023\n"
        "قصفت المدفعية الأمريكية في حقل كونيكو فجر اليوم مواقع لميليشيات موالية لإيران قرب "
        "بلدة الطيبة، بعد رصد استعدادها لإطلاق طائرات مسيرة نحو القاعدة.\n"
        "وذكرت مصادر أن القصف أدى إلى مقتل أربعة من المسلحين، بينما حلّق طيران التحالف فوق "
        "المنطقة لساعات.\n"
    )
    (strike,) = run(text).strikes
    assert (strike.kind, strike.attacker) == ("shelling", Actor.US_FORCES)
    assert [c.killed for c in strike.casualties] == [4]


def test_two_helicopters_fire_on_a_checkpoint() -> None:
    text = HEAD_126 + (
        "- 9 آذار: احتكت دورية أمريكية بحاجز للجيش السوري قرب قرية كرباوي، وأطلقت مروحيتان "
        "أمريكيتان النار على الحاجز فاستهدفتاه بالرشاشات.\n"
    )
    (strike,) = run(text).strikes
    assert (strike.kind, strike.attacker) == ("airstrike", Actor.US_FORCES)


# --- denied, feared, others' fire -----------------------------------------------------------------


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
    assert run(HEAD_125 + text).strikes == []


def test_negation_of_the_damage_keeps_the_attack() -> None:
    result = run(
        HEAD_125 + "وفي 7 آذار، سقطت رشقة صاروخية قرب قاعدة خراب الجير دون أن تسفر عن إصابات، "
        "ولم تتبن أي جهة الهجوم.\n"
    )
    (volley,) = result.strikes
    assert (volley.kind, volley.date, volley.location, volley.count) == (
        "attack_on_base",
        dt.date(2025, 3, 7),
        "قاعدة خراب الجير",
        1,
    )


def test_turkish_drone_strike_told_after_the_death_is_not_the_coalitions() -> None:
    text = HEAD_126 + "وفي 5 آذار، قُتل شابان بضربة من طائرة مسيرة تركية قرب عامودا.\n"
    assert run(text).strikes == []


def test_strike_outside_syria_is_not_extracted() -> None:
    text = HEAD_126 + (
        "وجاء ذلك بعد أيام من مقتل قائد في الحشد بغارة أمريكية قرب مطار بغداد، وسط مخاوف من "
        "رد على القواعد في سورية.\n"
    )
    assert run(text).strikes == []


# --- what a sentence takes from the one before ----------------------------------------------------


def test_death_told_before_the_drone_strike() -> None:
    text = HEAD_126 + (
        "وفي 4 آذار، لقي مسؤول في تنظيم داعش حتفه، إذ قُتل قيادي في التنظيم ومرافقه بضربة من "
        "طائرة مسيرة أمريكية أصابت سيارتهما قرب بلدة الشحيل.\n"
    )
    (strike,) = run(text).strikes
    assert strike.kind == "airstrike"
    assert strike.attacker == Actor.US_FORCES
    assert strike.date == dt.date(2025, 3, 4)
    assert strike.location == "الشحيل"


def test_reply_by_artillery_after_the_attack() -> None:
    text = HEAD_126 + (
        "وفي 11 آذار، سقطت ثلاث قذائف صاروخية داخل قاعدة حقل كونيكو، فردّت المدفعية "
        "الأمريكية المنتشرة في القاعدة بقصف مصادر الإطلاق قرب بلدة خشام.\n"
    )
    attack, reply = run(text).strikes
    assert attack.kind == "attack_on_base"
    assert reply.kind == "shelling"
    assert reply.attacker == Actor.US_FORCES
    assert reply.date == dt.date(2025, 3, 11)
    assert reply.evidence.startswith("فردّت المدفعية")
    assert "خشام" in (reply.location or "")


def test_second_strike_with_implied_subject_and_same_month_day() -> None:
    text = HEAD_126 + (
        "وفي 3 آذار دمرت مقاتلات أمريكية مخزناً للذخيرة تابعاً للميليشيات قرب البوكمال، ثم "
        "عادت في 17 من الشهر ذاته لتقصف تجمعاً للمسلحين في الميادين.\n"
    )
    first, second = run(text).strikes
    assert first.kind == second.kind == "airstrike"
    assert [t.name for t in first.targets] == ["مخزناً للذخيرة"]
    assert second.attacker == Actor.US_FORCES
    assert second.date == dt.date(2025, 3, 17)
    assert second.location == "الميادين"


def test_implied_subject_needs_a_strike_just_before() -> None:
    text = HEAD_126 + (
        "وفي 3 آذار دخلت 40 شاحنة إلى حقل العمر، ثم عادت في 17 من الشهر ذاته لتضرب "
        "موعداً جديداً مع قافلة أخرى.\n"
    )
    assert run(text).strikes == []


# --- the order of the kind rules -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "أسقطت الدفاعات الجوية في قاعدة حقل العمر طائرة مسيرة",
            (StrikeKind.DRONE_SHOOTDOWN, Actor.INTERNATIONAL_COALITION),
        ),
        (
            "استهدفت الفصائل العراقية قاعدة التنف بمسيرتين، وأسقطت الدفاعات الجوية إحداهما",
            (StrikeKind.ATTACK_ON_BASE, Actor.ISLAMIC_RESISTANCE_IN_IRAQ),
        ),
        (
            "قصفت المدفعية الأمريكية مواقع للميليشيات قرب بلدة الطيبة، ورصدت مروحيات التحالف "
            "المنطقة",
            (StrikeKind.SHELLING, Actor.US_FORCES),
        ),
        (
            "قصفت طائرات التحالف مقر قيادة للميليشيات الموالية لإيران",
            (StrikeKind.AIRSTRIKE, Actor.INTERNATIONAL_COALITION),
        ),
        ("تعرضت قاعدة التحالف في حقل كونوكو لقصف صاروخي", (StrikeKind.ATTACK_ON_BASE, None)),
        ("تعرضت قاعدة للتحالف لقصف صاروخي تركي", None),
        ("شنت قسد حملة دهم بمساندة مروحيات التحالف", None),
    ],
    ids=[
        "drone-downed-first",
        "unless-an-attack-on-a-base-comes-before",
        "guns-before-aircraft-shell",
        "coalition-aircraft-before-an-attack-on-a-base",
        "attack-on-a-base-before-the-coalitions-shelling",
        "turkish-fire-ends-the-search",
        "aircraft-backing-a-raid-strike-nothing",
    ],
)
def test_kind_rules_decide_in_order(text: str, expected: KindFound | None) -> None:
    """Each case is one where a later rule alone would decide otherwise (see
    ``strike_kinds``): the first rule that decides wins, and a rule may end the search."""
    assert kind_of(normalize(text)) == expected


def test_a_cumulative_total_since_before_the_report_is_background() -> None:
    text = (
        HEAD_126 + "وفي 5 آذار استهدفت مسيرة قاعدة التنف. وبذلك بلغ عدد الهجمات على قواعد "
        "التحالف منذ 7 تشرين الأول 2023 نحو 180 هجوماً.\n"
    )
    result = run(text)
    assert [(s.kind, s.count) for s in result.strikes] == [("attack_on_base", 1)]
    item = (
        "الحسكة – 2 أيار 2024: هبطت طائرة شحن في قاعدة الشدادي، في ظل تزايد الهجمات على "
        "قواعد التحالف منذ أشهر.\n"
    )
    assert run(item).strikes == []


def test_a_summary_total_over_its_own_week_is_undated_and_stated() -> None:
    text = "الرقة – 14 آب 2017: شن طيران التحالف 132 غارة على مواقع التنظيم خلال الأسبوع الماضي.\n"
    result = run(text)
    (strike,) = result.strikes
    assert (strike.kind, strike.count, strike.date) == ("airstrike", 132, None)
    assert result.stated_totals.airstrikes == 132


def test_counts_from_the_noun_in_a_dated_item() -> None:
    shells = "دير الزور – 3 أيار 2022: سقطت قذيفتان مجهولتا المصدر داخل قاعدة حقل العمر اليوم.\n"
    (attack,) = run(shells).strikes
    assert (attack.kind, attack.count, attack.date) == ("attack_on_base", 1, dt.date(2022, 5, 3))
    raids = "حمص – 6 أيار 2022: شنت مقاتلات التحالف غارات على مواقع التنظيم في بادية تدمر.\n"
    (strike,) = run(raids).strikes
    assert (strike.kind, strike.count) == ("airstrike", None)


def test_a_manned_jet_shot_down_is_other_and_the_fighter_is_american() -> None:
    text = HEAD_126 + "وفي 9 آذار أسقطت مقاتلة أمريكية طائرة حربية سورية قرب الطبقة.\n"
    (strike,) = run(text).strikes
    assert (strike.kind, strike.attacker) == ("other", "US forces")
    drone = HEAD_126 + "وفي 11 آذار أسقطت مقاتلة أمريكية طائرة مسيرة قرب قاعدة التنف.\n"
    (downed,) = run(drone).strikes
    assert (downed.kind, downed.attacker) == ("drone_shootdown", "US forces")


def test_the_wounded_soldiers_are_not_who_attacked_the_base() -> None:
    text = (
        "الحسكة – 4 آب 2023: أصيب جنديان أمريكيان بجروح إثر هجوم بمسيرة استهدف قاعدة قسرك "
        "اليوم، ولم تعلن أي جهة مسؤوليتها.\n"
    )
    (attack,) = run(text).strikes
    assert (attack.kind, attack.attacker, attack.count) == ("attack_on_base", None, 1)


def test_an_unclaimed_explosive_device_at_a_base_is_an_attack() -> None:
    text = "الشدادي – 2 آب 2024: انفجرت عبوة ناسفة قرب قاعدة الشدادي اليوم دون أن تتبناها أي جهة.\n"
    (attack,) = run(text).strikes
    assert (attack.kind, attack.location) == ("attack_on_base", "قاعدة الشدادي")


def test_a_raid_called_a_strike_that_took_prisoners_is_an_arrest() -> None:
    text = (
        "واشنطن – 3 أيار 2024: قالت القيادة المركزية الأمريكية إن قواتها نفذت غارة في شرق "
        "سوريا أسفرت عن اعتقال قيادي في التنظيم.\n"
    )
    result = run(text)
    assert result.strikes == []
    (arrest,) = result.arrests
    assert (arrest.detained, arrest.actors) == (1, [Actor.US_FORCES])


def test_a_month_total_and_a_cumulative_total_in_one_sentence() -> None:
    text = (
        "واشنطن – 2 شباط 2024: تعرضت القواعد الأمريكية في سوريا خلال كانون الثاني لـ 25 "
        "هجوماً، ليرتفع عدد الهجمات منذ 17 تشرين الأول إلى 90 هجوماً.\n"
    )
    result = run(text)
    (attack,) = result.strikes
    assert (attack.kind, attack.count, attack.date) == ("attack_on_base", 25, None)
    assert result.stated_totals.attacks == 25


def test_both_drones_downed_as_the_verbs_pronoun() -> None:
    text = (
        "الحسكة – 18 شباط 2025: أحبطت الدفاعات الجوية في قاعدة قسرك هجوماً بمسيرتين فجر "
        "اليوم، وأسقطتهما قبل وصولهما.\n"
    )
    attack, downed = run(text).strikes
    assert attack.kind == "attack_on_base"
    assert (downed.kind, downed.count, downed.attacker) == (
        "drone_shootdown",
        2,
        Actor.INTERNATIONAL_COALITION,
    )


def test_strikes_by_a_named_side_on_targets_have_no_count() -> None:
    text = "دير الزور – 5 شباط 2024: نفذت الولايات المتحدة ضربات على 60 هدفاً تابعة للحرس الثوري.\n"
    (strike,) = run(text).strikes
    assert (strike.kind, strike.attacker, strike.count) == ("airstrike", Actor.US_FORCES, None)


def test_several_attacks_on_one_base_name_it_as_the_target() -> None:
    text = HEAD_126 + "وسجل الشهر 3 هجمات بالصواريخ على قاعدة حقل العمر.\n"
    (attack,) = run(text).strikes
    assert attack.count == 3
    assert [(t.name, t.count) for t in attack.targets] == [("حقل العمر", 3)]


def test_a_dateline_with_a_label_in_brackets_ends_before_the_summary() -> None:
    text = (
        "الرقة – 22 تموز 2017 (حصيلة أسبوعية): شنت طائرات التحالف خلال الأسبوع قرابة 120 "
        "غارة على أحياء الرقة.\n"
    )
    result = run(text)
    (strike,) = result.strikes
    assert strike.count == 120
    assert strike.date is None
    assert result.stated_totals.airstrikes == 120


def test_drones_intercepted_by_a_bases_defences_are_downed_by_the_coalition() -> None:
    text = (
        "دير الزور – ٣ حزيران ٢٠٢٤: اعترضت الدفاعات الجوية في حقل العمر ٣ طائرات مسيّرة "
        "أطلقتها ميليشيات موالية لإيران.\n"
    )
    (downed,) = run(text).strikes
    assert (downed.kind, downed.count, downed.attacker) == (
        "drone_shootdown",
        3,
        Actor.INTERNATIONAL_COALITION,
    )


def test_an_attack_on_a_post_of_the_sdf_alone_is_not_the_coalitions() -> None:
    text = "دير الزور – 20 أيلول 2023: هاجم مسلحون نقطة لقسد قرب حقل العمر، وقتل عنصران.\n"
    assert run(text).strikes == []


def test_an_american_drone_strike() -> None:
    text = "إدلب – 20 أيلول 2023: استهدفت مسيّرة أمريكية قيادياً في تنظيم حراس الدين قرب سرمدا.\n"
    (strike,) = run(text).strikes
    assert (strike.kind, strike.attacker, strike.count) == ("airstrike", Actor.US_FORCES, 1)


def test_an_airstrike_on_a_training_camp_is_no_drill_and_its_place_is_the_town() -> None:
    text = (
        "البوكمال – 12 تشرين الثاني 2023: شنت طائرات حربية أمريكية غارات على مستودع أسلحة "
        "ومقر تدريب للحرس الثوري قرب البوكمال.\n"
    )
    result = run(text)
    assert result.drills == []
    (strike,) = result.strikes
    assert (strike.kind, strike.attacker, strike.location) == (
        "airstrike",
        Actor.US_FORCES,
        "البوكمال",
    )


def test_two_airstrikes_in_the_dual() -> None:
    text = HEAD_126 + "ونفذ التحالف ضربتين جويتين في البادية في 4 آذار.\n"
    (strike,) = run(text).strikes
    assert (strike.kind, strike.count) == ("airstrike", 2)


def test_a_total_that_announces_its_dated_attacks_is_only_a_stated_total() -> None:
    text = (
        HEAD_126 + "الهجمات: تعرضت قواعد التحالف لـ 3 هجمات خلال الشهر:\n"
        "- 2 آذار: هجوم بمسيرة على حقل العمر.\n"
        "- 9 آذار: سقوط صاروخين قرب قاعدة الشدادي.\n"
        "- 20 آذار: استهداف قاعدة التنف بطائرة مسيرة.\n"
    )
    result = run(text)
    assert result.stated_totals.attacks == 3
    assert [(s.date.day if s.date else None, s.count) for s in result.strikes] == [
        (2, 1),
        (9, 1),
        (20, 1),
    ]


def test_ranked_attacks_after_the_total_take_its_kind() -> None:
    text = (
        HEAD_126 + "وشهد الشهر هجومين على قواعد التحالف: الأول بطائرة مسيرة على حقل العمر في 2 "
        "آذار، والثاني بالصواريخ على قاعدة الشدادي في 9 آذار.\n"
    )
    result = run(text)
    assert result.stated_totals.attacks == 2
    assert [(s.kind, s.location) for s in result.strikes] == [
        ("attack_on_base", "حقل العمر"),
        ("attack_on_base", "قاعدة الشدادي"),
    ]


def test_strikes_on_several_towns_and_a_campaign_have_no_place_or_count() -> None:
    several = (
        "الحسكة – 3 شباط 2024: شنت القوات الأمريكية ضربات جوية على مواقع للحرس الثوري في "
        "الميادين والبوكمال.\n"
    )
    (strike,) = run(several).strikes
    assert (strike.kind, strike.location, strike.count) == ("airstrike", None, None)
    ongoing = "الباغوز – 5 آذار 2019: واصلت طائرات التحالف قصف مواقع التنظيم في الباغوز.\n"
    (campaign,) = run(ongoing).strikes
    assert (campaign.kind, campaign.count) == ("airstrike", None)


def test_the_place_of_the_attack_a_strike_answers_is_not_its_place() -> None:
    text = (
        "دير الزور – 14 شباط 2025: قصف الطيران الأمريكي مواقع للميليشيات في الميادين رداً "
        "على الهجوم الذي استهدف حقل العمر.\n"
    )
    (strike,) = run(text).strikes
    assert (strike.kind, strike.location) == ("airstrike", "الميادين")


def test_a_weeks_total_between_two_days_is_undated() -> None:
    text = (
        "الرقة – 22 تموز 2017: نفذ طيران التحالف 96 غارة على الرقة خلال الأسبوع الممتد بين "
        "15 و21 تموز.\n"
    )
    result = run(text)
    (strike,) = result.strikes
    assert (strike.count, strike.date) == (96, None)
    assert result.stated_totals.airstrikes == 96


def test_strikes_over_several_governorates_have_no_place() -> None:
    text = (
        HEAD_126
        + "ووثق المرصد خلال الشهر 140 غارة للتحالف على مواقع التنظيم في أرياف الحسكة والرقة.\n"
    )
    (strike,) = run(text).strikes
    assert (strike.count, strike.location) == (140, None)


def test_an_unexplained_explosion_inside_a_base_is_an_attack_but_the_explosion_again_is_not() -> (
    None
):
    text = (
        "دير الزور – 12 تموز 2023: دوّى انفجار عنيف داخل قاعدة حقل العمر فجر اليوم، ولم تعلن "
        "أي جهة مسؤوليتها.\nوتحدث سكان قرب القاعدة عن الانفجار الذي هز المنطقة.\n"
    )
    (attack,) = run(text).strikes
    assert (attack.kind, attack.attacker, attack.location) == ("attack_on_base", None, "حقل العمر")
    controlled = (
        "الحسكة – 12 تموز 2023: أجرت القوات الأمريكية تفجيراً لمخلفات حربية قرب قاعدة الشدادي.\n"
    )
    assert run(controlled).strikes == []
