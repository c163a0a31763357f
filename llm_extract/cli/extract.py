"""``llm-extract extract``: reports in, one JSON line per report out.

Exit codes: 0 every report ok; 1 some report failed or some input was bad while others
ran; 2 usage error, or no report could run at all.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from llm_extract.cli._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    cli_errors,
    configure,
    echo_duplicates,
    echo_error,
    fail,
    refuse_overwriting_inputs,
    summary_line,
)
from llm_extract.cli._fetch import FETCH, fetch_settings, pdf_limits
from llm_extract.cli._options import CALL, INPUT, MODEL, PROMPT, RUN, Options, with_options
from llm_extract.jsonl import JsonlWriter, pretty, result_line
from llm_extract.report import Report
from llm_extract.results import ExtractionResult
from llm_extract.run.aio import run_async
from llm_extract.run.runner import ReportStreamPlan, Runner
from llm_extract.settings import BASE_URL_ENV
from llm_extract.sources.files import stream_reports
from llm_extract.sources.meta import with_published

app = typer.Typer(add_completion=False)


@app.command("extract")
@with_options(MODEL, PROMPT, CALL, RUN, INPUT, FETCH)
def extract_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Reports: .txt, .html/.htm and .pdf files, folders of them, glob patterns, "
            "http(s):// URLs, .urls files (one URL per line), or - (stdin)."
        ),
    ],
    opts: Options,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="JSONL file (one line per report); else stdout."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Skip reports already in -o with status ok; re-run failed."),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Render every request; print the token and cost estimate; send nothing.",
        ),
    ] = False,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Also add the results to this dataset (needs -o)."),
    ] = None,
    published: Annotated[
        str | None,
        typer.Option("--published", help="Publication date (ISO) of the one report given."),
    ] = None,
) -> None:
    """Extract validated, source-grounded records from each report."""
    started = time.perf_counter()
    if resume and output is None:
        fail("--resume needs -o/--output (the file to continue)")
    if db is not None and output is None:
        fail("--db needs -o/--output (the results file it adds)")
    with cli_errors():
        settings, prompt = configure(opts.settings_values())
        runner = Runner(settings, prompt, on_warning=lambda m: echo_error(f"warning: {m}"))
        if not dry_run:
            runner.check_credentials()
    stream = stream_reports(
        paths,
        max_chars=settings.max_chars,
        fetch=fetch_settings(settings),
        pdf=pdf_limits(settings),
    )
    for error in stream.errors:
        echo_error(f"skipped: {error}")
    stream.on_error = lambda error: echo_error(f"skipped: {error}")
    # the same report given twice is read once: later ones are skipped as they are met
    stream.on_duplicate = lambda duplicate: echo_duplicates([duplicate])
    first = next(iter(stream), None)  # reads up to the first readable report
    if first is None:
        fail("no report to extract" if not stream.errors else "none of the inputs could be read")
    reports: Iterable[Report] = stream
    size = len(stream)
    if published is not None:
        with cli_errors():
            reports = [with_published(list(stream), published)]
        size = 1
    with cli_errors():
        refuse_overwriting_inputs([output], chain(paths, stream.origins))

    with cli_errors():
        skipped = 0
        skip: frozenset[str] = frozenset()
        if resume and output is not None:
            from llm_extract.run.resume import done_ids

            skip = done_ids(runner, reports, output)
            skipped = len(skip)
            if skipped:
                echo_error(f"resume: {skipped} report(s) already done in {output}")
        if dry_run:
            from llm_extract.cli._dryrun import print_dry_run
            from llm_extract.run.dryrun import estimate

            plan = runner.prepare([r for r in reports if r.report_id not in skip])
            print_dry_run(run_async(estimate(runner, plan)))
            raise typer.Exit(EXIT_OK)
        work = ReportStreamPlan(reports, size, skip)
        single = output is None and size == 1
        bar = sys.stderr.isatty()  # a progress bar for a person, not for a log or a pipe
        shown: list[ExtractionResult] = []
        saved = [0]
        try:
            if output is not None:
                with JsonlWriter(output, append=resume) as writer:

                    async def save(result: ExtractionResult) -> None:
                        await writer.write_async(result)
                        saved[0] += 1

                    outcome = runner.run_sync(work, on_result=save, progress=bar)
            else:

                def show(result: ExtractionResult) -> None:
                    (shown.append if single else _to_stdout)(result)
                    saved[0] += 1

                outcome = runner.run_sync(work, on_result=show, progress=bar)
        except KeyboardInterrupt:
            planned = len(work) - len(stream.duplicates)  # the duplicates met so far
            _interrupted(saved[0], planned, output, skipped)
    if shown:
        typer.echo(pretty(shown[0]))
    for result in outcome.tally.failures:
        if result.error is not None:
            echo_error(f"failed: {result.source.path}: {result.error.kind}: {result.error.message}")
    echo_error(
        summary_line(
            outcome.tally,
            elapsed_s=time.perf_counter() - started,
            bad_inputs=len(stream.errors),
            skipped=skipped,
            cache_off=outcome.cache_problem is not None,
            duplicates=len(stream.duplicates),
            concurrency=outcome.concurrency,
        )
    )
    if outcome.not_sent:
        reason = outcome.stop_reason or "budget reached"
        if outcome.unreachable:
            reason += f"; check {BASE_URL_ENV}"
        echo_error(
            f"stopped: {reason}; {outcome.not_sent} report(s) not sent"
            + (f"; run again with --resume -o {output} to finish them" if output else "")
        )
    if outcome.unreachable and not outcome.tally.ok:
        raise typer.Exit(EXIT_USAGE)  # nothing could run: the server address is wrong
    if db is not None and output is not None:
        from llm_extract.cli.db import add_to_dataset

        add_to_dataset(db, [output])
    failed = outcome.tally.failed > 0
    raise typer.Exit(EXIT_FAILED if failed or stream.errors or outcome.not_sent else EXIT_OK)


def _interrupted(saved: int, planned: int, output: Path | None, skipped: int) -> NoReturn:
    """Ctrl+C: what was saved, how to finish, exit 130 (the shell's code for SIGINT)."""
    left = planned - saved
    if output is not None:
        done = f"{saved} report(s) saved in {output}" + (
            f" (besides {skipped} done before)" if skipped else ""
        )
        echo_error(
            f"interrupted: {done}; {left} not done; run again with --resume -o {output} "
            "to finish them"
        )
    else:
        echo_error(
            f"interrupted: {saved} report(s) written to stdout, {left} not done; "
            "give -o FILE to be able to finish a run with --resume"
        )
    raise typer.Exit(EXIT_INTERRUPTED)


def _to_stdout(result: ExtractionResult) -> None:
    sys.stdout.write(result_line(result) + "\n")
    sys.stdout.flush()
