"""Scores of one report, and their aggregation over a gold set.

Per report and category, records are matched (:mod:`llm_extract.evaluation.matching`):
a matched pair is a true positive, an unmatched prediction is *spurious* (false positive), an
unmatched gold record is *missed* (false negative). ``F1 = 2tp / (2tp + fp + fn)``; precision
or recall is ``None`` where its denominator is 0, and F1 is ``None`` for a report and category
with neither gold nor predicted records.

- **micro**: tp/fp/fn summed over every report, then P/R/F1 (per category and overall).
- **macro**: the mean over reports of each report's F1 (reports where it is ``None`` left out).
- **field accuracy**: mean field score over matched pairs (:mod:`~.fields`); *wrong fields*
  are scored fields with a score below 1; *fabrications* are values where the gold has none.
- **stated totals**: each total of ``stated_totals`` that the gold or the prediction states;
  correct when they are equal.
- **grounding rate**: predicted records whose evidence occurs in the report, over the
  records the model returned (kept + dropped by validation).
- **schema-valid rate**: reports whose answer validated with no record dropped; **failure
  rate**: reports with no extraction (failed, or no prediction at all: every gold record of
  such a report is missed).
- **re-ask rate**: answered reports that needed at least one re-ask; re-ask tokens summed.
- tokens, cost (``usage.cost_usd``, else the price table of :mod:`llm_extract.pricing`) and
  latency as the results report them.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from llm_extract.errors import UsageError
from llm_extract.evaluation.fields import FieldTally, compare_fields
from llm_extract.evaluation.matching import MATCH_THRESHOLD, match_records
from llm_extract.normalize import find_span
from llm_extract.pricing import load_price_table
from llm_extract.results import ExtractionResult
from llm_extract.schemas import CATEGORIES, ReportExtraction, StatedTotals

OVERALL = "overall"
ReportStatus = Literal["ok", "failed", "missing"]


def f1_of(tp: int, fp: int, fn: int) -> float | None:
    """``2tp / (2tp + fp + fn)``; ``None`` when there is nothing at all."""
    denominator = 2 * tp + fp + fn
    return None if denominator == 0 else 2 * tp / denominator


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


class Counts(BaseModel):
    """Matched (tp), spurious (fp) and missed (fn) records."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        return f1_of(self.tp, self.fp, self.fn)

    def plus(self, other: Counts) -> Counts:
        return Counts(tp=self.tp + other.tp, fp=self.fp + other.fp, fn=self.fn + other.fn)


class PairInfo(BaseModel):
    """One matched pair (indices into the predicted and gold lists) and its wrong fields."""

    pred: int
    gold: int
    similarity: float
    wrong_fields: list[str] = Field(default_factory=list)
    fabricated_fields: list[str] = Field(default_factory=list)


class CategoryMatch(BaseModel):
    pairs: list[PairInfo] = Field(default_factory=list)
    missed: list[int] = Field(default_factory=list)
    spurious: list[int] = Field(default_factory=list)


class FieldCounts(BaseModel):
    """Per field key (``drills.date``): scored, score sum, wrong, fabricated, gold-absent."""

    scored: dict[str, int] = Field(default_factory=dict)
    correct: dict[str, float] = Field(default_factory=dict)
    wrong: dict[str, int] = Field(default_factory=dict)
    fabricated: dict[str, int] = Field(default_factory=dict)
    absent: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def from_tally(cls, tally: FieldTally) -> FieldCounts:
        return cls(
            scored=tally.scored,
            correct=tally.correct,
            wrong=tally.wrong,
            fabricated=tally.fabricated,
            absent=tally.absent,
        )

    def tally(self) -> FieldTally:
        return FieldTally(
            scored=dict(self.scored),
            correct=dict(self.correct),
            wrong=dict(self.wrong),
            fabricated=dict(self.fabricated),
            absent=dict(self.absent),
        )

    def accuracy(self, prefix: str = "") -> float | None:
        keys = [k for k in self.scored if k.startswith(prefix)]
        return _ratio(
            sum(self.correct.get(k, 0.0) for k in keys), sum(self.scored[k] for k in keys)
        )


