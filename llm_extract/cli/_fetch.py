"""The options of commands that read web pages (``extract``, ``batch prepare``)."""

from __future__ import annotations

from typing import Annotated

import typer

from llm_extract.settings import Settings
from llm_extract.sources.fetch_settings import FetchSettings

FetchConcurrencyOption = Annotated[
    int | None,
    typer.Option(
        "--fetch-concurrency",
        help="Web pages fetched at once from one host, for URL inputs (default 2).",
    ),
]
FetchTimeoutOption = Annotated[
    float | None,
    typer.Option("--fetch-timeout", help="Seconds per web request, for URL inputs (default 20)."),
]

#: The option group (see :mod:`llm_extract.cli._options`).
FETCH = {
    "fetch_concurrency": (FetchConcurrencyOption, None),
    "fetch_timeout": (FetchTimeoutOption, None),
}


def fetch_settings(settings: Settings) -> FetchSettings:
    return FetchSettings(per_host=settings.fetch_concurrency, timeout_s=settings.fetch_timeout)
