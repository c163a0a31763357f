"""``llm-extract export``: the records of an output file as CSV, Parquet or XLSX tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llm_extract.cli._common import (
    cli_errors,
    echo,
    echo_error,
    fail,
    refuse_overwriting_inputs,
)
from llm_extract.jsonl import read_results
from llm_extract.reporting.export import FORMATS, TABLES, export_tables
from llm_extract.results import duplicate_note, one_result_per_report

app = typer.Typer(add_completion=False)


def _warn(message: str) -> None:
    echo_error(f"warning: {message}")


@app.command("export")
def export_command(
    output: Annotated[Path, typer.Argument(help="JSONL written by `llm-extract extract`.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMATS)}.")
    ] = "csv",
    table: Annotated[
        list[str] | None,
        typer.Option(
            "--table",
            "-t",
            help=f"Table(s) to write: {', '.join(TABLES)} (repeatable; default: all). "
            "events is one row per event in ACLED's layout.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File (one table, or the xlsx workbook) or folder (several csv/parquet "
            "tables, named <stem>_<table>.<ext>). An existing folder gets the files inside "
            "it, named after the JSONL (<stem>.xlsx, <stem>_<table>.<ext>). "
            "Default: beside the JSONL.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace existing files that are not tables of the format."),
    ] = False,
    bom: Annotated[
        bool,
        typer.Option(
            "--bom/--no-bom",
            help="Start CSV files with a UTF-8 byte order mark, so that Excel shows the Arabic "
            "(default); --no-bom for tools that do not expect one.",
        ),
    ] = True,
) -> None:
    """Write one flat table per category, or the ACLED-style events table."""
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    tables = list(dict.fromkeys(table)) if table else list(TABLES)
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        fail(f"--table must be among {', '.join(TABLES)} (got {', '.join(unknown)})")
    with cli_errors():
        results, duplicates = one_result_per_report(read_results(output))
        if out is None:
            suffix = f"_{tables[0]}" if len(tables) == 1 else ""
            target = output.with_name(f"{output.stem}{suffix}.{fmt}")
            if fmt != "xlsx" and len(tables) > 1:
                target = output.with_name(f"{output.stem}.{fmt}")
        else:
            target = out
        refuse_overwriting_inputs([target], [output])
        paths = export_tables(
            results, fmt, target, tables, stem=output.stem, warn=_warn, force=force, bom=bom
        )
    ok = sum(r.status == "ok" and r.extraction is not None for r in results)
    skipped = len(results) - ok
    for name, path in paths.items():
        echo(f"{name}: {path}")
    note = f" ({skipped} failed report{'s' if skipped != 1 else ''} skipped)" if skipped else ""
    typer.echo(f"exported {ok} report{'s' if ok != 1 else ''}{note}", err=True)
    if duplicates:
        typer.echo(duplicate_note(duplicates), err=True)
