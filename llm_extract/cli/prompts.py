"""``llm-extract prompts``: the prompts available, with their description and hash."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llm_extract.cli._common import cli_errors, echo, fail
from llm_extract.prompts import list_prompts, prompt_dirs

app = typer.Typer(add_completion=False)


@app.command("prompts")
def prompts_command(
    prompts_dir: Annotated[
        Path | None,
        typer.Option(
            "--prompts-dir",
            help="Prompt folder searched first (then $LLM_EXTRACT_PROMPTS_DIR, ./prompts, "
            "and the prompts that ship with the package).",
        ),
    ] = None,
) -> None:
    """List the prompts: name, hash, description and the file each one comes from."""
    with cli_errors():
        prompts = list_prompts(prompts_dir)
        dirs = prompt_dirs(prompts_dir)
    if not prompts:
        fail(f"no prompt files (*.toml) in {', '.join(map(str, dirs)) or 'any prompt folder'}")
    width = max(len(p.name) for p in prompts)
    for prompt in prompts:
        echo(f"{prompt.name:<{width}}  {prompt.hash[:12]}  {prompt.description}  ({prompt.path})")
