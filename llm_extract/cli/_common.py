"""Helpers shared by the command modules: settings and prompt from the options, one-line
error messages on stderr, exit codes, refusing outputs that would overwrite an input, and the
end-of-run summary. The only place library errors become messages."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from llm_extract.errors import LlmExtractError, UsageError
from llm_extract.prompts import Prompt, load_prompt
from llm_extract.redact import redact
from llm_extract.settings import Settings, known_secrets, load_settings

if TYPE_CHECKING:
    from llm_extract.run.tally import Tally

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def configure(values: Mapping[str, Any], **fixed: Any) -> tuple[Settings, Prompt]:
    """The run's settings and prompt: options (and ``fixed`` values) first, then the
    environment, the prompt file's ``[params]`` and the defaults (:mod:`llm_extract.settings`).
    Raises :class:`UsageError`."""
    given = {**values, **fixed}
    first = load_settings(given)
    prompt = load_prompt(first.prompt, first.prompts_dir)
    if not prompt.params:
        return first, prompt
    settings = load_settings(given, prompt_params=prompt.params, prompt_origin=prompt.path)
    return settings, prompt


def echo_error(message: str) -> None:
    """One line on stderr, never a secret (the API key, the credentials of a URL)."""
    message = redact(message, known_secrets())
    typer.echo(" ".join(message.split()), err=True)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    echo_error(f"error: {message}")
    raise typer.Exit(code)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Library errors become one line on stderr and exit code 2."""
    try:
        yield
    except LlmExtractError as exc:
        fail(str(exc))


def refuse_overwriting_inputs(outputs: Iterable[Path | None], inputs: Iterable[str | Path]) -> None:
    """A usage error when an output is one of the inputs (the same file, through any name or
    link), or an input file lies in an output folder that would be written over."""
    existing = [Path(i) for i in inputs if str(i) not in ("", "-") and Path(i).exists()]
    for output in outputs:
        if output is None or not output.exists():
            continue
        for source in existing:
            if _same_file(output, source):
                raise UsageError(f"{output}: is also an input ({source}); choose another output")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def summary_line(
    tally: Tally,
    *,
    elapsed_s: float,
    bad_inputs: int = 0,
    skipped: int = 0,
    cache_off: bool = False,
    concurrency: str | None = None,
) -> str:
    """``3 ok, 1 failed, ...; 12,345 tokens, $0.0021; 4.2 s`` (tokens and cost of new calls),
    then what ``--concurrency auto`` settled on and how it paced the run, when it ran."""
    cost = "cost unknown" if tally.cost_usd is None else f"${tally.cost_usd:.4f}"
    parts = [f"{tally.ok} ok", f"{tally.failed} failed"]
    if bad_inputs:
        parts.append(f"{bad_inputs} bad input{'s' if bad_inputs != 1 else ''}")
    if skipped:
        parts.append(f"{skipped} skipped (already done)")
    if tally.cached:
        parts.append(f"{tally.cached} from cache")
    if cache_off:
        parts.append("cache off")
    line = f"{', '.join(parts)}; {tally.tokens:,} tokens, {cost}; {elapsed_s:.1f} s"
    return f"{line}; {concurrency}" if concurrency else line
