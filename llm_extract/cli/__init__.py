"""The ``llm-extract`` command line: one module per command group, loaded when it runs.

Every command is listed in :data:`COMMANDS` with the module that defines it and its one-line
help. ``llm-extract --help`` lists them from there without importing any of them, and a
command's module (with what it needs: the run layer, scipy for scoring, pandas for exports,
Starlette for the annotation app...) is imported only when that command runs or shows its own
help. Each command module defines its commands on its own ``app`` (a :class:`typer.Typer`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # typer's own click (vendored since typer 0.26)
    from typer._click import Command, Context, HelpFormatter


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


def load_command(name: str) -> Command:
    """The click command of ``name`` (its module is imported now)."""
    entry = COMMANDS[name]
    module = importlib.import_module(f"llm_extract.cli.{entry.module}")
    command = typer.main.get_command(module.app)
    command.name = name
    command.short_help = entry.help
    return command


class _Commands(Mapping[str, "Command"]):
    """The commands of :data:`COMMANDS` by name, each loaded when first looked up."""

    def __init__(self) -> None:
        self._loaded: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in COMMANDS:
            raise KeyError(name)
        if name not in self._loaded:
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class LazyGroup(TyperGroup):
    """A typer group whose commands are imported when they are used (see the module doc).
    Names (``--help``, "did you mean") come from :data:`COMMANDS` without any import."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = _Commands()  # type: ignore[assignment]  # read-only: see COMMANDS

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if ctx.meta.get(_LISTING):  # the group's own help needs the name and line only
            return TyperCommand(cmd_name, help=entry.help)
        return self.commands[cmd_name]

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        ctx.meta[_LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta.pop(_LISTING, None)


app = typer.Typer(
    name="llm-extract",
    cls=LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
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
