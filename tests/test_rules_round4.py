"""Constructions added after the final holdout was opened: every compound ordinal (1..199, both
genders, nominative and accusative/genitive tens) and the month it names; denials of raids,
drills and convoys; cargo flights without a number; artillery shelling told verb-first or
before the drones it answers; helicopters (dual) firing; per-base lines in the dual; a
detainee taken with a relative; two women; the place detainees were taken to; training told
as an ongoing task; an undated operation of other forces after a dated one. Every text here
is written for these tests."""

from __future__ import annotations

import pytest

from llm_extract.backends.rules import extract
from llm_extract.backends.rules.numbers import ORDINAL_RE, parse_ordinal
from llm_extract.normalize import coalition_period, normalize
from llm_extract.schemas import Actor, CoalitionRole, ReportExtraction

HEAD = "للشهر 126 على التوالي يواصل التحالف الدولي نشاطه في سورية.\n"

_MASC = ["الحادي", "الثاني", "الثالث", "الرابع", "الخامس", "السادس", "السابع", "الثامن", "التاسع"]
_FEM = ["الحادية", "الثانية", "الثالثة", "الرابعة", "الخامسة", "السادسة", "السابعة", "الثامنة"]
_FEM.append("التاسعة")
_TENS = ["العشر", "الثلاث", "الأربع", "الخمس", "الست", "السبع", "الثمان", "التسع"]


def _ordinals(value: int) -> list[str]:
    """Every written form of the ordinal ``value`` (1..199)."""
    hundred, rest = divmod(value, 100)
    forms: list[str]
    if rest == 0:
        forms = [""]
    elif rest == 1:
        forms = ["الأول", "الأولى"] if not hundred else ["الحادي", "الحادية", "الأول"]
    elif rest < 10:
        forms = [_MASC[rest - 1], _FEM[rest - 1]]
    elif rest == 10:
        forms = ["العاشر", "العاشرة"]
    elif rest < 20:
        unit = rest - 10
        forms = [_MASC[unit - 1] + " عشر", _FEM[unit - 1] + " عشرة"]
    else:
        tens, unit = divmod(rest, 10)
        stems = [_TENS[tens - 2] + "ون", _TENS[tens - 2] + "ين"]
        if unit == 0:
            forms = stems
        else:
            forms = [f"{units[unit - 1]} و{stem}" for units in (_MASC, _FEM) for stem in stems]
    if hundred:
        return [f"{form} بعد المائة" if form else "المائة" for form in forms]
    return forms


@pytest.mark.parametrize("value", range(1, 200))
def test_every_ordinal_in_every_form(value: int) -> None:
    for form in _ordinals(value):
        norm = normalize(form)
        match = ORDINAL_RE.search(f"الشهر {norm} على")
        assert match is not None and match.group() == norm, form
        assert parse_ordinal(match.group()) == value, form


def run(text: str) -> ReportExtraction:
    extraction, dropped = extract(text, "t")
    assert dropped == []
    return extraction


@pytest.mark.parametrize(
    ("opening", "month"),
    [
        ("انتهى الشهر الثالث والستون لوجود التحالف في سورية", 63),
        ("مضى الشهر الحادي والعشرون على بدء عمليات التحالف", 21),
        ("طوى التحالف شهره الرابع والثلاثين بعد المائة في سورية", 134),
    ],
)
def test_compound_ordinal_month_sets_the_dates(opening: str, month: int) -> None:
    period = coalition_period(month)
    text = (
        f"{opening}.\n"
        f"وفي 28 {_month_name(period.start.month)}، دخلت 40 شاحنة للتحالف عبر معبر الوليد "
        "إلى قاعدة الشدادي.\n"
    )
    result = run(text)
    assert result.coalition_month == month
    (convoy,) = result.convoys
    (day,) = convoy.dates
    assert period.start <= day <= period.end


def _month_name(number: int) -> str:
    names = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول"]
    names += ["تشرين الأول", "تشرين الثاني", "كانون الأول"]
    return names[number - 1]


# --- denials ------------------------------------------------------------------------------------


