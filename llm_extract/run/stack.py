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
   :class:`~llm_extract.run.adaptive.AutoTransport` (the window and the pacing).

Layers that are not asked for, or that the backend's capabilities rule out, are left out, so
a plain run is the plain backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from llm_extract.backends import BackendSpec
from llm_extract.backends.base import Backend, BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.pricing import PriceTable
from llm_extract.prompts import Prompt
from llm_extract.run.budget import Budget, BudgetedBackend
from llm_extract.run.chunking import ChunkedBackend
from llm_extract.run.modestore import ModeStore
from llm_extract.run.tags import tag_requests
from llm_extract.settings import Settings

#: The registry's name of the OpenAI-compatible chat backend (its client takes httpx2 too).
CHAT_BACKEND = "openai"

if TYPE_CHECKING:
    import httpx

    from llm_extract.run.adaptive import AutoConcurrency
    from llm_extract.run.logstore import RequestLog
    from llm_extract.run.ratelimit import RateLimiter


class DeferredBackend:
    """A cacheable backend, made when the first request reaches it: a run whose answers all
    come from the response cache never builds it, so never imports the model's SDK
    (``openai`` and ``instructor`` take about a second to import)."""

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


def model_settings(settings: Settings) -> ModelSettings:
    """What a backend needs to know of the run's settings (never the environment)."""
    return ModelSettings(
        model=settings.model,
        mode=settings.mode,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        max_reasks=settings.max_reasks,
        max_retries=settings.max_retries,
        timeout_s=settings.timeout,
        base_url=settings.base_url,
        api_key=settings.api_key_value(),
    )


def build_stack(
    spec: BackendSpec,
    settings: Settings,
    prompt: Prompt,
    *,
    prices: PriceTable,
    http_client: httpx.AsyncClient | None = None,
    budget: Budget | None = None,
) -> Stack:
    """The backend for a run (see the module doc). ``http_client`` replaces the instrumented
    client (a capture or replay transport); rate limits and the log then do not apply.
    ``budget`` is a budget shared with other runs (an eval grid); else one is made when the
    settings set limits."""
    call = model_settings(settings)
    limiter: RateLimiter | None = None
    log: RequestLog | None = None
    auto: AutoConcurrency | None = None
    given = http_client

    def make_client() -> httpx.AsyncClient | None:
        return given

    if spec.capabilities.http and http_client is None:
        # the built-in chat backend sends through httpx2 when nothing needs httpx
        takes_httpx2 = spec.name == CHAT_BACKEND
        make_client, limiter, log, auto = _instrumented_client(settings, takes_httpx2=takes_httpx2)
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
    settings: Settings, *, takes_httpx2: bool = False
) -> tuple[
    Callable[[], httpx.AsyncClient | None],
    RateLimiter | None,
    RequestLog | None,
    AutoConcurrency | None,
]:
    """What makes the HTTP client whose transport applies the rate limits and ``--concurrency
    auto`` and writes the request log (called when the first request is sent, so a run
    answered from the cache imports no HTTP client), and those parts; the maker gives
    ``None`` when none is asked for (the backend then makes its own client)."""
    auto = _auto(settings)
    if not (settings.rpm or settings.tpm or settings.log or auto):
        return lambda: None, None, None, None
    from llm_extract.run.logstore import RequestLog
    from llm_extract.run.ratelimit import RateLimiter

    limiter = RateLimiter(settings.rpm, settings.tpm) if settings.rpm or settings.tpm else None
    log = RequestLog(settings.cache_db_path, secrets=settings.secrets) if settings.log else None

    def make() -> httpx.AsyncClient:
        if auto is not None and limiter is None and log is None and takes_httpx2:
            import httpx2

            from llm_extract.run.gate import AutoTransport

            pool2 = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
            gated = AutoTransport(httpx2.AsyncHTTPTransport(limits=pool2), auto)
            # The chat backend's client takes either generation (backends/chat/client.py's
            # HttpClient); httpx2's pool costs half of httpx's per request. Typed as the
            # registry's factories are: only the chat backend is handed this client.
            return cast("httpx.AsyncClient", httpx2.AsyncClient(transport=gated))
        import httpx

        from llm_extract.run.transport import InstrumentedTransport

        pool = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
        inner: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(limits=pool)
        if auto is not None:
            from llm_extract.run.gate import HttpxAutoTransport

            inner = HttpxAutoTransport(inner, auto)
        transport = InstrumentedTransport(inner, limiter=limiter, log=log)
        return httpx.AsyncClient(transport=transport)

    return make, limiter, log, auto


def _auto(settings: Settings) -> AutoConcurrency | None:
    if settings.concurrency != "auto":
        return None
    from llm_extract.run.adaptive import AutoConcurrency

    return AutoConcurrency()
