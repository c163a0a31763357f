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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlite_utils

from llm_extract.dataset.identity import ReportIdentity, report_identity
from llm_extract.dataset.rows import Row, record_id, record_row
from llm_extract.dataset.schema import insert_rows, transaction
from llm_extract.errors import GoldError, InputError
from llm_extract.evaluation.gold import ANNOTATION_KEY, find_report, load_gold_file
from llm_extract.jsonl import stream_results
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


#: reports whose rows are written at once (bounds the memory an add takes)
BATCH_REPORTS = 500


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
        self, name: str, identity: ReportIdentity, meta: Row, month: Month | None = None
    ) -> str:
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
        if month is not None:
            self.db.execute(
                "UPDATE reports SET coalition_month = ?, period_start = ?, period_end = ? "
                "WHERE id = ? AND coalition_month IS NULL",
                [*month, report_id],
            )
        return report_id


#: a report's coalition month and period (start, end), as the extraction gives them
Month = tuple[int, str | None, str | None]


def month_of(extraction: ReportExtraction | None) -> Month | None:
    if extraction is None or extraction.coalition_month is None:
        return None
    period = extraction.period
    return (
        extraction.coalition_month,
        period.start.isoformat() if period else None,
        period.end.isoformat() if period else None,
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


Config = tuple[str, str, str, str | None]


@dataclass
class _RunPlan:
    """What the first pass over a file learns of one configuration's run."""

    config: Config
    digests: list[bytes] = field(default_factory=list)
    reports: int = 0
    ok: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    costs: list[float] = field(default_factory=list)

    def run_id(self) -> str:
        digest = hashlib.sha256(json.dumps(list(self.config)).encode("utf-8"))
        for answer in sorted(self.digests):
            digest.update(answer)
        return digest.hexdigest()[:24]


def add_results(
    db: sqlite_utils.Database, paths: Iterable[str | Path], gaz: Gazetteer | None = None
) -> Added:
    """Add result files: each distinct (prompt, prompt hash, model, mode) of a file is a run;
    the last line of a report id counts, as for every reader of result files. Each file is
    read one line at a time, in passes (what the runs are, then their rows), so its size
    does not matter. Raises :class:`InputError` for a file that is not a results file;
    nothing is added then."""
    gazetteer = gaz or default_gazetteer()
    added = Added()
    with transaction(db):
        reports = _Reports(db)
        for file in (Path(p) for p in paths):
            _add_file(db, file, reports, gazetteer, added)
        added.reports = reports.new
        refresh_current(db)
        _changed(db)
    return added


def _config(result: ExtractionResult) -> Config:
    return (result.prompt.name, result.prompt.hash, result.model, result.mode)


@dataclass
class _Line:
    """What the first pass keeps of one line: little, whatever the size of the answer."""

    number: int
    name: str
    identity: ReportIdentity
    meta: Row
    month: Month | None
    config: Config
    answer: bytes
    status: str
    usage: tuple[int, int, int, float | None]


def _line(number: int, result: ExtractionResult) -> _Line:
    text = _local_text(result.source.path, result.source.sha256)
    meta = _meta(result)
    extraction = result.extraction.model_dump_json() if result.extraction else ""
    answer = f"{result.status}\n{result.request_key or ''}\n{extraction}"
    usage = result.usage
    return _Line(
        number=number,
        name=result.report_id,
        identity=report_identity(
            text=text,
            sha256=result.source.sha256,
            url=meta["url"],
            recorded_key=result.source.text_key,
        ),
        meta=meta,
        month=month_of(result.extraction),
        config=_config(result),
        answer=hashlib.sha256(answer.encode("utf-8")).digest(),
        status=result.status,
        usage=(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens, usage.cost_usd),
    )


def _add_file(
    db: sqlite_utils.Database, file: Path, reports: _Reports, gaz: Gazetteer, added: Added
) -> None:
    # Pass 1: what each line is (the last line of a report id counts); then each line's
    # report and each run's id. Pass 2: the rows of the runs not already in the dataset.
    lines: dict[str, _Line] = {}
    for number, result in stream_results(file):
        lines.pop(result.report_id, None)  # keeps the file's order of the last lines
        lines[result.report_id] = _line(number, result)
    plans: dict[Config, _RunPlan] = {}
    report_of: dict[int, str] = {}
    for line in sorted(lines.values(), key=lambda item: item.number):
        report_id = reports.resolve(line.name, line.identity, line.meta, line.month)
        report_of[line.number] = report_id
        plan = plans.setdefault(line.config, _RunPlan(line.config))
        plan.digests.append(hashlib.sha256(report_id.encode() + b"\n" + line.answer).digest())
        plan.reports += 1
        plan.ok += line.status == "ok"
        plan.failed += line.status == "failed"
        prompt_tokens, completion_tokens, total_tokens, cost = line.usage
        plan.prompt_tokens += prompt_tokens
        plan.completion_tokens += completion_tokens
        plan.total_tokens += total_tokens
        if cost is not None:
            plan.costs.append(cost)
    try:
        stamp = dt.datetime.fromtimestamp(file.stat().st_mtime, dt.UTC)
        time = stamp.isoformat(timespec="seconds")
    except OSError:
        time = _now()
    new_runs: dict[Config, str] = {}
    for config, plan in plans.items():
        run_id = plan.run_id()
        if db.table("runs").count_where("id = ?", [run_id]):
            added.runs_known += 1
            continue
        _insert_run_row(db, run_id, plan, file, time)
        new_runs[config] = run_id
        added.runs += 1
    if not new_runs:
        return
    batch = _Batch(db, gaz, added)
    for number, result in stream_results(file):
        target = new_runs.get(_config(result)) if number in report_of else None
        if target is not None:
            batch.add(target, report_of[number], result)
    batch.flush()


def _insert_run_row(
    db: sqlite_utils.Database, run_id: str, plan: _RunPlan, file: Path, time: str
) -> None:
    prompt_name, prompt_hash, model, mode = plan.config
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
                "reports": plan.reports,
                "ok": plan.ok,
                "failed": plan.failed,
                "prompt_tokens": plan.prompt_tokens,
                "completion_tokens": plan.completion_tokens,
                "total_tokens": plan.total_tokens,
                "cost_usd": sum(plan.costs) if plan.costs else None,
            }
        ],
    )


