"""The options of commands that read web pages and PDFs (``extract``, ``batch prepare``)."""

from __future__ import annotations

from typing import Annotated

import typer

from llm_extract.settings import Settings
from llm_extract.sources.fetch_settings import FetchSettings
from llm_extract.sources.pdf_process import PdfLimits

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
FetchDeadlineOption = Annotated[
    float | None,
    typer.Option(
        "--fetch-deadline",
        help="Seconds one URL may take in all, retries included (default 120).",
    ),
]

#: The option group (see :mod:`llm_extract.cli._options`).
FETCH = {
    "fetch_concurrency": (FetchConcurrencyOption, None),
    "fetch_timeout": (FetchTimeoutOption, None),
    "fetch_deadline": (FetchDeadlineOption, None),
}


def fetch_settings(settings: Settings) -> FetchSettings:
    return FetchSettings(
        per_host=settings.fetch_concurrency,
        timeout_s=settings.fetch_timeout,
        deadline_s=settings.fetch_deadline,
        max_bytes=settings.fetch_max_bytes,
        cache_max_bytes=settings.web_cache_max_mb * 1024 * 1024,
    )


def pdf_limits(settings: Settings) -> PdfLimits:
    return PdfLimits(
        max_pages=settings.pdf_max_pages,
        timeout_s=settings.pdf_timeout,
        memory_mb=settings.pdf_memory_mb,
    )
