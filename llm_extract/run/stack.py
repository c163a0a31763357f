"""Big runs: the backend stack behind ``extract``'s limits, and ``--dry-run`` estimates.

:func:`build_stack` wraps the model backend, outermost first:

1. :class:`~llm_extract.run.chunking.ChunkedBackend`: a report longer than ``chunk_chars`` goes
   chunk by chunk;
2. :class:`~llm_extract.run.budget.BudgetedBackend`: ``--max-cost`` / ``--max-tokens-total``;
3. :class:`TaggedBackend`: marks the HTTP requests of each report with its id and request key;
4. the OpenAI backend, whose HTTP client goes through an
   :class:`~llm_extract.run.transport.InstrumentedTransport` that applies ``--rpm`` / ``--tpm``
   to every attempt (retries and re-asks too) and logs each request and answer (``--log``).

Layers that are not asked for are left out, so a plain run is the plain backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from llm_extract.backends import RULES_MODEL, get_backend
from llm_extract.backends.base import Backend, BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.errors import ExtractionError, UsageError
from llm_extract.pricing import load_price_table
from llm_extract.prompts import Prompt
from llm_extract.redact import url_secrets
from llm_extract.report import Report
from llm_extract.results import ExtractionResult, PromptInfo, Usage
from llm_extract.run.budget import Budget, BudgetedBackend
from llm_extract.run.chunking import ChunkedBackend, split_report
from llm_extract.run.logstore import RequestLog
from llm_extract.run.ratelimit import RateLimiter, estimate_body_tokens, estimate_prompt_tokens
from llm_extract.run.transport import CaptureTransport, InstrumentedTransport, tag_requests

#: Reports longer than this many characters are split (about 10,000 tokens of Arabic).
DEFAULT_CHUNK_CHARS = 30_000
DEFAULT_CHUNK_OVERLAP = 1_500
#: OpenAI caches a prompt prefix of at least this many tokens.
PROMPT_CACHE_MIN_TOKENS = 1024


@dataclass(frozen=True)
class RunLimits:
    """What ``extract`` was asked to respect. ``None`` (or 0 chunk size): no limit."""

    rpm: int | None = None
    tpm: int | None = None
    max_cost: float | None = None
    max_tokens_total: int | None = None
    log: bool = False
    chunk_chars: int | None = DEFAULT_CHUNK_CHARS
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP

    @property
    def overlap(self) -> int:
        """The overlap actually used: at most half a chunk."""
        return min(self.chunk_overlap, (self.chunk_chars or 0) // 2)


class TaggedBackend:
    """Marks every HTTP request sent for a report with its id and request key (for the log)."""

    def __init__(self, inner: Backend, prompt: Prompt) -> None:
        self.inner = inner
        self.prompt = prompt
        self.name = inner.name
        self.cacheable = inner.cacheable

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        from llm_extract.run.pipeline import key_for

        key = key_for(request.report, request.messages, self.prompt, request.settings)
        with tag_requests(request.report.report_id, key):
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

    async def aclose(self) -> None:
        await self.backend.aclose()
        if self.log is not None:
            self.log.close()


def _model_backend(settings: ModelSettings, transport: httpx.AsyncBaseTransport | None) -> Backend:
    if settings.model == RULES_MODEL or transport is None:
        return get_backend(settings)
    from llm_extract.backends.openai_compat import OpenAIBackend

    return OpenAIBackend(settings, http_client=httpx.AsyncClient(transport=transport))


def build_stack(settings: ModelSettings, prompt: Prompt, limits: RunLimits) -> Stack:
    """The backend for a run with ``limits`` (see the module doc). Raises UsageError."""
    limiter = RateLimiter(limits.rpm, limits.tpm) if limits.rpm or limits.tpm else None
    secrets = [settings.api_key, *url_secrets(settings.base_url)]
    log = RequestLog(secrets=secrets) if limits.log else None
    transport = (
        InstrumentedTransport(limiter=limiter, log=log) if limiter is not None or log else None
    )
    backend = _model_backend(settings, transport)
    if log is not None:
        backend = TaggedBackend(backend, prompt)
    budget = None
    if limits.max_cost is not None or limits.max_tokens_total is not None:
        budget = Budget(
            max_cost=limits.max_cost, max_tokens=limits.max_tokens_total, model=settings.model
        )
        backend = BudgetedBackend(backend, budget, settings)
    if limits.chunk_chars:
        backend = ChunkedBackend(
            backend,
            prompt,
            max_chars=limits.chunk_chars,
            overlap_chars=limits.overlap,
        )
    return Stack(backend=backend, budget=budget, limiter=limiter, log=log)


async def run_with_stack(
    stack: Stack, reports: Sequence[Report], **options: Any
) -> list[ExtractionResult]:
    """:func:`~llm_extract.run.pipeline.extract_reports` with the stack's backend, closed after."""
    from llm_extract.run.pipeline import extract_reports

    try:
        return await extract_reports(reports, backend=stack.backend, **options)
    finally:
        await stack.aclose()


