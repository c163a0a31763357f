"""What a run would send, without sending it: ``--dry-run`` estimates and ``batch prepare``.

The model backend renders each request exactly as it would send it (in the mode it would use);
its HTTP client goes through a :class:`~llm_extract.run.transport.CaptureTransport` that
keeps the body and answers 400, so the backend gives up at once.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from llm_extract.backends.base import ExtractionRequest
from llm_extract.errors import ExtractionError, UsageError
from llm_extract.results import Usage
from llm_extract.run.chunking import split_report
from llm_extract.run.pipeline import prepare_request
from llm_extract.run.ratelimit import estimate_body_tokens, estimate_prompt_tokens
from llm_extract.run.runner import Plan, Runner
from llm_extract.run.transport import CaptureTransport, tag_requests
from llm_extract.settings import ConcreteMode

#: OpenAI caches a prompt prefix of at least this many tokens.
PROMPT_CACHE_MIN_TOKENS = 1024


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


async def render_bodies(
    runner: Runner, requests: Sequence[ExtractionRequest], *, mode: ConcreteMode | None = None
) -> dict[str, dict[str, Any]]:
    """The exact HTTP body the runner's backend would send for each request (by report id),
    sending nothing, in ``mode`` (by default :meth:`Runner.render_mode`: ``auto`` probes
    nothing here)."""
    if not runner.capabilities.http:
        raise UsageError(f"model {runner.settings.model!r} sends no requests")
    import httpx

    capture = CaptureTransport()
    probe = replace(
        runner.call,
        api_key=runner.call.api_key or "dry-run",
        max_retries=0,
        max_reasks=0,
        mode=mode or runner.render_mode(),
    )
    backend = runner.spec.create(probe, httpx.AsyncClient(transport=capture))
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


async def estimate(runner: Runner, plan: Plan) -> DryRun:
    """Render every request of ``plan`` (each chunk of a long report apart) and estimate its
    tokens and cost."""
    settings = runner.settings
    requests: list[ExtractionRequest] = []
    for request in plan.requests:
        parts = (
            split_report(request.report, settings.chunk_chars, settings.overlap)
            if settings.chunk_chars
            else [request.report]
        )
        if len(parts) == 1:
            requests.append(request)
        else:
            requests.extend(prepare_request(part, runner.prompt, runner.call) for part in parts)
    result = DryRun(model=settings.model)
    if not runner.capabilities.http:
        result.requests = [RequestEstimate(r.report.report_id, 0, 0) for r in requests]
        result.cost_prompt_only = result.cost_upper_bound = result.cost_cached_prompt = 0.0
        return result
    bodies = await render_bodies(runner, requests)
    result.bodies = bodies
    answer = settings.max_tokens
    for request in requests:
        tokens = estimate_body_tokens(bodies[request.report.report_id])
        result.requests.append(RequestEstimate(request.report.report_id, tokens, answer))
    prefix = _shared_prefix_chars(list(bodies.values()))
    result.shared_prefix_tokens = (
        estimate_prompt_tokens([{"content": "x" * prefix}]) if prefix else 0
    )
    _price(result, runner)
    return result


def _price(result: DryRun, runner: Runner) -> None:
    prices, model, n = runner.prices, runner.settings.model, len(result.requests)
    prompt_only = prices.cost(model, Usage(prompt_tokens=result.prompt_tokens))
    if prompt_only is None:
        return  # no price for this model: tokens only
    full = Usage(prompt_tokens=result.prompt_tokens, completion_tokens=result.max_completion_tokens)
    shared = result.shared_prefix_tokens
    cacheable = shared if shared >= PROMPT_CACHE_MIN_TOKENS else 0
    cached = full.model_copy(update={"cached_prompt_tokens": cacheable * max(0, n - 1)})
    result.cost_prompt_only = prompt_only
    result.cost_upper_bound = prices.cost(model, full)
    result.cost_cached_prompt = prices.cost(model, cached)


def _shared_prefix_chars(bodies: Sequence[dict[str, Any]]) -> int:
    """Characters of the messages that every request starts with (the provider can cache)."""
    texts = [
        json.dumps(b.get("messages", b.get("contents", [])), ensure_ascii=False) for b in bodies
    ]
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
