"""``llm-extract view``: a self-contained HTML review page of an output file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llm_extract.cli._common import cli_errors, echo, refuse_overwriting_inputs
from llm_extract.cli._options import ReportTextsOption
from llm_extract.jsonl import read_results
from llm_extract.reporting.view import write_view
from llm_extract.sources.texts import TEXT_OK

app = typer.Typer(add_completion=False)


@app.command("view")
def view_command(
    output: Annotated[Path, typer.Argument(help="JSONL written by `llm-extract extract`.")],
    gold: Annotated[
        Path | None,
        typer.Option(
            "--gold", help="Gold folder (<id>.json): mark matched, wrong fields, spurious, missed."
        ),
    ] = None,
    reports: ReportTextsOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="HTML file (default: <stem>_review.html)."),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Page title.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing file that is not an HTML page.")
    ] = False,
) -> None:
    """Write one HTML page: each report's text with every record's evidence highlighted."""
    with cli_errors():
        results = read_results(output)
        target = out or output.with_name(f"{output.stem}_review.html")
        refuse_overwriting_inputs([target], [output])
        path, shown = write_view(
            results,
            target,
            gold_dir=gold,
            reports_dirs=reports or [],
            base=output.parent,
            title=title or f"Review of {output.name}",
            force=force,
        )
    records = sum(r.n_pred for r in shown)
    highlighted = sum(r.n_highlighted for r in shown)
    no_text = [r.report_id for r in shown if r.text_state != TEXT_OK]
    echo(str(path))
    typer.echo(
        f"{_count(len(shown), 'report')}, {_count(records, 'record')}, {highlighted} highlighted",
        err=True,
    )
    if gold is not None:
        kinds = ("matched", "wrong", "spurious", "missed")
        counts = {s: sum(r.n_status(s) for r in shown) for s in kinds}
        typer.echo(
            f"gold: {counts['matched']} matched, {counts['wrong']} matched with wrong fields, "
            f"{counts['spurious']} spurious, {counts['missed']} missed",
            err=True,
        )
    if no_text:
        echo(
            f"{len(no_text)} report(s) without usable text (shown without highlights): "
            + ", ".join(no_text[:10])
            + (" ..." if len(no_text) > 10 else ""),
            err=True,
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
