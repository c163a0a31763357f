"""``llm-extract extract``: reports in, one JSON line per report out.

Exit codes: 0 every report ok; 1 some report failed or some input was bad while others
ran; 2 usage error, or no report could run at all.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

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
from llm_extract.inputs import DEFAULT_MAX_CHARS, read_reports
from llm_extract.models import RULES_MODEL
from llm_extract.models.base import ModelSettings
from llm_extract.output import JsonlWriter, finished_results, pretty, result_line
from llm_extract.pipeline import key_for, run_extraction
from llm_extract.prompts import Prompt, load_prompt
from llm_extract.results import ExtractionResult, Report

DEFAULT_PROMPT = "guided"


@app.command("extract")
def extract_command(
    paths: Annotated[
        list[str],
        typer.Argument(help="Report files, folders of .txt files, glob patterns, or - (stdin)."),
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
    prompts_dir: Annotated[
        Path | None,
        typer.Option(
            "--prompts-dir",
            help="Prompt folder (default: $LLM_EXTRACT_PROMPTS_DIR, "
            "./prompts, else the checkout's prompts/).",
        ),
    ] = None,
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
        require_credentials(settings)
    reports, errors = read_reports(paths, max_chars=max_chars)
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

    results = _run(
        reports, output, prompt, settings, concurrency, cache=not no_cache, resume=resume
    )
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
    failed = any(r.status == "failed" for r in results)
    raise typer.Exit(EXIT_FAILED if failed or errors else EXIT_OK)


def _pending(
    reports: list[Report], output: Path, prompt: Prompt, settings: ModelSettings
) -> tuple[list[Report], int]:
    """Reports not yet done in ``output``; refuses a file written with other settings."""
    done = finished_results(output)
    pending: list[Report] = []
    stale: list[str] = []
    for report in reports:
        previous = done.get(report.report_id)
        if previous is None:
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
) -> list[ExtractionResult]:
    with cli_errors():
        response_cache = None
        if cache and settings.model != RULES_MODEL:  # offline answers are not cached
            from llm_extract.cache import ResponseCache

            response_cache = ResponseCache()
        if output is not None:
            with JsonlWriter(output, append=resume) as writer:
                return run_extraction(
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

        return run_extraction(
            reports,
            prompt=prompt,
            settings=settings,
            cache=response_cache,
            concurrency=concurrency,
            on_result=to_stdout,
            progress=True,
        )
    raise AssertionError("unreachable")  # cli_errors exits on error
