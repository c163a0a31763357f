"""Attacks on several coalition bases read by the offline extractor: per-base counts as list
lines, in brackets or in prose, bases referred back to, bases named together, and the month's
total or tally of attacks. Every text here is written for these tests."""

from __future__ import annotations

from rules_helpers import HEAD_125, HEAD_126, run

from llm_extract.schemas import Actor


def test_per_base_breakdown_over_list_lines() -> None:
    result = run(
        HEAD_125 + "تعرضت قواعد التحالف خلال الشهر لستة هجمات تبنتها المقاومة الإسلامية في "
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


def test_label_lines_after_a_hedged_total_on_bases_referred_back_to() -> None:
    result = run(
        HEAD_125 + "وتحولت القواعد الأمريكية في شرق سورية إلى هدف لهجمات متكررة تشنها فصائل "
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


def test_per_base_lines_with_a_dual() -> None:
    text = HEAD_126 + (
        "وتعرضت قواعد التحالف لهجمات متكررة بالصواريخ، وجاءت على النحو الآتي:\n"
        "حقل العمر: 5 هجمات\n"
        "قاعدة التنف: هجومان\n"
    )
    (strike,) = run(text).strikes
    assert strike.kind == "attack_on_base"
    assert [(t.name, t.count) for t in strike.targets] == [("حقل العمر", 5), ("قاعدة التنف", 2)]
    assert strike.count == 7


def test_breakdown_in_brackets_after_each_base() -> None:
    result = run(
        HEAD_125 + "وتعرضت قواعد التحالف خلال الشهر لسبعة هجمات صاروخية توزعت على حقل العمر (4) "
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
        HEAD_125 + "وشنت ميليشيات موالية لإيران 5 هجمات بالقذائف على القواعد الأمريكية (3 على حقل "
        "العمر و2 على قاعدة التنف).\n"
    )
    (attack,) = result.strikes
    assert (attack.count, attack.attacker) == (5, Actor.IRAN_BACKED_MILITIAS)
    assert [(t.name, t.count) for t in attack.targets] == [
        ("حقل العمر", 3),
        ("قاعدة التنف", 2),
    ]


def test_breakdown_without_a_total_sums_its_counts() -> None:
    result = run(
        HEAD_125 + "وتوزعت الهجمات على القواعد هذا الشهر بين حقل العمر (6 هجمات) وحقل كونيكو "
        "(3 هجمات).\n"
    )
    (attack,) = result.strikes
    assert attack.count == 9
    assert [(t.name, t.count) for t in attack.targets] == [("حقل العمر", 6), ("حقل كونيكو", 3)]


def test_prose_breakdown_after_a_total_on_the_bases() -> None:
    result = run(
        HEAD_125 + "وتعرضت قواعد التحالف لخمس هجمات، ثلاثة منها على حقل العمر واثنان على حقل "
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


def test_a_tally_of_the_month_is_the_stated_total_not_another_record() -> None:
    result = run(
        HEAD_125 + "وفي 3 آذار، استهدفت مسيرة قاعدة قسرك.\n"
        "وفي 9 آذار، سقطت قذائف صاروخية على حقل العمر.\n"
        "وبذلك تصل حصيلة الاستهدافات التي طالت القواعد هذا الشهر إلى 6.\n"
    )
    assert [s.location for s in result.strikes] == ["قاعدة قسرك", "حقل العمر"]
    assert result.stated_totals.attacks == 6
