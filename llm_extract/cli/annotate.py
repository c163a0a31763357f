"""``llm-extract annotate``: correct an output file in the browser and save it as gold."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from llm_extract.cli._common import cli_errors, echo_error, fail
from llm_extract.cli._options import ReportTextsOption
from llm_extract.cli._tables import print_table
from llm_extract.evaluation.layout import EvalLayout
from llm_extract.reporting.annotate import audit
from llm_extract.reporting.annotate.app import create_app, loopback_hosts, new_token
from llm_extract.reporting.annotate.inputs import annotation_results
from llm_extract.reporting.annotate.server import (
    bind,
    is_loopback,
    open_browser,
    serve_forever,
    url_host,
)
from llm_extract.reporting.annotate.session import Workspace
from llm_extract.reporting.annotate.stats import (
    CorrectionStats,
    Tally,
    correction_stats,
    stats_json,
)
from llm_extract.reporting.annotate.store import GoldStore
from llm_extract.results import ExtractionResult

app = typer.Typer(add_completion=False)

UNSPECIFIED = {"0.0.0.0", "::", "[::]"}


@app.command("annotate")
def annotate_command(
    output: Annotated[Path, typer.Argument(help="JSONL written by `llm-extract extract`.")],
    gold_dir: Annotated[
        Path | None,
        typer.Option("--gold-dir", help="Where gold files are saved (default: <evals-dir>/gold)."),
    ] = None,
    reports: ReportTextsOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port; 0 picks a free one.")] = 0,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the URL, do not open a browser.")
    ] = False,
    allow_remote: Annotated[
        bool,
        typer.Option("--allow-remote", help="Allow a --host that other machines can reach."),
    ] = False,
    blank: Annotated[
        bool,
        typer.Option(
            "--blank",
            help="Start reports without a gold file from no record instead of the model's "
            "(gold written from the text alone, e.g. for a holdout).",
        ),
    ] = False,
    stats: Annotated[
        bool,
        typer.Option("--stats", help="Print how often the model's values were corrected; no app."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --stats: print JSON.")] = False,
) -> None:
    """Open a local web app to accept, reject and correct the records of OUTPUT, saving each
    finished report as a gold file. The first line printed is the URL to open."""
    skipped: list[str] = []
    with cli_errors():
        results = annotation_results(output, skipped=skipped)
        for line in skipped:
            echo_error(f"skipped: {line}")
        gold = gold_dir if gold_dir is not None else EvalLayout.load().gold_dir
        if stats:
            _print_stats(results, GoldStore(gold), output, as_json)
            return
        if not results:
            fail(f"{output}: no extraction result to annotate")
        remote = not is_loopback(host)
        if remote and not allow_remote:
            fail(
                f"--host {host} is not a loopback address: other machines could reach the app; "
                "pass --allow-remote to serve it anyway"
            )
        store = GoldStore(gold)
        existed = gold.is_dir()
        store.check_writable()
        workspace = Workspace(
            results,
            store,
            reports_dirs=reports or [],
            base=output.parent,
            skipped_lines=skipped,
            blank=blank,
        )
        try:
            sock = bind(host, port)
        except BaseException:
            if not existed:  # nothing was served: the folder made for it goes again
                with contextlib.suppress(OSError):
                    gold.rmdir()
            raise
    if not existed:
        chosen = "--gold-dir" if gold_dir is not None else "the default, <evals-dir>/gold"
        echo_error(
            f"created the gold folder {gold} ({chosen}); finished reports are saved there, "
            "where score and eval read them"
        )
    real_port: int = sock.getsockname()[1]
    token = new_token()
    shown = "127.0.0.1" if host in UNSPECIFIED else host
    url = f"http://{url_host(shown)}:{real_port}/?token={token}"
    application = create_app(
        workspace, token=token, hosts=None if remote else loopback_hosts(host, real_port)
    )
    typer.echo(url)
    sys.stdout.flush()
    listing = workspace.reports()["progress"]
    echo_error(
        f"{listing['total']} report(s): {listing['done']} done, {listing['todo']} to do, "
        f"{listing['in_progress']} in progress, {listing['read_only']} read-only; "
        f"gold folder {store.root}; Ctrl+C stops"
    )
    if remote:
        echo_error(
            f"warning: serving on {host}, reachable from other machines; anyone with the URL "
            "can read the reports and write gold files"
        )
    opener = None if no_browser else open_browser(url)
    try:
        serve_forever(application, sock)
    finally:
        if opener is not None:
            opener.unlink(missing_ok=True)


def _print_stats(
    results: list[ExtractionResult], store: GoldStore, output: Path, as_json: bool
) -> None:
    problems: list[str] = []
    lines = audit.read_lines(store.audit_path, problems)
    for problem in problems:
        echo_error(f"skipped: {problem}")
    figures = correction_stats(results, lines)
    if as_json:
        typer.echo(json.dumps(stats_json(figures), ensure_ascii=False, indent=1))
    else:
        _stats_table(figures, output, store)
    for note in figures.notes:
        echo_error(f"note: {note}")
    if not lines:
        echo_error(f"note: no corrections recorded yet in {store.audit_path}")


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _tally_cells(tally: Tally) -> list[str]:
    return [str(tally.kept), str(tally.corrected), "", "", str(tally.n), _rate(tally.error_rate)]


def _stats_table(figures: CorrectionStats, output: Path, store: GoldStore) -> None:
    table = Table(
        title=f"Corrections of {output.name}: {len(figures.reports)} report(s) done "
        f"({store.audit_path})"
    )
    for name in ("category", "field", "kept", "corrected", "rejected", "added", "n", "error"):
        table.add_column(name, justify="left" if name in ("category", "field") else "right")
    for category, c in figures.categories.items():
        counts = (c.kept, c.corrected, c.rejected, c.added, c.n)
        table.add_row(category, "(records)", *map(str, counts), _rate(c.error_rate))
        for name, tally in sorted(c.fields.items()):
            table.add_row("", name, *_tally_cells(tally))
    for name, tally in sorted(figures.report_fields.items()):
        table.add_row("report", name, *_tally_cells(tally))
    print_table(table)
