"""Adding to the dataset: result files (runs, reports, records, failures, dropped records),
annotate's gold files (corrections), and the analyst's preferred configuration.

Everything added is keyed by its content, so adding the same thing again changes nothing:
a report is one report however many runs saw it (:mod:`.identity`); a run's id is the sha256
of its configuration and of what it answered for which report; a correction's id is the
sha256 of its report and its gold file. Each call is one transaction: an add that fails
half-way leaves the dataset as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlite_utils

from llm_extract.dataset.identity import report_identity
from llm_extract.dataset.rows import Row, record_id, record_row
from llm_extract.dataset.schema import insert_rows, transaction
from llm_extract.errors import GoldError, InputError
from llm_extract.evaluation.gold import ANNOTATION_KEY, find_report, load_gold_file
from llm_extract.jsonl import read_results
from llm_extract.report import Report, sha256_text
from llm_extract.reporting.gazetteer import Gazetteer, default_gazetteer
from llm_extract.results import ExtractionResult
from llm_extract.schemas import CATEGORIES, ReportExtraction


@dataclass
class Added:
    """What one ``add`` did."""

    runs: int = 0
    runs_known: int = 0
    reports: int = 0
    records: int = 0
    failures: int = 0
    dropped: int = 0
    corrections: int = 0
    corrections_known: int = 0
    skipped: list[str] = field(default_factory=list)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _tool_version() -> str:
    try:
        return metadata.version("llm-extract")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source checkout
        return "unknown"


def _local_text(path: str, sha256: str) -> str | None:
    """The text of a result's source when it is a local text file still holding that text."""
    file = Path(path)
    if file.suffix.lower() != ".txt":
        return None
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text if sha256_text(text) == sha256 else None


