"""What ``eval`` and ``score`` share: the eval-folder options, loading the gold set, printing,
saving and the exit code of a run."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from llm_extract.cli._common import EXIT_FAILED, EXIT_OK, echo_error, fail
from llm_extract.cli._tables import print_table
from llm_extract.evaluation.errors import record_errors, render_errors
from llm_extract.evaluation.gold import GoldItem, load_gold, load_splits
from llm_extract.evaluation.html_report import write_html
from llm_extract.evaluation.layout import EvalLayout
from llm_extract.evaluation.metrics import OVERALL
from llm_extract.evaluation.runs import ConfigurationRun, Run, save_run
from llm_extract.evaluation.tables import (
    category_table,
    comparison_table,
    results_table,
    seen_note,
)

EvalsDirOption = Annotated[
    Path | None,
    typer.Option(
        "--evals-dir",
        help="Eval folder with gold/, reports/, splits.toml, runs/ and an optional evals.toml "
        "(default: $LLM_EXTRACT_EVALS_DIR, else ./evals).",
    ),
]
GoldOption = Annotated[
    Path | None, typer.Option("--gold", help="Gold folder (default: <evals-dir>/gold).")
]
ReportsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--reports",
        help="Folder of report texts, repeatable (default: <evals-dir>/reports and the "
        "folders its evals.toml names).",
    ),
]
SplitOption = Annotated[
    str | None,
    typer.Option("--split", help="Only the reports of this split (<evals-dir>/splits.toml)."),
]
RunsDirOption = Annotated[
    Path | None,
    typer.Option("--runs-dir", help="Where runs are saved (default: <evals-dir>/runs)."),
]
FailUnderOption = Annotated[
    float | None,
    typer.Option(
        "--fail-under",
        min=0.0,
        max=1.0,
        help="Exit 1 when a configuration's overall F1 (micro) is below this.",
    ),
]

ErrorsOption = Annotated[
    bool,
    typer.Option(
        "--errors",
        help="Also list every miss, spurious record and wrong key field, grouped by class "
        "(category x failure), with report id and evidence.",
    ),
]


def console(*, stderr: bool = False) -> Console:
    """Lines around the tables, on stdout (on stderr when stdout carries JSON); data is never
    read as markup (``markup=False``)."""
    tty = (sys.stderr if stderr else sys.stdout).isatty()
    return Console(width=200 if not tty else None, markup=False, stderr=stderr)


JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the results as JSON instead of tables.")
]


def load_gold_items(
    layout: EvalLayout, gold: Path | None, reports: Sequence[Path] | None, split: str | None
) -> list[GoldItem]:
    ids = None
    if split is not None:
        splits = load_splits(layout.splits_path)
        if split not in splits:
            fail(f"--split: no split {split!r} (known: {', '.join(splits) or 'none'})")
        ids = splits[split]
        if not ids:
            fail(f"--split: split {split!r} lists no report ({layout.splits_path})")
    loaded = load_gold(gold, reports, ids=ids, layout=layout)
    if loaded.left_out:
        absent = ", ".join(str(d) for d in loaded.absent_dirs)
        echo_error(
            f"note: {len(loaded.left_out)} gold report(s) left out, their report folder is "
            f"absent ({absent}): {', '.join(loaded.left_out)}"
        )
    if not loaded.items:
        fail(f"{gold or layout.gold_dir}: no gold file")
    return loaded.items


def under_bar(configurations: Sequence[ConfigurationRun], bar: float | None) -> list[str]:
    if bar is None:
        return []
    return [
        f"{c.label}: overall F1 {c.summary.micro[OVERALL].f1 or 0.0:.3f} < {bar}"
        for c in configurations
        if (c.summary.micro[OVERALL].f1 or 0.0) < bar
    ]


def finish(run: Run, bar: float | None, *, extra_failures: int = 0) -> None:
    """Exit 1 under the bar or when a report failed, else 0."""
    failures = sum(1 for c in run.configurations for s in c.scores if s.status != "ok")
    failures += extra_failures
    for line in under_bar(run.configurations, bar):
        echo_error(f"under --fail-under: {line}")
    if failures:
        echo_error(f"{failures} report extraction(s) failed or had no prediction")
    raise typer.Exit(EXIT_FAILED if failures or under_bar(run.configurations, bar) else EXIT_OK)


def print_run(run: Run, out: Console, *, details: bool) -> None:
    """The run's tables, fitted to the terminal (:mod:`llm_extract.cli._tables`)."""
    print_table(results_table(run.configurations, title=f"eval {run.run_id}"))
    for configuration in run.configurations:
        note = seen_note(configuration)
        if note is not None:
            out.print(f"note: {note}")
    if details:
        for configuration in run.configurations:
            print_table(category_table(configuration))
    if run.comparisons:
        print_table(comparison_table(run.comparisons))
        for comparison in run.comparisons:
            out.print(f"verdict: {comparison.verdict}")


def run_json(run: Run) -> str:
    """``--json``: each configuration's summary, by label (every column of the tables)."""
    payload = {
        c.label: {
            **c.summary.model_dump(mode="json"),
            "seen_by_author": len(c.seen),
            "no_prediction": c.no_prediction,
        }
        for c in run.configurations
    }
    return json.dumps(payload, indent=1, ensure_ascii=False)


def save(run: Run, runs_dir: Path, html: bool, out: Console) -> None:
    path = save_run(run, runs_dir)
    out.print(f"run saved: {path}")
    if html:
        out.print(f"HTML report: {write_html(run, path.parent)}")


def print_errors(run: Run, out: Console) -> None:
    """Each configuration's errors by class (``--errors``)."""
    for configuration in run.configurations:
        out.print(f"errors of {configuration.label}, by class:")
        for line in render_errors(record_errors(configuration, run.gold)):
            out.print(line, highlight=False, soft_wrap=True)
