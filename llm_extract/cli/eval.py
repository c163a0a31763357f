"""``llm-extract eval`` (the prompts x models grid over the gold set), ``eval compare`` (two
saved runs side by side) and ``score`` (an ``extract`` output against the gold set).

Exit codes: 0 ok; 1 some report failed, or a configuration is under ``--fail-under``;
2 usage or input error (a broken gold file names the file and the field path).
"""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from llm_extract.backends import RULES_MODEL
from llm_extract.backends.base import ModelSettings
from llm_extract.cli import app
from llm_extract.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    build_settings,
    cli_errors,
    echo_error,
    fail,
    require_credentials,
)
from llm_extract.errors import InputError
from llm_extract.evaluation.compare import compare
from llm_extract.evaluation.gold import GoldItem, load_gold, load_splits
from llm_extract.evaluation.html_report import write_html
from llm_extract.evaluation.layout import EVALS_DIR_ENV, EvalLayout
from llm_extract.evaluation.matching import MATCH_THRESHOLD
from llm_extract.evaluation.metrics import OVERALL
from llm_extract.evaluation.runner import (
    assemble_run,
    build_grid,
    grid_label,
    run_grid,
    score_configuration,
)
from llm_extract.evaluation.runs import ConfigurationRun, Run, load_run, save_run
from llm_extract.evaluation.tables import (
    category_table,
    comparison_table,
    results_table,
    runs_category_table,
    runs_report_table,
)
from llm_extract.jsonl import iter_results
from llm_extract.prompts import Prompt, load_prompt
from llm_extract.results import ExtractionResult, PromptInfo

DEFAULT_PROMPT = "guided"

eval_app = typer.Typer(
    help="Score prompts x models on the gold set; `eval compare` shows two saved runs.",
    no_args_is_help=False,
)
app.add_typer(eval_app, name="eval")

EvalsDirOption = Annotated[
    Path | None,
    typer.Option(
        "--evals-dir",
        help=f"Eval folder with gold/, reports/, splits.toml, runs/ and an optional evals.toml "
        f"(default: ${EVALS_DIR_ENV}, else ./evals).",
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


def _console() -> Console:
    return Console(width=200 if not sys.stdout.isatty() else None)


def _load_gold(
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


def _under_bar(configurations: Sequence[ConfigurationRun], bar: float | None) -> list[str]:
    if bar is None:
        return []
    return [
        f"{c.label}: overall F1 {c.summary.micro[OVERALL].f1 or 0.0:.3f} < {bar}"
        for c in configurations
        if (c.summary.micro[OVERALL].f1 or 0.0) < bar
    ]


def _finish(run: Run, bar: float | None) -> None:
    """Exit 1 under the bar or when a report failed, else 0."""
    failures = sum(1 for c in run.configurations for s in c.scores if s.status != "ok")
    for line in _under_bar(run.configurations, bar):
        echo_error(f"under --fail-under: {line}")
    if failures:
        echo_error(f"{failures} report extraction(s) failed or had no prediction")
    raise typer.Exit(EXIT_FAILED if failures or _under_bar(run.configurations, bar) else EXIT_OK)


def _print_run(run: Run, console: Console, *, details: bool) -> None:
    console.print(results_table(run.configurations, title=f"eval {run.run_id}"))
    if details:
        for configuration in run.configurations:
            console.print(category_table(configuration))
    if run.comparisons:
        console.print(comparison_table(run.comparisons))
        for comparison in run.comparisons:
            console.print(f"verdict: {comparison.verdict}")


def _save(run: Run, runs_dir: Path, html: bool, console: Console) -> None:
    path = save_run(run, runs_dir)
    console.print(f"run saved: {path}")
    if html:
        console.print(f"HTML report: {write_html(run, path.parent)}")


@eval_app.callback(invoke_without_command=True)
def eval_command(
    ctx: typer.Context,
    prompts: Annotated[
        list[str] | None,
        typer.Option(
            "--prompt", "-p", help=f"Prompt name or file, repeatable (default: {DEFAULT_PROMPT})."
        ),
    ] = None,
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="Model, repeatable; 'rules' is the offline extractor "
            "(default: $LLM_EXTRACT_MODEL or gpt-4o-mini).",
        ),
    ] = None,
    evals_dir: EvalsDirOption = None,
    gold: GoldOption = None,
    reports: ReportsOption = None,
    split: Annotated[
        str | None,
        typer.Option("--split", help="Only the reports of this split (<evals-dir>/splits.toml)."),
    ] = None,
    runs_dir: RunsDirOption = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-j", min=1, help="Reports in flight at once.")
    ] = 8,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")
    ] = False,
    fail_under: FailUnderOption = None,
    html: Annotated[bool, typer.Option("--html/--no-html", help="Write the HTML report.")] = True,
    mode: Annotated[
        str | None, typer.Option("--mode", help="tools | json_schema | md_json.")
    ] = None,
    temperature: Annotated[float | None, typer.Option("--temperature")] = None,
    max_reasks: Annotated[int | None, typer.Option("--max-reasks")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds per request.")] = None,
    prompts_dir: Annotated[Path | None, typer.Option("--prompts-dir")] = None,
) -> None:
    """Run every prompt x model over the gold set (cached), score, compare, save the run."""
    if ctx.invoked_subcommand is not None:
        return
    console = _console()
    with cli_errors():
        loaded = [load_prompt(name, prompts_dir) for name in (prompts or [DEFAULT_PROMPT])]
        chosen = models or [build_settings().model]

        def settings_for(prompt: Prompt, model: str) -> ModelSettings:
            return build_settings(
                model=model,
                prompt=prompt,
                mode=mode,
                temperature=temperature,
                max_reasks=max_reasks,
                timeout_s=timeout,
            )

        grid = build_grid(loaded, chosen, settings_for)
        for configuration in grid:
            require_credentials(configuration.settings)
        layout = EvalLayout.load(evals_dir)
        items = _load_gold(layout, gold, reports, split)
        cache = None
        if not no_cache:
            from llm_extract.run.cache import ResponseCache

            cache = ResponseCache()
        configurations = asyncio.run(
            run_grid(items, grid, cache=cache, concurrency=concurrency, progress=True)
        )
        config: dict[str, Any] = {
            "command": "llm-extract " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "prompts": [{"name": p.name, "hash": p.hash, "path": p.path} for p in loaded],
            "models": list(dict.fromkeys(chosen)),
            "gold_dir": str(gold or layout.gold_dir),
            "split": split,
            "report_ids": [i.report.report_id for i in items],
            "concurrency": concurrency,
            "cache": not no_cache,
            "match_threshold": MATCH_THRESHOLD,
        }
        run = assemble_run(items, configurations, config)
        _print_run(run, console, details=len(configurations) == 1)
        _save(run, runs_dir or layout.runs_dir, html, console)
    _finish(run, fail_under)


