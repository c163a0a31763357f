"""Arrests read by the offline extractor: raid verbs and campaigns, totals of operations,
the coalition's role (support, joint, carried out), detainees and the killed counted in
every way the reports word them, notes, and the place detainees were taken to. Every text
here is written for these tests."""

from __future__ import annotations

import pytest
from rules_helpers import HEAD_125, HEAD_126, run

from llm_extract.schemas import Actor, CoalitionRole


def test_raid_verbs_and_campaigns() -> None:
    result = run(
        HEAD_125 + "وفي 4 آذار، شنت قسد بدعم من التحالف حملة دهم في بلدة الكسرة، اعتقلت خلالها 5 "
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


def test_total_with_outcome_then_another_event() -> None:
    text = HEAD_126 + (
        "وعلى الصعيد الأمني، نفذت قسد بإسناد من التحالف 5 عمليات تفتيش في ريفي الرقة "
        "والحسكة، أوقف خلالها 12 شخصاً، في حين نفذت قوة أمريكية في 21 آذار عملية إنزال في "
        "بلدة ذيبان قُتل خلالها عنصر من داعش.\n"
    )
    extraction = run(text)
    summary, raid = extraction.arrests
    assert extraction.stated_totals.operations == 5
    assert summary.operations == 5
    assert summary.detained == 12
    assert summary.date is None
    assert summary.governorate is None  # two governorates named
    assert summary.coalition_role == CoalitionRole.SUPPORT
    assert raid.actors == [Actor.US_FORCES]
    assert raid.coalition_role == CoalitionRole.CARRIED_OUT
    assert raid.killed == 1
    assert raid.location == "ذيبان"


def test_undated_campaign_of_other_forces_after_a_dated_raid() -> None:
    text = HEAD_126 + (
        "وفي 11 آذار، اعتقلت قوة من التحالف شخصين في بلدة الحوائج.\n"
        "وفي ريف الحسكة الجنوبي، أطلقت قسد بدعم جوي من التحالف حملة تمشيط في قرى عدة، "
        "أوقفت خلالها عشرات المطلوبين.\n"
    )
    first, campaign = run(text).arrests
    assert first.detained == 2
    assert campaign.actors == [Actor.SDF, Actor.INTERNATIONAL_COALITION]
    assert campaign.coalition_role == CoalitionRole.SUPPORT
    assert (campaign.detained, campaign.location) == (None, None)


@pytest.mark.parametrize(
    ("phrase", "role"),
    [
        ("بغطاء جوي من التحالف", CoalitionRole.SUPPORT),
        ("بمؤازرة من التحالف", CoalitionRole.SUPPORT),
        ("بدعم استخباري من التحالف", CoalitionRole.SUPPORT),
        ("إلى جانب قوات التحالف", CoalitionRole.JOINT),
    ],
)
def test_support_and_joint_phrases(phrase: str, role: CoalitionRole) -> None:
    text = HEAD_126 + f"وفي 8 آذار، داهمت قوى الأمن الداخلي حي غويران {phrase} واعتقلت 6 أشخاص.\n"
    (arrest,) = run(text).arrests
    assert arrest.coalition_role == role
    assert arrest.detained == 6


@pytest.mark.parametrize(
    ("words", "detained"),
    [("شخصاً", 1), ("شقيقين", 2), ("أكثر من ١٥ مطلوباً", 15), ("ثلاثة أشخاص", 3)],
)
def test_detainees_singular_dual_and_hedged(words: str, detained: int) -> None:
    text = HEAD_126 + f"وفي 13 آذار، اعتقلت دورية أمريكية منفردة {words} في بلدة الصور.\n"
    (arrest,) = run(text).arrests
    assert arrest.detained == detained
    assert arrest.actors == [Actor.US_FORCES]


@pytest.mark.parametrize(
    ("sentence", "detained"),
    [
        ("وفي 11 آذار، اعتقلت قوة من التحالف قيادياً في داعش وابنه في بلدة الحوائج.", 2),
        ("وفي 11 آذار، داهمت قوة أمريكية منزلاً في بلدة الحوائج واعتقلت رجلاً وشقيقه.", 2),
        ("وفي 11 آذار، انتهت مداهمة للتحالف وقسد في مخيم الهول باعتقال امرأتين.", 2),
        ("وفي 11 آذار، نفذ التحالف إنزالاً قرب الحوائج قُتل فيه قيادي واعتُقل مرافقه.", 1),
    ],
)
def test_detainees_with_a_relative_or_two_women(sentence: str, detained: int) -> None:
    (arrest,) = run(HEAD_126 + sentence + "\n").arrests
    assert arrest.detained == detained


def test_one_more_killed_after_the_detainees() -> None:
    text = HEAD_126 + (
        "وفي 11 آذار، نفذ التحالف إنزالاً في بلدة الحوائج أسفر عن اعتقال شخصين، بينما قُتل "
        "ثالث حاول الفرار.\n"
    )
    (arrest,) = run(text).arrests
    assert (arrest.detained, arrest.killed) == (2, 1)


def test_notes_keep_the_operations_kind_and_support() -> None:
    text = HEAD_126 + (
        "وفي 15 آذار، نفذت قسد حملة تمشيط في بادية الشدادي بغطاء جوي من التحالف، وأوقفت "
        "9 مشتبهين.\n"
    )
    (arrest,) = run(text).arrests
    assert arrest.notes == "حملة تمشيط؛ بغطاء جوي من التحالف"
    assert arrest.detained == 9


def test_place_the_detainees_were_taken_to_is_not_the_raid_place() -> None:
    text = HEAD_126 + (
        "وفي 11 آذار، داهمت قوة أمريكية منزلاً في بلدة الحوائج، ونقلت معتقلاً إلى قاعدة "
        "حقل العمر للاستجواب.\n"
    )
    (arrest,) = run(text).arrests
    assert arrest.location == "الحوائج"
    assert arrest.coalition_role == CoalitionRole.CARRIED_OUT


def test_a_pronoun_that_spells_a_raid_verb_is_no_raid() -> None:
    """ "احداهما" holds the letters of "داهم": it is no raid."""
    text = HEAD_126 + "وفي 4 آذار استهدفت مسيرتان قاعدة قسرك، وأسقطت الدفاعات احداهما.\n"
    result = run(text)
    assert result.arrests == []
    assert {s.kind for s in result.strikes} == {"attack_on_base", "drone_shootdown"}


@pytest.mark.parametrize(
    ("sentence", "detained"),
    [
        ("ألقت قوة من التحالف القبض على عنصر من التنظيم في قرية الكسرة.", 1),
        ("أعلنت قسد بالتعاون مع التحالف القبض على 14 عنصراً في بلدة الشحيل.", 14),
        ("اعتقلت قسد بدعم من التحالف قيادياً في التنظيم في بلدة ذيبان.", 1),
    ],
)
def test_a_dated_item_with_one_arrest_in_the_singular_or_announced(
    sentence: str, detained: int
) -> None:
    (arrest,) = run(f"دير الزور – 5 أيار 2024: {sentence}\n").arrests
    assert (arrest.detained, arrest.operations, str(arrest.date)) == (detained, 1, "2024-05-05")


def test_villages_in_the_plural_name_no_one_place() -> None:
    text = HEAD_126 + "وفي 8 آذار اعتقلت قسد بدعم من التحالف 6 أشخاص في قريتي الصبحة والكشكية.\n"
    (arrest,) = run(text).arrests
    assert (arrest.detained, arrest.location) == (6, None)
    village = HEAD_126 + "• عين عيسى: داهمت قسد بمساندة التحالف قرية الهيشة في 9 آذار.\n"
    (raid,) = run(village).arrests
    assert raid.location == "الهيشة"


def test_a_raid_on_the_next_day_is_a_record_of_its_own() -> None:
    text = (
        "الرقة – 9 آذار 2023: داهمت قسد بمساندة التحالف حي الدرعية يوم 7 آذار واعتقلت "
        "شخصين، وفي اليوم التالي داهمت حي الرومانية واعتقلت شخصاً ثالثاً.\n"
    )
    first, second = run(text).arrests
    assert (str(first.date), first.location, first.detained) == ("2023-03-07", "الدرعية", 2)
    assert (str(second.date), second.location, second.detained) == ("2023-03-08", "الرومانية", 1)
    assert second.actors == first.actors


def test_arrests_before_the_drills_of_one_sentence() -> None:
    text = (
        "دير الزور – 9 آذار 2025: شهد الأسبوع الماضي 4 عمليات مشتركة بين قسد والتحالف اعتقل "
        "خلالها 9 مشتبهين، فيما أجرت القوات الأمريكية تدريبين في حقل كونيكو.\n"
    )
    result = run(text)
    (arrest,) = result.arrests
    assert (arrest.operations, arrest.detained) == (4, 9)
    (drill,) = result.drills
    assert (drill.count, drill.location, drill.participants) == (
        2,
        "حقل كونيكو",
        [Actor.US_FORCES],
    )


def test_a_count_since_the_start_of_the_year_is_background() -> None:
    text = (
        "دير الزور – 9 آذار 2025: اعتقلت قسد بدعم من التحالف شخصين في بلدة الشحيل اليوم. "
        "وبلغ عدد عمليات الدهم منذ مطلع العام 47 عملية.\n"
    )
    result = run(text)
    assert [(a.operations, a.detained) for a in result.arrests] == [(1, 2)]
    assert result.stated_totals.operations is None


def test_two_detainees_in_the_nominative_dual() -> None:
    text = HEAD_126 + "وفي 12 آذار داهمت قسد والتحالف بلدة الشحيل واعتقل فيها شخصان.\n"
    (arrest,) = run(text).arrests
    assert arrest.detained == 2
