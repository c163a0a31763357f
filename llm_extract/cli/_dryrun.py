"""Printing for the scale options of ``extract`` (``--dry-run``)."""

from __future__ import annotations

import typer

from llm_extract.run.dryrun import PROMPT_CACHE_MIN_TOKENS, DryRun


def _dollars(value: float | None) -> str:
    return "unknown (no price for this model)" if value is None else f"${value:,.4f}"


def print_dry_run(estimate: DryRun) -> None:
    """The estimate of a run, on stdout: per request, then totals and cost."""
    typer.echo(f"dry run: nothing sent; model {estimate.model}")
    for request in estimate.requests:
        typer.echo(
            f"  {request.report_id}: ~{request.prompt_tokens:,} prompt tokens, "
            f"up to {request.max_completion_tokens:,} answer tokens"
        )
    n = len(estimate.requests)
    typer.echo(
        f"{n} request(s): ~{estimate.prompt_tokens:,} prompt tokens, up to "
        f"{estimate.max_completion_tokens:,} answer tokens (max_tokens per request)"
    )
    shared = estimate.shared_prefix_tokens
    cacheable = shared >= PROMPT_CACHE_MIN_TOKENS
    typer.echo(
        f"static prompt prefix shared by every request: ~{shared:,} tokens"
        + (" (cacheable by the provider)" if cacheable else " (too short for prompt caching)")
        if n > 1
        else "static prompt prefix: one request only"
    )
    typer.echo(f"estimated cost, prompts only: {_dollars(estimate.cost_prompt_only)}")
    typer.echo(
        f"estimated cost, upper bound (every answer max_tokens long): "
        f"{_dollars(estimate.cost_upper_bound)}"
    )
    if cacheable and n > 1:
        typer.echo(
            f"upper bound with the shared prefix served from the prompt cache: "
            f"{_dollars(estimate.cost_cached_prompt)}"
        )
