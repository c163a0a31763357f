"""Paired comparison: per-report differences, bootstrap interval, wins/ties/losses, verdict."""

from __future__ import annotations

import pytest

from llm_extract.evaluation.compare import bootstrap_ci, compare, compare_all, paired_diff
from llm_extract.evaluation.metrics import CategoryMatch, Counts, FieldCounts, ReportScore
from llm_extract.schemas import CATEGORIES


def score(report_id: str, **counts: tuple[int, int, int]) -> ReportScore:
    """A report score with (tp, fp, fn) per category; categories not given are empty."""
    return ReportScore(
        report_id=report_id,
        status="ok",
        counts={
            c: Counts(
                tp=counts.get(c, (0, 0, 0))[0],
                fp=counts.get(c, (0, 0, 0))[1],
                fn=counts.get(c, (0, 0, 0))[2],
            )
            for c in CATEGORIES
        },
        matches={c: CategoryMatch() for c in CATEGORIES},
        fields=FieldCounts(),
    )


def test_bootstrap_is_reproducible_and_exact_for_constant_diffs() -> None:
    diffs = [0.3, -0.1, 0.2, 0.0, 0.5, -0.2]
    assert bootstrap_ci(diffs) == bootstrap_ci(diffs)
    low, high = bootstrap_ci(diffs) or (None, None)
    assert low is not None and high is not None
    assert low < sum(diffs) / len(diffs) < high
    assert bootstrap_ci([0.25] * 5) == pytest.approx((0.25, 0.25))
    assert bootstrap_ci([]) is None


def test_noise_interval_covers_zero() -> None:
    # drills F1 per report: A = 1, 0.5, 1, 0.5 ; B = 0.5, 1, 0.5, 1 -> diffs +-0.5, mean 0
    a = [score(f"r{i}", drills=(1, 0, 0) if i % 2 == 0 else (1, 0, 2)) for i in range(4)]
    b = [score(f"r{i}", drills=(1, 0, 2) if i % 2 == 0 else (1, 0, 0)) for i in range(4)]
    diff = paired_diff("drills", a, b)
    assert diff.per_report == {"r0": 0.5, "r1": -0.5, "r2": 0.5, "r3": -0.5}
    assert diff.mean_diff == pytest.approx(0.0)
    assert diff.ci_low is not None and diff.ci_high is not None
    assert diff.ci_low < 0 < diff.ci_high
    assert (diff.wins, diff.ties, diff.losses) == (2, 0, 2)
    assert not diff.significant
    result = compare("guided", a, "minimal", b)
    assert "within noise" in result.verdict


def test_clear_difference_and_verdict() -> None:
    # 12 reports: A finds both drills everywhere (F1 1), B one of two (F1 2/3); strikes equal
    a = [score(f"r{i}", drills=(2, 0, 0), strikes=(1, 0, 0)) for i in range(12)]
    b = [score(f"r{i}", drills=(1, 0, 1), strikes=(1, 0, 0)) for i in range(12)]
    result = compare("guided", a, "minimal", b)
    drills = result.diff("drills")
    assert drills.n == 12
    assert drills.mean_diff == pytest.approx(1 / 3)
    assert drills.ci_low == pytest.approx(1 / 3)
    assert drills.significant
    assert (drills.wins, drills.ties, drills.losses) == (12, 0, 0)
    strikes = result.diff("strikes")
    assert (strikes.wins, strikes.ties, strikes.losses) == (0, 12, 0)
    assert result.diff("convoys").n == 0  # no records on either side anywhere
    assert result.verdict == (
        "guided is better than minimal on drills and overall; the other differences are "
        "within noise "
        "(12 reports)"
    )


def test_empty_side_counts_as_perfect_when_other_invents() -> None:
    # gold has no arrests; A predicts none (nothing to score), B invents one (F1 0)
    a = [score("r0")]
    b = [score("r0", arrests=(0, 1, 0))]
    diff = paired_diff("arrests", a, b)
    assert diff.per_report == {"r0": 1.0}


def test_compare_all_pairs() -> None:
    configs = [(name, [score("r0", drills=(1, 0, 0))]) for name in ("a", "b", "c")]
    pairs = [(c.a, c.b) for c in compare_all(configs)]
    assert pairs == [("a", "b"), ("a", "c"), ("b", "c")]


def test_identical_configurations_score_the_same() -> None:
    scores = [score(f"r{i}", drills=(1, 0, i % 2)) for i in range(5)]
    result = compare("a", scores, "b", scores)
    assert result.verdict == "a and b score the same on every report (5 reports)"
