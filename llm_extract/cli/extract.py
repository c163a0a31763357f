"""``llm-extract extract``: reports in, one JSON line per report out.

Exit codes: 0 every report ok; 1 some report failed or some input was bad while others
ran; 2 usage error, or no report could run at all.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

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
    summary_line,
)
from llm_extract.cli._fetch import (
    DEFAULT_FETCH_CONCURRENCY,
    DEFAULT_FETCH_TIMEOUT,
    FetchConcurrency,
    FetchTimeout,
    fetch_settings,
)
from llm_extract.cli._scale import print_dry_run
from llm_extract.jsonl import JsonlWriter, finished_results, pretty, result_line
from llm_extract.prompts import Prompt, load_prompt
from llm_extract.report import Report
from llm_extract.results import ExtractionResult
from llm_extract.run.budget import BUDGET_KIND
from llm_extract.run.pipeline import key_for
from llm_extract.run.stack import (
    DEFAULT_CHUNK_CHARS,
    DEFAULT_CHUNK_OVERLAP,
    RunLimits,
    build_stack,
    run_stack,
)
from llm_extract.run.stack import dry_run as dry_run_estimate
from llm_extract.sources.files import DEFAULT_MAX_CHARS, read_reports

DEFAULT_PROMPT = "guided"


@app.command("extract")
def extract_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Reports: .txt, .html/.htm and .pdf files, folders of them, glob patterns, "
            "http(s):// URLs, .urls files (one URL per line), or - (stdin)."
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="JSONL file (one line per report); else stdout."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Model name, or 'rules' for the offline extractor "
            "(default: $LLM_EXTRACT_MODEL, else gpt-4o-mini).",
        ),
    ] = None,
    prompt_name: Annotated[
        str, typer.Option("--prompt", "-p", help="Prompt name (prompts/<name>.toml) or file.")
    ] = DEFAULT_PROMPT,
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode", help="tools | json_schema | md_json (default: the prompt's, else tools)."
        ),
    ] = None,
    temperature: Annotated[float | None, typer.Option("--temperature")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens")] = None,
    max_reasks: Annotated[
        int | None, typer.Option("--max-reasks", help="Re-asks after a validation error.")
    ] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds per request.")] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-j", min=1, help="Reports in flight at once.")
    ] = 8,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Skip reports already in -o with status ok; re-run failed."),
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")
    ] = False,
    max_chars: Annotated[
        int, typer.Option("--max-chars", min=1, help="Longest report accepted, in characters.")
    ] = DEFAULT_MAX_CHARS,
    fetch_concurrency: FetchConcurrency = DEFAULT_FETCH_CONCURRENCY,
    fetch_timeout: FetchTimeout = DEFAULT_FETCH_TIMEOUT,
    prompts_dir: Annotated[
        Path | None,
        typer.Option(
            "--prompts-dir",
            help="Prompt folder (default: $LLM_EXTRACT_PROMPTS_DIR, "
            "./prompts, else the checkout's prompts/).",
        ),
    ] = None,
    rpm: Annotated[
        int | None,
        typer.Option("--rpm", min=1, help="Requests per minute at most (every attempt counts)."),
    ] = None,
    tpm: Annotated[
        int | None,
        typer.Option("--tpm", min=1, help="Tokens per minute at most (estimated, then settled)."),
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost", help="Stop before spending more than this many dollars (resumable)."
        ),
    ] = None,
    max_tokens_total: Annotated[
        int | None,
        typer.Option(
            "--max-tokens-total", min=1, help="Stop before using more tokens (resumable)."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Render every request; print the token and cost estimate; send nothing.",
        ),
    ] = False,
    log: Annotated[
        bool,
        typer.Option("--log/--no-log", help="Log every request and answer (llm-extract logs ID)."),
    ] = False,
    chunk_chars: Annotated[
        int,
        typer.Option(
            "--chunk-chars", min=0, help="Split longer reports on paragraphs (0: never split)."
        ),
    ] = DEFAULT_CHUNK_CHARS,
    chunk_overlap: Annotated[
        int, typer.Option("--chunk-overlap", min=0, help="Characters shared by two chunks.")
    ] = DEFAULT_CHUNK_OVERLAP,
) -> None:
    """Extract validated, source-grounded records from each report."""
    started = time.perf_counter()
    if resume and output is None:
        fail("--resume needs -o/--output (the file to continue)")
    with cli_errors():
        prompt = load_prompt(prompt_name, prompts_dir)
        settings = build_settings(
            model=model,
            prompt=prompt,
            mode=mode,
            temperature=temperature,
            max_tokens=max_tokens,
            max_reasks=max_reasks,
            timeout_s=timeout,
        )
        if not dry_run:
            require_credentials(settings)
        limits = RunLimits(
            rpm=rpm,
            tpm=tpm,
            max_cost=max_cost,
            max_tokens_total=max_tokens_total,
            log=log,
            chunk_chars=chunk_chars or None,
            chunk_overlap=chunk_overlap,
        )
    reports, errors = read_reports(
        paths, max_chars=max_chars, fetch=fetch_settings(fetch_concurrency, fetch_timeout)
    )
    for error in errors:
        echo_error(f"skipped: {error}")
    if not reports:
        fail("no report to extract" if not errors else "none of the inputs could be read")

    skipped = 0
    if resume and output is not None:
        with cli_errors():
            reports, skipped = _pending(reports, output, prompt, settings)
        if skipped:
            echo_error(f"resume: {skipped} report(s) already done in {output}")
    if dry_run:
        with cli_errors():
            print_dry_run(dry_run_estimate(reports, prompt, settings, limits))
        raise typer.Exit(EXIT_OK)

    results = _run(
        reports,
        output,
        prompt,
        settings,
        concurrency,
        cache=not no_cache,
        resume=resume,
        limits=limits,
    )
    not_sent = [r for r in results if _not_sent(r)]
    results = [r for r in results if not _not_sent(r)]
    if output is None and len(results) == 1:
        typer.echo(pretty(results[0]))
    for result in results:
        if result.status == "failed" and result.error is not None:
            echo_error(f"failed: {result.source.path}: {result.error.kind}: {result.error.message}")
    echo_error(
        summary_line(
            results,
            elapsed_s=time.perf_counter() - started,
            bad_inputs=len(errors),
            skipped=skipped,
        )
    )
    if not_sent:
        reason = not_sent[0].error.message if not_sent[0].error else "budget reached"
        echo_error(
            f"stopped: {reason}; {len(not_sent)} report(s) not sent"
            + (f"; run again with --resume -o {output} to finish them" if output else "")
        )
    failed = any(r.status == "failed" for r in results)
    raise typer.Exit(EXIT_FAILED if failed or errors or not_sent else EXIT_OK)


def _not_sent(result: ExtractionResult) -> bool:
    """A report the budget stopped before it was sent (no output line; --resume runs it)."""
    return result.error is not None and result.error.kind == BUDGET_KIND


def _pending(
    reports: list[Report], output: Path, prompt: Prompt, settings: ModelSettings
) -> tuple[list[Report], int]:
    """Reports not yet done in ``output``; refuses a file written with other settings.

    A report whose text or publication date has changed since (a web page updated since it
    was fetched) is not done: it runs again and its new line wins.
    """
    done = finished_results(output)
    pending: list[Report] = []
    stale: list[str] = []
    for report in reports:
        previous = done.get(report.report_id)
        changed = previous is not None and (
            previous.source.sha256 != report.sha256 or previous.source.published != report.published
        )
        if previous is None or changed:
            pending.append(report)
        elif previous.request_key != key_for(report, prompt.render(report), prompt, settings):
            stale.append(report.report_id)
        # else: finished with these very settings: skip it
    if stale:
        fail(
            f"{output}: {len(stale)} report(s) (e.g. {stale[0]}) were extracted with another "
            "model, prompt, report text or parameters; use another -o, or drop --resume to "
            "start the file afresh"
        )
    return pending, len(reports) - len(pending)


def _run(
    reports: list[Report],
    output: Path | None,
    prompt: Prompt,
    settings: ModelSettings,
    concurrency: int,
    *,
    cache: bool,
    resume: bool,
    limits: RunLimits | None = None,
) -> list[ExtractionResult]:
    stack_limits = limits or RunLimits()

    def run_limited(
        reports: list[Report], *, on_result: Callable[[ExtractionResult], None], **options: Any
    ) -> list[ExtractionResult]:
        def keep(result: ExtractionResult) -> None:
            if not _not_sent(result):  # left out of the output so that --resume sends it
                on_result(result)

        stack = build_stack(options["settings"], options["prompt"], stack_limits)
        return run_stack(stack, reports, on_result=keep, **options)

    with cli_errors():
        response_cache = None
        if cache and settings.model != RULES_MODEL:  # offline answers are not cached
            from llm_extract.run.cache import ResponseCache

            response_cache = ResponseCache()
        if output is not None:
            with JsonlWriter(output, append=resume) as writer:
                return run_limited(
                    reports,
                    prompt=prompt,
                    settings=settings,
                    cache=response_cache,
                    concurrency=concurrency,
                    on_result=writer.write,
                    progress=True,
                )
        single = len(reports) == 1

        def to_stdout(result: ExtractionResult) -> None:
            if not single:
                sys.stdout.write(result_line(result) + "\n")
                sys.stdout.flush()

        return run_limited(
            reports,
            prompt=prompt,
            settings=settings,
            cache=response_cache,
            concurrency=concurrency,
            on_result=to_stdout,
            progress=True,
        )
    raise AssertionError("unreachable")  # cli_errors exits on error