class ReportScore(BaseModel):
    """Every figure of one report for one configuration."""

    report_id: str
    status: ReportStatus
    error: str | None = None
    counts: dict[str, Counts]
    matches: dict[str, CategoryMatch]
    fields: FieldCounts
    totals_compared: int = 0
    totals_correct: int = 0
    month_correct: bool | None = None
    records_returned: int = 0
    records_grounded: int = 0
    records_dropped: int = 0
    schema_valid: bool = False
    reasks: int = 0
    reask_tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = 0.0
    latency_s: float = 0.0
    cached: bool = False

    def overall(self) -> Counts:
        total = Counts()
        for counts in self.counts.values():
            total = total.plus(counts)
        return total

    def f1(self, category: str = OVERALL) -> float | None:
        """This report's F1 for ``category`` (or pooled over categories for ``overall``)."""
        counts = self.overall() if category == OVERALL else self.counts[category]
        return counts.f1


def _totals(pred: StatedTotals, gold: StatedTotals) -> tuple[int, int]:
    compared = correct = 0
    for name in StatedTotals.model_fields:
        g, p = getattr(gold, name), getattr(pred, name)
        if g is None and p is None:
            continue
        compared += 1
        correct += int(g == p)
    return compared, correct


def _cost(result: ExtractionResult) -> float | None:
    if result.usage.cost_usd is not None:
        return result.usage.cost_usd
    if result.usage.total_tokens == 0 and result.usage.prompt_tokens == 0:
        return 0.0
    try:
        return load_price_table().cost(result.model, result.usage)
    except UsageError:
        return None


def score_report(
    gold: ReportExtraction,
    result: ExtractionResult | None,
    *,
    source: str | None = None,
    threshold: float = MATCH_THRESHOLD,
) -> ReportScore:
    """Score one prediction (``None``: the report has no prediction) against its gold.

    ``source`` is the report text; when given, each predicted evidence is looked up in it
    (grounding rate). Without it, records the pipeline kept count as grounded.
    """
    report_id = gold.report_id or (result.report_id if result else "")
    extraction = result.extraction if result is not None else None
    status: ReportStatus = "missing" if result is None else result.status
    if status == "ok" and extraction is None:
        status = "failed"
    counts: dict[str, Counts] = {}
    matches: dict[str, CategoryMatch] = {}
    tally = FieldTally()
    returned = grounded = 0
    for category in CATEGORIES:
        golds = gold.records(category)
        preds = extraction.records(category) if extraction is not None else []
        matching = match_records(category, preds, golds, threshold=threshold)
        pairs: list[PairInfo] = []
        for pair in matching.pairs:
            pair_tally = compare_fields(preds[pair.pred], golds[pair.gold], f"{category}.")
            tally.add(pair_tally)
            pairs.append(
                PairInfo(
                    pred=pair.pred,
                    gold=pair.gold,
                    similarity=round(pair.similarity, 4),
                    wrong_fields=sorted(k.split(".", 1)[1] for k in pair_tally.wrong),
                    fabricated_fields=sorted(k.split(".", 1)[1] for k in pair_tally.fabricated),
                )
            )
        counts[category] = Counts(
            tp=len(matching.pairs), fp=len(matching.spurious), fn=len(matching.missed)
        )
        matches[category] = CategoryMatch(
            pairs=pairs, missed=matching.missed, spurious=matching.spurious
        )
        returned += len(preds)
        grounded += sum(
            1 for p in preds if source is None or find_span(source, p.evidence) is not None
        )
    score = ReportScore(
        report_id=report_id,
        status=status,
        counts=counts,
        matches=matches,
        fields=FieldCounts.from_tally(tally),
    )
    if result is not None:
        dropped = len(result.dropped)
        score.error = f"{result.error.kind}: {result.error.message}" if result.error else None
        score.records_returned = returned + dropped
        score.records_grounded = grounded
        score.records_dropped = dropped
        score.schema_valid = extraction is not None and dropped == 0
        score.reasks = result.usage.reasks
        score.reask_tokens = result.usage.reask_tokens
        score.prompt_tokens = result.usage.prompt_tokens
        score.completion_tokens = result.usage.completion_tokens
        score.total_tokens = result.usage.total_tokens
        score.cost_usd = _cost(result)
        score.latency_s = result.latency_s
        score.cached = result.cached
    if extraction is not None:
        score.totals_compared, score.totals_correct = _totals(
            extraction.stated_totals, gold.stated_totals
        )
        if gold.coalition_month is not None or extraction.coalition_month is not None:
            score.month_correct = gold.coalition_month == extraction.coalition_month
    else:
        score.totals_compared, _ = _totals(StatedTotals(), gold.stated_totals)
    return score


