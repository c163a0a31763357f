"""Command-line options shared by the commands, each declared once.

A command takes a group of them with a decorator, as ``simonw/llm`` does with click::

    @app.command("extract")
    @with_options(MODEL, CALL, RUN, INPUT)
    def extract_command(paths: ..., opts: Options) -> None:
        settings, prompt = configure(opts)

The decorator adds the options to the command's signature (so ``--help`` lists them, with
their help) and hands their values to the command as one :class:`Options` mapping, in which
``None`` means "not given" (the environment, the prompt file or the default then decide:
:mod:`llm_extract.settings`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from llm_extract.settings import AUTO_ORDER, MODES

F = TypeVar("F", bound=Callable[..., Any])

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model name, or 'rules' for the offline extractor "
        "(default: $LLM_EXTRACT_MODEL, else gpt-4o-mini).",
    ),
]
BatchModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model name of the OpenAI Batch API or a compatible server (default: "
        "$LLM_EXTRACT_MODEL, else gpt-4o-mini); the offline extractor has no Batch API.",
    ),
]
PromptOption = Annotated[
    str | None,
    typer.Option(
        "--prompt",
        "-p",
        help="Prompt name (looked up in the prompt folders) or .toml file (default: guided).",
    ),
]
PromptsDirOption = Annotated[
    Path | None,
    typer.Option(
        "--prompts-dir",
        help="Prompt folder searched first (else $LLM_EXTRACT_PROMPTS_DIR), then ./prompts, "
        "then the prompts that ship with the package.",
    ),
]
ModeOption = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help=f"How the answer is held to the schema: {' | '.join(MODES)} (default: the "
        "prompt's, else auto: tools on OpenAI's API; on other servers the first of "
        f"{', '.join(AUTO_ORDER)} the server takes, remembered). Which server takes which "
        "mode: the 'Model servers and modes' page of the documentation.",
    ),
]
TemperatureOption = Annotated[
    float | None, typer.Option("--temperature", help="Sampling temperature, 0 to 2 (default 0).")
]
MaxTokensOption = Annotated[
    int | None,
    typer.Option("--max-tokens", help="Answer tokens per request at most (default 4096)."),
]
MaxReasksOption = Annotated[
    int | None,
    typer.Option("--max-reasks", help="Re-asks after a validation error (default 2)."),
]
TimeoutOption = Annotated[
    float | None, typer.Option("--timeout", help="Seconds per request (default 120).")
]
ConcurrencyOption = Annotated[
    str | None,
    typer.Option(
        "--concurrency",
        "-j",
        help="Requests in flight at once: a number, or auto (the default: found from the "
        "server's answers, its rate-limit headers and latency).",
    ),
]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")
]
RpmOption = Annotated[
    int | None,
    typer.Option("--rpm", help="Requests per minute at most (every attempt counts)."),
]
TpmOption = Annotated[
    int | None,
    typer.Option("--tpm", help="Tokens per minute at most (estimated, then settled)."),
]
MaxCostOption = Annotated[
    float | None,
    typer.Option("--max-cost", help="Stop before spending more than this many dollars."),
]
MaxTokensTotalOption = Annotated[
    int | None, typer.Option("--max-tokens-total", help="Stop before using more tokens.")
]
LogOption = Annotated[
    bool,
    typer.Option("--log", help="Log every request and answer (see `llm-extract logs ID`)."),
]
ChunkCharsOption = Annotated[
    int | None,
    typer.Option(
        "--chunk-chars",
        help="Split longer reports on paragraphs, in characters (default 30000; 0: never).",
    ),
]
ChunkOverlapOption = Annotated[
    int | None,
    typer.Option(
        "--chunk-overlap",
        help="Characters two chunks share (default: 5% of --chunk-chars; at most half).",
    ),
]
MaxCharsOption = Annotated[
    int | None,
    typer.Option("--max-chars", help="Longest report accepted, in characters (default 100000)."),
]

ReportTextsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--reports",
        help="Folder of the report texts, repeatable (default: each result's source.path).",
    ),
]

#: name -> (annotation, default). The flags (``--no-cache``, ``--log``) default to False and
#: count as "not given" then.
MODEL = {"model": (ModelOption, None)}
BATCH_MODEL = {"model": (BatchModelOption, None)}
PROMPTS_DIR = {"prompts_dir": (PromptsDirOption, None)}
PROMPT = {"prompt": (PromptOption, None), **PROMPTS_DIR}
CALL = {
    "mode": (ModeOption, None),
    "temperature": (TemperatureOption, None),
    "max_tokens": (MaxTokensOption, None),
    "max_reasks": (MaxReasksOption, None),
    "timeout": (TimeoutOption, None),
}
RUN = {
    "concurrency": (ConcurrencyOption, None),
    "no_cache": (NoCacheOption, False),
    "rpm": (RpmOption, None),
    "tpm": (TpmOption, None),
    "max_cost": (MaxCostOption, None),
    "max_tokens_total": (MaxTokensTotalOption, None),
    "log": (LogOption, False),
    "chunk_chars": (ChunkCharsOption, None),
    "chunk_overlap": (ChunkOverlapOption, None),
}
INPUT = {"max_chars": (MaxCharsOption, None)}


class Options(dict[str, Any]):
    """The shared options a command was given, by name (``None``: not given)."""

    def settings_values(self) -> dict[str, Any]:
        """The values as :class:`~llm_extract.settings.Settings` fields."""
        values = dict(self)
        if "no_cache" in values:
            values["cache"] = False if values.pop("no_cache") else None
        if "log" in values:
            values["log"] = True if values["log"] else None
        return values


def with_options(*groups: dict[str, tuple[Any, Any]]) -> Callable[[F], F]:
    """Add the options of ``groups`` to a command; it receives them as ``opts``."""
    shared: dict[str, tuple[Any, Any]] = {}
    for group in groups:
        shared.update(group)

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "opts"]
        added = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hint
            )
            for name, (hint, default) in shared.items()
        ]
        hints = {p.name: p.annotation for p in own}

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            opts = Options(
                {name: kwargs.pop(name, default) for name, (_, default) in shared.items()}
            )
            return command(*args, opts=opts, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {**hints, **{name: hint for name, (hint, _) in shared.items()}}
        return wrapper  # type: ignore[return-value]

    return decorate
