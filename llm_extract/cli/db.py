"""``llm-extract db``: the event dataset (one SQLite file; see docs/dataset.md).

``add`` loads result files and gold files, ``prefer`` chooses the configuration of the
current view, ``link`` rebuilds the events, ``eval-links`` scores the linking on the links
gold, ``places --unknown`` lists places the gazetteer lacks, ``summary`` and ``export`` read
the events, ``serve`` opens the dataset in Datasette on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from llm_extract.cli._common import cli_errors, echo_error, fail, refuse_overwriting_inputs
from llm_extract.dataset.linking import THRESHOLD, TOLERANCE_DAYS
from llm_extract.schemas import CATEGORIES

app = typer.Typer(add_completion=False, no_args_is_help=True)

DbOption = Annotated[Path, typer.Option("--db", help="The dataset file (created when absent).")]


def _existing(db: Path) -> None:
    """Commands that read the dataset refuse a file that is not there (never create it)."""
    if not db.is_file():
        fail(f"{db}: no such dataset (llm-extract db add ... --db {db} makes one)")


@app.callback()
def _db() -> None:
    """The event dataset: reports, runs, records, corrections and linked events."""


def add_to_dataset(db: Path, results: list[Path]) -> None:
    """Add result files to the dataset ``db`` and say what was added (``extract --db``)."""
    from llm_extract.dataset.schema import open_store
    from llm_extract.dataset.store import add_results

    with cli_errors():
        refuse_overwriting_inputs([db], results)
        store = open_store(db)
        try:
            added = add_results(store, results)
        finally:
            store.close()
    typer.echo(
        f"dataset {db}: runs: {added.runs} added, {added.runs_known} already in; reports: "
        f"{added.reports} new; records: {added.records}; failures: {added.failures}; "
        f"dropped: {added.dropped}"
    )


@app.command("add")
def add_command(
    results: Annotated[
        list[Path] | None, typer.Argument(help="Result files (JSONL written by extract).")
    ] = None,
    db: DbOption = Path("events.db"),
    gold: Annotated[
        Path | None,
        typer.Option("--gold", help="A gold folder (annotate's output): corrections."),
    ] = None,
    reports: Annotated[
        list[Path] | None,
        typer.Option("--reports", help="Folders of the gold files' report texts (repeatable)."),
    ] = None,
) -> None:
    """Add result files (runs, reports, records) and gold files (corrections)."""
    from llm_extract.dataset.schema import open_store
    from llm_extract.dataset.store import add_gold

    if not results and gold is None:
        fail("give result files, --gold DIR, or both")
    with cli_errors():
        refuse_overwriting_inputs([db], [*(results or []), *([gold] if gold else [])])
    if results:
        add_to_dataset(db, results)
    if gold is None:
        return
    with cli_errors():
        store = open_store(db)
        try:
            added = add_gold(store, gold, reports or [gold.parent / "reports"])
        finally:
            store.close()
    typer.echo(
        f"dataset {db}: corrections: {added.corrections} added, {added.corrections_known} "
        f"already in; records: {added.records}"
    )
    for line in added.skipped:
        echo_error(f"skipped: {line}")


@app.command("prefer")
def prefer_command(
    prompt: Annotated[str, typer.Option("--prompt", help="Prompt name of the runs to prefer.")],
    model: Annotated[str, typer.Option("--model", help="Model of the runs to prefer.")],
    db: DbOption = Path("events.db"),
) -> None:
    """Prefer one configuration's runs where a report has no correction."""
    _existing(db)
    from llm_extract.dataset.schema import open_store
    from llm_extract.dataset.store import prefer

    with cli_errors():
        store = open_store(db)
        try:
            count = prefer(store, prompt, model)
        finally:
            store.close()
    typer.echo(f"preferred {prompt} x {model}: {count} report(s) now from it")


@app.command("link")
def link_command(
    db: DbOption = Path("events.db"),
    tolerance: Annotated[
        int, typer.Option("--tolerance", min=0, max=7, help="Days two mentions may differ.")
    ] = TOLERANCE_DAYS,
    threshold: Annotated[float, typer.Option("--threshold", help="Points of a link.")] = THRESHOLD,
) -> None:
    """Link the current records into events (summary, export and serve do it when needed)."""
    _existing(db)
    from llm_extract.dataset.events import link_store
    from llm_extract.dataset.schema import open_store

    with cli_errors():
        store = open_store(db)
        try:
            events = link_store(store, tolerance=tolerance, threshold=threshold)
            mentions = store.table("mentions").count
        finally:
            store.close()
    typer.echo(f"{events} event(s) from {mentions} mention(s)")


