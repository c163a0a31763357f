"""Paired comparison of two configurations over the same reports.

Only the reports **both** sides have a prediction for are compared (a failed extraction is a
prediction, one that found nothing; a report one side never ran is not); the comparison says
how many, and which reports only one side has, left out. For each metric (the F1 of one
category, or ``overall``) the per-report difference ``F1(A) - F1(B)`` is taken over those of
them where either side has records (a side with no
gold and no predicted records in that category scores 1: there was nothing to find and it
invented nothing). A bootstrap over reports (:data:`BOOTSTRAP_RESAMPLES` resamples, fixed
:data:`BOOTSTRAP_SEED`) gives a 95% interval for the mean difference. When the interval
covers 0 the difference is *within noise*. Wins, ties and losses count reports where A is
above, equal to (within :data:`TIE_TOLERANCE`) or below B.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
from pydantic import BaseModel, Field

from llm_extract.evaluation.metrics import OVERALL, ReportScore
from llm_extract.schemas import CATEGORIES

BOOTSTRAP_SEED = 20240623
BOOTSTRAP_RESAMPLES = 10_000
CONFIDENCE = 0.95
TIE_TOLERANCE = 1e-9
METRICS: tuple[str, ...] = (*CATEGORIES, OVERALL)


class PairedDiff(BaseModel):
    """The paired difference A - B of one metric."""

    metric: str
    n: int
    mean_diff: float | None
    ci_low: float | None
    ci_high: float | None
    wins: int
    ties: int
    losses: int
    per_report: dict[str, float]

    @property
    def significant(self) -> bool:
        """True when the 95% interval excludes 0."""
        if self.ci_low is None or self.ci_high is None:
            return False
        return self.ci_low > 0 or self.ci_high < 0


class Comparison(BaseModel):
    a: str
    b: str
    diffs: list[PairedDiff]
    verdict: str
    #: the reports both sides have a prediction for: the ones compared (None in runs saved
    #: before it was recorded)
    paired: int | None = None
    #: reports only A, or only B, has a prediction for: left out of the comparison
    only_a: list[str] = Field(default_factory=list)
    only_b: list[str] = Field(default_factory=list)

    def diff(self, metric: str) -> PairedDiff:
        return next(d for d in self.diffs if d.metric == metric)


def bootstrap_ci(
    diffs: Sequence[float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = CONFIDENCE,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean of ``diffs`` (resampling reports)."""
    if not diffs:
        return None
    values = np.asarray(diffs, dtype=float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(resamples, len(values)))
    means = values[picks].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(low), float(high)


def predicted(scores: Sequence[ReportScore]) -> dict[str, ReportScore]:
    """The scores of the reports that have a prediction (ok or failed), by report id."""
    return {s.report_id: s for s in scores if s.status != "missing"}


def paired_diff(
    metric: str, a: Sequence[ReportScore], b: Sequence[ReportScore], *, seed: int = BOOTSTRAP_SEED
) -> PairedDiff:
    """Per-report differences of ``metric`` over the reports both sides have a prediction for."""
    by_id = predicted(b)
    per_report: dict[str, float] = {}
    for score_a in predicted(a).values():
        score_b = by_id.get(score_a.report_id)
        if score_b is None:
            continue
        fa, fb = score_a.f1(metric), score_b.f1(metric)
        if fa is None and fb is None:
            continue
        per_report[score_a.report_id] = (1.0 if fa is None else fa) - (1.0 if fb is None else fb)
    values = list(per_report.values())
    interval = bootstrap_ci(values, seed=seed)
    return PairedDiff(
        metric=metric,
        n=len(values),
        mean_diff=float(np.mean(values)) if values else None,
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        wins=sum(v > TIE_TOLERANCE for v in values),
        ties=sum(abs(v) <= TIE_TOLERANCE for v in values),
        losses=sum(v < -TIE_TOLERANCE for v in values),
        per_report=per_report,
    )


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def verdict(
    a: str,
    b: str,
    diffs: Sequence[PairedDiff],
    paired: int | None = None,
    left_out: tuple[int, int] = (0, 0),
) -> str:
    """A plain sentence: which side is better where, and what is within noise, over how many
    reports (``paired``, those both sides have; ``left_out``, those only A or only B has)."""
    better: dict[str, list[str]] = {a: [], b: []}
    noise = 0
    for d in diffs:
        if d.n == 0:
            continue
        label = "overall" if d.metric == OVERALL else d.metric
        if d.significant:
            better[a if (d.mean_diff or 0.0) > 0 else b].append(label)
        else:
            noise += 1
    n = max((d.n for d in diffs), default=0) if paired is None else paired
    reports = f"{n} report{'' if n == 1 else 's'}"
    if any(left_out):
        only = [f"{k} only {side} has" for k, side in zip(left_out, (a, b), strict=True) if k]
        reports += f" both have; left out: {', '.join(only)}"
    other = {a: b, b: a}
    clauses = [
        f"{side} is better than {other[side]} on {_join(where)}"
        for side, where in better.items()
        if where
    ]
    if not clauses:
        if all(d.ties == d.n for d in diffs):
            return f"{a} and {b} score the same on every report ({reports})"
        return f"{a} vs {b}: every difference is within noise ({reports})"
    text = "; ".join(clauses)
    if noise:
        text += "; the other differences are within noise"
    return f"{text} ({reports})"


def compare(
    a_label: str,
    a: Sequence[ReportScore],
    b_label: str,
    b: Sequence[ReportScore],
    *,
    metrics: Sequence[str] = METRICS,
    seed: int = BOOTSTRAP_SEED,
) -> Comparison:
    """Paired comparison of configuration A against B on each metric, over the reports both
    have a prediction for."""
    diffs = [paired_diff(metric, a, b, seed=seed) for metric in metrics]
    ids_a, ids_b = set(predicted(a)), set(predicted(b))
    only_a, only_b = sorted(ids_a - ids_b), sorted(ids_b - ids_a)
    paired = len(ids_a & ids_b)
    return Comparison(
        a=a_label,
        b=b_label,
        diffs=diffs,
        verdict=verdict(a_label, b_label, diffs, paired, (len(only_a), len(only_b))),
        paired=paired,
        only_a=only_a,
        only_b=only_b,
    )


def compare_all(configurations: Sequence[tuple[str, Sequence[ReportScore]]]) -> list[Comparison]:
    """Every pair of configurations, in the order given."""
    return [
        compare(label_a, scores_a, label_b, scores_b)
        for (label_a, scores_a), (label_b, scores_b) in combinations(configurations, 2)
    ]
