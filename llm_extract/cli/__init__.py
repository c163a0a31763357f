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
    "_summary",
    "_view",
    "app",
    "main",
]


def main() -> None:
    app()
