"""The linkage gold (``evals/links/links.toml``) and the precision and recall of the linking.

The file names a closed set of reports (``reports``) and every event that more than one of
them mentions (``[[event]]`` with ``mentions = ["<report id>/<category>/<index>", ...]``, the
index of the record in the report's gold file). Every other record of those reports is an
event of its own, so a link the rule makes that the gold lacks is a false positive. The
records are the gold extractions (``gold/<id>.json`` with ``reports/<id>.txt``) found in the
links folder or in the eval folder. Scores are over pairs of mentions: precision is the
share of linked pairs that the gold links, recall the share of the gold's pairs linked.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from llm_extract.dataset.linking import THRESHOLD, TOLERANCE_DAYS, Mention, link
from llm_extract.dataset.rows import record_row
from llm_extract.errors import GoldError
from llm_extract.evaluation.gold import find_report, load_gold_file
from llm_extract.report import Report
from llm_extract.reporting.gazetteer import Gazetteer, default_gazetteer
from llm_extract.schemas import CATEGORIES, ReportExtraction

LINKS_FILE = "links.toml"
Ref = tuple[str, str, int]
Pair = frozenset[Ref]


@dataclass(frozen=True)
class LinkGold:
    reports: list[str]
    events: list[list[Ref]]
    extractions: dict[str, ReportExtraction]

    @property
    def pairs(self) -> set[Pair]:
        return {frozenset(p) for event in self.events for p in combinations(event, 2)}


@dataclass(frozen=True)
class LinkScores:
    precision: float
    recall: float
    true_positives: int
    predicted: int
    gold: int
    mentions: int
    false_positives: list[tuple[Ref, Ref]]
    false_negatives: list[tuple[Ref, Ref]]


def _ref(text: str, where: Path) -> Ref:
    parts = text.split("/")
    if len(parts) != 3 or parts[1] not in CATEGORIES or not parts[2].isdigit():
        raise GoldError(where, f"mention {text!r}: expected <report id>/<category>/<index>")
    return parts[0], parts[1], int(parts[2])


def load_link_gold(links_dir: str | Path, evals_dir: str | Path) -> LinkGold:
    """The gold of ``links_dir``, its records read from it and from ``evals_dir``."""
    folder, evals = Path(links_dir), Path(evals_dir)
    path = folder / LINKS_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise GoldError(path, "file not found") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GoldError(path, f"cannot read ({exc})") from exc
    reports = data.get("reports")
    if not isinstance(reports, list) or not all(isinstance(r, str) for r in reports):
        raise GoldError(path, "reports: expected a list of report ids")
    gold_dirs = [folder / "gold", evals / "gold"]
    report_dirs = [folder / "reports", evals / "reports"]
    extractions: dict[str, ReportExtraction] = {}
    for report_id in reports:
        gold_path = next(
            (d / f"{report_id}.json" for d in gold_dirs if (d / f"{report_id}.json").is_file()),
            None,
        )
        text_path = find_report(report_id, report_dirs)
        if gold_path is None or text_path is None:
            raise GoldError(path, f"report {report_id!r}: no gold file or text found")
        report = Report.from_path(text_path, text_path.read_text(encoding="utf-8"))
        extractions[report_id] = load_gold_file(gold_path, report=report)
    events: list[list[Ref]] = []
    for number, event in enumerate(data.get("event", []), start=1):
        mentions = [_ref(m, path) for m in event.get("mentions", [])]
        for report_id, category, index in mentions:
            records = extractions.get(report_id)
            if records is None or index >= len(records.records(category)):
                raise GoldError(path, f"event {number}: no record {report_id}/{category}/{index}")
        if len(mentions) < 2:
            raise GoldError(path, f"event {number}: an event links two mentions or more")
        events.append(mentions)
    return LinkGold(reports=list(reports), events=events, extractions=extractions)


def gold_mentions(
    extractions: dict[str, ReportExtraction], gaz: Gazetteer | None = None
) -> tuple[list[Mention], list[Ref]]:
    """A :class:`Mention` for every record of ``extractions``, and its reference."""
    gazetteer = gaz or default_gazetteer()
    mentions: list[Mention] = []
    refs: list[Ref] = []
    for report_id, extraction in extractions.items():
        for category in CATEGORIES:
            for index, record in enumerate(extraction.records(category)):
                row = record_row(record, category, index, gazetteer)
                mentions.append(
                    Mention(
                        record_id=f"{report_id}/{category}/{index}",
                        report_id=report_id,
                        category=category,
                        date=dt.date.fromisoformat(row["date"]) if row["date"] else None,
                        place_id=row["place_id"],
                        location=row["location"],
                        governorate=row["governorate"],
                        kind=row["kind"],
                        actors=frozenset(json.loads(row["actors"])),
                        counts=tuple(
                            row[n] for n in ("count", "killed", "injured", "detained", "vehicles")
                        ),
                    )
                )
                refs.append((report_id, category, index))
    return mentions, refs


def _pairs(groups: Iterable[Sequence[int]], refs: list[Ref]) -> set[Pair]:
    return {frozenset((refs[i], refs[j])) for group in groups for i, j in combinations(group, 2)}


def _sorted(pairs: Iterable[Pair]) -> list[tuple[Ref, Ref]]:
    ordered = [tuple(sorted(p)) for p in pairs]
    return sorted((a, b) for a, b in ordered)


def score_links(
    gold: LinkGold, *, tolerance: int = TOLERANCE_DAYS, threshold: float = THRESHOLD
) -> LinkScores:
    """Precision and recall of the linking over the gold's mentions (see the module doc)."""
    mentions, refs = gold_mentions(gold.extractions)
    linked = link(mentions, tolerance=tolerance, threshold=threshold)
    predicted = _pairs(linked.groups, refs)
    truth = gold.pairs
    hits = predicted & truth
    return LinkScores(
        precision=len(hits) / len(predicted) if predicted else 1.0,
        recall=len(hits) / len(truth) if truth else 1.0,
        true_positives=len(hits),
        predicted=len(predicted),
        gold=len(truth),
        mentions=len(mentions),
        false_positives=_sorted(predicted - truth),
        false_negatives=_sorted(truth - predicted),
    )
