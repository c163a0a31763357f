"""Constructions of the genre added in the rules' last round: a strike told after the death it
caused, drones intercepted (in the dual), a reply by artillery told after the attack, a second
strike whose subject is only implied, strikes outside Syria, days "of the same month", arrest
totals told before another event, support phrases, detainees as a singular, a dual or a
hedged number, and arrest notes. Every text here is written for these tests."""

from __future__ import annotations

import datetime as dt

import pytest

from llm_extract.backends.rules import extract
from llm_extract.normalize import normalize
from llm_extract.schemas import Actor, CoalitionRole, ReportExtraction

HEAD = "للشهر 126 على التوالي يواصل التحالف الدولي نشاطه في سورية.\n"


def run(text: str) -> ReportExtraction:
    extraction, dropped = extract(text, "t")
    assert dropped == []
    for record in [*extraction.strikes, *extraction.arrests]:
        assert record.evidence_start is not None and record.evidence_end is not None
        quoted = text[record.evidence_start : record.evidence_end]
        assert normalize(quoted) == normalize(record.evidence)
    return extraction


# --- strikes ----------------------------------------------------------------------------------


def test_death_told_before_the_drone_strike() -> None:
    text = HEAD + (
        "وفي 4 آذار، لقي مسؤول في تنظيم داعش حتفه، إذ قُتل قيادي في التنظيم ومرافقه بضربة من "
        "طائرة مسيرة أمريكية أصابت سيارتهما قرب بلدة الشحيل.\n"
    )
    (strike,) = run(text).strikes
    assert strike.kind == "airstrike"
    assert strike.attacker == Actor.US_FORCES
    assert strike.date == dt.date(2025, 3, 4)
    assert strike.location == "الشحيل"


def test_turkish_drone_strike_told_after_the_death_is_not_the_coalitions() -> None:
    text = HEAD + "وفي 5 آذار، قُتل شابان بضربة من طائرة مسيرة تركية قرب عامودا.\n"
    assert run(text).strikes == []


def test_intercepted_drones_in_the_dual() -> None:
    text = HEAD + (
        "وفي 9 آذار، قالت القيادة المركزية الأمريكية إن قواتها اعترضت طائرتين مسيرتين "
        "كانتا في طريقهما إلى قاعدة الشدادي.\n"
    )
    (strike,) = run(text).strikes
    assert strike.kind == "drone_shootdown"
    assert strike.attacker == Actor.US_FORCES
    assert strike.count == 2
    assert strike.location == "قاعدة الشدادي"


def test_reply_by_artillery_after_the_attack() -> None:
    text = HEAD + (
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
    text = HEAD + (
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
    text = HEAD + (
        "وفي 3 آذار دخلت 40 شاحنة إلى حقل العمر، ثم عادت في 17 من الشهر ذاته لتضرب "
        "موعداً جديداً مع قافلة أخرى.\n"
    )
    assert run(text).strikes == []


def test_strike_outside_syria_is_not_extracted() -> None:
    text = HEAD + (
        "وجاء ذلك بعد أيام من مقتل قائد في الحشد بغارة أمريكية قرب مطار بغداد، وسط مخاوف من "
        "رد على القواعد في سورية.\n"
    )
    assert run(text).strikes == []


def test_day_of_the_same_month_in_a_convoy_list() -> None:
    text = HEAD + (
        "ودخلت نحو 90 شاحنة على 4 دفعات، أولاها في 26 شباط، ثم في 27 و28 منه، و6 آذار، "
        "إلى قاعدة قسرك.\n"
    )
    (convoy,) = run(text).convoys
    assert convoy.dates == [
        dt.date(2025, 2, 26),
        dt.date(2025, 2, 27),
        dt.date(2025, 2, 28),
        dt.date(2025, 3, 6),
    ]


# --- arrests ----------------------------------------------------------------------------------


def test_total_with_outcome_then_another_event() -> None:
    text = HEAD + (
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
    text = HEAD + f"وفي 8 آذار، داهمت قوى الأمن الداخلي حي غويران {phrase} واعتقلت 6 أشخاص.\n"
    (arrest,) = run(text).arrests
    assert arrest.coalition_role == role
    assert arrest.detained == 6


@pytest.mark.parametrize(
    ("words", "detained"),
    [("شخصاً", 1), ("شقيقين", 2), ("أكثر من ١٥ مطلوباً", 15), ("ثلاثة أشخاص", 3)],
)
def test_detainees_singular_dual_and_hedged(words: str, detained: int) -> None:
    text = HEAD + f"وفي 13 آذار، اعتقلت دورية أمريكية منفردة {words} في بلدة الصور.\n"
    (arrest,) = run(text).arrests
    assert arrest.detained == detained
    assert arrest.actors == [Actor.US_FORCES]


def test_notes_keep_the_operations_kind_and_support() -> None:
    text = HEAD + (
        "وفي 15 آذار، نفذت قسد حملة تمشيط في بادية الشدادي بغطاء جوي من التحالف، وأوقفت "
        "9 مشتبهين.\n"
    )
    (arrest,) = run(text).arrests
    assert arrest.notes == "حملة تمشيط؛ بغطاء جوي من التحالف"
    assert arrest.detained == 9
