"""The options of commands that fetch web pages (``extract``, ``batch prepare``)."""

from __future__ import annotations

from typing import Annotated

import typer

from llm_extract.sources.web import FetchSettings

_DEFAULTS = FetchSettings()

FetchConcurrency = Annotated[
    int,
    typer.Option(
        "--fetch-concurrency",
        min=1,
        help="Web pages fetched at once from one host (URL inputs).",
    ),
]
FetchTimeout = Annotated[
    float,
    typer.Option("--fetch-timeout", min=0.001, help="Seconds per web request (URL inputs)."),
]


def fetch_settings(concurrency: int, timeout: float) -> FetchSettings:
    return FetchSettings(per_host=concurrency, timeout_s=timeout)


DEFAULT_FETCH_CONCURRENCY = _DEFAULTS.per_host
DEFAULT_FETCH_TIMEOUT = _DEFAULTS.timeout_s
