"""The limits and manners of the web fetcher (the CLI's ``--fetch-*`` options).

Apart from :mod:`llm_extract.sources.web` so that a command can be configured without
importing httpx: the fetcher itself is imported only when an input is a URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_extract.settings import DEFAULT_FETCH_PER_HOST, DEFAULT_FETCH_TIMEOUT_S


@dataclass(frozen=True)
class FetchSettings:
    """Limits and manners of the fetcher (the CLI's ``--fetch-*`` options)."""

    timeout_s: float = DEFAULT_FETCH_TIMEOUT_S
    attempts: int = 4  # the first try and three retries
    backoff_s: float = 1.0  # first pause; doubles each retry, with jitter
    max_wait_s: float = 30.0  # longest pause, Retry-After included
    max_redirects: int = 5
    max_bytes: int = 10_000_000
    per_host: int = DEFAULT_FETCH_PER_HOST
    concurrency: int = 8
    use_cache: bool = True
