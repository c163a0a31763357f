"""The ``llm-extract`` command line: one module per command group, registered here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="llm-extract",
    help="Extract validated, source-grounded records from Arabic reports on the coalition.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module registers its commands on ``app`` when imported.
from llm_extract.cli import annotate as _annotate  # noqa: E402  (needs ``app`` defined above)
from llm_extract.cli import batch as _batch  # noqa: E402  (needs ``app`` defined above)
from llm_extract.cli import eval as _eval  # noqa: E402  (needs ``app`` defined above)
from llm_extract.cli import export as _export  # noqa: E402  (needs ``app`` defined above)
from llm_extract.cli import extract as _extract  # noqa: E402  (needs ``app`` defined above)
from llm_extract.cli import logs as _logs  # noqa: E402  (needs ``app`` defined above)
from llm_extract.cli import prompts as _prompts  # noqa: E402  (needs ``app`` defined above)
from llm_extract.cli import score as _score  # noqa: E402  (needs ``app`` defined above)
from llm_extract.cli import summary as _summary  # noqa: E402  (needs ``app`` defined above)
from llm_extract.cli import view as _view  # noqa: E402  (needs ``app`` defined above)

__all__ = [
    "_annotate",
    "_batch",
    "_eval",
    "_export",
    "_extract",
    "_logs",
    "_prompts",
    "_score",
    "_summary",
    "_view",
    "app",
    "main",
]


def main() -> None:
    """The ``llm-extract`` command: never a traceback for what the terminal cannot show."""
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