def run_stack(stack: Stack, reports: Sequence[Report], **options: Any) -> list[ExtractionResult]:
    """Synchronous :func:`run_with_stack`."""
    return asyncio.run(run_with_stack(stack, reports, **options))


# --- dry run ---------------------------------------------------------------------------------


@dataclass
class RequestEstimate:
    report_id: str
    prompt_tokens: int
    max_completion_tokens: int


@dataclass
class DryRun:
    """What a run would send: one estimate per request (chunks count apart)."""

    model: str
    requests: list[RequestEstimate] = field(default_factory=list)
    shared_prefix_tokens: int = 0
    cost_prompt_only: float | None = None
    cost_upper_bound: float | None = None
    cost_cached_prompt: float | None = None
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def prompt_tokens(self) -> int:
        return sum(r.prompt_tokens for r in self.requests)

    @property
    def max_completion_tokens(self) -> int:
        return sum(r.max_completion_tokens for r in self.requests)


def _shared_prefix_chars(bodies: Sequence[dict[str, Any]]) -> int:
    """Characters of the messages that every request starts with (the provider can cache)."""
    texts = [json.dumps(b.get("messages", []), ensure_ascii=False) for b in bodies]
    if len(texts) < 2:
        return 0
    first = texts[0]
    n = min(len(t) for t in texts)
    for t in texts[1:]:
        i = 0
        while i < n and t[i] == first[i]:
            i += 1
        n = i
    return n


async def render_bodies(
    requests: Sequence[ExtractionRequest], settings: ModelSettings
) -> dict[str, dict[str, Any]]:
    """The exact HTTP body the OpenAI backend would send for each request, sending nothing.

    The backend renders each request through instructor as usual; its HTTP client captures
    the body and answers 400, so it gives up at once. Keys are report ids.
    """
    if settings.model == RULES_MODEL:
        raise UsageError("the offline extractor ('rules') sends no requests")
    capture = CaptureTransport()
    probe = replace(settings, api_key=settings.api_key or "dry-run", max_retries=0, max_reasks=0)
    from llm_extract.backends.openai_compat import OpenAIBackend

    backend = OpenAIBackend(probe, http_client=httpx.AsyncClient(transport=capture))
    try:
        for request in requests:
            # The captured request is answered 400: the backend raises, as it should.
            with tag_requests(request.report.report_id), contextlib.suppress(ExtractionError):
                await backend.extract(replace(request, settings=probe))
            if request.report.report_id not in capture.bodies:
                raise UsageError(f"{request.report.report_id}: the backend sent no request")
    finally:
        await backend.aclose()
    return {k: v for k, v in capture.bodies.items() if k is not None}


def dry_run(
    reports: Sequence[Report], prompt: Prompt, settings: ModelSettings, limits: RunLimits
) -> DryRun:
    """Render every request of a run (chunks included) and estimate its tokens and cost."""
    info = PromptInfo(name=prompt.name, hash=prompt.hash)
    requests: list[ExtractionRequest] = []
    for report in reports:
        parts = (
            split_report(report, limits.chunk_chars, limits.overlap)
            if limits.chunk_chars
            else [report]
        )
        for part in parts:
            requests.append(
                ExtractionRequest(
                    report=part, messages=prompt.render(part), settings=settings, prompt=info
                )
            )
    result = DryRun(model=settings.model)
    if settings.model == RULES_MODEL:
        result.requests = [RequestEstimate(r.report.report_id, 0, 0) for r in requests]
        result.cost_prompt_only = result.cost_upper_bound = result.cost_cached_prompt = 0.0
        return result
    bodies = asyncio.run(render_bodies(requests, settings))
    result.bodies = bodies
    answer = settings.max_tokens or 4096
    for request in requests:
        body = bodies[request.report.report_id]
        tokens = estimate_body_tokens(body)
        result.requests.append(RequestEstimate(request.report.report_id, tokens, answer))
    prefix = _shared_prefix_chars(list(bodies.values()))
    result.shared_prefix_tokens = (
        estimate_prompt_tokens([{"content": "x" * prefix}]) if prefix else 0
    )
    prices = load_price_table()
    n = len(result.requests)
    prompt_only = prices.cost(settings.model, Usage(prompt_tokens=result.prompt_tokens))
    if prompt_only is None:
        return result  # no price for this model: tokens only
    upper = prices.cost(
        settings.model,
        Usage(prompt_tokens=result.prompt_tokens, completion_tokens=result.max_completion_tokens),
    )
    cacheable = (
        result.shared_prefix_tokens if result.shared_prefix_tokens >= PROMPT_CACHE_MIN_TOKENS else 0
    )
    cached = prices.cost(
        settings.model,
        Usage(
            prompt_tokens=result.prompt_tokens,
            cached_prompt_tokens=cacheable * max(0, n - 1),
            completion_tokens=result.max_completion_tokens,
        ),
    )
    result.cost_prompt_only, result.cost_upper_bound, result.cost_cached_prompt = (
        prompt_only,
        upper,
        cached,
    )
    return result
