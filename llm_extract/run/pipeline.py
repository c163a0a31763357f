"""Requests in, one :class:`ExtractionResult` per report out: cache, backend, timing.

:func:`prepare_request` renders a report with the prompt and computes its content-addressed
request key, once; the request carries both from then on (cache, resume, request log, batch).
:func:`stream_requests` runs prepared requests concurrently (at most ``concurrency`` at a
time, taking the next request only when a worker frees up), consults the response cache under
each key, calls the backend and hands each result to ``on_result`` as soon as it is done,
keeping none; :func:`extract_requests` does the same and returns every result in order. A
report that fails gets status ``failed`` with the error's kind and message; the run goes on.

:class:`llm_extract.run.runner.Runner` is the composition root that commands use; the
functions here are its engine, and take a ready backend (tests hand them fakes).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence, Sized
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from llm_extract.backends.base import Backend, BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.backends.chat.auto import server_id
from llm_extract.errors import CacheError, ExtractionError, LlmExtractError
from llm_extract.pricing import PriceTable, load_price_table
from llm_extract.prompts import Prompt
from llm_extract.redact import redact, url_secrets
from llm_extract.report import Report
from llm_extract.results import ErrorInfo, ExtractionResult, PromptInfo, SourceInfo, Usage
from llm_extract.run.keys import request_key, stable_hash
from llm_extract.run.places import Places
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import is_openai_api

if TYPE_CHECKING:
    from rich.progress import Progress

    from llm_extract.run.cache import ResponseCache

ResultCallback = Callable[[ExtractionResult], None]
#: Takes each result as it finishes; may return an awaitable (awaited before the next).
ResultSink = Callable[[ExtractionResult], Awaitable[None] | None]
WarningCallback = Callable[[str], None]


def request_params(settings: ModelSettings) -> dict[str, Any]:
    """The settings that change the answer, and so belong in the request key."""
    return {
        "mode": settings.mode,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "max_reasks": settings.max_reasks,
    }


def request_server(base_url: str | None) -> str | None:
    """The server in a request key: scheme, host, port and path of the base URL, without
    credentials or query; ``None`` for OpenAI's own API (the keys of earlier versions)."""
    if is_openai_api(base_url):
        return None
    return server_id(base_url)


def prepare_request(report: Report, prompt: Prompt, settings: ModelSettings) -> ExtractionRequest:
    """The request for ``report``: its messages and its request key (the one place both are
    computed). Raises :class:`~llm_extract.errors.PromptError` when the prompt cannot render."""
    messages = prompt.render(report)
    key = request_key(
        model=settings.model,
        messages=messages,
        schema_sha256=_schema_sha256(),
        params=request_params(settings),
        prompt_hash=prompt.hash,
        report_sha256=report.content_key,
        server=request_server(settings.base_url),
    )
    return ExtractionRequest(
        report=report,
        messages=messages,
        settings=settings,
        prompt=PromptInfo(name=prompt.name, hash=prompt.hash),
        key=key,
    )


@functools.cache
def _schema_sha256() -> str:
    """The hash of the schema every request carries (the same for all: computed once)."""
    return stable_hash(ReportExtraction.model_json_schema())


def failed_result(
    report: Report,
    prompt: Prompt,
    settings: ModelSettings,
    error: LlmExtractError,
    *,
    prices: PriceTable | None = None,
) -> ExtractionResult:
    """The result of a report whose request could not even be prepared."""
    kind = getattr(error, "kind", None) or _kind(error)
    return _finish(
        _base(report, PromptInfo(name=prompt.name, hash=prompt.hash), settings, None),
        status_kind=kind,
        message=str(error),
        usage=Usage(),
        settings=settings,
        started=time.perf_counter(),
        prices=prices,
    )


class CacheGuard:
    """The response cache of a run, turned off (with one warning) the first time it fails.

    Lookups and stores run on the event loop itself: with the file held open for the run
    (:meth:`ResponseCache.held`) each costs a tenth of a millisecond, and in WAL mode a
    lookup never waits for a writer while a store waits at most for another process's
    one-row transaction. Handing them to threads cost more than the work itself (about
    0.7 ms per report, the threads contending with the loop for the interpreter lock).
    """

    def __init__(self, cache: ResponseCache | None, on_warning: WarningCallback | None) -> None:
        self.cache = cache
        self.on_warning = on_warning
        self.problem: CacheError | None = None
        #: told of every answer found in the cache (the request log records them)
        self.on_hit: Callable[[ExtractionRequest, BackendResponse], None] | None = None

    @property
    def active(self) -> ResponseCache | None:
        return self.cache if self.problem is None else None

    def failed(self, error: CacheError) -> None:
        if self.problem is None:
            self.problem = error
            if self.on_warning is not None:
                self.on_warning(f"response cache off for the rest of the run: {error}")

    async def get(self, request: ExtractionRequest) -> BackendResponse | None:
        cache = self.active
        if cache is None:
            return None
        try:
            hit = cache.get(request.key, report_id=request.report.report_id)
        except CacheError as exc:
            if exc.entry_only:  # one unreadable entry is a miss: asked again, then replaced
                return None
            self.failed(exc)
            return None
        if hit is None:
            return None
        if self.on_hit is not None:
            self.on_hit(request, hit.response)
        return hit.response

    async def put(self, request: ExtractionRequest, response: BackendResponse) -> None:
        cache = self.active
        if cache is None:
            return
        try:
            cache.put(request.key, response, request.settings.model)
        except CacheError as exc:
            self.failed(exc)


