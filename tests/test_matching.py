"""Record matching: similarity components and the optimal assignment, checked by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from llm_extract.evaluation.matching import (
    MATCH_THRESHOLD,
    date_similarity,
    match_records,
    set_f1,
    similarity,
    text_similarity,
)
from llm_extract.schemas import Convoy, ConvoyMode, Drill, Strike, StrikeKind

EVIDENCE = "جرى تمرين مشترك في القاعدة الشمالية"


def drill(day: int, location: str | None = "القاعدة الشمالية", evidence: str = EVIDENCE) -> Drill:
    return Drill(date=dt.date(2024, 7, day), location=location, evidence=evidence)


def test_date_similarity_decreases_per_day() -> None:
    day = dt.date(2024, 7, 10)
    assert date_similarity(day, day) == 1.0
    assert date_similarity(day, day + dt.timedelta(days=1)) == pytest.approx(2 / 3)
    assert date_similarity(day, day - dt.timedelta(days=3)) == 0.0
    assert date_similarity(None, None) == 1.0
    assert date_similarity(day, None) == 0.0


def test_set_f1_by_hand() -> None:
    assert set_f1(["a", "b"], ["b", "c"]) == pytest.approx(0.5)
    assert set_f1(["a", "a", "b"], ["a", "b"]) == 1.0  # a duplicate counts once
    assert set_f1([], []) == 1.0
    assert set_f1(["a"], []) == 0.0


def test_text_similarity_normalises_arabic() -> None:
    # hamza forms, ta marbuta and diacritics do not matter
    assert text_similarity("قاعدة أبو حجر", "قاعده ابو حَجر") == 1.0
    assert text_similarity(None, None) == 1.0
    assert text_similarity("حقل العمر", None) == 0.0


def test_identical_records_score_one() -> None:
    assert similarity("drills", drill(5), drill(5)) == pytest.approx(1.0)


def test_one_day_apart_by_hand() -> None:
    # date weight 0.4 x 2/3, place 0.2, actor 0.1 (both empty), evidence 0.3
    assert similarity("drills", drill(5), drill(6)) == pytest.approx(0.4 * 2 / 3 + 0.6)


def test_gate_mode_and_kind() -> None:
    ground = Convoy(mode=ConvoyMode.GROUND, vehicles=50, evidence="قافلة")
    air = Convoy(mode=ConvoyMode.AIR, vehicles=50, evidence="قافلة")
    assert similarity("convoys", ground, air) == 0.0
    base = Strike(kind=StrikeKind.ATTACK_ON_BASE, evidence="هجوم")
    shell = Strike(kind=StrikeKind.SHELLING, evidence="هجوم")
    assert similarity("strikes", base, shell) == 0.0
    with pytest.raises(KeyError):
        similarity("nothing", base, base)


def test_pair_below_threshold_stays_unmatched() -> None:
    # 5 days apart (0), no location vs a location (0), actors both empty (0.1),
    # same evidence (0.3): 0.4 < threshold
    pred, gold = drill(1, location=None), drill(6)
    assert similarity("drills", pred, gold) == pytest.approx(0.4)
    assert similarity("drills", pred, gold) < MATCH_THRESHOLD
    result = match_records("drills", [pred], [gold])
    assert result.pairs == []
    assert result.spurious == [0]
    assert result.missed == [0]


def test_duplicate_prediction_is_spurious() -> None:
    result = match_records("drills", [drill(5), drill(5)], [drill(5)])
    assert len(result.pairs) == 1
    assert result.pairs[0].gold == 0
    assert len(result.spurious) == 1
    assert result.missed == []


def test_assignment_is_optimal_not_greedy() -> None:
    # A (day 11) is as close to g1 (day 10) as to g2 (day 12); B (day 9) only fits g1.
    # Greedy on A would take g1 and leave B with g2 at 0.6; the optimum pairs B-g1, A-g2.
    a, b = drill(11), drill(9)
    g1, g2 = drill(10), drill(12)
    result = match_records("drills", [a, b], [g1, g2])
    assert {(p.pred, p.gold) for p in result.pairs} == {(0, 1), (1, 0)}
    assert sum(p.similarity for p in result.pairs) == pytest.approx(2 * (0.6 + 0.4 * 2 / 3))


def test_empty_sides() -> None:
    assert match_records("drills", [], [drill(1), drill(2)]).missed == [0, 1]
    assert match_records("drills", [drill(1)], []).spurious == [0]
    empty = match_records("drills", [], [])
    assert (empty.pairs, empty.missed, empty.spurious) == ([], [], [])
