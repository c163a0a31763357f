"""The backend stack of a run, built from :class:`~llm_extract.settings.Settings`.

:func:`build_stack` wraps the registered backend for the model, outermost first:

1. :class:`~llm_extract.run.chunking.ChunkedBackend`: a report longer than ``chunk_chars``
   goes chunk by chunk;
2. :class:`~llm_extract.run.budget.BudgetedBackend`: ``--max-cost`` / ``--max-tokens-total``;
3. :class:`TaggedBackend`: marks the HTTP requests of each report with its id and request key;
4. the model backend, with the table where ``--mode auto`` remembers what each server takes
   (:class:`~llm_extract.run.modestore.ModeStore`), made on the first request that reaches it
   when its answers are cached (:class:`DeferredBackend`: a run answered from the cache never
   imports the backend); for backends that make HTTP requests, its HTTP client goes through an
   :class:`~llm_extract.run.transport.InstrumentedTransport` that applies ``--rpm`` /
   ``--tpm`` to every attempt (retries and re-asks too) and logs each request and answer
   (``--log``); with ``--concurrency auto``, every attempt also goes through
   :class:`~llm_extract.run.gate.AutoTransport` (the window and the pacing).

Layers that are not asked for, or that the backend's capabilities rule out, are left out, so
a plain run is the plain backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llm_extract.backends import BackendSpec
from llm_extract.backends.base import (
    Backend,
    BackendResponse,
    Capabilities,
    ExtractionRequest,
    ModelSettings,
)
from llm_extract.pricing import PriceTable
from llm_extract.prompts import Prompt
from llm_extract.run.budget import Budget, BudgetedBackend
from llm_extract.run.chunking import ChunkedBackend
from llm_extract.run.modestore import ModeStore
from llm_extract.run.tags import tag_requests
from llm_extract.settings import Settings, static_mode

if TYPE_CHECKING:
    from llm_extract.backends.chat.client import HttpClient
    from llm_extract.run.adaptive import AutoConcurrency
    from llm_extract.run.logstore import RequestLog
    from llm_extract.run.ratelimit import RateLimiter


class DeferredBackend:
    """A cacheable backend, made when the first request reaches it: a run whose answers all
    come from the response cache never builds it, so never imports the backend's module and
    its HTTP client (``httpx2``, the modes, the chat client)."""

    def __init__(self, create: Callable[[], Backend], name: str) -> None:
        self._create = create
        self._backend: Backend | None = None
        self.name = name

    @property
    def built(self) -> bool:
        return self._backend is not None

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        if self._backend is None:
            self._backend = self._create()
        return await self._backend.extract(request)

    async def aclose(self) -> None:
        if self._backend is not None:
            await self._backend.aclose()


class TaggedBackend:
    """Marks every HTTP request sent for a report with its id and request key (for the log)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        with tag_requests(request.report.report_id, request.key or None):
            return await self.inner.extract(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Stack:
    """The backend to hand to the pipeline, and the parts a caller reports on."""

    backend: Backend
    budget: Budget | None = None
    limiter: RateLimiter | None = None
    log: RequestLog | None = None
    #: ``--concurrency auto``'s window and pacing (None: a fixed concurrency)
    auto: AutoConcurrency | None = None

    @property
    def workers(self) -> int | None:
        """Reports in flight for ``auto``: as many as the window may ever allow (the window
        itself holds the requests back); None for a fixed concurrency."""
        if self.auto is None:
            return None
        return self.auto.window.maximum

    async def aclose(self) -> None:
        try:
            await self.backend.aclose()
        finally:
            if self.log is not None:
                self.log.close()


def model_settings(settings: Settings, capabilities: Capabilities | None = None) -> ModelSettings:
    """What a backend needs to know of the run's settings (never the environment): the key
    and base URL of the provider its ``capabilities`` name; ``auto`` is the backend's one
    mode when it has one, and ``tools`` on OpenAI's own API, decided here once: the request
    key, the batch files and the backend all see the same concrete mode."""
    credentials = capabilities.credentials if capabilities is not None else "openai"
    api_key, base_url = settings.server(credentials)
    mode = settings.mode
    if capabilities is not None and capabilities.fixed_mode is not None and mode == "auto":
        mode = capabilities.fixed_mode
    elif credentials == "openai":
        mode = static_mode(mode, base_url)
    return ModelSettings(
        model=settings.model,
        mode=mode,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        max_reasks=settings.max_reasks,
        max_retries=settings.max_retries,
        timeout_s=settings.timeout,
        base_url=base_url,
        api_key=api_key,
    )


def build_stack(
    spec: BackendSpec,
    settings: Settings,
    prompt: Prompt,
    *,
    prices: PriceTable,
    http_client: HttpClient | None = None,
    budget: Budget | None = None,
) -> Stack:
    """The backend for a run (see the module doc). ``http_client`` replaces the instrumented
    client (a capture or replay transport); rate limits and the log then do not apply.
    ``budget`` is a budget shared with other runs (an eval grid); else one is made when the
    settings set limits."""
    call = model_settings(settings, spec.capabilities)
    limiter: RateLimiter | None = None
    log: RequestLog | None = None
    auto: AutoConcurrency | None = None
    given = http_client

    def make_client() -> HttpClient | None:
        return given

    if spec.capabilities.http and http_client is None:
        make_client, limiter, log, auto = _instrumented_client(settings)
    memory = ModeStore(settings.cache_db_path) if spec.capabilities.http else None
    backend: Backend
    if spec.capabilities.cacheable:
        build = make_client
        backend = DeferredBackend(lambda: spec.create(call, build(), memory), settings.model)
    else:
        backend = spec.create(call, make_client(), memory)
    if spec.capabilities.http:
        backend = TaggedBackend(backend)
    if budget is None and spec.capabilities.http:
        budget = new_budget(settings, prices)
    if budget is not None and spec.capabilities.http:
        backend = BudgetedBackend(backend, budget, call)
    if settings.chunk_chars:
        backend = ChunkedBackend(
            backend, prompt, max_chars=settings.chunk_chars, overlap_chars=settings.overlap
        )
    return Stack(backend=backend, budget=budget, limiter=limiter, log=log, auto=auto)


def new_budget(settings: Settings, prices: PriceTable) -> Budget | None:
    """The budget the settings ask for (``--max-cost``, ``--max-tokens-total``), if any."""
    if settings.max_cost is None and settings.max_tokens_total is None:
        return None
    return Budget(
        max_cost=settings.max_cost,
        max_tokens=settings.max_tokens_total,
        model=settings.model,
        prices=prices,
    )


def _instrumented_client(
    settings: Settings,
) -> tuple[
    Callable[[], HttpClient | None],
    RateLimiter | None,
    RequestLog | None,
    AutoConcurrency | None,
]:
    """What makes the HTTP client whose transport applies the rate limits and ``--concurrency
    auto`` and writes the request log (called when the first request is sent, so a run
    answered from the cache imports no HTTP client), and those parts; the maker gives
    ``None`` when none is asked for (the backend then makes its own client). The same HTTP
    stack either way: an ``httpx2`` client with the backend's own connection limits, so what
    is measured of one run holds for the other."""
    auto = _auto(settings)
    if not (settings.rpm or settings.tpm or settings.log or auto):
        return lambda: None, None, None, None
    from llm_extract.run.logstore import RequestLog
    from llm_extract.run.ratelimit import RateLimiter

    limiter = RateLimiter(settings.rpm, settings.tpm) if settings.rpm or settings.tpm else None
    log = RequestLog(settings.cache_db_path, secrets=settings.secrets) if settings.log else None

    def make() -> HttpClient:
        import httpx2

        from llm_extract.backends.chat.client import CONNECTION_LIMITS
        from llm_extract.run.transport import InstrumentedTransport

        inner: httpx2.AsyncBaseTransport = httpx2.AsyncHTTPTransport(limits=CONNECTION_LIMITS)
        if auto is not None:
            from llm_extract.run.gate import AutoTransport

            inner = AutoTransport(inner, auto)
        transport: httpx2.AsyncBaseTransport = inner
        if limiter is not None or log is not None:
            transport = InstrumentedTransport(inner, limiter=limiter, log=log)
        return httpx2.AsyncClient(
            transport=transport, timeout=settings.timeout, limits=CONNECTION_LIMITS
        )

    return make, limiter, log, auto


def _auto(settings: Settings) -> AutoConcurrency | None:
    if settings.concurrency != "auto":
        return None
    from llm_extract.run.adaptive import AutoConcurrency

    return AutoConcurrency()