@app.command("eval-links")
def eval_links_command(
    links: Annotated[Path, typer.Option("--links", help="The links gold folder.")] = Path(
        "evals/links"
    ),
    evals: Annotated[
        Path, typer.Option("--evals-dir", help="The eval folder of the monthly reports.")
    ] = Path("evals"),
    tolerance: Annotated[
        int, typer.Option("--tolerance", min=0, max=7, help="Days two mentions may differ.")
    ] = TOLERANCE_DAYS,
    threshold: Annotated[float, typer.Option("--threshold", help="Points of a link.")] = THRESHOLD,
    show: Annotated[bool, typer.Option("--show", help="List the wrong pairs.")] = False,
) -> None:
    """Precision and recall of the linking on the links gold."""
    from llm_extract.dataset.linkgold import load_link_gold, score_links

    with cli_errors():
        gold = load_link_gold(links, evals)
        scores = score_links(gold, tolerance=tolerance, threshold=threshold)
    typer.echo(
        f"reports {len(gold.reports)}  mentions {scores.mentions}  gold pairs {scores.gold}  "
        f"linked pairs {scores.predicted}  correct {scores.true_positives}"
    )
    typer.echo(f"precision {scores.precision:.3f}  recall {scores.recall:.3f}")
    if show:
        for a, b in scores.false_positives:
            typer.echo(f"false link: {'/'.join(map(str, a))} ~ {'/'.join(map(str, b))}")
        for a, b in scores.false_negatives:
            typer.echo(f"missed: {'/'.join(map(str, a))} ~ {'/'.join(map(str, b))}")


@app.command("places")
def places_command(
    db: DbOption = Path("events.db"),
    unknown: Annotated[
        bool, typer.Option("--unknown", help="Places the gazetteer lacks (to add to it).")
    ] = False,
) -> None:
    """Places of the current records; --unknown: those the gazetteer lacks."""
    _existing(db)
    from llm_extract.dataset.reading import unknown_places
    from llm_extract.dataset.schema import open_store

    if not unknown:
        fail("only --unknown is available: places the gazetteer lacks")
    with cli_errors():
        store = open_store(db)
        try:
            places = unknown_places(store)
        finally:
            store.close()
    console = Console(markup=False, highlight=False)
    for name, count in places:
        console.print(f"{count}\t{name}")
    echo_error(f"{len(places)} place(s) the gazetteer lacks")


@app.command("summary")
def summary_command(
    db: DbOption = Path("events.db"),
    by: Annotated[str, typer.Option("--by", help="coalition or calendar months.")] = "coalition",
) -> None:
    """Events per month and category, each event counted once."""
    _existing(db)
    from llm_extract.dataset.reading import month_series
    from llm_extract.dataset.schema import open_store

    with cli_errors():
        store = open_store(db)
        try:
            rows = month_series(store, by)
        finally:
            store.close()
    table = Table("month", *CATEGORIES, "mentions")
    for row in rows:
        table.add_row(row.month, *(str(row.events[c]) for c in CATEGORIES), str(row.mentions))
    Console(width=160, markup=False).print(table)


@app.command("export")
def export_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    db: DbOption = Path("events.db"),
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, parquet or xlsx.")] = "csv",
) -> None:
    """One row per event (ACLED-style) with its mentions, sources and provenance."""
    _existing(db)
    from llm_extract.dataset.reading import export_events
    from llm_extract.dataset.schema import open_store

    with cli_errors():
        refuse_overwriting_inputs([output], [db])
        store = open_store(db)
        try:
            path = export_events(store, fmt, output)
        finally:
            store.close()
    typer.echo(f"events: {path}")


@app.command("serve")
def serve_command(
    db: DbOption = Path("events.db"),
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0: a free one).")
    ] = 8001,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser.")
    ] = False,
) -> None:
    """Open the dataset in Datasette on 127.0.0.1 (needs llm-extract[dataset])."""
    from llm_extract.dataset.browse import build_datasette
    from llm_extract.dataset.events import ensure_linked
    from llm_extract.dataset.schema import open_store
    from llm_extract.reporting.annotate.server import bind, serve_forever

    _existing(db)
    with cli_errors():
        store = open_store(db)
        try:
            ensure_linked(store)
        finally:
            store.close()
        asgi = build_datasette(db).app()
        sock = bind("127.0.0.1", port)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    echo_error(f"serving {db} at {url} (Ctrl+C to stop)")
    if not no_browser:
        import webbrowser

        webbrowser.open(url)
    serve_forever(asgi, sock)
