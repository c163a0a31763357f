"""Saved eval runs: one folder per run under the runs folder, holding ``run.json``.

A run records what was compared (prompt names and hashes, models, settings, the gold set),
with which code (package version, git revision) and every per-report score and prediction,
so that two runs can be compared later without calling a model.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from llm_extract import __version__
from llm_extract.errors import UsageError
from llm_extract.evaluation.compare import Comparison
from llm_extract.evaluation.layout import EvalLayout
from llm_extract.evaluation.metrics import ReportScore, Summary
from llm_extract.outputs import write_text
from llm_extract.paths import child_path
from llm_extract.results import ExtractionResult, PromptInfo
from llm_extract.run.keys import stable_hash
from llm_extract.schemas import ReportExtraction

RUN_FILE = "run.json"
HTML_FILE = "report.html"


def default_runs_dir() -> Path:
    """``runs/`` of the eval folder (git-ignored in this repository)."""
    return EvalLayout.load().runs_dir


class ConfigurationRun(BaseModel):
    """One (prompt, model) configuration: its settings, scores and predictions."""

    label: str
    model: str
    prompt: PromptInfo | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    summary: Summary
    scores: list[ReportScore]
    predictions: dict[str, ExtractionResult] = Field(default_factory=dict)
    wall_s: float = 0.0
    #: gold reports this configuration has no prediction for, left out of its scores
    #: (``score`` of an output that covers part of the gold set); ``eval`` ran every gold
    #: report, so there a report with no prediction is scored as missed instead
    no_prediction: list[str] = Field(default_factory=list)
    #: the scored reports its author read while writing it (:func:`mark_seen`): its scores on
    #: them do not measure how it does on new reports
    seen: list[str] = Field(default_factory=list)

    def score(self, report_id: str) -> ReportScore | None:
        return next((s for s in self.scores if s.report_id == report_id), None)


class Run(BaseModel):
    """Everything one ``eval`` (or ``score``) produced."""

    run_id: str
    created: str
    package_version: str = __version__
    git_revision: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    gold: dict[str, ReportExtraction] = Field(default_factory=dict)
    configurations: list[ConfigurationRun]
    comparisons: list[Comparison] = Field(default_factory=list)

    def configuration(self, label: str) -> ConfigurationRun:
        for configuration in self.configurations:
            if configuration.label == label:
                return configuration
        raise KeyError(label)


def git_revision(root: Path | None = None) -> str | None:
    """The commit of the git checkout that holds the package (with ``-dirty`` when files
    changed), or ``None`` for an installed package or outside git."""
    package = Path(__file__).resolve().parents[1]
    where = root or package.parent
    if root is None and not (where / ".git").exists():
        return None
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5
        )
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    suffix = "-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else ""
    return rev.stdout.strip() + suffix


def new_run_id(config: dict[str, Any], now: dt.datetime | None = None) -> str:
    """``YYYYmmdd-HHMMSS-<6 hex of the config>``: sortable by time, distinct per grid."""
    moment = now or dt.datetime.now()
    return f"{moment:%Y%m%d-%H%M%S}-{stable_hash(config)[:6]}"


def make_run(
    config: dict[str, Any],
    configurations: Sequence[ConfigurationRun],
    comparisons: Sequence[Comparison],
    gold: dict[str, ReportExtraction],
) -> Run:
    now = dt.datetime.now()
    return Run(
        run_id=new_run_id(config, now),
        created=now.isoformat(timespec="seconds"),
        git_revision=git_revision(),
        config=config,
        gold=gold,
        configurations=list(configurations),
        comparisons=list(comparisons),
    )


def save_run(run: Run, runs_dir: str | Path | None = None) -> Path:
    """Write ``<runs_dir>/<run_id>/run.json`` (a new id if that folder exists); its path."""
    base = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    folder = child_path(base, run.run_id, what="run id")
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = child_path(base, f"{run.run_id}-{suffix}", what="run id")
    if folder.name != run.run_id:
        run.run_id = folder.name
    try:
        folder.mkdir(parents=True)
        path = folder / RUN_FILE
        write_text(path, run.model_dump_json(indent=1))
    except OSError as exc:
        raise UsageError(f"{folder}: cannot save the run ({exc.strerror or exc})") from exc
    return path


def list_runs(runs_dir: str | Path | None = None) -> list[Path]:
    """Saved run files, oldest first (by the time they were written)."""
    base = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    if not base.is_dir():
        return []
    return sorted(base.glob(f"*/{RUN_FILE}"), key=lambda p: (p.stat().st_mtime_ns, p.parent.name))


def resolve_run(ref: str, runs_dir: str | Path | None = None) -> Path:
    """A run's file from a path (folder or ``run.json``), a run id, or ``latest``."""
    if ref in {"latest", "last"}:
        runs = list_runs(runs_dir)
        if not runs:
            raise UsageError(f"{runs_dir or default_runs_dir()}: no saved run")
        return runs[-1]
    candidate = Path(ref)
    if candidate.is_file():
        return candidate
    if (candidate / RUN_FILE).is_file():
        return candidate / RUN_FILE
    base = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    if (base / ref / RUN_FILE).is_file():
        return base / ref / RUN_FILE
    matches = [p for p in list_runs(runs_dir) if p.parent.name.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UsageError(f"{ref}: ambiguous run id ({len(matches)} runs in {base} start so)")
    raise UsageError(f"{ref}: no such run (not a path, nor a run id in {base})")


def load_run(ref: str | Path, runs_dir: str | Path | None = None) -> Run:
    """Load a saved run (see :func:`resolve_run` for ``ref``)."""
    path = resolve_run(str(ref), runs_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Run.model_validate(data)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a saved run (invalid JSON: {exc})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"{path}: not a saved run ({where}: {first['msg']})") from exc
