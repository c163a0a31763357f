"""Casualties by party as the offline extractor reads them. Every text here is written for
these tests."""

from __future__ import annotations

from typing import Any

import pytest
from rules_helpers import run

from llm_extract.backends.rules.casualties import casualties
from llm_extract.normalize import normalize
from llm_extract.schemas import Actor


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "ما أدى إلى مقتل عنصرين من قسد وإصابة 3 آخرين",
            [{"party": Actor.SDF, "killed": 2, "injured": 3}],
        ),
        (
            "أسفر القصف عن مقتل 5 مسلحين على الأقل من الميليشيات",
            [{"party": Actor.IRAN_BACKED_MILITIAS, "killed": 5, "at_least": True}],
        ),
        (
            "خلفت نحو 12 قتيلا من الميليشيات",
            [{"party": Actor.IRAN_BACKED_MILITIAS, "killed": 12, "approximate": True}],
        ),
        (
            "قتل مدني وأصيب اثنان من عناصر الأسايش",
            [
                {"party": Actor.CIVILIANS, "killed": 1, "note": "مدني"},
                {"party": Actor.ASAYISH, "injured": 2},
            ],
        ),
        (
            "قتل سائق صهريج على الطريق",
            [{"party": Actor.CIVILIANS, "killed": 1, "note": normalize("سائق صهريج")}],
        ),
        (
            "أدى إلى إصابات طفيفة في صفوف الجنود الأمريكيين",
            [{"party": Actor.US_FORCES, "note": normalize("إصابات طفيفة")}],
        ),
        ("ولم يسفر الهجوم عن أي إصابات", []),
    ],
    ids=["pair-then-others", "at-least", "approximate", "two-parties", "who", "vague", "none"],
)
def test_casualties_of_a_passage(text: str, expected: list[dict[str, Any]]) -> None:
    """One entry per party in order of mention: a dual of a party, "آخرين" (the party
    before), hedges, one person named by who they were, counts without a number as notes."""
    found = casualties(normalize(text))
    assert [{k: v for k, v in entry.items() if v} for entry in found] == expected


def test_notes_keep_the_reports_own_spelling() -> None:
    text = "قتل سائق صهريج على الطريق"
    norm = normalize(text)
    (entry,) = casualties(norm, lambda start, end: text[start:end])
    assert entry["note"] == "سائق صهريج"


def test_wounded_after_the_dead_with_a_conjunction_are_the_same_side() -> None:
    found = casualties(normalize("أسفر القصف عن مقتل 9 مدنيين و3 جرحى"))
    assert found == [
        {"party": Actor.CIVILIANS, "killed": 9, "injured": 3, "approximate": False,
         "at_least": False}
    ]  # fmt: skip


def test_how_the_wounded_were_hurt_is_a_note_of_their_side() -> None:
    found = casualties(normalize("أصيب أربعة جنود أمريكيين بجروح طفيفة في الهجوم"))
    assert [(c["party"], c.get("injured"), c.get("note")) for c in found] == [
        (Actor.US_FORCES, 4, "جروح طفيفه")
    ]