class _Reports:
    """Finds or creates the report of each identity, within one transaction."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.keys: dict[str, str] = {}
        self.new = 0

    def resolve(
        self,
        name: str,
        *,
        text: str | None,
        sha256: str | None,
        meta: Row,
        extraction: ReportExtraction | None,
    ) -> str:
        identity = report_identity(text=text, sha256=sha256, url=meta.get("url"))
        found: str | None = None
        for key in identity.keys:
            found = self.keys.get(key)
            if found is None:
                row = self.db.execute(
                    "SELECT report_id FROM report_keys WHERE key = ?", [key]
                ).fetchone()
                found = row[0] if row else None
            if found is not None:
                break
        report_id = found or identity.primary
        # Plain statements inside the caller's transaction (sqlite-utils' insert commits).
        if found is None:
            row = {"id": report_id, "name": name, "added_at": _now(), **meta}
            columns = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            self.db.execute(f"INSERT INTO reports ({columns}) VALUES ({marks})", list(row.values()))
            self.new += 1
        else:  # fill what an earlier add did not know
            for key, value in meta.items():
                if value is not None:
                    self.db.execute(
                        f"UPDATE reports SET {key} = ? WHERE id = ? AND {key} IS NULL",
                        [value, report_id],
                    )
        for key in identity.keys:
            self.keys[key] = report_id
            self.db.execute(
                "INSERT OR IGNORE INTO report_keys (key, report_id) VALUES (?, ?)",
                [key, report_id],
            )
        if extraction is not None:
            self._period(report_id, extraction)
        return report_id

    def _period(self, report_id: str, extraction: ReportExtraction) -> None:
        if extraction.coalition_month is None:
            return
        period = extraction.period
        self.db.execute(
            "UPDATE reports SET coalition_month = ?, period_start = ?, period_end = ? "
            "WHERE id = ? AND coalition_month IS NULL",
            [
                extraction.coalition_month,
                period.start.isoformat() if period else None,
                period.end.isoformat() if period else None,
                report_id,
            ],
        )


def _meta(result: ExtractionResult) -> Row:
    source = result.source
    return {
        "source_path": source.path,
        "url": source.url,
        "title": source.title,
        "published": source.published.isoformat() if source.published else None,
    }


def extraction_rows(
    extraction: ReportExtraction,
    report_id: str,
    origin: str,
    gaz: Gazetteer,
    ids: Row,
) -> list[Row]:
    """The ``records`` rows of one extraction; ``ids`` says its run or correction."""
    rows: list[Row] = []
    for category in CATEGORIES:
        for index, record in enumerate(extraction.records(category)):
            row = record_row(record, category, index, gaz)
            row.update(ids)
            row["id"] = record_id(origin, report_id, category, index)
            row["report_id"] = report_id
            rows.append(row)
    return rows


def _run_key(config: tuple[str, str, str, str | None], answers: list[str]) -> str:
    text = json.dumps([list(config), sorted(answers)], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def add_results(
    db: sqlite_utils.Database, paths: Iterable[str | Path], gaz: Gazetteer | None = None
) -> Added:
    """Add result files: each distinct (prompt, prompt hash, model, mode) of a file is a run.
    Raises :class:`InputError` for a file that is not a results file (nothing is added)."""
    gazetteer = gaz or default_gazetteer()
    added = Added()
    files = [Path(p) for p in paths]
    loaded = [(file, read_results(file)) for file in files]
    with transaction(db):
        reports = _Reports(db)
        for file, results in loaded:
            _add_file(db, file, results, reports, gazetteer, added)
        added.reports = reports.new
        refresh_current(db)
        _changed(db)
    return added


def _add_file(
    db: sqlite_utils.Database,
    file: Path,
    results: list[ExtractionResult],
    reports: _Reports,
    gaz: Gazetteer,
    added: Added,
) -> None:
    groups: dict[tuple[str, str, str, str | None], list[tuple[str, ExtractionResult]]]
    groups = defaultdict(list)
    for result in results:
        text = _local_text(result.source.path, result.source.sha256)
        report_id = reports.resolve(
            result.report_id,
            text=text,
            sha256=result.source.sha256,
            meta=_meta(result),
            extraction=result.extraction,
        )
        config = (result.prompt.name, result.prompt.hash, result.model, result.mode)
        groups[config].append((report_id, result))
    try:
        stamp = dt.datetime.fromtimestamp(file.stat().st_mtime, dt.UTC)
        time = stamp.isoformat(timespec="seconds")
    except OSError:
        time = _now()
    for config, members in groups.items():
        answers = [
            f"{rid}\n{r.status}\n{r.request_key or ''}\n"
            f"{r.extraction.model_dump_json() if r.extraction else ''}"
            for rid, r in members
        ]
        run_id = _run_key(config, answers)
        if db.table("runs").count_where("id = ?", [run_id]):
            added.runs_known += 1
            continue
        _insert_run(db, run_id, config, members, file, time, gaz, added)
        added.runs += 1


def _insert_run(
    db: sqlite_utils.Database,
    run_id: str,
    config: tuple[str, str, str, str | None],
    members: list[tuple[str, ExtractionResult]],
    file: Path,
    time: str,
    gaz: Gazetteer,
    added: Added,
) -> None:
    prompt_name, prompt_hash, model, mode = config
    usage = [r.usage for _, r in members]
    costs = [u.cost_usd for u in usage if u.cost_usd is not None]
    insert_rows(
        db,
        "runs",
        [
            {
                "id": run_id,
                "prompt_name": prompt_name,
                "prompt_hash": prompt_hash,
                "model": model,
                "mode": mode,
                "settings": json.dumps({"mode": mode}),
                "tool_version": _tool_version(),
                "time": time,
                "added_at": _now(),
                "source_file": str(file),
                "reports": len(members),
                "ok": sum(r.status == "ok" for _, r in members),
                "failed": sum(r.status == "failed" for _, r in members),
                "prompt_tokens": sum(u.prompt_tokens for u in usage),
                "completion_tokens": sum(u.completion_tokens for u in usage),
                "total_tokens": sum(u.total_tokens for u in usage),
                "cost_usd": sum(costs) if costs else None,
            }
        ],
    )
    run_rows: list[Row] = []
    records: list[Row] = []
    failures: list[Row] = []
    dropped: list[Row] = []
    for report_id, result in members:
        run_rows.append(
            {
                "run_id": run_id,
                "report_id": report_id,
                "status": result.status,
                "request_key": result.request_key,
                "cached": int(result.cached),
                "latency_s": result.latency_s,
            }
        )
        if result.status == "ok" and result.extraction is not None:
            records.extend(
                extraction_rows(
                    result.extraction, report_id, f"run:{run_id}", gaz, {"run_id": run_id}
                )
            )
        elif result.error is not None:
            failures.append(
                {
                    "run_id": run_id,
                    "report_id": report_id,
                    "kind": result.error.kind,
                    "message": result.error.message,
                }
            )
        for index, drop in enumerate(result.dropped):
            dropped.append(
                {
                    "run_id": run_id,
                    "report_id": report_id,
                    "idx": index,
                    "category": drop.category,
                    "reason": drop.reason,
                    "record": json.dumps(drop.record, ensure_ascii=False)
                    if drop.record is not None
                    else None,
                }
            )
    # Two inputs of one run with the same text are one report: the first one's rows stay.
    insert_rows(db, "run_reports", run_rows)
    insert_rows(db, "records", records)
    insert_rows(db, "failures", failures)
    insert_rows(db, "dropped", dropped)
    added.records += len(records)
    added.failures += len(failures)
    added.dropped += len(dropped)


def add_gold(
    db: sqlite_utils.Database,
    gold_dir: str | Path,
    report_dirs: Sequence[str | Path] = (),
    gaz: Gazetteer | None = None,
) -> Added:
    """Add annotate's gold files of ``gold_dir`` as corrections of their reports.

    A gold file's report is found by the sha256 its ``annotation`` records, else by the text
    of ``<report dir>/<id>.txt`` (validated and grounded against it), else by the report's
    name when one report of the dataset has it. A gold file whose report is nowhere is
    listed in ``skipped``. Raises :class:`GoldError` for a broken gold file.
    """
    gazetteer = gaz or default_gazetteer()
    folder = Path(gold_dir)
    if not folder.is_dir():
        raise InputError(folder, "gold folder not found")
    added = Added()
    with transaction(db):
        reports = _Reports(db)
        for path in sorted(folder.glob("*.json")):
            _add_correction(db, path, [Path(d) for d in report_dirs], reports, gazetteer, added)
        added.reports = reports.new
        refresh_current(db)
        _changed(db)
    return added


def _annotation(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}  # load_gold_file says what is wrong
    note = data.get(ANNOTATION_KEY) if isinstance(data, dict) else None
    return note if isinstance(note, dict) else {}


def _add_correction(
    db: sqlite_utils.Database,
    path: Path,
    report_dirs: list[Path],
    reports: _Reports,
    gaz: Gazetteer,
    added: Added,
) -> None:
    note = _annotation(path)
    source = note.get("source") if isinstance(note.get("source"), dict) else {}
    assert isinstance(source, dict)
    report_id: str | None = None
    sha = source.get("sha256")
    if isinstance(sha, str):
        row = db.execute("SELECT report_id FROM report_keys WHERE key = ?", [f"sha:{sha}"])
        found = row.fetchone()
        report_id = found[0] if found else None
    text_path = find_report(path.stem, report_dirs) if report_dirs else None
    report: Report | None = None
    if text_path is not None and text_path.suffix == ".txt":
        text = text_path.read_text(encoding="utf-8")
        report = Report.from_path(text_path, text)
    gold = load_gold_file(path, report=report) if report else load_gold_file(path)
    if report_id is None and report is not None:
        report_id = reports.resolve(
            path.stem,
            text=report.text,
            sha256=report.sha256,
            meta={"source_path": report.path},
            extraction=gold,
        )
    if report_id is None:
        rows = db.execute("SELECT id FROM reports WHERE name = ?", [path.stem]).fetchall()
        if len(rows) == 1:
            report_id = rows[0][0]
    if report_id is None:
        added.skipped.append(f"{path}: its report is not in the dataset")
        return
    content = path.read_bytes()
    correction_id = hashlib.sha256(report_id.encode() + b"\n" + content).hexdigest()[:24]
    if db.table("corrections").count_where("id = ?", [correction_id]):
        added.corrections_known += 1
        return
    prompt = note.get("prompt")
    insert_rows(
        db,
        "corrections",
        [
            {
                "id": correction_id,
                "report_id": report_id,
                "gold_file": str(path),
                "from_model": note.get("model") if isinstance(note.get("model"), str) else None,
                "from_prompt": prompt.get("name") if isinstance(prompt, dict) else None,
                "saved_at": note.get("saved_at") if isinstance(note.get("saved_at"), str) else None,
                "added_at": _now(),
            }
        ],
    )
    rows = extraction_rows(
        gold, report_id, f"correction:{correction_id}", gaz, {"correction_id": correction_id}
    )
    insert_rows(db, "records", rows)
    added.records += len(rows)
    added.corrections += 1


def prefer(db: sqlite_utils.Database, prompt: str, model: str) -> int:
    """Choose the configuration the current view takes where no correction exists; returns
    how many reports it now decides. Raises :class:`InputError` when no run has it."""
    runs = db.table("runs").count_where("prompt_name = ? AND model = ?", [prompt, model])
    if not runs:
        raise InputError("dataset", f"no run with prompt {prompt!r} and model {model!r}")
    with transaction(db):
        db.execute(
            "INSERT OR REPLACE INTO preference (id, prompt_name, model, set_at) "
            "VALUES (1, ?, ?, ?)",
            [prompt, model, _now()],
        )
        refresh_current(db)
        _changed(db)
    return int(db.table("current").count_where("source = 'preferred'"))


_LATEST_RUN = """
INSERT OR IGNORE INTO current (report_id, source, run_id, correction_id)
SELECT report_id, ?, run_id, NULL FROM (
    SELECT run_reports.report_id, runs.id AS run_id, ROW_NUMBER() OVER (
        PARTITION BY run_reports.report_id
        ORDER BY runs.time DESC, runs.added_at DESC, runs.rowid DESC) AS rank
    FROM run_reports JOIN runs ON runs.id = run_reports.run_id
    WHERE run_reports.status = 'ok' {where}
) WHERE rank = 1
"""


def refresh_current(db: sqlite_utils.Database) -> None:
    """Rebuild ``current``: per report, its latest correction, else the latest run of the
    preferred configuration, else its latest run (the ``source`` column says which)."""
    db.execute("DELETE FROM current")
    db.execute(
        """
        INSERT INTO current (report_id, source, run_id, correction_id)
        SELECT report_id, 'correction', NULL, id FROM (
            SELECT report_id, id, ROW_NUMBER() OVER (
                PARTITION BY report_id ORDER BY added_at DESC, rowid DESC) AS rank
            FROM corrections
        ) WHERE rank = 1
        """
    )
    preference = db.execute("SELECT prompt_name, model FROM preference WHERE id = 1").fetchone()
    if preference is not None:
        db.execute(
            _LATEST_RUN.format(where="AND runs.prompt_name = ? AND runs.model = ?"),
            ["preferred", *preference],
        )
    db.execute(_LATEST_RUN.format(where=""), ["latest"])


def _changed(db: sqlite_utils.Database) -> None:
    db.execute(
        "INSERT INTO state (key, value) VALUES ('changes', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def state(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM state WHERE key = ?", [key]).fetchone()
    return str(row[0]) if row else None


__all__ = ["Added", "GoldError", "add_gold", "add_results", "prefer", "refresh_current", "state"]
