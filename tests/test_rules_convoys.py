"""Convoys read by the offline extractor: trucks by land (numbers, hedges, batches, dates,
origin, destinations, cargo) and cargo aircraft. Every text here is written for these tests."""

from __future__ import annotations

import datetime as dt

from rules_helpers import HEAD_125, HEAD_126, run

from llm_extract.schemas import ConvoyMode


def test_convoy_constructions() -> None:
    result = run(
        HEAD_125 + "وخلال الشهر، وصلت قافلة تضم 45 شاحنة محملة بالأسلحة إلى قاعدة قسرك قادمة من "
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


def test_cargo_flights_without_a_number() -> None:
    text = HEAD_126 + "وهبطت طائرات شحن عدة في مطار خراب الجير حاملة معدات عسكرية للتحالف.\n"
    (convoy,) = run(text).convoys
    assert convoy.mode == "air"
    assert convoy.vehicles is None


def test_two_trucks_in_the_dual() -> None:
    (convoy,) = run(HEAD_126 + "وفي 4 آذار، دخلت شاحنتان للتحالف إلى قاعدة الشدادي.\n").convoys
    assert (convoy.mode, convoy.vehicles, convoy.destinations) == (
        ConvoyMode.GROUND,
        2,
        ["قاعدة الشدادي"],
    )
    assert convoy.dates == [dt.date(2025, 3, 4)]


def test_another_forces_convoy_is_none() -> None:
    text = HEAD_126 + "ودخلت قافلة تضم 30 شاحنة للقوات الروسية إلى مطار القامشلي.\n"
    assert run(text).convoys == []


def test_cargo_aircraft_counted_by_the_noun() -> None:
    """Singular 1, dual 2, plural without a number: no number; each with its own clause's
    dates and, in a short item, the dateline's day."""
    one = run("القامشلي – 3 نيسان 2024: حطت طائرة شحن أمريكية في مطار رميلان محملة بالعتاد.\n")
    (plane,) = one.convoys
    assert (plane.mode, plane.vehicles, plane.dates) == ("air", 1, [dt.date(2024, 4, 3)])
    two = run("الشدادي – 5 أيار 2023: وصلت مروحيتان تابعتان للتحالف إلى قاعدة الشدادي.\n")
    assert [(c.mode, c.vehicles) for c in two.convoys] == [("air", 2)]
    many = run(
        HEAD_126 + "وعبرت 50 شاحنة معبر الوليد في 3 و7 آذار، فيما هبطت طائرات شحن "
        "تابعة للتحالف في قاعدة قسرك.\n"
    )
    ground, air = many.convoys
    assert ground.dates == [dt.date(2025, 3, 3), dt.date(2025, 3, 7)]
    assert (air.vehicles, air.dates) == (None, [])


def test_aircraft_that_only_fly_or_land_troops_are_no_airlift() -> None:
    text = (
        HEAD_126 + "وحلقت طائرة استطلاع فوق البلدة. ونفذت مروحية للتحالف إنزالا جويا في قرية "
        "الكسرة. ولم يسجل هبوط طائرات شحن هذا الشهر.\n"
    )
    assert run(text).convoys == []


def test_convoys_counted_without_their_trucks() -> None:
    text = HEAD_126 + "ودخلت أربع قوافل للتحالف عبر معبر الوليد في 2 و9 و16 و23 آذار.\n"
    (convoy,) = run(text).convoys
    assert (convoy.vehicles, convoy.batches, len(convoy.dates)) == (None, 4, 4)


def test_a_convoy_after_a_drill_in_one_sentence_is_still_a_convoy() -> None:
    text = (
        HEAD_126 + "وفي 6 آذار نفذ التحالف تدريبا في قاعدة قسرك، بينما دخلت 40 شاحنة من معبر "
        "الوليد.\n"
    )
    result = run(text)
    (convoy,) = result.convoys
    assert (convoy.vehicles, convoy.origin) == (40, "معبر الوليد")
    assert len(result.drills) == 1


def test_thousands_in_words_and_a_news_item_convoy() -> None:
    text = "الحسكة – 5 أيار 2024: دخلت ألفا شاحنة للتحالف من معبر الوليد اليوم.\n"
    (convoy,) = run(text).convoys
    assert (convoy.vehicles, convoy.origin, convoy.dates) == (
        2000,
        "معبر الوليد",
        [dt.date(2024, 5, 5)],
    )
    vague = "الحسكة – 5 أيار 2024: دخلت آلاف الشاحنات للتحالف من معبر الوليد خلال العام.\n"
    assert [c.vehicles for c in run(vague).convoys] == [None]


def test_the_crossing_ends_before_the_direction_word() -> None:
    text = (
        "الحسكة – 22 تشرين الثاني 2023: دخلت 35 شاحنة للتحالف من معبر الوليد باتجاه قاعدة "
        "الشدادي.\n"
    )
    (convoy,) = run(text).convoys
    assert (convoy.origin, convoy.destinations) == ("معبر الوليد", ["قاعدة الشدادي"])


def test_two_convoys_in_two_clauses_of_one_sentence() -> None:
    text = (
        HEAD_126 + "ودخل رتل من 30 مدرعة من نوع برادلي إلى حقل العمر في 3 آذار، ودخلت 40 آلية "
        "أخرى من معبر سيمالكا في 7 آذار.\n"
    )
    first, second = run(text).convoys
    assert (first.vehicles, first.dates, first.origin) == (30, [dt.date(2025, 3, 3)], None)
    assert (second.vehicles, second.dates, second.origin) == (
        40,
        [dt.date(2025, 3, 7)],
        "معبر سيمالكا",
    )


def test_convoys_announced_then_told_one_by_one() -> None:
    text = (
        HEAD_126 + "القوافل: دخلت قافلتان:\n"
        "- الأولى في 3 آذار وضمت 60 شاحنة.\n"
        "- الثانية في 17 آذار وضمت 45 شاحنة.\n"
    )
    assert [(c.vehicles, c.batches) for c in run(text).convoys] == [(60, None), (45, None)]


def test_the_crossing_ends_before_what_the_convoy_held() -> None:
    text = HEAD_126 + "ووصلت 4 قوافل للتحالف عبر معبر الوليد تضم 230 شاحنة في 5 و12 آذار.\n"
    (convoy,) = run(text).convoys
    assert (convoy.origin, convoy.vehicles, convoy.batches) == ("معبر الوليد", 230, 4)


def test_aircraft_counted_over_the_week_take_no_dateline_day() -> None:
    text = "الحسكة – 4 آذار 2024: حطت 5 طائرات نقل عسكرية في قاعدة خراب الجير خلال الأسبوع.\n"
    (convoy,) = run(text).convoys
    assert (convoy.mode, convoy.vehicles, convoy.dates) == ("air", 5, [])
