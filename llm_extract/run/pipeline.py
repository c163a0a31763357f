"""Reports in, one :class:`ExtractionResult` per report out: prompt, cache, backend, timing.

:func:`extract_reports` runs the reports concurrently (at most ``concurrency`` at a time),
consults the response cache under the content-addressed request key, calls the backend and
reports each result through ``on_result`` as soon as it is done. A report that fails gets
status ``failed`` with the error's kind and message; the run goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from llm_extract.backends import get_backend
from llm_extract.backends.base import Backend, BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.errors import CacheError, ExtractionError, LlmExtractError
from llm_extract.pricing import load_price_table
from llm_extract.prompts import Prompt
from llm_extract.redact import redact
from llm_extract.report import Report
from llm_extract.results import ErrorInfo, ExtractionResult, PromptInfo, SourceInfo, Usage
from llm_extract.run.keys import request_key
from llm_extract.schemas import ReportExtraction

if TYPE_CHECKING:
    from rich.progress import Progress

    from llm_extract.run.cache import ResponseCache

ResultCallback = Callable[[ExtractionResult], None]


def request_params(settings: ModelSettings) -> dict[str, Any]:
    """The settings that change the answer, and so belong in the request key."""
    return {
        "mode": settings.mode,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "max_reasks": settings.max_reasks,
    }


def key_for(
    report: Report, messages: list[dict[str, str]], prompt: Prompt, settings: ModelSettings
) -> str:
    return request_key(
        model=settings.model,
        messages=messages,
        schema=ReportExtraction.model_json_schema(),
        params=request_params(settings),
        prompt_hash=prompt.hash,
        report_sha256=report.content_key,
    )


async def extract_reports(
    reports: Sequence[Report],
    *,
    prompt: Prompt,
    settings: ModelSettings,
    backend: Backend | None = None,
    cache: ResponseCache | None = None,
    concurrency: int = 8,
    on_result: ResultCallback | None = None,
    progress: bool = False,
) -> list[ExtractionResult]:
    """Extract every report; results come back in the order of ``reports``.

    Never raises for one report's failure. A backend made here (``backend`` is None) is
    closed at the end; one passed in is left open.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    own = backend is None
    active = backend if backend is not None else get_backend(settings)
    use_cache = cache if cache is not None and active.cacheable else None
    semaphore = asyncio.Semaphore(concurrency)
    bar = _progress_bar(progress and len(reports) > 1)
    try:
        with bar as live:
            task = live.add_task("extracting", total=len(reports)) if live else None

            async def run_one(report: Report) -> ExtractionResult:
                async with semaphore:
                    result = await _extract_one(report, prompt, settings, active, use_cache)
                if on_result is not None:
                    on_result(result)
                if live is not None and task is not None:
                    live.advance(task)
                return result

            return list(await asyncio.gather(*(run_one(r) for r in reports)))
    finally:
        if own:
            await active.aclose()


def run_extraction(
    reports: Sequence[Report],
    *,
    prompt: Prompt,
    settings: ModelSettings,
    backend: Backend | None = None,
    cache: ResponseCache | None = None,
    concurrency: int = 8,
    on_result: ResultCallback | None = None,
    progress: bool = False,
) -> list[ExtractionResult]:
    """Synchronous :func:`extract_reports` (runs its own event loop)."""
    return asyncio.run(
        extract_reports(
            reports,
            prompt=prompt,
            settings=settings,
            backend=backend,
            cache=cache,
            concurrency=concurrency,
            on_result=on_result,
            progress=progress,
        )
    )


async def _extract_one(
    report: Report,
    prompt: Prompt,
    settings: ModelSettings,
    backend: Backend,
    cache: ResponseCache | None,
) -> ExtractionResult:
    started = time.perf_counter()
    base: dict[str, Any] = {
        "report_id": report.report_id,
        "source": SourceInfo.from_report(report),
        "prompt": PromptInfo(name=prompt.name, hash=prompt.hash),
        "model": settings.model,
    }
    try:
        messages = prompt.render(report)
        key = key_for(report, messages, prompt, settings)
        base["request_key"] = key
        hit = await _cache_get(cache, key, report.report_id)
        if hit is not None:
            return _ok(base, hit, settings, started, cached=True)
        request = ExtractionRequest(
            report=report, messages=messages, settings=settings, prompt=base["prompt"]
        )
        response = await backend.extract(request)
        await _cache_put(cache, key, response, settings.model)
        return _ok(base, response, settings, started, cached=False)
    except ExtractionError as exc:
        usage = exc.usage if isinstance(exc.usage, Usage) else Usage()
        return _failed(base, exc.kind, str(exc), usage, settings, started)
    except LlmExtractError as exc:  # a prompt problem for this one report
        return _failed(base, _kind(exc), str(exc), Usage(), settings, started)
    except Exception as exc:  # one report's bug must not sink a long run
        return _failed(
            base, "internal_error", f"{type(exc).__name__}: {exc}", Usage(), settings, started
        )


async def _cache_get(
    cache: ResponseCache | None, key: str, report_id: str
) -> BackendResponse | None:
    """The cached answer, or None; an unreadable entry counts as a miss (asked again)."""
    if cache is None:
        return None
    try:
        hit = await asyncio.to_thread(cache.get, key, report_id=report_id)
    except CacheError:
        return None
    return None if hit is None else hit.response


async def _cache_put(
    cache: ResponseCache | None, key: str, response: BackendResponse, model: str
) -> None:
    """Store the answer; a cache that cannot be written does not fail the report."""
    if cache is None:
        return
    with contextlib.suppress(CacheError):
        await asyncio.to_thread(cache.put, key, response, model)


def _ok(
    base: dict[str, Any],
    response: BackendResponse,
    settings: ModelSettings,
    started: float,
    *,
    cached: bool,
) -> ExtractionResult:
    extraction = response.extraction
    if extraction.report_id != base["report_id"]:
        extraction = extraction.model_copy(update={"report_id": base["report_id"]})
    return ExtractionResult(
        **base,
        status="ok",
        extraction=extraction,
        dropped=list(response.dropped),
        usage=_priced(response.usage, settings.model),
        latency_s=round(time.perf_counter() - started, 4),
        cached=cached,
    )


def _failed(
    base: dict[str, Any],
    kind: str,
    message: str,
    usage: Usage,
    settings: ModelSettings,
    started: float,
) -> ExtractionResult:
    return ExtractionResult(
        **base,
        status="failed",
        error=ErrorInfo(kind=kind, message=redact(message, (settings.api_key,))),
        usage=_priced(usage, settings.model),
        latency_s=round(time.perf_counter() - started, 4),
    )


def _priced(usage: Usage, model: str) -> Usage:
    """``usage`` with its cost from the price table when the backend left it out."""
    if usage.cost_usd is not None or usage.total_tokens == 0:
        return usage
    try:
        cost = load_price_table().cost(model, usage)
    except LlmExtractError:  # an unreadable price table leaves the cost unknown
        return usage
    return usage if cost is None else usage.model_copy(update={"cost_usd": cost})


def _kind(exc: Exception) -> str:
    """``CacheError`` -> ``cache_error``."""
    name = type(exc).__name__
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return snake


def _progress_bar(enabled: bool) -> AbstractContextManager[Progress | None]:
    if not enabled:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
