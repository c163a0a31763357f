"""The limits and manners of the web fetcher (the CLI's ``--fetch-*`` options).

Apart from :mod:`llm_extract.sources.web` so that a command can be configured without
importing httpx: the fetcher itself is imported only when an input is a URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_extract.settings import (
    DEFAULT_FETCH_DEADLINE_S,
    DEFAULT_FETCH_MAX_BYTES,
    DEFAULT_FETCH_PER_HOST,
    DEFAULT_FETCH_TIMEOUT_S,
    DEFAULT_WEB_CACHE_MAX_MB,
)


@dataclass(frozen=True)
class FetchSettings:
    """Limits and manners of the fetcher (the CLI's ``--fetch-*`` options)."""

    timeout_s: float = DEFAULT_FETCH_TIMEOUT_S  # each read or connect of one attempt
    deadline_s: float = DEFAULT_FETCH_DEADLINE_S  # one URL, every attempt and pause included
    attempts: int = 4  # the first try and three retries
    backoff_s: float = 1.0  # first pause; doubles each retry, with jitter
    max_wait_s: float = 30.0  # longest pause, Retry-After included
    max_redirects: int = 5
    max_bytes: int = DEFAULT_FETCH_MAX_BYTES  # one body, received and once decoded
    per_host: int = DEFAULT_FETCH_PER_HOST
    concurrency: int = 8
    use_cache: bool = True
    cache_max_bytes: int = DEFAULT_WEB_CACHE_MAX_MB * 1024 * 1024
