"""What a configuration got wrong, grouped by class: category x failure kind.

A *class* is a category and one way of failing in it:

- ``missed``: a gold record no prediction matched;
- ``spurious``: a predicted record that matched no gold record;
- ``wrong kind`` / ``wrong mode``: a missed gold record and a spurious prediction of the same
  report whose evidence overlaps but whose strike kind (convoy mode) differs, the gate that
  kept them apart; counted once, not as a miss and a spurious record;
- ``wrong <field>``: a matched pair whose headline field differs (count, vehicles, detained,
  operations, date, dates, location, ...; see :data:`KEY_FIELDS`).

Each error keeps the report id and the evidence (the gold record's, else the prediction's),
so the list says where to look. Nothing here runs a model: it reads a scored
:class:`~llm_extract.evaluation.runs.ConfigurationRun` and the gold extractions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llm_extract.evaluation.matching import evidence_similarity
from llm_extract.evaluation.metrics import CategoryMatch
from llm_extract.evaluation.runs import ConfigurationRun
from llm_extract.schemas import RECORD_TYPES, Convoy, Grounded, ReportExtraction, Strike

#: The fields of a matched pair whose disagreement is an error class of its own.
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "convoys": ("vehicles", "batches", "dates"),
    "drills": ("count", "date", "location"),
    "strikes": ("count", "date", "location", "attacker"),
    "arrests": ("operations", "detained", "date", "location"),
}
#: Evidence overlap at which a missed and a spurious record are one record of the wrong kind.
SAME_STATEMENT = 0.8


@dataclass(frozen=True)
class RecordError:
    """One error: its class, where it is, and what the two sides say."""

    category: str
    failure: str
    report_id: str
    evidence: str
    detail: str = ""

    @property
    def group(self) -> str:
        return f"{self.category}: {self.failure}"


def _gate(record: Grounded) -> str | None:
    if isinstance(record, Strike):
        return str(record.kind)
    if isinstance(record, Convoy):
        return str(record.mode)
    return None


def _wrong_gate(
    category: str, report_id: str, gold: Grounded, pred: Grounded
) -> RecordError | None:
    gold_gate, pred_gate = _gate(gold), _gate(pred)
    if gold_gate is None or gold_gate == pred_gate:
        return None
    if evidence_similarity(gold.evidence, pred.evidence) < SAME_STATEMENT:
        return None
    failure = "wrong kind" if isinstance(gold, Strike) else "wrong mode"
    return RecordError(category, failure, report_id, gold.evidence, f"{pred_gate} != {gold_gate}")


def _unmatched(
    category: str,
    report_id: str,
    match: CategoryMatch,
    gold: Sequence[Grounded],
    pred: Sequence[Grounded],
) -> list[RecordError]:
    out: list[RecordError] = []
    spurious = list(match.spurious)
    for g in match.missed:
        paired = None
        for p in spurious:
            paired = _wrong_gate(category, report_id, gold[g], pred[p])
            if paired is not None:
                spurious.remove(p)
                break
        out.append(paired or RecordError(category, "missed", report_id, gold[g].evidence))
    out.extend(RecordError(category, "spurious", report_id, pred[p].evidence) for p in spurious)
    return out


def _show(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "-" if value is None else str(value)


def _wrong_fields(
    category: str,
    report_id: str,
    match: CategoryMatch,
    gold: Sequence[Grounded],
    pred: Sequence[Grounded],
) -> list[RecordError]:
    out: list[RecordError] = []
    for pair in match.pairs:
        g, p = gold[pair.gold], pred[pair.pred]
        for name in KEY_FIELDS[category]:
            if name not in pair.wrong_fields and name not in pair.fabricated_fields:
                continue
            got, want = _show(getattr(p, name)), _show(getattr(g, name))
            detail = f"{got} != {want}"
            out.append(RecordError(category, f"wrong {name}", report_id, g.evidence, detail))
    return out


def record_errors(
    configuration: ConfigurationRun, gold: Mapping[str, ReportExtraction]
) -> list[RecordError]:
    """Every error of ``configuration`` against ``gold``, report by report, category by
    category (a report with no prediction: every gold record missed)."""
    out: list[RecordError] = []
    for score in configuration.scores:
        truth = gold.get(score.report_id)
        if truth is None:
            continue
        result = configuration.predictions.get(score.report_id)
        predicted = result.extraction if result is not None else None
        for category in RECORD_TYPES:
            match = score.matches.get(category, CategoryMatch())
            gold_records = truth.records(category)
            pred_records = predicted.records(category) if predicted is not None else []
            out.extend(_unmatched(category, score.report_id, match, gold_records, pred_records))
            out.extend(_wrong_fields(category, score.report_id, match, gold_records, pred_records))
    return out


def group_errors(errors: Sequence[RecordError]) -> dict[str, list[RecordError]]:
    """``errors`` by class, the largest class first, each class in report order."""
    groups: dict[str, list[RecordError]] = {}
    for error in errors:
        groups.setdefault(error.group, []).append(error)
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def _one_line(text: str, limit: int = 160) -> str:
    """``text`` on one line, without control characters, cut at ``limit`` characters."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def render_errors(errors: Sequence[RecordError]) -> list[str]:
    """The errors as lines of text, by class with its size: a heading per class, then
    ``report_id: evidence (detail)`` per error. No error: one line saying so."""
    if not errors:
        return ["no error: every gold record matched, every key field agreed"]
    lines: list[str] = []
    for group, members in group_errors(errors).items():
        lines.append(f"{group} ({len(members)})")
        for error in members:
            detail = f"  [{_one_line(error.detail, 60)}]" if error.detail else ""
            lines.append(f"  {error.report_id}: {_one_line(error.evidence)}{detail}")
    return lines