@eval_app.command("compare")
def compare_command(
    run_a: Annotated[str, typer.Argument(help="Saved run: folder, run.json, id, or 'latest'.")],
    run_b: Annotated[str, typer.Argument(help="Saved run to compare with.")],
    evals_dir: EvalsDirOption = None,
    runs_dir: RunsDirOption = None,
) -> None:
    """Two saved runs side by side, per category and per report (no model call)."""
    console = _console()
    with cli_errors():
        where = runs_dir or EvalLayout.load(evals_dir).runs_dir
        a = load_run(run_a, where)
        b = load_run(run_b, where)
    console.print(runs_category_table(a, b))
    console.print(runs_report_table(a, b))
    pairs = [(ca, cb) for ca in a.configurations for cb in b.configurations if ca.label == cb.label]
    if not pairs and len(a.configurations) == 1 and len(b.configurations) == 1:
        pairs = [(a.configurations[0], b.configurations[0])]
    comparisons = [
        compare(f"A:{ca.label}", ca.scores, f"B:{cb.label}", cb.scores) for ca, cb in pairs
    ]
    if comparisons:
        console.print(comparison_table(comparisons))
        for comparison in comparisons:
            console.print(f"verdict: {comparison.verdict}")
    raise typer.Exit(EXIT_OK)


def read_predictions(path: Path) -> list[ExtractionResult]:
    """Every line of an ``extract`` output (the last line per report and configuration wins).

    Unlike the resume reader, a last line without a newline is read: hand-written files
    often end so. A line that is not a result raises :class:`InputError` (file and line).
    """
    if not path.is_file():
        raise InputError(path, "no such predictions file")
    latest: dict[tuple[str, str, str], ExtractionResult] = {}
    try:
        for _, result in iter_results(path, read_tail=True):
            latest[(result.prompt.name, result.model, result.report_id)] = result
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror or exc})") from exc
    return list(latest.values())


def score_results(
    items: Sequence[GoldItem], results: Sequence[ExtractionResult]
) -> list[ConfigurationRun]:
    """Group results by (prompt, model) and score each group against the gold set."""
    groups: dict[tuple[str, str], list[ExtractionResult]] = {}
    for result in results:
        groups.setdefault((result.prompt.name, result.model), []).append(result)
    names = [p for p, _ in groups]
    models = [m for _, m in groups]
    out = []
    for (prompt, model), members in groups.items():
        info: PromptInfo | None = None if model == RULES_MODEL else members[0].prompt
        label = grid_label(prompt, model, names, models)
        out.append(score_configuration(label, model, info, items, members))
    return out


@app.command("score")
def score_command(
    predictions: Annotated[Path, typer.Argument(help="JSONL output of `llm-extract extract`.")],
    evals_dir: EvalsDirOption = None,
    gold: GoldOption = None,
    reports: ReportsOption = None,
    split: Annotated[str | None, typer.Option("--split", help="Only this split's reports.")] = None,
    fail_under: FailUnderOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summaries as JSON instead of tables.")
    ] = False,
    save: Annotated[
        bool, typer.Option("--save", help="Save as a run (and its HTML report) under --runs-dir.")
    ] = False,
    runs_dir: RunsDirOption = None,
) -> None:
    """Score existing outputs against the gold set (no model call)."""
    started = time.perf_counter()
    console = _console()
    with cli_errors():
        layout = EvalLayout.load(evals_dir)
        items = _load_gold(layout, gold, reports, split)
        results = read_predictions(predictions)
        if not results:
            fail(f"{predictions}: no extraction result in the file")
        known = {i.report.report_id for i in items}
        extra = sorted({r.report_id for r in results} - known)
        if extra:
            echo_error(f"not in the gold set, ignored: {', '.join(extra)}")
        configurations = score_results(items, results)
        config = {
            "command": "llm-extract " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "predictions": str(predictions),
            "gold_dir": str(gold or layout.gold_dir),
            "split": split,
            "report_ids": sorted(known),
            "match_threshold": MATCH_THRESHOLD,
        }
        run = assemble_run(items, configurations, config)
        for c in run.configurations:
            c.wall_s = round(time.perf_counter() - started, 3)
        if as_json:
            payload = {c.label: c.summary.model_dump(mode="json") for c in run.configurations}
            typer.echo(json.dumps(payload, indent=1, ensure_ascii=False))
        else:
            _print_run(run, console, details=True)
        if save:
            _save(run, runs_dir or layout.runs_dir, True, console)
    _finish(run, fail_under)
