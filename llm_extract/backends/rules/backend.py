"""The offline extractor behind the :class:`~llm_extract.backends.base.Backend` interface.

The extraction is pure CPU work, so a run of many reports spreads it over every core the
process may use: from the second report on, reports go to a pool of worker processes
(forked, so they start with the extractor already imported; one per usable core). The first
report is extracted in the process itself, so a run of one report never starts the pool.
Results come back to the report that asked, whatever the order they finish in.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from llm_extract.backends.base import BackendResponse, ExtractionRequest
from llm_extract.backends.rules.extractor import extract
from llm_extract.results import DroppedRecord, Usage
from llm_extract.schemas import ReportExtraction


def usable_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _extract_job(
    text: str, report_id: str, published: dt.date | dt.datetime | None
) -> tuple[ReportExtraction, list[DroppedRecord]]:
    """What a worker process runs (a module-level function: it is pickled by name)."""
    extraction, dropped = extract(text, report_id, published)
    return extraction, list(dropped)


class RulesBackend:
    """``--model rules``: no key, no network, deterministic, free (so never cached)."""

    name = "rules"
    cacheable = False

    def __init__(self, workers: int | None = None) -> None:
        #: worker processes at most (None: one per usable core; 1: never a pool)
        self.workers = usable_cores() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None
        self._calls = 0

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        report = request.report
        self._calls += 1
        if self._calls > 1 and self.workers > 1:  # more than one report: every core
            if self._pool is None:
                context = multiprocessing.get_context("fork")
                self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
            job = (report.text, report.report_id, report.published)
            loop = asyncio.get_running_loop()
            extraction, dropped = await loop.run_in_executor(self._pool, _extract_job, *job)
        else:
            extraction, dropped = extract(report.text, report.report_id, report.published)
        return BackendResponse(
            extraction=extraction,
            usage=Usage(attempts=1, cost_usd=0.0),
            dropped=dropped,
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True)
