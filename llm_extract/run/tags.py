"""Which report an HTTP request serves: a context variable the run layer sets around each
report's backend call (asyncio copies it into the report's task, so concurrent reports do not
see each other's). The request log and the batch and dry-run transports read it
(:mod:`llm_extract.run.transport`); kept apart from them so that setting it imports no httpx."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestTag:
    """Which report (and which content-addressed request) an HTTP request serves."""

    report_id: str | None = None
    request_key: str | None = None


current_request: ContextVar[RequestTag | None] = ContextVar("current_request", default=None)


@contextlib.contextmanager
def tag_requests(report_id: str | None, request_key: str | None = None) -> Iterator[None]:
    """Mark every request sent inside the block (in this task) as serving ``report_id``."""
    token = current_request.set(RequestTag(report_id, request_key))
    try:
        yield
    finally:
        current_request.reset(token)
