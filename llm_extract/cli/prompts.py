"""``llm-extract prompts``: the prompts available, with their description and hash."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llm_extract.cli import app
from llm_extract.cli._common import cli_errors, fail
from llm_extract.prompts import list_prompts, resolve_prompts_dir


@app.command("prompts")
def prompts_command(
    prompts_dir: Annotated[
        Path | None,
        typer.Option(
            "--prompts-dir",
            help="Prompt folder (default: $LLM_EXTRACT_PROMPTS_DIR, "
            "./prompts, else the checkout's prompts/).",
        ),
    ] = None,
) -> None:
    """List the prompts: name, hash, description."""
    with cli_errors():
        prompts = list_prompts(prompts_dir)
    if not prompts:
        fail(f"no prompt files (*.toml) in {resolve_prompts_dir(prompts_dir)}")
    width = max(len(p.name) for p in prompts)
    for prompt in prompts:
        typer.echo(f"{prompt.name:<{width}}  {prompt.hash[:12]}  {prompt.description}")
