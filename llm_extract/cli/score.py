"""``llm-extract score``: an ``extract`` output against the gold set, no model call.

Only the gold reports the output has a prediction for are scored; the others are listed
apart (an output of part of the gold set is not a run that failed on the rest).

Exit codes: 0 ok; 1 some scored report failed, or a configuration is under
``--fail-under``; 2 usage or input error (or no gold report has a prediction).
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from llm_extract.cli._common import cli_errors, echo_error, fail
from llm_extract.cli._gold import (
    ErrorsOption,
    EvalsDirOption,
    FailUnderOption,
    GoldOption,
    ReportsOption,
    RunsDirOption,
    SplitOption,
    console,
    finish,
    load_gold_items,
    print_errors,
    print_run,
    run_json,
    save,
)
from llm_extract.evaluation.layout import EvalLayout
from llm_extract.evaluation.matching import MATCH_THRESHOLD
from llm_extract.evaluation.runner import assemble_run, mark_seen, score_results
from llm_extract.jsonl import iter_results
from llm_extract.results import duplicate_note, one_result_per_report
from llm_extract.settings import load_settings

app = typer.Typer(add_completion=False)


@app.command("score")
def score_command(
    predictions: Annotated[Path, typer.Argument(help="JSONL output of `llm-extract extract`.")],
    evals_dir: EvalsDirOption = None,
    gold: GoldOption = None,
    reports: ReportsOption = None,
    split: SplitOption = None,
    fail_under: FailUnderOption = None,
    errors: ErrorsOption = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summaries as JSON instead of tables.")
    ] = False,
    save_run: Annotated[
        bool, typer.Option("--save", help="Save as a run (and its HTML report) under --runs-dir.")
    ] = False,
    runs_dir: RunsDirOption = None,
) -> None:
    """Score existing outputs against the gold set (no model call)."""
    started = time.perf_counter()
    out = console(stderr=as_json)
    with cli_errors():
        layout = EvalLayout.load(load_settings({"evals_dir": evals_dir}).evals_dir)
        items = load_gold_items(layout, gold, reports, split)
        results = [result for _, result in iter_results(predictions)]
        if not results:
            fail(f"{predictions}: no extraction result in the file")
        known = {i.report.report_id for i in items}
        results, duplicates = one_result_per_report(results, per_configuration=True, known=known)
        if duplicates:
            echo_error(duplicate_note(duplicates))
        extra = sorted({r.report_id for r in results} - known)
        if extra:
            echo_error(f"not in the gold set, ignored: {', '.join(extra)}")
        scored = score_results(items, results)
        configurations = [c for c in scored if c.scores]
        if not configurations:
            fail(f"{predictions}: no prediction for any report of the gold set")
        for c in scored:
            if c.no_prediction:
                echo_error(unscored_note(c.label, c.no_prediction, len(items)))
        config = {
            "command": "llm-extract " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "predictions": str(predictions),
            "gold_dir": str(gold or layout.gold_dir),
            "split": split,
            "report_ids": sorted(known),
            "match_threshold": MATCH_THRESHOLD,
        }
        run = assemble_run(items, configurations, config)
        mark_seen(run, layout.splits_path)
        for c in run.configurations:
            c.wall_s = round(time.perf_counter() - started, 3)
        if as_json:
            typer.echo(run_json(run))
        else:
            print_run(run, out, details=True)
            if errors:
                print_errors(run, out)
        if save_run:
            save(run, runs_dir or layout.runs_dir, True, out)
    finish(run, fail_under)


def unscored_note(label: str, ids: list[str], gold_reports: int) -> str:
    """``note: gpt-4o-mini: 42 of 44 gold reports have no prediction, not scored: ...``."""
    if len(ids) == gold_reports:
        return f"note: {label}: no prediction for any report of the gold set, not scored"
    shown = ", ".join(ids[:20]) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
    return (
        f"note: {label}: {len(ids)} of {gold_reports} gold reports have no prediction, "
        f"not scored: {shown}"
    )
