"""Helpers shared by the command modules: settings and prompt from the options, one-line
error messages on stderr, exit codes, refusing outputs that would overwrite an input, and the
end-of-run summary. The only place library errors become messages."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from llm_extract.errors import LlmExtractError, UsageError
from llm_extract.prompts import Prompt, load_prompt
from llm_extract.redact import printable, redact
from llm_extract.report import Duplicate, Report
from llm_extract.settings import Settings, known_secrets, load_settings

if TYPE_CHECKING:
    from llm_extract.run.tally import Tally

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl+C, as a shell reports a process ended by SIGINT


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
    """One line on stderr, never a secret (the API key, the credentials of a URL), never a
    control character or bidi override raw."""
    message = printable(redact(message, known_secrets()))
    typer.echo(" ".join(message.split()), err=True)


def echo(text: str, *, err: bool = False) -> None:
    """A line of data for a person (a path, a name, a text): control characters and bidi
    overrides written as visible escapes, never raw on the terminal."""
    typer.echo(printable(text), err=err)


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
    link: the same device and inode). ``inputs`` is gone through once, one at a time (a run
    may name a million files): each output is stat'ed once, each input once."""
    targets: dict[tuple[int, int], tuple[int, Path]] = {}
    for index, output in enumerate(outputs):
        if output is None:
            continue
        identity = _file_identity(output)
        if identity is not None:
            targets.setdefault(identity, (index, output))
    if not targets:
        return
    first = min(index for index, _ in targets.values())
    found: tuple[int, Path, str | Path] | None = None
    for source in inputs:
        if str(source) in ("", "-"):
            continue
        hit = targets.get(_file_identity(source) or (-1, -1))
        if hit is not None and (found is None or hit[0] < found[0]):
            found = (*hit, source)
            if hit[0] == first:
                break
    if found is not None:
        _, output, source = found
        raise UsageError(f"{output}: is also an input ({Path(source)}); choose another output")


def _file_identity(path: str | Path) -> tuple[int, int] | None:
    """A file's device and inode (through links), or None when there is no such file."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):  # missing, unreadable, or a name no file can have
        return None
    return info.st_dev, info.st_ino


def summary_line(
    tally: Tally,
    *,
    elapsed_s: float,
    bad_inputs: int = 0,
    skipped: int = 0,
    cache_off: bool = False,
    duplicates: int = 0,
    concurrency: str | None = None,
) -> str:
    """``3 ok, 1 failed, ...; 5 retried: 3 x 429, 2 x 500; 12,345 tokens, $0.0021; 4.2 s``
    (retries, tokens and cost of the requests made in this run), then what ``--concurrency
    auto`` settled on and how it paced the run, when it ran."""
    cost = "cost unknown" if tally.cost_usd is None else f"${tally.cost_usd:.4f}"
    parts = [f"{tally.ok} ok", f"{tally.failed} failed"]
    if bad_inputs:
        parts.append(f"{bad_inputs} bad input{'s' if bad_inputs != 1 else ''}")
    if skipped:
        parts.append(f"{skipped} skipped (already done)")
    if duplicates:
        parts.append(f"{duplicates} duplicate{'s' if duplicates != 1 else ''} skipped")
    if tally.cached:
        parts.append(f"{tally.cached} from cache")
    if cache_off:
        parts.append("cache off")
    retried = f"; {retries_text(tally.retries)}" if tally.retries else ""
    line = f"{', '.join(parts)}{retried}; {tally.tokens:,} tokens, {cost}; {elapsed_s:.1f} s"
    return f"{line}; {concurrency}" if concurrency else line


def retries_text(retries: Mapping[str, int]) -> str:
    """``37 retried: 20 x 429, 17 x 500`` (the most frequent reason first)."""
    reasons = sorted(retries.items(), key=lambda item: (-item[1], item[0]))
    listed = ", ".join(f"{count} x {reason}" for reason, count in reasons)
    return f"{sum(retries.values())} retried: {listed}"


def echo_duplicates(duplicates: Sequence[Duplicate[Report]]) -> None:
    """One line per input left out as the same report as another, naming the one kept."""
    for duplicate in duplicates:
        echo_error(
            f"skipped: {duplicate.item.path}: same report as {duplicate.kept.path} "
            f"({duplicate.reason}); kept {duplicate.kept.path}"
        )
