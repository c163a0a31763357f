"""``llm-extract eval`` (the prompts x models grid over the gold set) and ``eval compare`` (two
saved runs side by side).

Exit codes: 0 ok; 1 some report failed, or a configuration is under ``--fail-under``;
2 usage or input error (a broken gold file names the file and the field path).
"""

from __future__ import annotations

import json
import shlex
import sys
from typing import Annotated, Any

import typer

from llm_extract.cli._common import EXIT_OK, cli_errors, configure, echo_error
from llm_extract.cli._gold import (
    ErrorsOption,
    EvalsDirOption,
    FailUnderOption,
    GoldOption,
    JsonOption,
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
from llm_extract.cli._options import CALL, PROMPTS_DIR, RUN, Options, with_options
from llm_extract.cli._tables import print_table
from llm_extract.evaluation.compare import Comparison, compare
from llm_extract.evaluation.layout import EvalLayout
from llm_extract.evaluation.matching import MATCH_THRESHOLD
from llm_extract.evaluation.runner import assemble_run, build_grid, mark_seen, run_grid
from llm_extract.evaluation.runs import Run, load_run
from llm_extract.evaluation.tables import comparison_table, runs_category_table, runs_report_table
from llm_extract.prompts import Prompt
from llm_extract.run.aio import run_async
from llm_extract.run.runner import Runner
from llm_extract.settings import Settings, load_settings

app = typer.Typer(
    help="Score prompts x models on the gold set; `eval compare` shows two saved runs.",
    no_args_is_help=False,
    add_completion=False,  # completion is the top-level command's
)


@app.callback(invoke_without_command=True)
@with_options(PROMPTS_DIR, CALL, RUN)
def eval_command(
    ctx: typer.Context,
    opts: Options,
    prompt_names: Annotated[
        list[str] | None,
        typer.Option(
            "--prompt",
            "-p",
            help="Prompt name or .toml file, repeatable (default: $LLM_EXTRACT_PROMPT, "
            "else guided).",
        ),
    ] = None,
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="Model, repeatable; 'rules' is the offline extractor "
            "(default: $LLM_EXTRACT_MODEL, else gpt-4o-mini).",
        ),
    ] = None,
    evals_dir: EvalsDirOption = None,
    gold: GoldOption = None,
    reports: ReportsOption = None,
    split: SplitOption = None,
    runs_dir: RunsDirOption = None,
    fail_under: FailUnderOption = None,
    errors: ErrorsOption = False,
    html: Annotated[bool, typer.Option("--html/--no-html", help="Write the HTML report.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Run every prompt x model over the gold set (cached), score, compare, save the run.

    ``--prompt`` is repeatable here: each prompt is one row of the grid.
    """
    if ctx.invoked_subcommand is not None:
        return
    out = console(stderr=as_json)
    with cli_errors():
        values = opts.settings_values()
        names = list(dict.fromkeys(prompt_names or [load_settings().prompt]))
        base = load_settings({**values, "evals_dir": evals_dir})
        chosen = list(dict.fromkeys(models or [base.model]))
        prompts: dict[str, Prompt] = {}
        cells: dict[tuple[str, str], Settings] = {}
        for name in names:
            for model in chosen:
                settings, prompt = configure(values, prompt=name, model=model, evals_dir=evals_dir)
                prompts.setdefault(name, prompt)
                cells[(prompt.name, model)] = settings

        def settings_for(prompt: Prompt, model: str) -> Settings:
            return cells[(prompt.name, model)]

        grid = build_grid(list(prompts.values()), chosen, settings_for)
        for configuration in grid:
            Runner(configuration.settings, configuration.carrier).check_credentials()
        layout = EvalLayout.load(base.evals_dir)
        items = load_gold_items(layout, gold, reports, split)
        done = run_async(
            run_grid(
                items,
                grid,
                progress=sys.stderr.isatty(),
                on_warning=lambda m: echo_error(f"warning: {m}"),
            )
        )
        config: dict[str, Any] = {
            "command": "llm-extract " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "prompts": [{"name": p.name, "hash": p.hash, "path": p.path} for p in prompts.values()],
            "models": chosen,
            "gold_dir": str(gold or layout.gold_dir),
            "split": split,
            "report_ids": [i.report.report_id for i in items],
            "concurrency": base.concurrency,
            "cache": base.cache,
            "match_threshold": MATCH_THRESHOLD,
        }
        run = assemble_run(items, done.configurations, config)
        mark_seen(run, layout.splits_path)
        if as_json:
            typer.echo(run_json(run))
        else:
            print_run(run, out, details=len(done.configurations) == 1)
            if errors:
                print_errors(run, out)
        save(run, runs_dir or layout.runs_dir, html, out)
    if done.cache_problem is not None:
        echo_error("note: the response cache was off for part of the run")
    for label, count in done.not_sent.items():
        reason = done.stop_reasons.get(label, "budget reached")
        echo_error(f"stopped: {label}: {reason}; {count} report(s) not sent")
    finish(run, fail_under, extra_failures=sum(done.not_sent.values()))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def compare_json(a: Run, b: Run, comparisons: list[Comparison]) -> str:
    """``eval compare --json``: both runs' summaries per configuration, the paired
    differences and, per report, the overall F1 of every configuration."""

    def side(run: Run) -> dict[str, Any]:
        return {
            "run_id": run.run_id,
            "configurations": {
                c.label: {
                    "summary": c.summary.model_dump(mode="json"),
                    "report_f1": {s.report_id: _rounded(s.f1()) for s in c.scores},
                }
                for c in run.configurations
            },
        }

    payload = {
        "A": side(a),
        "B": side(b),
        "comparisons": [c.model_dump(mode="json") for c in comparisons],
    }
    return json.dumps(payload, indent=1, ensure_ascii=False)


@app.command("compare")
def compare_command(
    run_a: Annotated[str, typer.Argument(help="Saved run: folder, run.json, id, or 'latest'.")],
    run_b: Annotated[str, typer.Argument(help="Saved run to compare with.")],
    evals_dir: EvalsDirOption = None,
    runs_dir: RunsDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Two saved runs side by side, per category and per report (no model call)."""
    out = console()
    with cli_errors():
        where = (
            runs_dir or EvalLayout.load(load_settings({"evals_dir": evals_dir}).evals_dir).runs_dir
        )
        a = load_run(run_a, where)
        b = load_run(run_b, where)
    pairs = [(ca, cb) for ca in a.configurations for cb in b.configurations if ca.label == cb.label]
    if not pairs and len(a.configurations) == 1 and len(b.configurations) == 1:
        pairs = [(a.configurations[0], b.configurations[0])]
    comparisons = [
        compare(f"A:{ca.label}", ca.scores, f"B:{cb.label}", cb.scores) for ca, cb in pairs
    ]
    if as_json:
        typer.echo(compare_json(a, b, comparisons))
        raise typer.Exit(EXIT_OK)
    print_table(runs_category_table(a, b))
    print_table(runs_report_table(a, b))
    if comparisons:
        print_table(comparison_table(comparisons))
        for comparison in comparisons:
            out.print(f"verdict: {comparison.verdict}")
    raise typer.Exit(EXIT_OK)