class _Batch:
    """Rows of a run's reports, written every :data:`BATCH_REPORTS` reports."""

    def __init__(self, db: sqlite_utils.Database, gaz: Gazetteer, added: Added) -> None:
        self.db, self.gaz, self.added = db, gaz, added
        self.tables: dict[str, list[Row]] = {
            "run_reports": [],
            "records": [],
            "failures": [],
            "dropped": [],
        }
        self.size = 0

    def add(self, run_id: str, report_id: str, result: ExtractionResult) -> None:
        self.tables["run_reports"].append(
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
            self.tables["records"].extend(
                extraction_rows(
                    result.extraction, report_id, f"run:{run_id}", self.gaz, {"run_id": run_id}
                )
            )
        elif result.error is not None:
            self.tables["failures"].append(
                {
                    "run_id": run_id,
                    "report_id": report_id,
                    "kind": result.error.kind,
                    "message": result.error.message,
                }
            )
        for index, drop in enumerate(result.dropped):
            self.tables["dropped"].append(
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
        self.size += 1
        if self.size >= BATCH_REPORTS:
            self.flush()

    def flush(self) -> None:
        # Two inputs of one run with the same text are one report: the first one's rows stay.
        for table, rows in self.tables.items():
            insert_rows(self.db, table, rows)
        self.added.records += len(self.tables["records"])
        self.added.failures += len(self.tables["failures"])
        self.added.dropped += len(self.tables["dropped"])
        for rows in self.tables.values():
            rows.clear()
        self.size = 0


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
        identity = report_identity(text=report.text)
        report_id = reports.resolve(
            path.stem, identity, {"source_path": report.path}, month_of(gold)
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