def test_denied_raids_drills_and_convoys_are_no_records() -> None:
    text = HEAD + (
        "ولم يشهد الشهر أي عملية مداهمة أو اعتقال بمشاركة قوات التحالف.\n"
        "كما لم تُجرِ القوات الأمريكية أي تدريبات مشتركة مع قسد هذا الشهر.\n"
        "ولم تدخل أي قوافل شاحنات للتحالف عبر المعابر الحدودية خلال الشهر.\n"
    )
    result = run(text)
    assert (result.arrests, result.drills, result.convoys) == ([], [], [])


# --- convoys ------------------------------------------------------------------------------------


def test_cargo_flights_without_a_number() -> None:
    text = HEAD + "وهبطت طائرات شحن عدة في مطار خراب الجير حاملة معدات عسكرية للتحالف.\n"
    (convoy,) = run(text).convoys
    assert convoy.mode == "air"
    assert convoy.vehicles is None


# --- strikes ------------------------------------------------------------------------------------


def test_artillery_shelling_told_verb_first() -> None:
    text = HEAD + (
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
    text = HEAD + (
        "- 9 آذار: احتكت دورية أمريكية بحاجز للجيش السوري قرب قرية كرباوي، وأطلقت مروحيتان "
        "أمريكيتان النار على الحاجز فاستهدفتاه بالرشاشات.\n"
    )
    (strike,) = run(text).strikes
    assert (strike.kind, strike.attacker) == ("airstrike", Actor.US_FORCES)


def test_per_base_lines_with_a_dual() -> None:
    text = HEAD + (
        "وتعرضت قواعد التحالف لهجمات متكررة بالصواريخ، وجاءت على النحو الآتي:\n"
        "حقل العمر: 5 هجمات\n"
        "قاعدة التنف: هجومان\n"
    )
    (strike,) = run(text).strikes
    assert strike.kind == "attack_on_base"
    assert [(t.name, t.count) for t in strike.targets] == [("حقل العمر", 5), ("قاعدة التنف", 2)]
    assert strike.count == 7


# --- arrests ------------------------------------------------------------------------------------


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
    (arrest,) = run(HEAD + sentence + "\n").arrests
    assert arrest.detained == detained


def test_one_more_killed_after_the_detainees() -> None:
    text = HEAD + (
        "وفي 11 آذار، نفذ التحالف إنزالاً في بلدة الحوائج أسفر عن اعتقال شخصين، بينما قُتل "
        "ثالث حاول الفرار.\n"
    )
    (arrest,) = run(text).arrests
    assert (arrest.detained, arrest.killed) == (2, 1)


def test_place_the_detainees_were_taken_to_is_not_the_raid_place() -> None:
    text = HEAD + (
        "وفي 11 آذار، داهمت قوة أمريكية منزلاً في بلدة الحوائج، ونقلت معتقلاً إلى قاعدة "
        "حقل العمر للاستجواب.\n"
    )
    (arrest,) = run(text).arrests
    assert arrest.location == "الحوائج"
    assert arrest.coalition_role == CoalitionRole.CARRIED_OUT


def test_undated_campaign_of_other_forces_after_a_dated_raid() -> None:
    text = HEAD + (
        "وفي 11 آذار، اعتقلت قوة من التحالف شخصين في بلدة الحوائج.\n"
        "وفي ريف الحسكة الجنوبي، أطلقت قسد بدعم جوي من التحالف حملة تمشيط في قرى عدة، "
        "أوقفت خلالها عشرات المطلوبين.\n"
    )
    first, campaign = run(text).arrests
    assert first.detained == 2
    assert campaign.actors == [Actor.SDF, Actor.INTERNATIONAL_COALITION]
    assert campaign.coalition_role == CoalitionRole.SUPPORT
    assert (campaign.detained, campaign.location) == (None, None)


# --- drills -------------------------------------------------------------------------------------


def test_training_as_an_ongoing_task_is_no_drill() -> None:
    text = HEAD + (
        "وواصلت القوات الأمريكية خلال الشهر إرسال الدعم إلى قواعدها وتدريب عناصر قسد.\n"
        "وفي 20 آذار، أجرت قوات التحالف وقسد تدريباً بالذخيرة الحية في قاعدة قسرك.\n"
    )
    (drill,) = run(text).drills
    assert drill.live_fire is True