async def stream_requests(
    requests: Iterable[ExtractionRequest | ExtractionResult],
    *,
    backend: Backend,
    cache: ResponseCache | CacheGuard | None = None,
    concurrency: int = 8,
    on_result: ResultSink | None = None,
    progress: int | None = None,
    prices: PriceTable | None = None,
    status: Callable[[], str] | None = None,
    admit: Callable[[], int] | None = None,
) -> None:
    """Extract every request with ``backend``, at most ``concurrency`` at a time, and hand
    each result to ``on_result`` as soon as it is done. Only the reports in flight are held: a
    request is taken from ``requests`` when a worker frees up, and no result is kept.

    ``on_result`` may return an awaitable (a writer that syncs its line to disk in a thread):
    the worker then goes on to its next request at once while the awaitable finishes, and the
    report counts as done (progress) only when it has. At most ``concurrency`` results wait
    so. ``progress``: the number of requests, for a progress bar on stderr (None: no bar);
    ``status``: a line the bar shows beside it, read at each refresh (``--concurrency auto``:
    the window, the pacing and what the run waits for); ``admit``: how many of the
    ``concurrency`` reports may be in hand now, read each time a worker would take one
    (``--concurrency auto``: a few more than its window, so that a run starting at one
    request in flight does not prepare hundreds of requests at once, the client's own work
    read as the server's latency).
    Never raises for one report's failure; an error of ``on_result`` stops the run (no new
    request is sent) and is raised once the reports in flight are done. The backend is left
    open. A result among ``requests`` (a report whose request could not be prepared) goes to
    ``on_result`` as it is, in its turn.
    """

    def sink(_: int, result: ExtractionResult) -> Awaitable[None] | None:
        done = on_result(result) if on_result is not None else None
        return done if done is not None and inspect.isawaitable(done) else None

    await _pool(
        requests, backend, _guard(cache), concurrency, sink, progress, prices, status, admit
    )


async def extract_requests(
    requests: Sequence[ExtractionRequest],
    *,
    backend: Backend,
    cache: ResponseCache | CacheGuard | None = None,
    concurrency: int = 8,
    on_result: ResultCallback | None = None,
    progress: bool = False,
    prices: PriceTable | None = None,
) -> list[ExtractionResult]:
    """Like :func:`stream_requests`, but every result is kept and they come back in the
    order of ``requests`` (``on_result`` still sees each as it finishes). For callers that
    need them all; a long run streams instead.
    """
    done: dict[int, ExtractionResult] = {}

    def keep(n: int, result: ExtractionResult) -> None:
        done[n] = result
        if on_result is not None:
            on_result(result)

    total = len(requests) if progress else None
    await _pool(requests, backend, _guard(cache), concurrency, keep, total, prices)
    return [done[n] for n in range(len(requests))]


