"""``annotate --stats``: how often the analyst kept or corrected the model's values.

Read from the audit log (:mod:`llm_extract.reporting.annotate.audit`): for each report of
the output file, the last "done" snapshot that was made on that output (same model, same
report text) and started from the model's values. Per category: the model's records that
were kept unchanged, corrected (at least one field changed) or rejected, and the records the
analyst added; per field: kept or corrected. That is the model's error rate on the analyst's
own data, with the number of records and values it rests on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from llm_extract.reporting.annotate.audit import REPORT_CATEGORY
from llm_extract.results import ExtractionResult
from llm_extract.schemas import CATEGORIES


@dataclass
class Tally:
    """Values of one field that were kept or corrected."""

    kept: int = 0
    corrected: int = 0

    @property
    def n(self) -> int:
        return self.kept + self.corrected

    @property
    def error_rate(self) -> float | None:
        return self.corrected / self.n if self.n else None


@dataclass
class CategoryStats:
    """The model's records of one category as the analyst left them."""

    kept: int = 0
    corrected: int = 0
    rejected: int = 0
    added: int = 0
    fields: dict[str, Tally] = field(default_factory=dict)

    @property
    def model_records(self) -> int:
        return self.kept + self.corrected + self.rejected

    @property
    def n(self) -> int:
        """Records the figures rest on: the model's and those it missed."""
        return self.model_records + self.added

    @property
    def error_rate(self) -> float | None:
        """Share of records the model got wrong: corrected, rejected or missed."""
        return (self.corrected + self.rejected + self.added) / self.n if self.n else None


@dataclass
class CorrectionStats:
    reports: list[str] = field(default_factory=list)
    categories: dict[str, CategoryStats] = field(default_factory=dict)
    report_fields: dict[str, Tally] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _latest(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines of the last snapshot among ``lines`` (appended in time order)."""
    last = lines[-1].get("done")
    return [line for line in lines if line.get("done") == last]


def correction_stats(
    results: Sequence[ExtractionResult], lines: Sequence[dict[str, Any]]
) -> CorrectionStats:
    """The corrections made to ``results`` (one per report id) according to ``lines``."""
    stats = CorrectionStats(categories={c: CategoryStats() for c in CATEGORIES})
    by_report: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_report.setdefault(str(line.get("report_id")), []).append(line)
    from_gold: list[str] = []
    blank: list[str] = []
    other_output: list[str] = []
    for result in results:
        mine = by_report.get(result.report_id, [])
        if not mine:
            continue
        matching = [
            line
            for line in mine
            if line.get("source_sha256") == result.source.sha256
            and line.get("model") == result.model
        ]
        if not matching:
            other_output.append(result.report_id)
            continue
        snapshot = _latest(matching)
        if snapshot[0].get("base") != "model":
            (blank if snapshot[0].get("base") == "blank" else from_gold).append(result.report_id)
            continue
        stats.reports.append(result.report_id)
        _count(stats, snapshot)
    if from_gold:
        stats.notes.append(
            f"{len(from_gold)} report(s) were corrected from an existing gold file, which "
            f"measures no model: {', '.join(from_gold)}"
        )
    if blank:
        stats.notes.append(
            f"{len(blank)} report(s) were annotated from a blank start (--blank), which "
            f"measures no model: {', '.join(blank)}"
        )
    if other_output:
        stats.notes.append(
            f"{len(other_output)} report(s) were annotated on another model's output or "
            f"another text: {', '.join(other_output)}"
        )
    return stats


def _count(stats: CorrectionStats, snapshot: list[dict[str, Any]]) -> None:
    records: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    for line in snapshot:
        category = str(line.get("category"))
        if category == REPORT_CATEGORY:
            tally = stats.report_fields.setdefault(str(line.get("field")), Tally())
            _tick(tally, str(line.get("action")))
            continue
        if category not in stats.categories:
            continue
        records.setdefault(str(line.get("record")), (category, []))[1].append(line)
    for category, record_lines in records.values():
        target = stats.categories[category]
        actions = {str(line.get("action")) for line in record_lines}
        if "rejected" in actions:
            target.rejected += 1
        elif "added" in actions:
            target.added += 1
        else:
            for line in record_lines:
                _tick(target.fields.setdefault(str(line.get("field")), Tally()), line["action"])
            if "corrected" in actions:
                target.corrected += 1
            else:
                target.kept += 1


def _tick(tally: Tally, action: str) -> None:
    if action == "kept":
        tally.kept += 1
    elif action == "corrected":
        tally.corrected += 1


def stats_json(stats: CorrectionStats) -> dict[str, Any]:
    """The figures as JSON (``annotate --stats --json``)."""

    def tally(t: Tally) -> dict[str, Any]:
        return {"kept": t.kept, "corrected": t.corrected, "n": t.n, "error_rate": t.error_rate}

    return {
        "reports": stats.reports,
        "categories": {
            name: {
                "model_records": c.model_records,
                "kept": c.kept,
                "corrected": c.corrected,
                "rejected": c.rejected,
                "added": c.added,
                "n": c.n,
                "error_rate": c.error_rate,
                "fields": {f: tally(t) for f, t in sorted(c.fields.items())},
            }
            for name, c in stats.categories.items()
        },
        "report_fields": {f: tally(t) for f, t in sorted(stats.report_fields.items())},
        "notes": stats.notes,
    }
