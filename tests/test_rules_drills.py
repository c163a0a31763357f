"""Drills read by the offline extractor: layouts of drill lists (dated lines, dashed tables,
place labels, numbered items, ordinals after a header, prose), dates before or after their
items, single drills of a news item, weapons, scenarios and live fire, and training that is
no drill. Every text here is written for these tests."""

from __future__ import annotations

import datetime as dt

from rules_helpers import HEAD_125, HEAD_126, run

from llm_extract.schemas import Actor, ReportExtraction


def days(result: ReportExtraction) -> list[int | None]:
    return [d.date.day if d.date else None for d in result.drills]


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


def test_drill_dates_that_end_their_items() -> None:
    result = run(
        HEAD_125 + "وأجرت القوات الأمريكية وقسد تدريبا بالذخيرة الحية في قاعدة قسرك يوم 5 آذار، "
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
        HEAD_125 + "وجاءت تدريبات الشهر على النحو الآتي:\n"
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
        HEAD_125 + "وأحصى المرصد 4 تدريبات للقوات الأمريكية مع قسد، وثق منها:\n"
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
        HEAD_125 + "ورصد المرصد 3 تدريبات مشتركة بين التحالف وقسد:\n"
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
        HEAD_125 + "ونفذت القوات الأمريكية وقسد 3 مناورات: الأولى في 2 آذار بقاعدة تل بيدر، "
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
        HEAD_125 + "وسجل المرصد 3 تدريبات للتحالف مع قسد. ففي 2 آذار أجريت رمايات بالذخيرة الحية "
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


def test_training_as_an_ongoing_task_is_no_drill() -> None:
    text = HEAD_126 + (
        "وواصلت القوات الأمريكية خلال الشهر إرسال الدعم إلى قواعدها وتدريب عناصر قسد.\n"
        "وفي 20 آذار، أجرت قوات التحالف وقسد تدريباً بالذخيرة الحية في قاعدة قسرك.\n"
    )
    (drill,) = run(text).drills
    assert drill.live_fire is True


def test_drills_ranked_in_one_sentence_each_keep_their_place() -> None:
    text = (
        HEAD_126 + "وجرى خلال الشهر تدريبان: الأول في حقل كونيكو في 4 آذار بالذخيرة الحية، "
        "والثاني في قاعدة الشدادي في 19 آذار على إخلاء الجرحى.\n"
    )
    first, second = run(text).drills
    assert (first.location, first.date) == ("حقل كونيكو", dt.date(2025, 3, 4))
    assert (second.location, second.date) == ("قاعدة الشدادي", dt.date(2025, 3, 19))


def test_a_total_with_its_places_and_no_days_is_one_drill_per_place() -> None:
    text = HEAD_126 + "ونفذ التحالف مع قسد أربعة تدريبات في قاعدة قسرك وحقل العمر ومطار رميلان.\n"
    result = run(text)
    assert result.stated_totals.drills == 4
    assert [(d.location, d.date, d.count) for d in result.drills] == [
        ("قاعدة قسرك", None, 1),
        ("حقل العمر", None, 1),
        ("مطار رميلان", None, 1),
    ]


def test_places_listed_in_the_sentence_after_the_total() -> None:
    text = (
        "دير الزور – 9 آذار 2025: شهدت الأيام الماضية تدريبين للتحالف مع قسد، هما: تدريب على "
        "الرماية في حقل العمر، وتدريب على الإخلاء في قاعدة الشدادي.\n"
    )
    drills = run(text).drills
    assert [(d.location, d.date) for d in drills] == [("حقل العمر", None), ("قاعدة الشدادي", None)]


def test_a_dual_drill_today_in_a_sector() -> None:
    text = (
        "الرقة – 11 نيسان 2024: أجرت القوات الأمريكية اليوم تدريبين مع قسد في القطاع الغربي "
        "من ريف الرقة.\n"
    )
    result = run(text)
    (drill,) = result.drills
    assert (drill.count, drill.date, drill.location) == (2, dt.date(2024, 4, 11), "القطاع الغربي")
    assert result.stated_totals.drills is None  # one dated event, not a total


def test_a_numbered_heading_after_the_drills_is_no_drill() -> None:
    text = HEAD_126 + "2- التدريبات\nنفذ التحالف تدريبا في حقل العمر يوم 3 آذار.\n3- الهجمات\n"
    (drill,) = run(text).drills
    assert drill.location == "حقل العمر"


def test_a_drill_item_that_simulated_an_attack_is_a_drill_not_a_strike() -> None:
    text = HEAD_126 + "التدريبات: جرى تدريبان:\n"
    text += "5 آذار – قاعدة قسرك – محاكاة التصدي لهجوم بصواريخ.\n"
    text += "9 آذار – حقل العمر – رمايات بالأسلحة الثقيلة.\n"
    result = run(text)
    assert [d.location for d in result.drills] == ["قاعدة قسرك", "حقل العمر"]
    assert result.strikes == []


def test_a_numbered_zone_before_the_base_it_surrounds_is_the_place() -> None:
    text = (
        "التنف – 9 أيار 2023: أجرت القوات الأمريكية اليوم تدريبا في المنطقة 55 المحيطة "
        "بقاعدة التنف.\n"
    )
    (drill,) = run(text).drills
    assert drill.location == "المنطقة 55"


def test_drills_on_a_list_of_days_are_one_per_day() -> None:
    text = HEAD_126 + "وأجرت القوات الأمريكية مع قسد تدريبات في قاعدة تل بيدر يومي 3 و17 آذار.\n"
    drills = run(text).drills
    assert [(d.date, d.location) for d in drills] == [
        (dt.date(2025, 3, 3), "قاعدة تل بيدر"),
        (dt.date(2025, 3, 17), "قاعدة تل بيدر"),
    ]


def test_drills_listed_date_first_with_their_place_after() -> None:
    text = (
        HEAD_126 + "وجرت 3 تدريبات، في 2 آذار بقاعدة الشدادي، وفي 9 آذار بحقل العمر، وفي 16 "
        "آذار بقاعدة قسرك.\n"
    )
    result = run(text)
    assert result.stated_totals.drills == 3
    assert [(d.date.day if d.date else None, d.location) for d in result.drills] == [
        (2, "قاعدة الشدادي"),
        (9, "حقل العمر"),
        (16, "قاعدة قسرك"),
    ]


def test_fighters_who_trained_today_is_a_drill() -> None:
    text = (
        "الحسكة – 14 آذار 2021: تدرّب عناصر من قسد بإشراف مدربين أمريكيين على الرماية في "
        "قاعدة قسرك اليوم.\n"
    )
    (drill,) = run(text).drills
    assert (drill.date, drill.location) == (dt.date(2021, 3, 14), "قاعدة قسرك")


def test_a_total_on_a_list_of_days_in_two_places_is_one_drill_a_day_without_a_place() -> None:
    text = (
        HEAD_126
        + "أجرت قوات التحالف وقسد ٤ تدريبات في ٣ و٧ و١٢ و١٨ آذار، في حقل العمر وقاعدة قسرك.\n"
    )
    result = run(text)
    assert result.stated_totals.drills == 4
    assert [(d.date.day if d.date else None, d.location) for d in result.drills] == [
        (3, None),
        (7, None),
        (12, None),
        (18, None),
    ]


def test_ranked_drills_take_the_total_and_forces_before_them() -> None:
    text = (
        HEAD_126 + "أجرى التحالف خلال الشهر تدريبين مع قسد، الأول في 4 آذار بحقل كونيكو، والثاني "
        "في 20 آذار بقاعدة الشدادي.\n"
    )
    result = run(text)
    assert result.stated_totals.drills == 2
    assert [d.participants for d in result.drills] == [
        [Actor.INTERNATIONAL_COALITION, Actor.SDF],
        [Actor.INTERNATIONAL_COALITION, Actor.SDF],
    ]
