"""``llm-extract summary``: per-month figures across the reports of an output file, and a chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from llm_extract.cli._common import cli_errors, echo, fail, refuse_overwriting_inputs
from llm_extract.cli._tables import print_table
from llm_extract.jsonl import read_results
from llm_extract.reporting.summary import (
    chart_format,
    plot_summary,
    rich_table,
    summarize,
    summary_json,
)
from llm_extract.results import duplicate_note

app = typer.Typer(add_completion=False)


@app.command("summary")
def summary_command(
    output: Annotated[Path, typer.Argument(help="JSONL written by `llm-extract extract`.")],
    by: Annotated[
        str, typer.Option("--by", help="coalition (coalition months) or calendar.")
    ] = "coalition",
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            help="Chart to write, in the format its suffix names: .png, .svg or .pdf "
            "(default: <stem>_summary.png).",
        ),
    ] = None,
    no_chart: Annotated[bool, typer.Option("--no-chart", help="Print the table only.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing file that is not a chart.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the figures as JSON instead of a table.")
    ] = False,
) -> None:
    """Print per month the trucks, cargo flights, drills, attacks, airstrikes, operations and
    detainees (stated totals first, else sums of records), and draw them."""
    if by not in ("coalition", "calendar"):
        fail(f"--by must be coalition or calendar (got {by!r})")
    with cli_errors():
        if chart is not None and not no_chart:
            chart_format(chart)  # before any work: a wrong suffix is a usage error
        results = read_results(output)
        summary = summarize(results, "calendar" if by == "calendar" else "coalition")
        if as_json:
            typer.echo(json.dumps(summary_json(summary), indent=1, ensure_ascii=False))
        else:
            print_table(rich_table(summary))
        if summary.duplicates:
            typer.echo(duplicate_note(summary.duplicates), err=True)
        if summary.failed:
            typer.echo(f"{len(summary.failed)} failed report(s) left out", err=True)
        if summary.undated:
            echo(
                f"{len(summary.undated)} report(s) with no month or date left out: "
                + ", ".join(summary.undated),
                err=True,
            )
        if not no_chart and summary.rows:
            target = chart or output.with_name(f"{output.stem}_summary.png")
            refuse_overwriting_inputs([target], [output])
            echo(f"chart: {plot_summary(summary, target, force=force)}")