async def _pool(
    requests: Iterable[ExtractionRequest | ExtractionResult],
    backend: Backend,
    cache: CacheGuard,
    concurrency: int,
    sink: Callable[[int, ExtractionResult], Awaitable[None] | None],
    progress: int | None,
    prices: PriceTable | None,
    status: Callable[[], str] | None = None,
    admit: Callable[[], int] | None = None,
) -> None:
    """``concurrency`` workers taking the next request from one shared iterator, at most
    ``admit()`` of them with a report in hand at a time; a sink that returns an awaitable
    finishes beside them (see :func:`stream_requests`)."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    pending = enumerate(requests)
    seats = Places(admit)  # the reports in hand
    bar = _progress_bar(progress is not None and progress > 1, status)
    finishing: set[asyncio.Future[None]] = set()
    room = asyncio.Semaphore(concurrency)  # results whose sink has not finished yet
    failures: list[BaseException] = []
    with bar as live:
        task = live.add_task("extracting", total=progress) if live else None

        def advance() -> None:
            if live is not None and task is not None:
                live.advance(task)

        async def finish(awaitable: Awaitable[None]) -> None:
            try:
                await awaitable
                advance()
            finally:
                room.release()

        def finished(future: asyncio.Future[None]) -> None:
            finishing.discard(future)
            if not future.cancelled() and future.exception() is not None:
                failures.append(future.exception())  # type: ignore[arg-type]  # not None

        async def worker() -> None:
            while await seats.take():
                try:
                    item = next(pending, None)
                    if item is None or failures:
                        seats.close()
                        return
                    await handle(*item)
                finally:
                    seats.give_back()

        async def handle(n: int, request: ExtractionRequest | ExtractionResult) -> None:
            if isinstance(request, ExtractionResult):
                result = request  # could not be prepared: its failure goes out as it is
            else:
                result = await _extract_one(request, backend, cache, prices)
            await room.acquire()
            try:
                handed = sink(n, result)
            except BaseException:
                room.release()
                raise
            if handed is None:
                room.release()
                advance()
                return
            future = asyncio.ensure_future(finish(handed))
            finishing.add(future)
            future.add_done_callback(finished)

        count = min(concurrency, len(requests)) if isinstance(requests, Sized) else concurrency
        workers = [asyncio.ensure_future(worker()) for _ in range(count)]
        try:
            await asyncio.gather(*workers)
            while finishing:
                await asyncio.gather(*list(finishing), return_exceptions=True)
            if failures:
                raise failures[0]
        except BaseException:
            for one in [*workers, *finishing]:
                one.cancel()
            await asyncio.gather(*workers, *finishing, return_exceptions=True)
            raise


def _guard(cache: ResponseCache | CacheGuard | None) -> CacheGuard:
    return cache if isinstance(cache, CacheGuard) else CacheGuard(cache, None)


def _base(
    report: Report, prompt: PromptInfo, settings: ModelSettings, key: str | None
) -> dict[str, Any]:
    return {
        "report_id": report.report_id,
        "source": SourceInfo.from_report(report),
        "prompt": prompt,
        "model": settings.model,
        "request_key": key,
    }


async def _extract_one(
    request: ExtractionRequest,
    backend: Backend,
    cache: CacheGuard,
    prices: PriceTable | None,
) -> ExtractionResult:
    started = time.perf_counter()
    settings = request.settings
    base = _base(request.report, request.prompt, settings, request.key or None)
    try:
        hit = await cache.get(request)
        if hit is not None:
            return _ok(base, hit, settings, started, cached=True, prices=prices)
        response = await backend.extract(request)
        await cache.put(request, response)
        return _ok(base, response, settings, started, cached=False, prices=prices)
    except ExtractionError as exc:
        usage = exc.usage if isinstance(exc.usage, Usage) else Usage()
        if exc.mode is not None:
            base["mode"] = exc.mode
        return _finish(
            base,
            status_kind=exc.kind,
            message=str(exc),
            usage=usage,
            settings=settings,
            started=started,
            prices=prices,
        )
    except LlmExtractError as exc:  # a problem with this one report
        return _finish(
            base,
            status_kind=_kind(exc),
            message=str(exc),
            usage=Usage(),
            settings=settings,
            started=started,
            prices=prices,
        )
    except Exception as exc:  # one report's bug must not sink a long run
        return _finish(
            base,
            status_kind="internal_error",
            message=f"{type(exc).__name__}: {exc}",
            usage=Usage(),
            settings=settings,
            started=started,
            prices=prices,
        )


def _ok(
    base: dict[str, Any],
    response: BackendResponse,
    settings: ModelSettings,
    started: float,
    *,
    cached: bool,
    prices: PriceTable | None,
) -> ExtractionResult:
    extraction = response.extraction
    if extraction.report_id != base["report_id"]:
        extraction = extraction.model_copy(update={"report_id": base["report_id"]})
    if response.mode is not None:
        base = {**base, "mode": response.mode}
    return ExtractionResult(
        **base,
        status="ok",
        extraction=extraction,
        dropped=list(response.dropped),
        usage=_priced(response.usage, settings.model, prices),
        latency_s=round(time.perf_counter() - started, 4),
        cached=cached,
    )


def _finish(
    base: dict[str, Any],
    *,
    status_kind: str,
    message: str,
    usage: Usage,
    settings: ModelSettings,
    started: float,
    prices: PriceTable | None,
) -> ExtractionResult:
    """A failed result."""
    return ExtractionResult(
        **base,
        status="failed",
        error=ErrorInfo(
            kind=status_kind,
            message=redact(message, (settings.api_key, *url_secrets(settings.base_url))),
        ),
        usage=_priced(usage, settings.model, prices),
        latency_s=round(time.perf_counter() - started, 4),
    )


def _priced(usage: Usage, model: str, prices: PriceTable | None) -> Usage:
    """``usage`` with its cost from the price table when the backend left it out."""
    if usage.cost_usd is not None or usage.total_tokens == 0:
        return usage
    try:
        table = prices if prices is not None else load_price_table()
    except LlmExtractError:  # an unreadable price table leaves the cost unknown
        return usage
    cost = table.cost(model, usage)
    return usage if cost is None else usage.model_copy(update={"cost_usd": cost})


def _kind(exc: Exception) -> str:
    """``CacheError`` -> ``cache_error``."""
    name = type(exc).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _progress_bar(
    enabled: bool, status: Callable[[], str] | None = None
) -> AbstractContextManager[Progress | None]:
    if not enabled:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class StatusColumn(ProgressColumn):
        """The run's own line (plain text: never markup), read at each refresh."""

        def render(self, task: Task) -> Text:
            return Text(status() if status is not None else "")

    columns: list[ProgressColumn] = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    if status is not None:
        columns.append(StatusColumn())
    return Progress(*columns, console=Console(stderr=True), transient=True)