class PRF(BaseModel):
    precision: float | None
    recall: float | None
    f1: float | None
    tp: int
    fp: int
    fn: int

    @classmethod
    def of(cls, counts: Counts) -> PRF:
        return cls(
            precision=counts.precision,
            recall=counts.recall,
            f1=counts.f1,
            tp=counts.tp,
            fp=counts.fp,
            fn=counts.fn,
        )


class Summary(BaseModel):
    """Aggregated figures of one configuration over a gold set."""

    reports: int
    micro: dict[str, PRF]
    macro_f1: dict[str, float | None]
    field_accuracy: dict[str, float | None]
    field_accuracy_by_field: dict[str, float]
    totals_accuracy: float | None
    month_accuracy: float | None
    grounding_rate: float | None
    schema_valid_rate: float | None
    failure_rate: float | None
    reask_rate: float | None
    reask_tokens: int
    missed: int
    spurious: int
    wrong_fields: int
    fabricated: int
    fabrication_rate: float | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: float | None
    latency_s: float
    latency_mean_s: float | None
    cached: int


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def summarize(scores: Sequence[ReportScore]) -> Summary:
    """Aggregate per-report scores (micro and macro, rates, errors, usage)."""
    micro: dict[str, PRF] = {}
    macro: dict[str, float | None] = {}
    field_acc: dict[str, float | None] = {}
    tally = FieldTally()
    for s in scores:
        tally.add(s.fields.tally())
    fields = FieldCounts.from_tally(tally)
    for category in CATEGORIES:
        total = Counts()
        for s in scores:
            total = total.plus(s.counts[category])
        micro[category] = PRF.of(total)
        macro[category] = _mean([s.f1(category) for s in scores])
        field_acc[category] = fields.accuracy(f"{category}.")
    overall = Counts()
    for s in scores:
        overall = overall.plus(s.overall())
    micro[OVERALL] = PRF.of(overall)
    macro[OVERALL] = _mean([s.f1() for s in scores])
    field_acc[OVERALL] = fields.accuracy()
    answered = [s for s in scores if s.status != "missing"]
    months = [s.month_correct for s in scores if s.month_correct is not None]
    costs = [s.cost_usd for s in scores]
    absent = sum(fields.absent.values())
    return Summary(
        reports=len(scores),
        micro=micro,
        macro_f1=macro,
        field_accuracy=field_acc,
        field_accuracy_by_field={
            key: fields.correct.get(key, 0.0) / n for key, n in sorted(fields.scored.items())
        },
        totals_accuracy=_ratio(
            sum(s.totals_correct for s in scores), sum(s.totals_compared for s in scores)
        ),
        month_accuracy=_ratio(sum(months), len(months)),
        grounding_rate=_ratio(
            sum(s.records_grounded for s in scores), sum(s.records_returned for s in scores)
        ),
        schema_valid_rate=_ratio(sum(s.schema_valid for s in scores), len(scores)),
        failure_rate=_ratio(sum(s.status != "ok" for s in scores), len(scores)),
        reask_rate=_ratio(sum(s.reasks > 0 for s in answered), len(answered)),
        reask_tokens=sum(s.reask_tokens for s in scores),
        missed=overall.fn,
        spurious=overall.fp,
        wrong_fields=sum(fields.wrong.values()),
        fabricated=sum(fields.fabricated.values()),
        fabrication_rate=_ratio(sum(fields.fabricated.values()), absent),
        prompt_tokens=sum(s.prompt_tokens for s in scores),
        completion_tokens=sum(s.completion_tokens for s in scores),
        total_tokens=sum(s.total_tokens for s in scores),
        cost_usd=None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
        latency_s=sum(s.latency_s for s in scores),
        latency_mean_s=_mean([s.latency_s for s in answered]),
        cached=sum(s.cached for s in scores),
    )
