"""The ``llm-extract`` command line: one module per command group, loaded when it runs.

Every command is listed in :data:`COMMANDS` with the module that defines it and its one-line
help. ``llm-extract --help`` lists them from there without importing any of them, and a
command's module (with what it needs: the run layer, scipy for scoring, pandas for exports,
Starlette for the annotation app...) is imported only when that command runs or shows its own
help. Each command module defines its commands on its own ``app`` (a :class:`typer.Typer`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from llm_extract import __version__

# typer vendors click (since 0.26) and exports none of its classes: the context, command and
# formatter objects typer hands the group below are typed ``Any`` rather than imported from
# its private ``typer._click``.


@dataclass(frozen=True)
class CommandEntry:
    """One command of ``llm-extract``: the module under ``llm_extract.cli`` that defines it,
    and the line ``llm-extract --help`` shows for it."""

    module: str
    help: str


#: The commands, in the order ``--help`` lists them.
COMMANDS: dict[str, CommandEntry] = {
    "extract": CommandEntry("extract", "Extract validated, source-grounded records from reports."),
    "prompts": CommandEntry("prompts", "List the prompts: name, hash, description and file."),
    "eval": CommandEntry(
        "eval", "Score prompts x models on the gold set; `eval compare` shows two saved runs."
    ),
    "score": CommandEntry("score", "Score existing outputs against the gold set (no model call)."),
    "batch": CommandEntry("batch", "OpenAI Batch API: prepare, submit, status, download, collect."),
    "logs": CommandEntry("logs", "Show the logged requests and answers of one report (--log)."),
    "view": CommandEntry("view", "Write an HTML review page: each report's evidence highlighted."),
    "annotate": CommandEntry(
        "annotate", "Correct the records of an output in the browser and save them as gold."
    ),
    "export": CommandEntry(
        "export", "Write flat tables per category, or ACLED-style events (csv, parquet, xlsx)."
    ),
    "summary": CommandEntry(
        "summary", "Per-month totals of an output: a table, and a chart (PNG, SVG or PDF)."
    ),
    "db": CommandEntry(
        "db", "The event dataset: add runs and corrections, link events, summary, export, serve."
    ),
}

_LISTING = "llm_extract.cli.listing"


def load_command(name: str) -> Any:
    """The click command of ``name`` (its module is imported now)."""
    entry = COMMANDS[name]
    module = importlib.import_module(f"llm_extract.cli.{entry.module}")
    command = typer.main.get_command(module.app)
    command.name = name
    command.short_help = entry.help
    return command


class LazyGroup(TyperGroup):
    """A typer group whose commands are imported when they are used (see the module doc).

    Click's documented way to load commands lazily: :meth:`list_commands` and
    :meth:`get_command` answer from :data:`COMMANDS`, importing a command's module only when
    the command runs or shows its own help. Names (``--help``, completion, "did you mean")
    need no import."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._loaded: dict[str, Any] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if ctx.meta.get(_LISTING):  # the group's help, or completion: the name and line only
            return TyperCommand(cmd_name, help=entry.help)
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = load_command(cmd_name)
        return self._loaded[cmd_name]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            import difflib

            nearest = difflib.get_close_matches(name, list(COMMANDS))
            hint = f" Did you mean {', '.join(repr(n) for n in nearest)}?" if nearest else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        ctx.meta[_LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta.pop(_LISTING, None)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        ctx.meta[_LISTING] = True  # completing a command name imports no command
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            ctx.meta.pop(_LISTING, None)


app = typer.Typer(
    name="llm-extract",
    cls=LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion: bash, zsh, fish
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"llm-extract {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Extract validated, source-grounded records from Arabic reports on the coalition."""


__all__ = ["COMMANDS", "CommandEntry", "LazyGroup", "app", "load_command", "main"]


def main() -> None:
    """The ``llm-extract`` command: never a traceback for what the terminal cannot show."""
    import gc
    import os
    import sys

    for stream in (sys.stdout, sys.stderr):
        # A terminal that cannot show Arabic (PYTHONIOENCODING=latin-1, a C locale) gets
        # \uXXXX escapes, which are still valid inside JSON strings, instead of a crash.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        app()
    except BrokenPipeError:  # `llm-extract ... | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(1) from None
    finally:
        # Every file is closed by now. Left to itself, the interpreter's exit would then walk
        # every object the process made in its last collections: half a second once the
        # model SDK's thousands of classes are loaded. Frozen, they are left to the OS.
        gc.freeze()
